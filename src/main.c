// SPDX-License-Identifier: MIT
/*
 * tcpdoctor's entry point: global options and the command table, from which the usage text is
 * generated. Each command lives in src/cmd/ and parses its own arguments.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/util.h"

#ifndef TD_VERSION
#define TD_VERSION "0.1.0"
#endif

/* The command run when none is named. */
#define TD_DEFAULT_CMD "doctor"

static const struct td_cmd commands[] = {
	{ "doctor", cmd_doctor_main, "Diagnose the host: findings, evidence, causes, remedies" },
	{ "check", cmd_check_main, "Nagios/Icinga plugin: thresholds, status line, perfdata" },
	{ "states", cmd_states_main, "Census of TCP sockets by state, IPv4, IPv6 and total" },
	{ "sockets", cmd_sockets_main, "List sockets with filters; --record saves the raw dump" },
	{ "ports", cmd_ports_main, "Ephemeral-port headroom per destination, time to exhaustion" },
	{ "top", cmd_top_main, "Group sockets by peer, port, process, destination or netns" },
	{ "counters", cmd_counters_main, "Kernel TCP counters over an interval, each explained" },
	{ "conntrack", cmd_conntrack_main,
	  "Connection-tracking table: entries vs limit, states, stats, groups" },
	{ "sysctl", cmd_sysctl_main, "Audit, lint, recommend, apply and roll back TCP sysctls" },
	{ "lab", cmd_lab_main,
	  "Reproduce port exhaustion in private namespaces; measure each remedy" },
	{ "watch", cmd_watch_main, "Live view: states, rates, sparklines, destinations, findings" },
	{ "trace", cmd_trace_main,
	  "eBPF: failed connect()/bind() by errno and program, resets, who closed first" },
	{ "serve", cmd_serve_main, "Prometheus exporter: /metrics over HTTP, or --textfile" },
	{ "explain", cmd_explain_main,
	  "What a finding id, sysctl key or error message means; causes, sources" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tcpdoctor [OPTIONS] [COMMAND] [ARGS]\n"
		"Diagnose TCP connection-state problems: TIME_WAIT storms, port exhaustion,\n"
		"CLOSE_WAIT leaks, SYN floods, full accept queues.\n\n"
		"Commands (default: %s):\n",
		TD_DEFAULT_CMD);
	for (size_t i = 0; i < TD_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-10s %s\n", "help", "Show this text, or a command's: help COMMAND");
	fputs("\nOptions (also accepted after the command):\n"
	      "  -N, --netns NS     a namespace: name under /run/netns, a path such as\n"
	      "                     /proc/PID/ns/net, or 'all' for every namespace\n"
	      "      --json         machine-readable output\n"
	      "      --no-color     no colour (also NO_COLOR=1)\n"
	      "      --replay FILE  read a dump recorded with 'sockets --record' instead of the "
	      "kernel\n"
	      "      --source SRC   auto (default), netlink or procfs\n"
	      "  -h, --help         this text\n"
	      "  -V, --version      version\n\n"
	      "Run 'tcpdoctor COMMAND --help' for a command's options. See tcpdoctor(8).\n",
	      f);
}

static const struct td_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < TD_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int run_cmd(const struct td_cmd *c, int argc, char **argv, struct td_global *g)
{
	char prog[64];

	/* getopt names argv[0] in its messages: "tcpdoctor states: unrecognized option" */
	snprintf(prog, sizeof(prog), "tcpdoctor %s", c->name);
	argv[0] = prog;
	g->cmd = c->name;
	optind = 0; /* full re-initialisation of getopt for the command's own parsing */
	return c->run(argc, argv, g);
}

/* True when argv[i] is the value of the global option before it ("-N NAME", "--source SRC"),
 * not a word of its own. */
static bool is_option_value(char **argv, int i)
{
	const char *p = argv[i - 1];

	return !strcmp(p, "-N") || !strcmp(p, "--netns") || !strcmp(p, "--replay") ||
	       !strcmp(p, "--source");
}

/* The exit code of a bad global option: that of the command it was meant for. doctor and check
 * are Nagios plugins, where anything but 0..2 must be UNKNOWN (3), also a bad command line:
 * `tcpdoctor --source bogus check` must not read as CRITICAL. */
static int usage_exit(int argc, char **argv)
{
	const char *name = TD_DEFAULT_CMD;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] == '-' || is_option_value(argv, i) || !find_cmd(argv[i]))
			continue;
		name = argv[i];
		break;
	}
	return !strcmp(name, "doctor") || !strcmp(name, "check") ? TD_EXIT_UNKNOWN : TD_EXIT_USAGE;
}

/* Runs the first argument that names a command, with every other argument (options included,
 * in order) given to it; the default command when none is named. */
static int run_named_anywhere(int argc, char **argv, struct td_global *g)
{
	for (int i = 1; i < argc; i++) {
		const struct td_cmd *c = argv[i][0] != '-' ? find_cmd(argv[i]) : NULL;
		if (!c)
			continue;
		memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
		return run_cmd(c, argc - 1, argv, g);
	}
	return run_cmd(find_cmd(TD_DEFAULT_CMD), argc, argv, g);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		TD_GLOBAL_LONGOPTS,
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct td_global g = { 0 };
	int c;

	/* getopt's own messages start with argv[0]: make them "tcpdoctor: ..." wherever the binary
	 * lives */
	if (argc > 0)
		argv[0] = (char *)"tcpdoctor";

	/* '+': stop at the command name; what follows belongs to the command. ':' and opterr 0:
	 * an option we do not know may be the default command's (`tcpdoctor --interval 5`). */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:" TD_GLOBAL_SHORTOPTS "V", opts, NULL)) != -1) {
		int r = cmd_global_option(&g, c, optarg);
		if (r < 0)
			return usage_exit(argc, argv);
		if (r > 0)
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return TD_EXIT_OK;
		case 'V':
			printf("tcpdoctor %s\n", TD_VERSION);
			return TD_EXIT_OK;
		case ':':
			fprintf(stderr, "tcpdoctor: option '%s' needs an argument\n",
				argv[optind - 1]);
			cmd_getopt_err(NULL);
			return usage_exit(argc, argv);
		default:
			/* not a global option: the command named further on (or the default one)
			 * parses the whole line, so `tcpdoctor --interval 5` and `tcpdoctor -4
			 * states` both work */
			opterr = 1;
			return run_named_anywhere(argc, argv, &g);
		}
	}
	opterr = 1;
	argc -= optind;
	argv += optind;

	if (argc == 0) {
		char *def[] = { (char *)TD_DEFAULT_CMD, NULL };
		return run_cmd(find_cmd(TD_DEFAULT_CMD), 1, def, &g);
	}
	if (!strcmp(argv[0], "help")) {
		if (argc < 2) {
			usage(stdout);
			return TD_EXIT_OK;
		}
		const struct td_cmd *hc = find_cmd(argv[1]);
		if (!hc) {
			fprintf(stderr, "tcpdoctor: unknown command '%s'\n", argv[1]);
			return TD_EXIT_USAGE;
		}
		char *hv[] = { argv[1], (char *)"--help", NULL };
		return run_cmd(hc, 2, hv, &g);
	}
	const struct td_cmd *cmd = find_cmd(argv[0]);
	if (!cmd) {
		fprintf(stderr, "tcpdoctor: unknown command '%s'. Commands:", argv[0]);
		for (size_t i = 0; i < TD_ARRAY_SIZE(commands); i++)
			fprintf(stderr, " %s", commands[i].name);
		fputs(".\nTry 'tcpdoctor --help'.\n", stderr);
		return TD_EXIT_USAGE;
	}
	return run_cmd(cmd, argc, argv, &g);
}
