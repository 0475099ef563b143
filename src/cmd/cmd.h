/* SPDX-License-Identifier: MIT */
/*
 * What every command shares: the global options (accepted before or after the command name),
 * exit codes, error printing, and the entry point of each command (one file each in src/cmd/,
 * listed in main.c's table). Only src/cmd/ and main.c print.
 */
#ifndef TD_CMD_H
#define TD_CMD_H

#include <getopt.h>
#include <stdbool.h>

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
};

struct td_cmd {
	const char *name;
	int (*run)(int argc, char **argv, struct td_global *g);
	const char *summary;
};

/* Long options every command accepts, and their codes (above any short option). */
enum {
	TD_OPT_JSON = 0x100,
	TD_OPT_NO_COLOR,
	TD_OPT_REPLAY,
	TD_OPT_SOURCE,
	TD_OPT_CMD_BASE = 0x180, /* commands number their own long-only options from here */
};

#define TD_GLOBAL_LONGOPTS                                                                         \
	{ "json", no_argument, NULL, TD_OPT_JSON },                                                \
		{ "no-color", no_argument, NULL, TD_OPT_NO_COLOR },                                \
		{ "netns", required_argument, NULL, 'N' },                                         \
		{ "replay", required_argument, NULL, TD_OPT_REPLAY },                              \
		{ "source", required_argument, NULL, TD_OPT_SOURCE },                              \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}
#define TD_GLOBAL_SHORTOPTS "N:h"

/* Handles a global option returned by getopt_long. Returns 1 if it was one (and valid),
 * 0 if c is not a global option, or -1 after printing a usage error. */
int cmd_global_option(struct td_global *g, int c, const char *arg);

/* A command's handler for one of its own options: returns 0, or an exit code after printing
 * the error (cmd_usage_err). */
typedef int (*td_opt_fn)(struct td_global *g, int c, const char *arg, void *ctx);

/*
 * The option loop every command shares: global options are taken here, -h/--help calls usage()
 * and returns -1, any other option goes to fn, an unknown option or a positional argument is a
 * usage error returning bad_exit (TD_EXIT_USAGE, or TD_EXIT_UNKNOWN for the Nagios-style
 * commands). On success calls cmd_global_finish and returns 0.
 */
int cmd_parse_opts(int argc, char **argv, struct td_global *g, const char *shortopts,
		   const struct option *longopts, td_opt_fn fn, void *ctx, void (*usage)(void),
		   int bad_exit);
/* The same for commands that take arguments (sysctl lint FILE...): *first_arg gets the index of
 * the first positional argument (argc when there is none). */
int cmd_parse_opts_args(int argc, char **argv, struct td_global *g, const char *shortopts,
			const struct option *longopts, td_opt_fn fn, void *ctx, void (*usage)(void),
			int bad_exit, int *first_arg);

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

/* Commands */
int cmd_doctor_main(int argc, char **argv, struct td_global *g);
int cmd_check_main(int argc, char **argv, struct td_global *g);
int cmd_states_main(int argc, char **argv, struct td_global *g);
int cmd_sockets_main(int argc, char **argv, struct td_global *g);
int cmd_ports_main(int argc, char **argv, struct td_global *g);
int cmd_top_main(int argc, char **argv, struct td_global *g);
int cmd_counters_main(int argc, char **argv, struct td_global *g);
int cmd_sysctl_main(int argc, char **argv, struct td_global *g);
int cmd_lab_main(int argc, char **argv, struct td_global *g);
int cmd_watch_main(int argc, char **argv, struct td_global *g);
int cmd_serve_main(int argc, char **argv, struct td_global *g);
int cmd_explain_main(int argc, char **argv, struct td_global *g);
int cmd_conntrack_main(int argc, char **argv, struct td_global *g);
int cmd_trace_main(int argc, char **argv, struct td_global *g);

#endif
