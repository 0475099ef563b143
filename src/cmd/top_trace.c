// SPDX-License-Identifier: MIT
/*
 * The exact TIME_WAIT owners of top --by process --trace S (top_trace.h): the trace keeps each
 * connection this side closed first by its 4-tuple with the pid and program of the close()
 * (core/trace/trace.h closers); the sockets top then dumps without an inode are looked up there.
 */
#include "cmd/top_trace.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/trace_use.h"
#include "core/hashmap.h"
#include "core/names.h"
#include "core/util.h"

struct top_trace {
	struct td_trace_agg *agg;
	struct td_hashmap *exact; /* int32 pid -> struct pid_exact */
	double secs;
	uint64_t lost, total;
};

struct pid_exact {
	uint64_t n;
	char *comm; /* escaped */
};

int top_trace_collect(const struct td_global *g, uint64_t ms, struct top_trace **out)
{
	struct top_trace *tt = xcalloc(1, sizeof(*tt));
	struct td_trace *t;
	int r;

	*out = NULL;
	if ((r = trace_use_open(g, &t, TD_EXIT_FAIL))) {
		free(tt);
		return r;
	}
	trace_keep_closers(t);
	tt->agg = trace_agg_new();
	trace_agg_keep_closers(tt->agg);
	tt->exact = hashmap_new(sizeof(int32_t), sizeof(struct pid_exact));
	r = trace_use_run(g, t, tt->agg, ms, &tt->secs, TD_EXIT_FAIL);
	tt->lost = trace_lost(t);
	trace_close(t);
	if (r) {
		top_trace_free(tt);
		return r;
	}
	*out = tt;
	return 0;
}

bool top_trace_owner(struct top_trace *tt, uint32_t ino, const struct td_sock *sk, int *pid)
{
	const struct td_trace_closer *c;
	struct pid_exact *e;
	bool added;
	int32_t k;

	if (!tt || sk->inode ||
	    !(c = trace_agg_closer(tt->agg, ino, sk->family, sk->src, sk->sport, sk->dst,
				   sk->dport)))
		return false;
	k = (int32_t)c->pid;
	e = hashmap_put(tt->exact, &k, &added);
	if (added)
		e->comm = names_escape_str(c->comm);
	e->n++;
	tt->total++;
	*pid = k;
	return true;
}

uint64_t top_trace_exact(const struct top_trace *tt, int pid)
{
	int32_t k = pid;
	const struct pid_exact *e = tt ? hashmap_get(tt->exact, &k) : NULL;

	return e ? e->n : 0;
}

const char *top_trace_comm(const struct top_trace *tt, int pid)
{
	int32_t k = pid;
	const struct pid_exact *e = tt ? hashmap_get(tt->exact, &k) : NULL;

	return e ? e->comm : NULL;
}

uint64_t top_trace_total(const struct top_trace *tt)
{
	return tt ? tt->total : 0;
}

json_t *top_trace_json(const struct top_trace *tt)
{
	return json_pack("{s:f, s:I, s:I, s:I}", "duration_s", tt->secs, "connections_closed",
			 (json_int_t)trace_agg_closers(tt->agg), "exact", (json_int_t)tt->total,
			 "lost", (json_int_t)tt->lost);
}

void top_trace_free(struct top_trace *tt)
{
	if (!tt)
		return;
	for (size_t i = 0; tt->exact && i < hashmap_count(tt->exact); i++)
		free(((struct pid_exact *)hashmap_val_at(tt->exact, i))->comm);
	hashmap_free(tt->exact);
	trace_agg_free(tt->agg);
	free(tt);
}
