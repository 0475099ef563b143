/* SPDX-License-Identifier: MIT */
/*
 * What the three files of `tcpdoctor sysctl` share: the parsed arguments, entering the -N
 * namespace, and printing findings. sysctl.c parses the command line and lints; sysctl_audit.c
 * renders the audit and the recommendations (the policy is core/sysctl/recommend.c); sysctl_run.c
 * applies and rolls back. The names carry cmd_sysctl_ so that core's sysctl_ stays core's.
 */
#ifndef TD_CMD_SYSCTL_H
#define TD_CMD_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"
#include "core/sysctl/sysctl.h"

#define CMD_SYSCTL_PROCROOT   "/proc/sys"
#define CMD_SYSCTL_BACKUP_DIR "/var/lib/tcpdoctor"

struct cmd_sysctl_args {
	const char *sub; /* NULL (audit), "lint", "recommend", "apply", "rollback" */
	char **args;	 /* what follows the subcommand */
	size_t nargs;
	const char *root;
	const char *profile;
	const char *backup_dir;
	bool dry_run;
	bool verbose; /* lint: one line per key not in the table */
};

/* Enters g->netns when set, printing why it could not. *saved is for cmd_sysctl_leave.
 * Returns 0 or -errno. */
int cmd_sysctl_enter(const struct td_global *g, int *saved);
void cmd_sysctl_leave(int saved);

/* The name of file index file, "-" when there is none. */
const char *cmd_sysctl_file_name(const struct td_sysctl_set *s, unsigned file);

/* Prints the findings (and the effective values when asked) as text or JSON. */
void cmd_sysctl_print_findings(const struct td_global *g, const struct td_sysctl_set *s,
			       bool effective);

/* The findings as a JSON array (new reference). */
struct json_t;
struct json_t *cmd_sysctl_findings_json(const struct td_sysctl_set *s);

/* 1 when anything is harmful or an error, else 0. */
int cmd_sysctl_exit_code(const struct td_sysctl_set *s);

int cmd_sysctl_audit(const struct td_global *g, const struct cmd_sysctl_args *a);
int cmd_sysctl_recommend(const struct td_global *g, const struct cmd_sysctl_args *a);
int cmd_sysctl_apply(const struct td_global *g, const struct cmd_sysctl_args *a);
int cmd_sysctl_rollback(const struct td_global *g, const struct cmd_sysctl_args *a);

#endif
