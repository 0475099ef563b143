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
#include "core/model.h"
#include "core/rules.h"
#include "core/util.h"
#include "render/findings.h"

enum { OPT_INTERVAL = TD_OPT_CMD_BASE, OPT_NO_OWNERS };

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
	char err[TD_ERRMSG_LEN];
	int r = model_collect(mo, m, err);

	if (r) {
		cmd_err(g, "%s", *err ? err : strerror(-r));
		return TD_EXIT_UNKNOWN;
	}
	if (*err)
		cmd_err(g, "%s", err);
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
	}
	return cmd_getopt_err(g);
}

static int doctor_main(int argc, char **argv, struct td_global *g)
{
	struct td_model_opts mo = { .interval_ms = 1000 };
	struct td_limits lim;
	struct td_model *m = NULL;
	struct td_findings fs;
	bool verbose = false;
	struct doctor_args a = { &mo, &verbose };
	int r = cmd_parse(&cmd_doctor, argc, argv, g, &a);

	if (r)
		return r;
	cmd_source_opts(g, &mo.src);
	rules_limits_default(&lim);
	if ((r = doctor_collect(g, &mo, &lim, &m, &fs)))
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
	{ "verbose", 'v', NULL, "show every info finding", 'v' },
	{ 0 },
};

const struct td_cmd_entry cmd_doctor = {
	.name = "doctor",
	.summary = "Diagnose the host: findings, evidence, causes, remedies",
	.usage = "tcpdoctor [-N NS|all] [doctor] [--interval S] [--json] [-v]",
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
