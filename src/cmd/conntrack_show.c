// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor conntrack`'s output: per namespace the entries against the limit, by protocol and
 * TCP conntrack state with each state's timeout, the largest groups (their fields from
 * ct_group_fields, so text and JSON rows agree) and the statistics with their change over
 * --interval; the same numbers as JSON.
 */
#include "cmd/conntrack_show.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/fields.h"
#include "core/util.h"
#include "render/fields.h"
#include "render/table.h"

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

const char *conntrack_show_label(const char *name)
{
	return *name ? name : "(current)";
}

/* The largest groups of namespace i, at most run->limit of them, as field-table rows (free
 * *rows). */
static size_t group_rows(const struct ct_run *run, size_t i, struct td_ct_group_row **rows)
{
	size_t cnt = ct_groups_count(run->groups), *idx = xcalloc(cnt + 1, sizeof(*idx));
	size_t n = ct_groups_top(run->groups, cnt, idx), k = 0;

	*rows = xcalloc(n + 1, sizeof(**rows));
	for (size_t j = 0; j < n && k < run->limit; j++) {
		const struct td_ct_key *key = ct_groups_key(run->groups, idx[j]);
		if (key->netns == i)
			(*rows)[k++] = (struct td_ct_group_row){ key, *ct_groups_val(run->groups,
										     idx[j]) };
	}
	free(idx);
	return k;
}

static json_t *protocols_json(const struct ct_ns *x)
{
	json_t *p = json_object();

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
	return p;
}

/* The statistics; their change over the interval goes on o as "stats_delta". */
static json_t *stats_json(const struct ct_ns *x, json_t *o)
{
	json_t *st = json_object();
	uint64_t a[STATS_FIELDS], b[STATS_FIELDS];

	if (x->stats_err || !x->present)
		return st;
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
	return st;
}

static json_t *ns_json(const struct ct_run *run, size_t i)
{
	const struct ct_ns *x = &run->v[i];
	json_t *o = json_object(), *ts = json_object(), *to = json_object(), *gs = json_array();

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
	json_object_set_new(o, "protocols", protocols_json(x));
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
	json_object_set_new(o, "stats", stats_json(x, o));
	struct td_ct_group_row *rows;
	size_t n = group_rows(run, i, &rows);
	for (size_t k = 0; k < n; k++) {
		json_t *e = json_object();
		fields_json_set(e, ct_group_fields, ct_group_fields_n, &rows[k], &run->by);
		json_array_append_new(gs, e);
	}
	free(rows);
	json_object_set_new(o, "by", json_string(ct_by_name(run->by)));
	json_object_set_new(o, "groups", gs);
	json_object_set_new(o, "interrupted", json_boolean(x->interrupted));
	return o;
}

void conntrack_show_json(const struct ct_run *run)
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
	struct td_ct_group_row *rows;
	size_t n = group_rows(run, i, &rows);

	if (n) {
		struct td_table *t = fields_table_new(ct_group_fields, ct_group_fields_n);
		for (size_t k = 0; k < n; k++)
			fields_table_add(t, ct_group_fields, ct_group_fields_n, &rows[k], &run->by);
		printf("  largest groups by %s:\n", ct_by_name(run->by));
		table_print(t, stdout, false);
		table_free(t);
	}
	free(rows);
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

void conntrack_show_text(const struct ct_run *run, size_t i, bool header)
{
	const struct ct_ns *x = &run->v[i];
	char n1[32], n2[32];

	if (header)
		printf("Network namespace %s\n", conntrack_show_label(x->name));
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
