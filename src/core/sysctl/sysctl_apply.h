/* SPDX-License-Identifier: MIT */
/*
 * Applying sysctl values to the calling thread's network namespace, all or nothing: a plan
 * built from a linted set (the winning line of each key, in file order) with the current value
 * of every key, a backup of those values written before anything changes, then the writes, each
 * read back; when a write fails or reads back differently, every key already written is
 * restored. Rollback is applying a backup file the same way.
 *
 * Not thread-safe (it changes kernel state); no printing. Callers decide whether to enter a
 * namespace first.
 */
#ifndef TD_SYSCTL_APPLY_H
#define TD_SYSCTL_APPLY_H

#include <stdbool.h>
#include <stddef.h>

struct td_sysctl_set;

enum td_apply_state {
	TD_AP_PENDING = 0,
	TD_AP_SAME,	      /* already had the value: not written */
	TD_AP_WRITTEN,	      /* written and read back equal */
	TD_AP_FAILED,	      /* the write failed or read back differently: all was undone */
	TD_AP_IGNORED,	      /* the write failed on a '-' line: ignored, as systemd-sysctl does */
	TD_AP_RESTORED,	      /* written, then put back after a later failure */
	TD_AP_RESTORE_FAILED, /* could not be put back: the namespace is changed */
	TD_AP_NOT_REACHED,    /* after the failure: never written */
};

struct td_apply_item {
	const char *key; /* borrowed from the set the plan was built from */
	const char *path;
	const char *value;
	unsigned file, line;
	bool ignore_errors;
	char *old;   /* value before (owned) */
	char *after; /* value read back after the write (owned), or NULL */
	int err;     /* the failing write's -errno, -EIO for a read-back mismatch */
	enum td_apply_state st;
};

struct td_sysctl_plan {
	struct td_apply_item *v;
	size_t n;
	size_t failed; /* index of the item that failed, n when none */
};

/* Where the values go. */
struct td_apply_opts {
	bool child_ns;	 /* procroot is a child namespace's: global keys are absent or read-only */
	bool netns_only; /* -N: only keys of the network namespace may be written */
};

/*
 * Builds the plan for s (already linted). Refusals become error findings in s naming file and
 * line: with o->netns_only or o->child_ns, every key that is not per network namespace (all
 * outside net., and the global net. keys of the table: tcp-facts#netns-scope); a key that is
 * missing, not a file or read-only in procroot (unknown keys are looked up there, not assumed);
 * an inline '#' in a value (the kernel would get the comment); a key whose current value cannot
 * be read. Lines already judged bad, and lines a later good line overrides, are left out
 * (linear in the number of lines). Returns 0 and *out (free with sysctl_apply_plan_free), or
 * -errno.
 */
int sysctl_apply_plan(struct td_sysctl_set *s, const char *procroot, const struct td_apply_opts *o,
		      struct td_sysctl_plan **out);
void sysctl_apply_plan_free(struct td_sysctl_plan *p);

/* True when two sysctl values mean the same to the kernel: blanks collapsed and numbers compared
 * as numbers ("01  2" equals "1\t2"), port lists compared as sets of ports ("8080,8081" equals
 * "8080-8081", the form the kernel reads back). */
bool sysctl_apply_same(const char *a, const char *b);

/*
 * Writes the old values of every item as a sysctl.conf to path (mode 0600), atomically (a
 * temporary file renamed over it) and synced. header is written as '#' comment lines.
 * Creates the directory (0700) when missing. Returns 0 or -errno.
 */
int sysctl_apply_backup(const struct td_sysctl_plan *p, const char *path, const char *header);

/*
 * Writes each item that differs, reads it back, and on the first failure restores every item
 * written so far (the failing one included), in reverse. Returns 0 when all were applied, or
 * the failing item's -errno (p->failed names it; the states say what was restored).
 */
int sysctl_apply_run(struct td_sysctl_plan *p, const char *procroot);

/* "same", "changed", "FAILED", ... for reports. */
const char *sysctl_apply_state_name(enum td_apply_state st);

#endif
