/* SPDX-License-Identifier: MIT */
/*
 * What every command shares: the global options (accepted before or after the command name),
 * exit codes, error printing, and the entry point of each command (one file each in src/cmd/,
 * listed in main.c's table). Only src/cmd/ and main.c print.
 */
#ifndef TD_CMD_H
#define TD_CMD_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/source/source.h"

enum td_exit {
	TD_EXIT_OK = 0,
	TD_EXIT_FAIL = 1,    /* could not do the job: kernel, file or permission error */
	TD_EXIT_USAGE = 2,   /* bad command line */
	TD_EXIT_UNKNOWN = 3, /* doctor and check: Nagios UNKNOWN, also for a bad command line */
};

struct td_global {
	bool json;
	bool color; /* resolved: a terminal, no --no-color, no NO_COLOR */
	bool no_color;
	const char *netns;  /* -N: NULL, "all", a name, or a path */
	const char *replay; /* --replay FILE */
	enum td_source_kind source;
	const char *cmd; /* the command's name, for messages */
	char **args;	 /* positional arguments after cmd_parse (TD_CMD_ARGS) */
	int nargs;
	bool name_in_args; /* cmd_parse drops the command's name from args */
};

/* Long options every command accepts, and their codes (above any short option). */
enum {
	TD_OPT_JSON = 0x100,
	TD_OPT_NO_COLOR,
	TD_OPT_REPLAY,
	TD_OPT_SOURCE,
	TD_OPT_CMD_BASE = 0x180, /* commands number their own long-only options from here */
};

/* Handles a global option returned by getopt_long. Returns 1 if it was one (and valid),
 * 0 if c is not a global option, or -1 after printing a usage error. */
int cmd_global_option(struct td_global *g, int c, const char *arg);

/* A command's handler for one of its own options: returns 0, or an exit code after printing
 * the error (cmd_usage_err). */
typedef int (*td_opt_fn)(struct td_global *g, int c, const char *arg, void *ctx);

/* One option of a command. code is what on_opt receives: the short letter when there is one,
 * otherwise a number from TD_OPT_CMD_BASE up. */
struct td_cmd_opt {
	const char *name; /* long name without "--", or NULL for a short-only option (-4) */
	char short_name;  /* or 0 for a long-only option */
	const char *arg;  /* the argument's name in the help ("S", "FILE"), NULL for a flag */
	const char *help; /* "\n" continues the text on a new line, aligned */
	int code;
};

enum td_cmd_flags {
	TD_CMD_ARGS = 1 << 0,	/* takes positional arguments (g->args) */
	TD_CMD_NAGIOS = 1 << 1, /* a bad command line exits TD_EXIT_UNKNOWN, not TD_EXIT_USAGE */
};

/*
 * A command, declared once in its own file (tmux's cmd_entry): its help text and getopt tables
 * are generated from it, global options included, so an option lives in one place. Example:
 *
 *	enum { OPT_ALL = TD_OPT_CMD_BASE };
 *	static const struct td_cmd_opt ports_opts[] = {
 *		{ "limit", 'n', "N", "show the N riskiest destinations (default 20)", 'n' },
 *		{ "all", 0, NULL, "also the quiet ones", OPT_ALL },
 *		{ 0 },
 *	};
 *	const struct td_cmd_entry cmd_ports = {
 *		.name = "ports", .summary = "...", .usage = "[--limit N] [--json]",
 *		.about = "Ephemeral-port headroom per destination...", .opts = ports_opts,
 *		.on_opt = on_opt, .run = ports_main,
 *	};
 *	static int ports_main(int argc, char **argv, struct td_global *g)
 *	{
 *		struct ports_args a = { .limit = 20 };
 *		int r = cmd_parse(&cmd_ports, argc, argv, g, &a); // on_opt(g, code, arg, &a)
 *		if (r)
 *			return r;
 *		...
 *
 * and the entry is listed in main.c's table. -h/--help never reaches run: cmd_run prints the
 * help and returns TD_EXIT_OK first.
 */
struct td_cmd_entry {
	const char *name;
	const char *summary; /* one line in tcpdoctor --help */
	const char *usage;   /* what follows "tcpdoctor NAME" in the usage line; further lines
			      * ("\n") are whole usage lines of their own */
	const char *about;   /* the paragraph under the usage line */
	const struct td_cmd_opt *opts; /* ends with { 0 }; NULL for none */
	const char *more;	       /* text after the options (JSON shape, keys), or NULL */
	void (*help)(void);	       /* printed after more, for generated text, or NULL */
	unsigned flags;		       /* enum td_cmd_flags */
	td_opt_fn on_opt;	       /* the command's options; NULL when it has none */
	int (*run)(int argc, char **argv, struct td_global *g);
};

/* Runs a command: -h/--help prints its help and returns TD_EXIT_OK without calling run. When
 * name_in_args, argv still holds the command's name among the arguments (`tcpdoctor -4
 * states`): cmd_parse drops it from the positional arguments. */
int cmd_run(const struct td_cmd_entry *e, int argc, char **argv, struct td_global *g,
	    bool name_in_args);

/*
 * The option loop every command calls first in run: global options are taken here, any other
 * option goes to e->on_opt with ctx; an unknown option, a missing argument, a rejected value or
 * (without TD_CMD_ARGS) a positional argument is a usage error: it returns TD_EXIT_USAGE, or
 * TD_EXIT_UNKNOWN with TD_CMD_NAGIOS, after printing it. Positional arguments are left in
 * g->args/g->nargs. On success calls cmd_global_finish and returns 0.
 */
int cmd_parse(const struct td_cmd_entry *e, int argc, char **argv, struct td_global *g, void *ctx);

/* Prints a command's help to stdout: usage, about, its options, more, help(), global options. */
void cmd_help(const struct td_cmd_entry *e);

/* Prints the global options' help lines (main's usage and every command's help). */
void cmd_global_help(FILE *f);

/* The getopt tables of a command (e == NULL: the global options alone). Sizes: TD_CMD_MAXOPTS. */
#define TD_CMD_MAXOPTS 48
void cmd_getopt_tables(const struct td_cmd_entry *e, char *shortopts, struct option *longopts);

/* Finishes option handling (colour decision). Call once after parsing. */
void cmd_global_finish(struct td_global *g);

/* Fills source options from the globals. */
void cmd_source_opts(const struct td_global *g, struct td_source_opts *o);

/* "tcpdoctor: CMD: message" to stderr. */
void cmd_err(const struct td_global *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the error, then "Try 'tcpdoctor CMD --help'."; returns TD_EXIT_USAGE. */
int cmd_usage_err(const struct td_global *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Reports a getopt error (unknown option, missing argument): returns TD_EXIT_USAGE. */
int cmd_getopt_err(const struct td_global *g);

/*
 * Signals, the same way in every long-running command (watch, lab, trace; serve below).
 * cmd_signals_stop: SIGINT and SIGTERM set the flag it returns (also read by cmd_stopped()), which
 * the command's loop polls; no SA_RESTART, so a sleep or poll in progress ends early with EINTR
 * and the command cleans up in its main flow. ignore_pipe: SIGPIPE ignored too, so a write to a
 * closed socket fails with EPIPE rather than killing the process (commands that print to a pipe
 * keep the default, which ends them when the reader goes). cmd_signals_fd: for a threaded
 * command, SIGINT, SIGTERM and extra (0 for none) blocked in the calling thread, and so in the
 * threads it starts afterwards, and read from the signalfd returned (-1 and errno on failure);
 * SIGPIPE ignored. Call either once, from the main thread, before starting any thread.
 */
const volatile sig_atomic_t *cmd_signals_stop(bool ignore_pipe);
bool cmd_stopped(void);
int cmd_signals_fd(int extra);

/* Prints the source's failure for a command and returns the exit code to use. */
int cmd_source_err(const struct td_global *g, int err, const char *msg);

/* doctor.c, shared with check.c: strict --interval parsing (seconds, "0" allowed), collecting
 * the model and evaluating the rules (returns 0 or TD_EXIT_UNKNOWN after printing why), and the
 * exit status of a set of findings. */
struct td_model;
struct td_model_opts;
struct td_limits;
struct td_findings;
int doctor_parse_interval(const struct td_global *g, const char *arg, unsigned *ms);
int doctor_collect(struct td_global *g, const struct td_model_opts *mo, const struct td_limits *lim,
		   struct td_model **m, struct td_findings *fs);
int doctor_exit(const struct td_findings *fs);
/* doctor_collect after a trace of trace_ms (0: none) whose rows become evidence (doctor and
 * check --trace); a trace that cannot run is printed and TD_EXIT_UNKNOWN. On failure *failed
 * names the step for a status line ("could not trace", "could not read the socket tables"). */
int doctor_collect_traced(struct td_global *g, const struct td_model_opts *mo,
			  const struct td_limits *lim, uint64_t trace_ms, struct td_model **m,
			  struct td_findings *fs, const char **failed);

/* Commands, one file each */
extern const struct td_cmd_entry cmd_doctor, cmd_check, cmd_states, cmd_sockets, cmd_ports, cmd_top,
	cmd_counters, cmd_sysctl, cmd_lab, cmd_watch, cmd_serve, cmd_explain, cmd_conntrack,
	cmd_trace;

#endif
