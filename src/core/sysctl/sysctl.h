/* SPDX-License-Identifier: MIT */
/*
 * sysctl files and the live kernel: the sysctl.conf/sysctl.d parser (init/line/finish, so it
 * can be fuzzed; files are read by sysctl_files.h), lint (syntax, unknown keys with a
 * did-you-mean, keys this kernel lacks, value shape and range, inline comments, duplicates and
 * which line wins, and every verdict of the knowledge table), and reading values from /proc/sys
 * of the calling thread's network namespace.
 *
 * Syntax follows systemd-sysctl and procps `sysctl -p`: `key = value`, '#' or ';' comments only
 * at the start of a line, a leading '-' to ignore errors, surrounding whitespace trimmed, '.' or
 * '/' as separators. Problems in input are findings (data), never errors: functions return 0
 * or -errno only for what stops them (I/O). Nothing prints; not thread-safe per set.
 */
#ifndef TD_SYSCTL_H
#define TD_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sysctl/params.h"
#include "core/sysctl/sysctl_files.h" /* the file readers, once declared here */

/* Limits that hostile input hits first. */
#define SYSCTL_LINE_MAX	       65536	   /* longer lines are an error and skipped */
#define SYSCTL_FILE_MAX	       (16u << 20) /* bigger files are an error */
#define SYSCTL_ERRORS_PER_FILE 20	   /* then the rest of the file is skipped */
#define SYSCTL_KEY_MAX	       256

/* One assignment line. */
struct td_sysctl_entry {
	unsigned file;	    /* index into td_sysctl_set.files */
	unsigned line;	    /* 1-based */
	char *key;	    /* dotted form */
	char *path;	    /* relative to /proc/sys */
	char *value;	    /* trimmed, as written */
	bool ignore_errors; /* the line started with '-' */
	bool bad;	    /* the line cannot apply (an error, or a missing key on a '-' line) */
};

/* One finding. Every string is owned; key and value may be NULL. */
struct td_sysctl_finding {
	unsigned file; /* index into td_sysctl_set.files, or SYSCTL_NO_FILE */
	unsigned line; /* 0 = the whole file */
	char *key;
	char *value;
	enum td_sev sev;
	char *message;
	char *reason;
	char *ref;
	unsigned seq; /* insertion order, for a stable sort */
};
#define SYSCTL_NO_FILE ((unsigned)-1)

/* The effective value of a key: the last line that sets it. */
struct td_sysctl_effective {
	const char *key; /* borrowed from the winning entry */
	const char *value;
	unsigned file, line;
	unsigned overridden; /* how many earlier lines it overrides */
};

/* Files, their entries and the findings about them. */
struct td_sysctl_set {
	char **files;
	size_t nfiles;
	struct td_sysctl_entry *ent;
	size_t nent, capent;
	struct td_sysctl_finding *fnd;
	size_t nfnd, capfnd;
	struct td_sysctl_effective *eff; /* filled by sysctl_lint, in key order */
	size_t neff;
};

/* An empty set; never NULL (aborts on OOM). Free with td_sysctl_set_free (accepts NULL). */
struct td_sysctl_set *td_sysctl_set_new(void);
void td_sysctl_set_free(struct td_sysctl_set *s);

/* Adds a finding; message is printf-style. reason and ref are copied (may be NULL). */
void sysctl_finding_add(struct td_sysctl_set *s, unsigned file, unsigned line, const char *key,
			const char *value, enum td_sev sev, const char *reason, const char *ref,
			const char *fmt, ...) __attribute__((format(printf, 9, 10)));

/* The highest severity among the findings (TD_SEV_OK when none). */
enum td_sev sysctl_worst(const struct td_sysctl_set *s);

/* Sorts findings by file, line, then insertion. */
void sysctl_findings_sort(struct td_sysctl_set *s);

/* --- parser: init / line / finish --- */
struct td_sysctl_parser;

/* Starts parsing one file named name into s. Never NULL. */
struct td_sysctl_parser *sysctl_parser_new(struct td_sysctl_set *s, const char *name);
/* Feeds one line (without its '\n'; a trailing '\r' is handled; may hold any bytes, NULs
 * included). Returns 0, or 1 when the parser gave up on the file (too many errors): feeding
 * more is harmless. */
int sysctl_parser_line(struct td_sysctl_parser *p, const char *line, size_t len);
/* Adds file-level findings (CRLF endings) and frees p (accepts NULL). */
void sysctl_parser_finish(struct td_sysctl_parser *p);

/* Splits buf (len bytes, any content) into lines and feeds them. Can't fail. */
void sysctl_parse_buf(struct td_sysctl_set *s, const char *name, const char *buf, size_t len);

/* --- lint --- */
struct td_lint_opts {
	const struct td_kenv *env;
	const char *procroot; /* "/proc/sys" to check that keys exist; NULL skips those checks */
	bool child_ns;	      /* the namespace is not the initial one: global keys are absent */
	bool verbose;	      /* one finding per line for keys not in the table (else per file) */
};

/*
 * Judges every entry: unknown keys (with a did-you-mean over the table and procroot/net),
 * keys this kernel lacks or that are read-only here, shape and range, inline '#' in a value (as
 * the kernel takes it for that key), the table's verdicts, duplicates (which line wins) and
 * keys that cancel each other (sysctl_cross_lint). Fills s->eff and sorts the findings.
 * Linear in the number of lines. Returns 0 (can't fail).
 */
int sysctl_lint(struct td_sysctl_set *s, const struct td_lint_opts *o);

/* --- the live kernel (calling thread's network namespace) --- */

/* Reads procroot/path into buf, trailing newline removed, tabs and runs of blanks turned into
 * single spaces. Returns 0, -ENOENT, -EACCES, -ENOSPC (buf too small) or -errno. */
int sysctl_read(const char *procroot, const char *path, char *buf, size_t len);

/* Writes value and a newline to procroot/path in one write(2), as systemd-sysctl does (an empty
 * value is "\n", which clears a list). Returns 0 or -errno (-EINVAL: rejected). */
int sysctl_write(const char *procroot, const char *path, const char *value);

/* Fills env from uname(2), procroot (tcp_ehash_entries, ip_unprivileged_port_start) and
 * sysconf. Missing pieces stay 0. Can't fail. */
void sysctl_kenv_read(const char *procroot, struct td_kenv *env);

/* True when procroot belongs to a child network namespace. The kernel registers the global
 * IPv4 keys (tcp_mem, tcp_max_orphans) only for the initial namespace, so their absence is the
 * sign; it also works where /proc/1/ns/net cannot be read (containers, sandboxes). */
bool sysctl_in_child_netns(const char *procroot);

#endif
