// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor doctor`: the whole-host diagnosis, and the command run when none is named. Collects
 * the model (sockets, owners, counters over --interval, sysctls), runs the rules and prints the
 * findings worst first, each with its numbers, cause and remedies. Exit status follows Nagios:
 * 0 nothing above info, 1 warning, 2 critical, 3 unknown (could not look, or a bad command line).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/trace_use.h"
#include "core/model/model.h"
#include "core/rules/rules.h"
#include "core/util.h"
#include "render/findings.h"

enum { OPT_INTERVAL = TD_OPT_CMD_BASE, OPT_NO_OWNERS, OPT_TRACE };

int doctor_parse_interval(const struct td_global *g, const char *arg, unsigned *ms)
{
	uint64_t v;

	if (!strcmp(arg, "0")) {
		*ms = 0;
		return 0;
	}
	if (util_parse_seconds(arg, 60, &v)) {
		cmd_usage_err(g, "--interval '%s': expected seconds, 0 to 60 (e.g. 1 or 0.5)", arg);
		return TD_EXIT_UNKNOWN;
	}
	*ms = (unsigned)v;
	return 0;
}

int doctor_collect(struct td_global *g, const struct td_model_opts *mo, const struct td_limits *lim,
		   struct td_model **m, struct td_findings *fs)
{
	const char *failed;

	return doctor_collect_traced(g, mo, lim, 0, m, fs, &failed);
}

/* Traces first: the failures come first, then the snapshot of what is left */
static int run_trace(struct td_global *g, uint64_t ms, struct td_trace_agg **agg, double *secs,
		     uint64_t *lost)
{
	struct td_trace *t = NULL;
	int r;

	if ((r = trace_use_open(g, &t, TD_EXIT_UNKNOWN)))
		return r;
	*agg = trace_agg_new();
	r = trace_use_run(g, t, *agg, ms, secs, TD_EXIT_UNKNOWN);
	*lost = trace_lost(t);
	trace_close(t);
	return r;
}

int doctor_collect_traced(struct td_global *g, const struct td_model_opts *mo,
			  const struct td_limits *lim, uint64_t trace_ms, struct td_model **m,
			  struct td_findings *fs, const char **failed)
{
	char err[TD_ERRMSG_LEN];
	struct td_trace_agg *agg = NULL;
	uint64_t lost = 0;
	double secs = 0;
	int r = trace_ms ? run_trace(g, trace_ms, &agg, &secs, &lost) : 0;

	if (r)
		*failed = "could not trace";
	if (!r && (r = model_collect(mo, m, err))) {
		*failed = "could not read the socket tables";
		cmd_err(g, "%s", *err ? err : strerror(-r));
		r = TD_EXIT_UNKNOWN;
	}
	if (r) {
		trace_agg_free(agg);
		return r;
	}
	if (*err)
		cmd_err(g, "%s", err);
	if (agg)
		model_trace_attach(*m, agg, secs, lost);
	trace_agg_free(agg);
	memset(fs, 0, sizeof(*fs));
	rules_evaluate(*m, lim, fs);
	return 0;
}

int doctor_exit(const struct td_findings *fs)
{
	enum td_fsev w = rules_worst(fs);

	return w == TD_F_CRITICAL ? 2 : w == TD_F_WARNING ? 1 : 0;
}

struct doctor_args {
	struct td_model_opts *mo;
	bool *verbose;
	uint64_t *trace_ms;
};

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct doctor_args *a = ctx;

	switch (c) {
	case 'i':
		return doctor_parse_interval(g, arg, &a->mo->interval_ms);
	case OPT_NO_OWNERS:
		a->mo->no_owners = true;
		return 0;
	case 'v':
		*a->verbose = true;
		return 0;
	case OPT_TRACE:
		return trace_use_parse(g, arg, a->trace_ms, TD_EXIT_UNKNOWN);
	}
	return cmd_getopt_err(g);
}

static int doctor_main(int argc, char **argv, struct td_global *g)
{
	struct td_model_opts mo = { .interval_ms = 1000 };
	struct td_limits lim;
	struct td_model *m = NULL;
	struct td_findings fs;
	uint64_t trace_ms = 0;
	bool verbose = false;
	struct doctor_args a = { &mo, &verbose, &trace_ms };
	int r = cmd_parse(&cmd_doctor, argc, argv, g, &a);

	if (r)
		return r;
	cmd_source_opts(g, &mo.src);
	rules_limits_default(&lim);
	const char *failed;
	if ((r = doctor_collect_traced(g, &mo, &lim, trace_ms, &m, &fs, &failed)))
		return r;
	r = doctor_exit(&fs);
	if (g->json) {
		json_t *o = render_findings_json(m, &fs, r);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		render_findings_text(stdout, m, &fs, g->color, verbose);
	}
	rules_findings_free(&fs);
	model_free(m);
	return r;
}

static const struct td_cmd_opt doctor_opts[] = {
	{ "interval", 'i', "S", "watch the kernel counters for S seconds (default 1; 0: totals)",
	  'i' },
	{ "no-owners", 0, NULL, "skip the /proc scan that finds which process holds a socket",
	  OPT_NO_OWNERS },
	{ "trace", 0, "S",
	  "first trace failed connects and resets for S seconds (BPF,\nroot; Ctrl-C ends it early): "
	  "findings name the programs and\ncount exactly; a destination refusing us is peer-rejects",
	  OPT_TRACE },
	{ "verbose", 'v', NULL, "show every info finding", 'v' },
	{ 0 },
};

const struct td_cmd_entry cmd_doctor = {
	.name = "doctor",
	.summary = "Diagnose the host: findings, evidence, causes, remedies",
	.usage = "tcpdoctor [-N NS|all] [doctor] [--interval S] [--trace S] [--json] [-v]",
	.about =
		"Diagnoses the host: port exhaustion, TIME_WAIT storms, CLOSE_WAIT leaks, full accept\n"
		"queues, SYN floods, orphans, TIME_WAIT bucket overflow and harmful sysctls, each with\n"
		"its numbers, its cause and what to do (application fixes first).",
	.opts = doctor_opts,
	.more = "\nWith --json: {\"status\", \"exit\", \"netns\": [...], \"findings\": [{\"id\",\n"
		"\"severity\", \"title\", \"evidence\", \"remedies\", ...}]}\n"
		"Exit status: 0 OK, 1 warning, 2 critical, 3 unknown.",
	.flags = TD_CMD_NAGIOS,
	.on_opt = on_opt,
	.run = doctor_main,
};
