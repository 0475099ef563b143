/* SPDX-License-Identifier: MIT */
/*
 * What the two halves of `tcpdoctor sysctl` share: the parsed arguments, entering the -N
 * namespace, and printing findings. sysctl.c parses and lints; sysctl_run.c audits, recommends,
 * applies and rolls back. Only src/cmd prints.
 */
#ifndef TD_CMD_SYSCTL_H
#define TD_CMD_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"
#include "core/sysctl.h"

#define SYSCTL_PROCROOT	  "/proc/sys"
#define SYSCTL_BACKUP_DIR "/var/lib/tcpdoctor"

struct sysctl_args {
	const char *sub; /* NULL (audit), "lint", "recommend", "apply", "rollback" */
	char **args;	 /* what follows the subcommand */
	size_t nargs;
	const char *root;
	const char *profile;
	const char *backup_dir;
	bool dry_run;
	bool verbose; /* lint: one line per key not in the table */
};

/* Enters g->netns when set, printing why it could not. *saved is for sysctl_leave.
 * Returns 0 or -errno. */
int sysctl_enter(const struct td_global *g, int *saved);
void sysctl_leave(int saved);

/* The name of file index file, "-" when there is none. */
const char *sysctl_file_name(const struct td_sysctl_set *s, unsigned file);

/* Prints the findings (and the effective values when asked) as text or JSON. */
void sysctl_print_findings(const struct td_global *g, const struct td_sysctl_set *s,
			   bool effective);

/* The findings as a JSON array (new reference). */
struct json_t;
struct json_t *sysctl_findings_json(const struct td_sysctl_set *s);

/* 1 when anything is harmful or an error, else 0. */
int sysctl_exit_code(const struct td_sysctl_set *s);

int sysctl_cmd_audit(const struct td_global *g, const struct sysctl_args *a);
int sysctl_cmd_recommend(const struct td_global *g, const struct sysctl_args *a);
int sysctl_cmd_apply(const struct td_global *g, const struct sysctl_args *a);
int sysctl_cmd_rollback(const struct td_global *g, const struct sysctl_args *a);

#endif
