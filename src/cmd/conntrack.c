// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor conntrack`: the netfilter connection-tracking table of a namespace (or of each with
 * -N all): entries against nf_conntrack_max, by protocol and TCP conntrack state with the
 * timeout each state gets, the per-CPU statistics summed (and their change over --interval),
 * and the largest groups. A full table drops every new flow of every protocol, which is what
 * makes ssh, ping and DNS fail together; a namespace where nothing uses conntrack has an empty
 * table, which is a state to report, not an error. The namespaces are visited through the
 * socket source's namespace walk (visit_only), so -N behaves as for every other command.
 * --record keeps the raw reads of the main pass (and the stats of the first with --interval,
 * held in memory until the namespace's chunks are written); --replay refills the same
 * structures from such a record (ct_record.h), so both print through the same code.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/conntrack_show.h"
#include "core/conntrack/conntrack.h"
#include "core/conntrack/ct_census.h"
#include "core/conntrack/ct_record.h"
#include "core/source/record.h"
#include "core/fields.h"
#include "core/util.h"

#define INTERVAL_MAX_S 3600
#define LIMIT_MAX      100000

enum { OPT_BY = TD_OPT_CMD_BASE, OPT_LIMIT, OPT_INTERVAL, OPT_RECORD };

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct ct_run *run = ctx;

	switch (c) {
	case 'b':
		if (ct_by_parse(arg, &run->by))
			return cmd_usage_err(g,
					     "--by '%s': expected src, dst, dport, proto, state "
					     "or zone",
					     arg);
		return 0;
	case 'l':
		if (util_parse_u64(arg, 0, LIMIT_MAX, &run->limit))
			return cmd_usage_err(g, "--limit '%s': expected a number from 0 to %d", arg,
					     LIMIT_MAX);
		return 0;
	case OPT_RECORD:
		run->record_path = arg;
		return 0;
	case 'i':
		if (util_parse_seconds(arg, INTERVAL_MAX_S, &run->interval_ms))
			return cmd_usage_err(
				g,
				"--interval '%s': expected seconds, more than 0 and at "
				"most %d (e.g. 1 or 0.5)",
				arg, INTERVAL_MAX_S);
		return 0;
	default:
		return cmd_getopt_err(g);
	}
}

static int on_entry(const struct td_ct *ct, void *arg)
{
	struct ct_run *run = arg;

	ct_census_add(&run->v[run->at].census, ct);
	ct_groups_add(run->groups, ct, (unsigned)run->at);
	return 0;
}

/* The first pass's tap: keeps the raw stats until the namespace is written. */
static int pre_tap(void *arg, enum td_ct_raw kind, const void *buf, size_t len)
{
	struct ct_ns *x = arg;

	x->pre = xrealloc(x->pre, (x->npre + 1) * sizeof(*x->pre));
	x->pre[x->npre].kind = kind;
	x->pre[x->npre].buf = xmalloc(len ? len : 1);
	memcpy(x->pre[x->npre].buf, buf, len);
	x->pre[x->npre++].len = len;
	return 0;
}

static void ns_add(struct ct_run *run, const char *name)
{
	if (run->n == run->cap) {
		run->cap = run->cap ? run->cap * 2 : 4;
		run->v = xrealloc(run->v, run->cap * sizeof(*run->v));
	}
	memset(&run->v[run->n], 0, sizeof(run->v[run->n]));
	run->v[run->n].name = xstrdup(name);
	run->n++;
}

/* Writes the namespace's name and the first pass's reads; the rest follows through the tap. */
static int record_ns_start(struct ct_run *run, struct ct_ns *x)
{
	struct td_ct_rec_tap t0 = { run->rec, 0 };
	int r = record_write(run->rec, TD_CHUNK_NETNS, x->name, strlen(x->name));

	for (size_t i = 0; !r && i < x->npre; i++)
		r = ct_record_tap(&t0, x->pre[i].kind, x->pre[i].buf, x->pre[i].len);
	return r;
}

/* Called inside each namespace, once per pass. */
static int on_ns_begin(const struct td_ns_info *ns, void *arg)
{
	struct ct_run *run = arg;

	if (!run->second_pass) {
		struct ct_ns *x;
		ns_add(run, ns->name);
		x = &run->v[run->n - 1];
		struct td_ct_io pre = { .tap = pre_tap, .arg = x };
		x->has_before =
			conntrack_stats_read_io(&x->before,
						run->rec && run->interval_ms ? &pre : NULL) == 0;
		return 0;
	}
	if (ns->idx >= run->n || strcmp(run->v[ns->idx].name, ns->name))
		return -ESTALE; /* the namespaces changed between the two passes */
	struct ct_ns *x = &run->v[ns->idx];
	struct td_ct_dump_stats st = { 0 };
	struct td_ct_rec_tap t1 = { run->rec, 1 };
	struct td_ct_io io = { .tap = ct_record_tap, .arg = &t1 };
	const struct td_ct_io *iop = run->rec ? &io : NULL;
	int r = run->rec ? record_ns_start(run, x) : 0;

	run->at = ns->idx;
	x->present = !r && conntrack_table_read_io(&x->table, iop) == 0;
	if (x->present) {
		conntrack_timeouts_read_io(x->timeouts, iop);
		x->dump_err = conntrack_dump_io(on_entry, run, &st, iop);
		x->interrupted = st.interrupted;
		x->stats_err = conntrack_stats_read_io(&x->after, iop);
	}
	if (run->rec && !r)
		r = ct_record_end(run->rec, x->dump_err, x->interrupted);
	return r;
}

/* --replay: the same structures filled from a record (ct_record.h). */
static int rp_ns_begin(void *arg, const char *name)
{
	struct ct_run *run = arg;

	ns_add(run, name);
	run->at = run->n - 1;
	run->v[run->at].stats_err = -ENOENT; /* until the record shows the main pass's stats */
	return 0;
}

static int rp_sysctls(void *arg, const struct td_ct_io *io)
{
	struct ct_run *run = arg;
	struct ct_ns *x = &run->v[run->at];

	x->present = conntrack_table_read_io(&x->table, io) == 0;
	if (x->present)
		conntrack_timeouts_read_io(x->timeouts, io);
	return 0;
}

static int rp_stats(void *arg, unsigned pass, const struct td_ct_stats *st)
{
	struct ct_run *run = arg;
	struct ct_ns *x = &run->v[run->at];

	if (pass == 0) {
		x->before = *st;
		x->has_before = true;
	} else {
		x->after = *st;
		x->stats_err = 0;
	}
	return 0;
}

static int rp_ns_end(void *arg, int dump_err, const struct td_ct_dump_stats *st)
{
	struct ct_run *run = arg;
	struct ct_ns *x = &run->v[run->at];

	x->dump_err = dump_err;
	x->interrupted = st->interrupted;
	return 0;
}

static int replay(struct td_global *g, struct ct_run *run)
{
	static const struct td_ct_replay_cbs cbs = { rp_ns_begin, rp_sysctls, on_entry, rp_stats,
						     rp_ns_end };
	char err[512];
	bool netns, interval;
	int r = ct_record_replay(g->replay, &cbs, run, &netns, &interval, err, sizeof(err));

	if (r) {
		cmd_err(g, "%s", err);
		return TD_EXIT_FAIL;
	}
	run->header = netns;
	return 0;
}

/* Visits every namespace once (or twice, --interval apart). */
static int collect(struct td_global *g, struct ct_run *run)
{
	struct td_source_cbs cbs = { on_ns_begin, NULL, NULL };
	struct td_source_opts o;
	char err[TD_ERRMSG_LEN];
	int r;

	cmd_source_opts(g, &o);
	o.visit_only = true;
	run->second_pass = false;
	r = source_run(&o, &cbs, run, err);
	if (r)
		return cmd_source_err(g, r, err);
	if (run->interval_ms)
		util_sleep_ms(run->interval_ms);
	else
		for (size_t i = 0; i < run->n; i++)
			run->v[i].has_before = false;
	run->second_pass = true;
	r = source_run(&o, &cbs, run, err);
	if (r == -ESTALE) {
		cmd_err(g, "the namespaces changed during the interval; run it again");
		return TD_EXIT_FAIL;
	}
	if (r)
		return cmd_source_err(g, r, err);
	if (*err)
		cmd_err(g, "%s", err);
	return 0;
}

static int conntrack_main(int argc, char **argv, struct td_global *g)
{
	struct ct_run run = { .by = TD_CT_BY_DPORT, .limit = 10 };
	int r = cmd_parse(&cmd_conntrack, argc, argv, g, &run);

	if (r)
		return r;
	if (g->replay && (run.record_path || run.interval_ms || g->netns)) {
		cmd_err(g, "--replay: %s",
			run.record_path	  ? "--record does not go with it"
			: run.interval_ms ? "--interval does not go with it (the record "
					    "holds the interval it was made with)"
					  : "-N does not go with it (the record holds the "
					    "namespaces it was made with)");
		return TD_EXIT_USAGE;
	}
	run.groups = ct_groups_new(run.by);
	run.header = g->netns != NULL;
	if (g->replay) {
		r = replay(g, &run);
	} else if (run.record_path && (r = record_create(run.record_path, &run.rec)) < 0) {
		cmd_err(g, "--record %s: %s", run.record_path, strerror(-r));
		r = TD_EXIT_FAIL;
	} else {
		if (run.rec && (r = ct_record_meta(run.rec, run.header, run.interval_ms != 0)) < 0)
			r = TD_EXIT_FAIL;
		else
			r = collect(g, &run);
		int cr = run.rec ? record_close(run.rec) : 0;
		if (cr < 0) {
			cmd_err(g, "--record %s: %s: the record is incomplete", run.record_path,
				strerror(-cr));
			r = r ? r : TD_EXIT_FAIL;
		}
	}
	if (!r) {
		if (g->json)
			conntrack_show_json(&run);
		else
			for (size_t i = 0; i < run.n; i++) {
				if (i)
					putchar('\n');
				conntrack_show_text(&run, i, run.header);
			}
		for (size_t i = 0; i < run.n; i++)
			if (run.v[i].dump_err) {
				r = TD_EXIT_FAIL;
				if (g->json)
					cmd_err(g, "namespace %s: ctnetlink dump failed: %s",
						conntrack_show_label(run.v[i].name),
						strerror(-run.v[i].dump_err));
			}
	}
	for (size_t i = 0; i < run.n; i++) {
		for (size_t k = 0; k < run.v[i].npre; k++)
			free(run.v[i].pre[k].buf);
		free(run.v[i].pre);
		free(run.v[i].name);
	}
	free(run.v);
	ct_groups_free(run.groups);
	return r;
}

static const struct td_cmd_opt conntrack_opts[] = {
	{ "by", 'b', "KEY", "group by src, dst, dport (default), proto, state or zone", 'b' },
	{ "limit", 'l', "N", "how many groups to show (default 10, 0 for none)", 'l' },
	{ "interval", 'i', "S", "also show how the statistics moved over S seconds", 'i' },
	{ "record", 0, "FILE",
	  "also save the raw reads; replay with\ntcpdoctor --replay FILE conntrack", OPT_RECORD },
	{ 0 },
};

const struct td_cmd_entry cmd_conntrack = {
	.name = "conntrack",
	.summary = "Connection-tracking table: entries vs limit, states, stats, groups",
	.usage = "tcpdoctor [-N NS|all] conntrack [--by KEY] [--limit N] [--interval S] [--json]\n"
		 "          [--record FILE]",
	.about =
		"The netfilter connection-tracking table: entries against nf_conntrack_max, by\n"
		"protocol and TCP conntrack state (with each state's timeout), the kernel's per-CPU\n"
		"statistics summed, and the largest groups. Needs CAP_NET_ADMIN for the entries.",
	.opts = conntrack_opts,
	.more = "\nWith --json: {\"count\", \"max\", \"buckets\", \"usage\", \"protocols\", "
		"\"tcp_states\",\n\"timeouts\", \"stats\", \"groups\"}; with -N inside "
		"{\"netns\": [...]}.",
	.on_opt = on_opt,
	.run = conntrack_main,
};
