// SPDX-License-Identifier: MIT
/*
 * Shared command plumbing: global options that every command also accepts after its name, and
 * the uniform error messages ("tcpdoctor: CMD: ...") with their exit codes.
 */
#include "cmd/cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_global_option(struct td_global *g, int c, const char *arg)
{
	switch (c) {
	case TD_OPT_JSON:
		g->json = true;
		return 1;
	case TD_OPT_NO_COLOR:
		g->no_color = true;
		return 1;
	case 'N':
		if (!arg || !*arg) {
			cmd_usage_err(g, "-N needs a namespace name, a path, or 'all'");
			return -1;
		}
		g->netns = arg;
		return 1;
	case TD_OPT_REPLAY:
		if (!arg || !*arg) {
			cmd_usage_err(g, "--replay needs a file");
			return -1;
		}
		g->replay = arg;
		return 1;
	case TD_OPT_SOURCE:
		if (!strcmp(arg, "auto")) {
			g->source = TD_SRC_AUTO;
		} else if (!strcmp(arg, "netlink")) {
			g->source = TD_SRC_NETLINK;
		} else if (!strcmp(arg, "procfs")) {
			g->source = TD_SRC_PROCFS;
		} else {
			cmd_usage_err(g, "--source '%s': expected auto, netlink or procfs", arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

int cmd_parse_opts_args(int argc, char **argv, struct td_global *g, const char *shortopts,
			const struct option *longopts, td_opt_fn fn, void *ctx, void (*usage)(void),
			int bad_exit, int *first_arg)
{
	int c, r;

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if ((r = cmd_global_option(g, c, optarg)) < 0)
			return bad_exit;
		if (r > 0)
			continue;
		if (c == 'h') {
			usage();
			return -1;
		}
		if (c == '?' || c == ':') {
			cmd_getopt_err(g);
			return bad_exit;
		}
		if ((r = fn(g, c, optarg, ctx)))
			return bad_exit == TD_EXIT_USAGE ? r : bad_exit;
	}
	if (first_arg) {
		*first_arg = optind;
	} else if (optind < argc) {
		cmd_usage_err(g, "unexpected argument '%s'", argv[optind]);
		return bad_exit;
	}
	cmd_global_finish(g);
	return 0;
}

int cmd_parse_opts(int argc, char **argv, struct td_global *g, const char *shortopts,
		   const struct option *longopts, td_opt_fn fn, void *ctx, void (*usage)(void),
		   int bad_exit)
{
	return cmd_parse_opts_args(argc, argv, g, shortopts, longopts, fn, ctx, usage, bad_exit,
				   NULL);
}

void cmd_global_finish(struct td_global *g)
{
	const char *nc = getenv("NO_COLOR");

	g->color = !g->no_color && !g->json && !(nc && *nc) && isatty(STDOUT_FILENO);
}

void cmd_source_opts(const struct td_global *g, struct td_source_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = g->source;
	o->replay = g->replay;
	o->netns = g->netns;
}

static void verr(const struct td_global *g, const char *fmt, va_list ap)
{
	fflush(stdout);
	if (g && g->cmd)
		fprintf(stderr, "tcpdoctor: %s: ", g->cmd);
	else
		fputs("tcpdoctor: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cmd_err(const struct td_global *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(g, fmt, ap);
	va_end(ap);
}

int cmd_usage_err(const struct td_global *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(g, fmt, ap);
	va_end(ap);
	if (g && g->cmd)
		fprintf(stderr, "Try 'tcpdoctor %s --help'.\n", g->cmd);
	else
		fputs("Try 'tcpdoctor --help'.\n", stderr);
	return TD_EXIT_USAGE;
}

int cmd_getopt_err(const struct td_global *g)
{
	/* getopt_long already printed what was wrong */
	if (g && g->cmd)
		fprintf(stderr, "Try 'tcpdoctor %s --help'.\n", g->cmd);
	else
		fputs("Try 'tcpdoctor --help'.\n", stderr);
	return TD_EXIT_USAGE;
}

int cmd_source_err(const struct td_global *g, int err, const char *msg)
{
	if (msg && *msg)
		cmd_err(g, "%s", msg);
	else
		cmd_err(g, "%s", strerror(-err));
	return TD_EXIT_FAIL;
}
