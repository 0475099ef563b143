// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor counters`: the kernel's TCP counters that matter for connection-state incidents
 * (kernel-facts §13), as deltas over an interval with a rate and a one-line meaning each,
 * non-zero ones first, and the gauges (CurrEstab, sockstat) as current values. With -N all every
 * namespace is sampled at the start and again at the end of one shared interval, so the command
 * takes S seconds, not S seconds per namespace. The counters are read from /proc only: a socket
 * dump recorded for --replay does not hold them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/model/counters.h"
#include "core/model/counters_rows.h"
#include "core/source/netns.h"
#include "core/util.h"
#include "render/fields.h"

#define INTERVAL_MAX_S 3600

enum { OPT_INTERVAL = TD_OPT_CMD_BASE, OPT_ALL };

struct ns_sample {
	char *name; /* "" for the current namespace */
	struct td_counters *before, *after;
};

struct counters_run {
	struct ns_sample *v;
	size_t n;
	uint64_t interval_ms;
	bool all;
};

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct counters_run *run = ctx;

	if (c == 'a') {
		run->all = true;
		return 0;
	}
	if (c != 'i')
		return cmd_getopt_err(g);
	if (util_parse_seconds(arg, INTERVAL_MAX_S, &run->interval_ms))
		return cmd_usage_err(
			g,
			"--interval '%s': expected seconds, more than 0 and at most %d "
			"(e.g. 1 or 0.5)",
			arg, INTERVAL_MAX_S);
	return 0;
}

static int parse_args(int argc, char **argv, struct td_global *g, struct counters_run *run)
{
	int r;

	run->interval_ms = 1000;
	r = cmd_parse(&cmd_counters, argc, argv, g, run);
	if (!r && g->replay)
		return cmd_usage_err(g,
				     "--replay: counters come from /proc/net of the live kernel; "
				     "a recorded socket dump does not hold them");
	return r;
}

static int snap(const struct td_global *g, const char *ns, struct td_counters **out)
{
	struct td_counters_err err;
	int r = counters_read(out, &err);

	if (r == -EBADMSG)
		cmd_err(g, "/proc/net/%s%s%s, line %u: %s", counters_src_name(err.src),
			*ns ? " in namespace " : "", ns, err.line, err.msg);
	else if (r)
		cmd_err(g, "reading /proc/net/%s%s%s: %s", counters_src_name(err.src),
			*ns ? " in namespace " : "", ns, strerror(-r));
	return r;
}

static int enter_err(const struct td_global *g, const char *name, int r)
{
	if (r == -EPERM)
		cmd_err(g, "entering namespace %s needs CAP_SYS_ADMIN (run as root)", name);
	else
		cmd_err(g, "namespace %s: %s", name, strerror(-r));
	return r;
}

/* Samples every namespace of l (or the current one when l is NULL) before and after one shared
 * interval. Returns 0 or -errno after printing why; the caller's namespace is restored. */
static int sample(const struct td_global *g, struct counters_run *run, struct td_netns_list *l)
{
	int saved = -1, r = 0;

	run->n = l ? l->n : 1;
	run->v = xcalloc(run->n, sizeof(*run->v));
	for (size_t i = 0; i < run->n; i++)
		run->v[i].name = xstrdup(l ? l->v[i].name : "");
	if (l && (saved = netns_save()) < 0) {
		cmd_err(g, "saving the current namespace: %s", strerror(-saved));
		return saved;
	}
	for (int pass = 0; pass < 2 && !r; pass++) {
		if (pass)
			util_sleep_ms(run->interval_ms);
		for (size_t i = 0; i < run->n && !r; i++) {
			struct ns_sample *s = &run->v[i];
			if (l && (r = netns_enter(&l->v[i])))
				enter_err(g, s->name, r);
			else
				r = snap(g, s->name, pass ? &s->after : &s->before);
		}
	}
	if (saved >= 0) {
		int rr = netns_restore(saved);
		if (rr && !r) {
			cmd_err(g, "returning to the original namespace: %s", strerror(-rr));
			r = rr;
		}
	}
	return r;
}

static json_t *rows_json(const struct td_counters_row *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		fields_json_set(o, counters_row_fields, counters_row_nfields, &v[i], NULL);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *ns_json(const struct ns_sample *s, bool all)
{
	struct td_counters_row *v;
	size_t n = counters_rows(s->before, s->after, all, &v);
	json_t *o = json_object();
	const char *miss[COUNTERS_ID_COUNT];
	size_t nm = counters_missing(s->before, s->after, miss);
	json_t *ma = json_array();

	json_object_set_new(o, "counters", rows_json(v, n));
	for (size_t i = 0; i < nm; i++)
		json_array_append_new(ma, json_string(miss[i]));
	/* known counters this kernel does not have (PAWSTimewait before 6.15, ...) */
	json_object_set_new(o, "missing", ma);
	free(v);
	return o;
}

static void print_json(const struct counters_run *run, bool per_ns)
{
	json_t *o = json_object();

	json_object_set_new(o, "interval_s", json_real((double)run->interval_ms / 1000.0));
	if (per_ns) {
		json_t *a = json_array();
		for (size_t i = 0; i < run->n; i++) {
			json_t *n = ns_json(&run->v[i], run->all);
			json_object_set_new(n, "name", json_string(run->v[i].name));
			json_array_append_new(a, n);
		}
		json_object_set_new(o, "netns", a);
	} else {
		json_t *n = ns_json(&run->v[0], run->all);
		json_object_update(o, n);
		json_decref(n);
	}
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	fputc('\n', stdout);
	json_decref(o);
}

static void print_ns(const struct ns_sample *s, bool all, bool color)
{
	const char *miss[COUNTERS_ID_COUNT];
	size_t nm = counters_missing(s->before, s->after, miss);
	struct td_counters_row *v;
	size_t n = counters_rows(s->before, s->after, all, &v);
	bool gauges = false;

	fields_line_header(stdout, counters_row_fields, counters_row_nfields, color);
	for (size_t i = 0; i < n; i++) {
		if (v[i].kind == COUNTERS_GAUGE && !gauges) {
			gauges = true;
			fields_line_header(stdout, counters_gauge_fields, counters_gauge_nfields,
					   color);
		}
		if (v[i].kind == COUNTERS_GAUGE)
			fields_line(stdout, counters_gauge_fields, counters_gauge_nfields, &v[i],
				    NULL);
		else
			fields_line(stdout, counters_row_fields, counters_row_nfields, &v[i], NULL);
	}
	if (nm) {
		fputs("  not on this kernel:", stdout);
		for (size_t i = 0; i < nm; i++)
			printf("%s %s", i ? "," : "", miss[i]);
		fputc('\n', stdout);
	}
	free(v);
}

static void print_text(const struct counters_run *run, bool per_ns, bool color)
{
	printf("TCP counters over %.3g s (sockstat orphan, alloc and mem are host-wide)\n",
	       (double)run->interval_ms / 1000.0);
	for (size_t i = 0; i < run->n; i++) {
		if (per_ns)
			printf("\n%sNetwork namespace %s%s\n", color ? "\033[1m" : "",
			       *run->v[i].name ? run->v[i].name : "(current)",
			       color ? "\033[0m" : "");
		print_ns(&run->v[i], run->all, color);
	}
}

static int counters_main(int argc, char **argv, struct td_global *g)
{
	struct counters_run run = { 0 };
	struct td_netns_list l = { 0 };
	struct td_netns one = { .fd = -1 };
	bool have_list = false;
	int r = parse_args(argc, argv, g, &run);

	if (r)
		return r;
	if (g->netns && !strcmp(g->netns, "all")) {
		unsigned skipped = 0;
		if ((r = netns_list_all(&l, &skipped))) {
			cmd_err(g, "listing namespaces: %s", strerror(-r));
			r = TD_EXIT_FAIL;
			goto out;
		}
		have_list = true;
		if (skipped)
			cmd_err(g, "note: the namespaces of %u processes could not be read (%s)",
				skipped, netns_denied_hint());
	} else if (g->netns) {
		if ((r = netns_open(g->netns, &one))) {
			cmd_err(g, "namespace %s: %s", g->netns, strerror(-r));
			r = TD_EXIT_FAIL;
			goto out;
		}
		l.v = &one;
		l.n = 1;
	}
	if (sample(g, &run, g->netns ? &l : NULL)) {
		r = TD_EXIT_FAIL;
		goto out;
	}
	if (g->json)
		print_json(&run, g->netns != NULL);
	else
		print_text(&run, g->netns && !strcmp(g->netns, "all"), g->color);
	r = TD_EXIT_OK;
out:
	for (size_t i = 0; i < run.n; i++) {
		free(run.v[i].name);
		counters_free(run.v[i].before);
		counters_free(run.v[i].after);
	}
	free(run.v);
	if (have_list)
		netns_list_free(&l);
	else if (one.fd >= 0)
		netns_free_one(&one);
	return r;
}

static const struct td_cmd_opt counters_opts[] = {
	{ "interval", 'i', "S", "seconds between the samples (default 1, up to 3600; 0.5 works)",
	  'i' },
	{ "all", 'a', NULL, "also every other Tcp/TcpExt counter that moved", 'a' },
	{ 0 },
};

const struct td_cmd_entry cmd_counters = {
	.name = "counters",
	.summary = "Kernel TCP counters over an interval, each explained",
	.usage = "tcpdoctor [-N NS|all] counters [--interval S] [--all] [--json]",
	.about =
		"Samples /proc/net/snmp, /proc/net/netstat and /proc/net/sockstat twice, S seconds\n"
		"apart, and explains the TCP counters that matter: deltas and rates, non-zero first;\n"
		"gauges (CurrEstab, sockstat) as current values.",
	.opts = counters_opts,
	.more = "\nWith --json: {\"interval_s\": x, \"counters\": [{\"name\", \"section\", "
		"\"delta\",\n\"rate\", \"value\", \"kind\", \"meaning\"}, ...]}; with -N a "
		"\"netns\" array.",
	.on_opt = on_opt,
	.run = counters_main,
};
