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

static const struct td_cmd_entry *const commands[] = {
	&cmd_doctor, &cmd_check,    &cmd_states,    &cmd_sockets, &cmd_ports,
	&cmd_top,    &cmd_counters, &cmd_conntrack, &cmd_sysctl,  &cmd_lab,
	&cmd_watch,  &cmd_trace,    &cmd_serve,	    &cmd_explain,
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
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "  %-10s %s\n", "help", "Show this text, or a command's: help COMMAND");
	fputs("\nOptions (also accepted after the command):\n", f);
	cmd_global_help(f);
	fputs("  -V, --version      version\n\n"
	      "Run 'tcpdoctor COMMAND --help' for a command's options. See tcpdoctor(8).\n",
	      f);
}

static const struct td_cmd_entry *find_cmd(const char *name)
{
	for (size_t i = 0; i < TD_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static int run_cmd(const struct td_cmd_entry *c, int argc, char **argv, struct td_global *g,
		   bool name_in_args)
{
	char prog[64];

	/* getopt names argv[0] in its messages: "tcpdoctor states: unrecognized option" */
	snprintf(prog, sizeof(prog), "tcpdoctor %s", c->name);
	argv[0] = prog;
	return cmd_run(c, argc, argv, g, name_in_args);
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

/* Runs the first argument that names a command, with every argument (options included, in
 * order) given to it, its own name dropped by its parser; the default command when none is
 * named. */
static int run_named_anywhere(int argc, char **argv, struct td_global *g)
{
	for (int i = 1; i < argc; i++) {
		const struct td_cmd_entry *c = argv[i][0] != '-' ? find_cmd(argv[i]) : NULL;
		if (c)
			return run_cmd(c, argc, argv, g, true);
	}
	return run_cmd(find_cmd(TD_DEFAULT_CMD), argc, argv, g, false);
}

/* The getopt tables of the global options, with --version. */
static void global_tables(struct option *opts, char *so)
{
	size_t n;

	cmd_getopt_tables(NULL, so + 2, opts);
	strcat(so, "V");
	for (n = 0; opts[n].name; n++)
		;
	opts[n] = (struct option){ "version", no_argument, NULL, 'V' };
	opts[n + 1] = (struct option){ 0 };
}

/* What follows the global options: nothing (the default command), help [COMMAND], or a
 * command and its arguments. */
static int run_rest(int argc, char **argv, struct td_global *g)
{
	if (argc == 0) {
		char *def[] = { (char *)TD_DEFAULT_CMD, NULL };
		return run_cmd(find_cmd(TD_DEFAULT_CMD), 1, def, g, false);
	}
	if (!strcmp(argv[0], "help")) {
		if (argc < 2) {
			usage(stdout);
			return TD_EXIT_OK;
		}
		const struct td_cmd_entry *hc = find_cmd(argv[1]);
		if (!hc) {
			fprintf(stderr, "tcpdoctor: unknown command '%s'\n", argv[1]);
			return TD_EXIT_USAGE;
		}
		g->cmd = hc->name;
		cmd_help(hc);
		return TD_EXIT_OK;
	}
	const struct td_cmd_entry *cmd = find_cmd(argv[0]);
	if (!cmd) {
		fprintf(stderr, "tcpdoctor: unknown command '%s'. Commands:", argv[0]);
		for (size_t i = 0; i < TD_ARRAY_SIZE(commands); i++)
			fprintf(stderr, " %s", commands[i]->name);
		fputs(".\nTry 'tcpdoctor --help'.\n", stderr);
		return TD_EXIT_USAGE;
	}
	return run_cmd(cmd, argc, argv, g, false);
}

int main(int argc, char **argv)
{
	struct option opts[TD_CMD_MAXOPTS];
	char so[2 * TD_CMD_MAXOPTS + 4] = "+:";
	struct td_global g = { 0 };
	int c;

	global_tables(opts, so);
	/* getopt's own messages start with argv[0]: make them "tcpdoctor: ..." wherever the binary
	 * lives */
	if (argc > 0)
		argv[0] = (char *)"tcpdoctor";

	/* '+': stop at the command name; what follows belongs to the command. ':' and opterr 0:
	 * an option we do not know may be the default command's (`tcpdoctor --interval 5`). */
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, opts, NULL)) != -1) {
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
	return run_rest(argc - optind, argv + optind, &g);
}
