// SPDX-License-Identifier: MIT
/*
 * serve --trace's metrics (exporter_trace.h): the trace's failure and reset rows, summed over
 * programs and namespaces into one series per (syscall, errno, destination) and (direction,
 * cause, peer), with at most `top` destinations by name and the rest as "other". A destination
 * gets its series the first time it is seen while there is room, and keeps it: so no series
 * ever moves from "other" to its own and every counter only grows.
 */
#include "core/export/exporter_trace.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/util.h"

#define SERIES_MAX 4096 /* (top + 1) x errnos x syscalls stays far below */

struct series {
	const char *a, *b; /* syscall and errno, or direction and cause (static) */
	char dst[64];
	uint64_t n;
};

static struct td_exporter_family *family(struct td_metrics *out, const char *name, const char *help)
{
	struct td_exporter_family *f;

	if (out->n == out->cap) {
		out->cap = out->cap ? 2 * out->cap : 64;
		out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
	}
	f = &out->v[out->n++];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->help = xstrdup(help);
	f->type = EXPORTER_COUNTER;
	return f;
}

static struct td_exporter_sample *sample(struct td_exporter_family *f, double value)
{
	struct td_exporter_sample *s;

	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	s = &f->v[f->n++];
	memset(s, 0, sizeof(*s));
	s->value = value;
	return s;
}

static void label(struct td_exporter_sample *s, const char *name, const char *value)
{
	s->lname[s->nlabels] = name;
	s->lval[s->nlabels++] = xstrdup(value);
}

/* "addr:port", "[v6]:port", "addr" when port 0; "other" beyond the chosen ones */
static void dest_name(struct td_exporter_trace_state *st, const struct td_exporter_trace_dest *d,
		      char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < st->nchosen; i++)
		if (!memcmp(&st->chosen[i], d, sizeof(*d)))
			break;
	if (i == st->nchosen) {
		if (st->nchosen >= st->top || st->nchosen >= EXPORTER_TRACE_TOP_MAX) {
			snprintf(buf, len, "other");
			return;
		}
		st->chosen[st->nchosen++] = *d;
	}
	trace_addr_str(d->family, d->addr, a, sizeof(a));
	if (!d->port)
		snprintf(buf, len, "%s", *a ? a : "*");
	else if (d->family == AF_INET6 && *a)
		snprintf(buf, len, "[%s]:%u", a, d->port);
	else
		snprintf(buf, len, "%s:%u", *a ? a : "*", d->port);
}

static void add(struct series *v, size_t *n, const char *a, const char *b, const char *dst,
		uint64_t count)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i].a == a && !strcmp(v[i].b, b) && !strcmp(v[i].dst, dst)) {
			v[i].n += count;
			return;
		}
	if (*n == SERIES_MAX)
		return;
	v[*n] = (struct series){ .a = a, .b = b, .n = count };
	snprintf(v[*n].dst, sizeof(v[*n].dst), "%s", dst);
	(*n)++;
}

static const char *errno_name(int err)
{
	const char *n = err > 0 ? strerrorname_np(err) : NULL;

	return n ? n : "other";
}

static void dest_of(const struct td_trace_key *k, bool local, struct td_exporter_trace_dest *d)
{
	memset(d, 0, sizeof(*d));
	d->family = k->family;
	memcpy(d->addr, local ? k->saddr : k->daddr, sizeof(d->addr));
	d->port = local ? k->sport : k->dport;
}

static void emit(struct td_exporter_family *f, const struct series *v, size_t n, const char *la,
		 const char *lb, const char *ld)
{
	for (size_t i = 0; i < n; i++) {
		struct td_exporter_sample *s = sample(f, (double)v[i].n);
		label(s, la, v[i].a);
		label(s, lb, v[i].b);
		label(s, ld, v[i].dst);
	}
}

void exporter_trace_build(struct td_exporter_trace_state *st,
			  const struct td_exporter_trace_input *in, struct td_metrics *out)
{
	struct series *v = xcalloc(SERIES_MAX, sizeof(*v));
	struct td_exporter_trace_dest d;
	char dst[64];
	size_t n = 0;

	for (size_t i = 0; i < in->nfail; i++) {
		const struct td_trace_key *k = &in->fail[i].k;
		dest_of(k, k->kind == TD_EV_BIND_FAIL, &d);
		dest_name(st, &d, dst, sizeof(dst));
		add(v, &n, trace_syscall_name(k->kind), errno_name(k->err), dst, in->fail[i].count);
	}
	emit(family(out, "tcpdoctor_trace_failures_total",
		    "Failed connect() and bind() the trace saw, by syscall, errno and destination "
		    "(bind: the address asked for; dst=\"other\" past --top)"),
	     v, n, "syscall", "errno", "dst");
	n = 0;
	for (size_t i = 0; i < in->nrst; i++) {
		const struct td_trace_key *k = &in->rst[i].k;
		dest_of(k, false, &d);
		dest_name(st, &d, dst, sizeof(dst));
		add(v, &n, trace_reset_dir(k->kind), trace_reset_cause(k->kind, k->detail), dst,
		    in->rst[i].count);
	}
	emit(family(out, "tcpdoctor_trace_resets_total",
		    "Resets the trace saw, received from or sent to a peer, by cause (peer port 0: "
		    "a connection the peer opened; dst=\"other\" past --top)"),
	     v, n, "direction", "cause", "dst");
	free(v);
	sample(family(out, "tcpdoctor_trace_events_total",
		      "Events the trace counted since serve started"),
	       (double)in->events);
	sample(family(out, "tcpdoctor_trace_events_lost_total",
		      "Events the kernel could not queue to the trace (ring buffer full)"),
	       (double)in->lost);
}
