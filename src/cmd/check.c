// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor check`: a Nagios/Icinga plugin on the same model and rules as doctor. Thresholds
 * per state and per finding metric (--warn time_wait=20000 --crit close_wait=500,
 * --crit port_usage=95), one status line with perfdata as the plugin guidelines ask, exit
 * 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a bad command line).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/trace_use.h"
#include "core/rules/catalogue.h"
#include "core/model/model.h"
#include "core/rules/rules.h"
#include "core/util.h"
#include "render/findings.h"

/* The thresholds with their defaults, and the finding ids. */
static void check_help(void)
{
	struct td_limits lim;

	int width = 0;

	rules_limits_default(&lim);
	for (int i = 0; i < TD_LIM_COUNT; i++) /* the names' column fits the longest */
		if ((int)strlen(lim.l[i].name) > width)
			width = (int)strlen(lim.l[i].name);
	puts("\nThresholds (value >= N; exhaust_s: value <= N):");
	for (int i = 0; i < TD_LIM_COUNT; i++) {
		char w[24] = "-", c[24] = "-";
		if (lim.l[i].warn > 0)
			snprintf(w, sizeof(w), "%g", lim.l[i].warn);
		if (lim.l[i].crit > 0)
			snprintf(c, sizeof(c), "%g", lim.l[i].crit);
		printf("  %-*s warn %-6s crit %-6s %s\n", width, lim.l[i].name, w, c,
		       lim.l[i].help);
	}
	puts("Findings (tcpdoctor explain ID tells cause, remedies and thresholds):");
	for (size_t i = 0; i < catalogue_nfindings; i++)
		printf("  %-28s %s\n", catalogue_findings[i].id, catalogue_findings[i].title);
}

static int set_limit(const struct td_global *g, struct td_limits *lim, const char *arg, bool crit)
{
	const char *eq = strchr(arg, '=');
	char name[40];
	uint64_t v;

	if (!eq || (size_t)(eq - arg) >= sizeof(name) || eq == arg) {
		cmd_usage_err(g, "%s '%s': expected NAME=NUMBER", crit ? "--crit" : "--warn", arg);
		return TD_EXIT_UNKNOWN;
	}
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	struct td_limit *l = rules_limit_find(lim, name);
	if (!l) {
		cmd_usage_err(g, "unknown threshold '%s' (see tcpdoctor check --help)", name);
		return TD_EXIT_UNKNOWN;
	}
	if (util_parse_u64(eq + 1, 0, 100000000, &v)) {
		cmd_usage_err(g, "%s '%s': the threshold must be a whole number, 0 to 100000000",
			      crit ? "--crit" : "--warn", arg);
		return TD_EXIT_UNKNOWN;
	}
	if (crit)
		l->crit = (double)v;
	else
		l->warn = (double)v;
	return 0;
}

struct check_args {
	struct td_model_opts *mo;
	struct td_limits *lim;
	bool *verbose;
	uint64_t *trace_ms;
};

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct check_args *a = ctx;

	switch (c) {
	case 'w':
	case 'c':
		return set_limit(g, a->lim, arg, c == 'c');
	case 'i':
		return doctor_parse_interval(g, arg, &a->mo->interval_ms);
	case 'v':
		*a->verbose = true;
		return 0;
	case TD_OPT_CMD_BASE:
		return trace_use_parse(g, arg, a->trace_ms, TD_EXIT_UNKNOWN);
	}
	return cmd_getopt_err(g);
}

static int check_main(int argc, char **argv, struct td_global *g)
{
	struct td_model_opts mo = { .interval_ms = 1000 };
	struct td_limits lim;
	struct td_model *m = NULL;
	struct td_findings fs;
	bool verbose = false;
	uint64_t trace_ms = 0;
	struct check_args a = { &mo, &lim, &verbose, &trace_ms };
	int r;

	rules_limits_default(&lim);
	if ((r = cmd_parse(&cmd_check, argc, argv, g, &a)))
		return r;
	cmd_source_opts(g, &mo.src);
	const char *failed = "";
	if ((r = doctor_collect_traced(g, &mo, &lim, trace_ms, &m, &fs, &failed))) {
		/* the reason is on stderr; the status line says which step failed */
		printf("TCPDOCTOR UNKNOWN - %s\n", failed);
		return TD_EXIT_UNKNOWN;
	}
	r = doctor_exit(&fs);
	render_nagios(stdout, m, &fs, &lim, r, verbose);
	rules_findings_free(&fs);
	model_free(m);
	return r;
}

static const struct td_cmd_opt check_opts[] = {
	{ "warn", 'w', "NAME=N", "warning threshold NAME (below); repeat for several", 'w' },
	{ "crit", 'c', "NAME=N", "critical threshold NAME (below); repeat for several", 'c' },
	{ "interval", 'i', "S", "counters interval (default 1; 0: totals)", 'i' },
	{ "verbose", 'v', NULL, "one more line per further finding", 'v' },
	{ "trace", 0, "S",
	  "trace failed connects and resets for S seconds first (BPF,\nroot): peer_rejects and the "
	  "programs behind port-exhaustion",
	  TD_OPT_CMD_BASE },
	{ 0 },
};

const struct td_cmd_entry cmd_check = {
	.name = "check",
	.summary = "Nagios/Icinga plugin: thresholds, status line, perfdata",
	.usage = "tcpdoctor [-N NS|all] check [-w NAME=N]... [-c NAME=N]... [-i S] [-v]\n"
		 "          [--trace S]",
	.about = "Nagios/Icinga plugin: one status line with perfdata; exit 0 OK, 1 WARNING,\n"
		 "2 CRITICAL, 3 UNKNOWN (also for a bad command line).",
	.opts = check_opts,
	.help = check_help,
	.flags = TD_CMD_NAGIOS,
	.on_opt = on_opt,
	.run = check_main,
};
