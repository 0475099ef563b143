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
#include "core/conntrack.h"
#include "core/fields.h"
#include "core/ct_census.h"
#include "core/ct_record.h"
#include "core/record.h"
#include "core/util.h"
#include "render/table.h"

#define INTERVAL_MAX_S 3600
#define LIMIT_MAX      100000

enum { OPT_BY = TD_OPT_CMD_BASE, OPT_LIMIT, OPT_INTERVAL, OPT_RECORD };

/* A raw read of the first pass, kept until the namespace's chunks are written. */
struct ct_pre {
	enum td_ct_raw kind;
	unsigned char *buf;
	size_t len;
};

struct ct_ns {
	char *name;
	bool present; /* conntrack exists in this kernel / namespace */
	int dump_err; /* 0, or -errno of the ctnetlink dump */
	int stats_err;
	struct td_ct_table table;
	struct td_ct_timeout timeouts[TD_CT_TIMEOUTS];
	struct td_ct_census census;
	struct td_ct_stats before, after;
	bool has_before;
	bool interrupted;
	struct ct_pre *pre; /* --record with --interval: the first pass's stats */
	size_t npre;
};

struct ct_run {
	enum td_ct_by by;
	uint64_t limit;
	uint64_t interval_ms;
	bool second_pass; /* the pass that dumps (the only one without --interval) */
	struct ct_ns *v;
	size_t n, cap, at;
	struct td_ct_groups *groups;
	const char *record_path;
	struct td_record *rec;
	bool header; /* one header per namespace (-N, or a record made with -N) */
};

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

#define STATS_FIELDS 10
static const char *const stat_names[STATS_FIELDS] = {
	"found",      "invalid", "insert",	   "insert_failed", "drop",
	"early_drop", "error",	 "search_restart", "clash_resolve", "chaintoolong",
};

static void stats_values(const struct td_ct_stats *s, uint64_t v[STATS_FIELDS])
{
	const uint64_t vals[STATS_FIELDS] = {
		s->found,      s->invalid, s->insert,	      s->insert_failed, s->drop,
		s->early_drop, s->error,   s->search_restart, s->clash_resolve, s->chaintoolong,
	};
	memcpy(v, vals, sizeof(vals));
}

static uint64_t timeout_of(const struct ct_ns *x, const char *name, bool *known)
{
	*known = false;
	for (size_t i = 0; name && i < TD_CT_TIMEOUTS; i++)
		if (!strcmp(x->timeouts[i].name, name) && x->timeouts[i].known) {
			*known = true;
			return x->timeouts[i].seconds;
		}
	return 0;
}

static const char *ns_label(const char *name)
{
	return *name ? name : "(current)";
}

static json_t *ns_json(const struct ct_run *run, size_t i)
{
	const struct ct_ns *x = &run->v[i];
	json_t *o = json_object(), *p = json_object(), *ts = json_object(), *to = json_object();
	json_t *st = json_object(), *gs = json_array();

	json_object_set_new(o, "present", json_boolean(x->present));
	json_object_set_new(o, "count",
			    x->table.has_count ? json_integer((json_int_t)x->table.count)
					       : json_null());
	json_object_set_new(
		o, "max", x->table.has_max ? json_integer((json_int_t)x->table.max) : json_null());
	json_object_set_new(o, "buckets",
			    x->table.has_buckets ? json_integer((json_int_t)x->table.buckets)
						 : json_null());
	struct td_fval use = { .kind = TD_FV_NULL };
	if (x->table.has_count && x->table.has_max) /* a percentage, as every usage (fields.h) */
		fields_pct(x->table.count, x->table.max, &use);
	json_object_set_new(o, "usage", use.kind == TD_FV_NULL ? json_null() : json_real(use.d));
	json_object_set_new(o, "dumped", json_integer((json_int_t)x->census.entries));
	for (unsigned pr = 0; pr < 256; pr++) {
		if (!x->census.proto[pr])
			continue;
		const char *n = conntrack_proto_name(pr);
		char buf[16];
		if (!n) {
			snprintf(buf, sizeof(buf), "%u", pr);
			n = buf;
		}
		json_object_set_new(p, n, json_integer((json_int_t)x->census.proto[pr]));
	}
	json_object_set_new(o, "protocols", p);
	for (unsigned s = 0; s < TD_CT_TCP_COUNT; s++)
		if (x->census.tcp_state[s])
			json_object_set_new(ts, conntrack_tcp_state_name(s),
					    json_integer((json_int_t)x->census.tcp_state[s]));
	json_object_set_new(o, "tcp_states", ts);
	json_object_set_new(o, "assured", json_integer((json_int_t)x->census.assured));
	json_object_set_new(o, "unreplied", json_integer((json_int_t)x->census.unreplied));
	for (size_t t = 0; x->present && t < TD_CT_TIMEOUTS; t++)
		if (x->timeouts[t].known)
			json_object_set_new(to, x->timeouts[t].name,
					    json_integer((json_int_t)x->timeouts[t].seconds));
	json_object_set_new(o, "timeouts", to);
	if (!x->stats_err && x->present) {
		uint64_t a[STATS_FIELDS], b[STATS_FIELDS];
		stats_values(&x->after, a);
		stats_values(&x->before, b);
		for (size_t k = 0; k < STATS_FIELDS; k++)
			json_object_set_new(st, stat_names[k], json_integer((json_int_t)a[k]));
		if (x->has_before) {
			json_t *d = json_object();
			for (size_t k = 0; k < STATS_FIELDS; k++)
				json_object_set_new(d, stat_names[k],
						    json_integer((json_int_t)(a[k] - b[k])));
			json_object_set_new(o, "stats_delta", d);
		}
	}
	json_object_set_new(o, "stats", st);
	size_t *idx = xcalloc(ct_groups_count(run->groups) + 1, sizeof(*idx));
	size_t n = ct_groups_top(run->groups, ct_groups_count(run->groups), idx);
	uint64_t shown = 0;
	for (size_t k = 0; k < n && shown < run->limit; k++) {
		const struct td_ct_key *key = ct_groups_key(run->groups, idx[k]);
		const struct td_ct_group *v = ct_groups_val(run->groups, idx[k]);
		char buf[64];
		if (key->netns != i)
			continue;
		json_t *e = json_object();
		json_object_set_new(e, "key",
				    json_string(ct_key_str(run->by, key, buf, sizeof(buf))));
		json_object_set_new(e, "entries", json_integer((json_int_t)v->entries));
		json_object_set_new(e, "time_wait", json_integer((json_int_t)v->time_wait));
		json_object_set_new(e, "unreplied", json_integer((json_int_t)v->unreplied));
		json_object_set_new(e, "assured", json_integer((json_int_t)v->assured));
		json_array_append_new(gs, e);
		shown++;
	}
	free(idx);
	json_object_set_new(o, "by", json_string(ct_by_name(run->by)));
	json_object_set_new(o, "groups", gs);
	json_object_set_new(o, "interrupted", json_boolean(x->interrupted));
	return o;
}

static void print_json(const struct ct_run *run)
{
	json_t *root;

	if (run->header) {
		json_t *a = json_array();
		for (size_t i = 0; i < run->n; i++) {
			json_t *o = ns_json(run, i);
			json_object_set_new(o, "name", json_string(run->v[i].name));
			json_array_append_new(a, o);
		}
		root = json_object();
		json_object_set_new(root, "netns", a);
	} else {
		root = run->n ? ns_json(run, 0) : json_object();
	}
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
}

static void print_states(const struct ct_ns *x)
{
	char n[32];

	for (unsigned s = 0; s < TD_CT_TCP_COUNT; s++) {
		bool known;
		uint64_t t;
		if (!x->census.tcp_state[s])
			continue;
		t = timeout_of(x, conntrack_tcp_timeout_name(s), &known);
		printf("    %-12s %12s", conntrack_tcp_state_name(s),
		       table_num(x->census.tcp_state[s], n, sizeof(n)));
		if (known)
			printf("   timeout %" PRIu64 " s", t);
		putchar('\n');
	}
}

static void print_groups(const struct ct_run *run, size_t i)
{
	static const char *const hdr[] = { "KEY", "ENTRIES", "TIME_WAIT", "UNREPLIED", "ASSURED" };
	static const enum td_align al[] = { TD_LEFT, TD_RIGHT, TD_RIGHT, TD_RIGHT, TD_RIGHT };
	size_t *idx = xcalloc(ct_groups_count(run->groups) + 1, sizeof(*idx));
	size_t n = ct_groups_top(run->groups, ct_groups_count(run->groups), idx);
	struct td_table *t = table_new(5, hdr, al);
	uint64_t shown = 0;

	for (size_t k = 0; k < n && shown < run->limit; k++) {
		const struct td_ct_key *key = ct_groups_key(run->groups, idx[k]);
		const struct td_ct_group *v = ct_groups_val(run->groups, idx[k]);
		char c[5][64];
		if (key->netns != i)
			continue;
		ct_key_str(run->by, key, c[0], sizeof(c[0]));
		table_num(v->entries, c[1], sizeof(c[1]));
		table_num(v->time_wait, c[2], sizeof(c[2]));
		table_num(v->unreplied, c[3], sizeof(c[3]));
		table_num(v->assured, c[4], sizeof(c[4]));
		const char *cells[5] = { c[0], c[1], c[2], c[3], c[4] };
		table_add(t, cells, false);
		shown++;
	}
	if (shown) {
		printf("  largest groups by %s:\n", ct_by_name(run->by));
		table_print(t, stdout, false);
	}
	table_free(t);
	free(idx);
}

static void print_stats(const struct ct_ns *x)
{
	uint64_t a[STATS_FIELDS], b[STATS_FIELDS];

	stats_values(&x->after, a);
	stats_values(&x->before, b);
	printf("  statistics (summed over %u CPUs%s):\n", x->after.cpus,
	       x->has_before ? ", change over the interval in brackets" : "");
	for (size_t k = 0; k < STATS_FIELDS; k++) {
		printf("    %-15s %12" PRIu64, stat_names[k], a[k]);
		if (x->has_before)
			printf("  (+%" PRIu64 ")", a[k] - b[k]);
		putchar('\n');
	}
}

static void print_ns_text(const struct ct_run *run, size_t i, bool header)
{
	const struct ct_ns *x = &run->v[i];
	char n1[32], n2[32];

	if (header)
		printf("Network namespace %s\n", ns_label(x->name));
	if (!x->present) {
		puts("  connection tracking: not in this kernel (no nf_conntrack)");
		return;
	}
	printf("  entries %s", table_num(x->table.count, n1, sizeof(n1)));
	if (x->table.has_max && x->table.max)
		printf(" of nf_conntrack_max %s (%.1f%%)", table_num(x->table.max, n2, sizeof(n2)),
		       100.0 * (double)x->table.count / (double)x->table.max);
	if (x->table.has_buckets)
		printf(", %s hash buckets", table_num(x->table.buckets, n2, sizeof(n2)));
	putchar('\n');
	if (x->dump_err) {
		printf("  entries not listed: the ctnetlink dump failed: %s%s\n",
		       strerror(-x->dump_err),
		       x->dump_err == -EPERM ? " (needs root: CAP_NET_ADMIN)" : "");
	} else if (x->census.entries == 0) {
		bool active = x->after.found || x->after.insert || x->after.invalid ||
			      x->after.drop || x->after.early_drop;
		puts(active ? "  no entries at the moment"
			    : "  no entries, and no conntrack activity recorded in this namespace "
			      "(nothing here uses connection tracking, or no traffic has passed)");
	} else {
		printf("  by protocol:");
		for (unsigned pr = 0; pr < 256; pr++) {
			const char *nm = conntrack_proto_name(pr);
			if (!x->census.proto[pr])
				continue;
			if (nm)
				printf(" %s %s", nm,
				       table_num(x->census.proto[pr], n1, sizeof(n1)));
			else
				printf(" proto-%u %s", pr,
				       table_num(x->census.proto[pr], n1, sizeof(n1)));
		}
		printf("; assured %s, unreplied %s\n", table_num(x->census.assured, n1, sizeof(n1)),
		       table_num(x->census.unreplied, n2, sizeof(n2)));
		if (x->census.proto[IPPROTO_TCP]) {
			puts("  TCP entries by conntrack state:");
			print_states(x);
		}
		print_groups(run, i);
	}
	if (x->interrupted)
		puts("  note: the table changed during the dump; counts may be off by a few");
	if (!x->stats_err)
		print_stats(x);
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
			print_json(&run);
		else
			for (size_t i = 0; i < run.n; i++) {
				if (i)
					putchar('\n');
				print_ns_text(&run, i, run.header);
			}
		for (size_t i = 0; i < run.n; i++)
			if (run.v[i].dump_err) {
				r = TD_EXIT_FAIL;
				if (g->json)
					cmd_err(g, "namespace %s: ctnetlink dump failed: %s",
						ns_label(run.v[i].name),
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
