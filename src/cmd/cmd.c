// SPDX-License-Identifier: MIT
/*
 * Shared command plumbing: global options that every command also accepts after its name, and
 * the uniform error messages ("tcpdoctor: CMD: ...") with their exit codes.
 */
#include "cmd/cmd.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "core/names.h"
#include "core/util.h"

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

static const struct td_cmd_opt global_opts[] = {
	{ "netns", 'N', "NS",
	  "a namespace: name under /run/netns, a path such as\n"
	  "/proc/PID/ns/net, or 'all' for every namespace",
	  'N' },
	{ "json", 0, NULL, "machine-readable output", TD_OPT_JSON },
	{ "no-color", 0, NULL, "no colour (also NO_COLOR=1)", TD_OPT_NO_COLOR },
	{ "replay", 0, "FILE", "read a dump recorded with 'sockets --record' instead of the kernel",
	  TD_OPT_REPLAY },
	{ "source", 0, "SRC", "auto (default), netlink or procfs", TD_OPT_SOURCE },
	{ "help", 'h', NULL, "this text", 'h' },
	{ 0 },
};

static void add_opts(const struct td_cmd_opt *o, char *so, size_t *ns, struct option *lo,
		     size_t *nl)
{
	for (; o && (o->name || o->short_name); o++) {
		if (o->short_name) {
			so[(*ns)++] = o->short_name;
			if (o->arg)
				so[(*ns)++] = ':';
		}
		if (o->name && *nl < TD_CMD_MAXOPTS - 1)
			lo[(*nl)++] =
				(struct option){ o->name, o->arg ? required_argument : no_argument,
						 NULL, o->code };
	}
}

void cmd_getopt_tables(const struct td_cmd_entry *e, char *so, struct option *lo)
{
	size_t ns = 0, nl = 0;

	add_opts(global_opts, so, &ns, lo, &nl);
	if (e)
		add_opts(e->opts, so, &ns, lo, &nl);
	so[ns] = '\0';
	lo[nl] = (struct option){ 0 };
}

/* "  -i, --interval S" and its width. */
static int opt_left(const struct td_cmd_opt *o, char *buf, size_t len)
{
	char s[8] = "    ";

	if (o->short_name)
		snprintf(s, sizeof(s), "-%c%s", o->short_name, o->name ? ", " : "");
	return snprintf(buf, len, "  %s%s%s%s%s", s, o->name ? "--" : "", o->name ? o->name : "",
			o->arg ? " " : "", o->arg ? o->arg : "");
}

static int opts_width(const struct td_cmd_opt *o, int w)
{
	char buf[80];

	for (; o && (o->name || o->short_name); o++) {
		int n = opt_left(o, buf, sizeof(buf));
		if (n > w)
			w = n;
	}
	return w;
}

/* One help line per option, the help aligned at column w + 2, its "\n" continued there. */
static void print_opts(FILE *f, const struct td_cmd_opt *o, int w)
{
	char buf[80];

	for (; o && (o->name || o->short_name); o++) {
		const char *h = o->help, *nl;
		opt_left(o, buf, sizeof(buf));
		fprintf(f, "%-*s", w + 2, buf);
		while ((nl = strchr(h, '\n')) != NULL) {
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, w + 2, "");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
}

void cmd_global_help(FILE *f)
{
	print_opts(f, global_opts, opts_width(global_opts, 18));
}

/* A text block, each line after the first indented by indent spaces. */
static void print_indented(const char *t, int indent)
{
	const char *nl;

	while ((nl = strchr(t, '\n')) != NULL) {
		printf("%.*s\n%*s", (int)(nl - t), t, indent, "");
		t = nl + 1;
	}
	printf("%s\n", t);
}

void cmd_help(const struct td_cmd_entry *e)
{
	int w = opts_width(e->opts, opts_width(global_opts, 18));

	fputs("Usage: ", stdout);
	print_indented(e->usage, 7);
	if (e->about)
		printf("%s\n", e->about);
	if (e->opts && (e->opts->name || e->opts->short_name)) {
		puts("\nOptions:");
		print_opts(stdout, e->opts, w);
	}
	if (e->more)
		printf("%s\n", e->more);
	if (e->help)
		e->help();
	puts("\nGlobal options (also accepted before the command):");
	print_opts(stdout, global_opts, w);
}

static int bad_exit(const struct td_cmd_entry *e)
{
	return e->flags & TD_CMD_NAGIOS ? TD_EXIT_UNKNOWN : TD_EXIT_USAGE;
}

int cmd_parse(const struct td_cmd_entry *e, int argc, char **argv, struct td_global *g, void *ctx)
{
	struct option lo[TD_CMD_MAXOPTS];
	char so[2 * TD_CMD_MAXOPTS + 1];
	int c, r;

	cmd_getopt_tables(e, so, lo);
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if ((r = cmd_global_option(g, c, optarg)) < 0)
			return bad_exit(e);
		if (r > 0)
			continue;
		if (c == '?' || c == ':' || c == 'h' || !e->on_opt) {
			/* 'h' only when called without cmd_run, which answers it first */
			cmd_getopt_err(g);
			return bad_exit(e);
		}
		if ((r = e->on_opt(g, c, optarg, ctx)))
			return e->flags & TD_CMD_NAGIOS ? TD_EXIT_UNKNOWN : r;
	}
	g->args = argv + optind;
	g->nargs = argc - optind;
	if (g->name_in_args && g->nargs > 0 && !strcmp(g->args[0], e->name)) {
		g->args++;
		g->nargs--;
	}
	if (g->nargs > 0 && !(e->flags & TD_CMD_ARGS)) {
		cmd_usage_err(g, "unexpected argument '%s'", g->args[0]);
		return bad_exit(e);
	}
	cmd_global_finish(g);
	return 0;
}

/* True when -h or --help is among the options: getopt with the command's own tables, silent,
 * so that an option's value ("--replay --help") is not taken for one; stops at the first error,
 * which the command's own parse reports. */
static bool help_asked(const struct td_cmd_entry *e, int argc, char **argv)
{
	struct option lo[TD_CMD_MAXOPTS];
	char so[2 * TD_CMD_MAXOPTS + 2] = ":";
	int c, saved = opterr;
	bool help = false;

	cmd_getopt_tables(e, so + 1, lo);
	opterr = 0;
	optind = 0;
	while (!help && (c = getopt_long(argc, argv, so, lo, NULL)) != -1 && c != '?' && c != ':')
		help = c == 'h';
	opterr = saved;
	optind = 0; /* full re-initialisation for the command's own parse */
	return help;
}

int cmd_run(const struct td_cmd_entry *e, int argc, char **argv, struct td_global *g,
	    bool name_in_args)
{
	g->cmd = e->name;
	g->name_in_args = name_in_args;
	if (help_asked(e, argc, argv)) {
		cmd_help(e);
		return TD_EXIT_OK;
	}
	return e->run(argc, argv, g);
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

/* A message may carry a name from outside (a namespace given with -N, a file name): every
 * line of it is escaped as names_escape does, so a terminal never obeys what it holds. Text
 * already escaped passes unchanged. */
static void verr(const struct td_global *g, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);

	fflush(stdout);
	if (g && g->cmd)
		fprintf(stderr, "tcpdoctor: %s: ", g->cmd);
	else
		fputs("tcpdoctor: ", stderr);
	for (const char *p = msg;;) {
		const char *nl = strchr(p, '\n');
		char *line = names_escape(p, nl ? (size_t)(nl - p) : strlen(p));
		fputs(line, stderr);
		free(line);
		fputc('\n', stderr);
		if (!nl || !nl[1])
			break;
		p = nl + 1;
	}
	free(msg);
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

/* The only flag a signal handler sets: a handler can reach nothing but a global. */
static volatile sig_atomic_t cmd_stop;

static void on_stop(int sig)
{
	(void)sig;
	cmd_stop = 1;
}

const volatile sig_atomic_t *cmd_signals_stop(bool ignore_pipe)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_stop; /* no SA_RESTART: sleeps and polls end early */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ignore_pipe)
		signal(SIGPIPE, SIG_IGN);
	return &cmd_stop;
}

bool cmd_stopped(void)
{
	return cmd_stop != 0;
}

int cmd_signals_fd(int extra)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (extra)
		sigaddset(&set, extra);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC);
}
