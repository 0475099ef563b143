// SPDX-License-Identifier: MIT
/*
 * The halves of `tcpdoctor sysctl` that touch the live kernel: apply (validate everything,
 * back up, write with read-back, restore on failure) and rollback (apply the last backup).
 * Audit and recommend are in sysctl_audit.c. Everything happens inside the -N namespace when
 * one is given; with -N only keys of the network namespace are written, every host-wide key is
 * refused (tcp-facts#netns-scope).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/sysctl.h"
#include "core/sysctl/sysctl_apply.h"
#include "core/sysctl/sysctl_files.h"
#include "core/util.h"

/* backup-<netns>.conf: the -N name with anything but [A-Za-z0-9._-] turned into '_', or
 * "current" for the namespace tcpdoctor runs in. */
static char *backup_path(const struct td_global *g, const struct cmd_sysctl_args *a)
{
	char *name = xstrdup(g->netns ? g->netns : "current"), *p;

	for (char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-'))
			*c = '_';
	p = xasprintf("%s/backup-%s.conf", a->backup_dir, name);
	free(name);
	return p;
}

/* s quoted for a POSIX shell when it needs it. */
static char *shell_quote(const char *s)
{
	size_t n = strlen(s);
	char *q, *o;

	if (n && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			   "/._-+:=@%,") == n)
		return xstrdup(s);
	q = o = xmalloc(4 * n + 3);
	*o++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *s;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}

/* The backup's header: what it is and the exact command that restores it (with -N and
 * --backup-dir, so that it works as printed). */
static char *restore_header(const struct td_global *g, const struct cmd_sysctl_args *a,
			    const char *when)
{
	char *cwd = a->backup_dir[0] == '/' ? NULL : getcwd(NULL, 0);
	/* absolute, so that the command works from any directory */
	char *abs = cwd ? xasprintf("%s/%s", cwd, a->backup_dir) : xstrdup(a->backup_dir);
	char *ns = g->netns ? shell_quote(g->netns) : NULL, *dir = shell_quote(abs);
	char *h = xasprintf("tcpdoctor backup of network namespace '%s', taken before applying "
			    "%s\nat %sRestore with: tcpdoctor%s%s sysctl rollback --backup-dir %s",
			    g->netns ? g->netns : "current", a->args[0], when, ns ? " -N " : "",
			    ns ? ns : "", dir);

	free(ns);
	free(dir);
	free(abs);
	free(cwd);
	return h;
}

static void print_plan(const struct td_global *g, const struct td_sysctl_set *s,
		       const struct td_sysctl_plan *p, bool dry, const char *backup)
{
	if (g->json) {
		json_t *o = json_object(), *a = json_array();
		for (size_t i = 0; i < p->n; i++) {
			const struct td_apply_item *it = &p->v[i];
			json_t *j = json_object();
			json_object_set_new(j, "key", json_string(it->key));
			json_object_set_new(j, "old", json_string(it->old));
			json_object_set_new(j, "new", json_string(it->value));
			json_object_set_new(j, "state",
					    json_string(dry ? (sysctl_apply_same(it->old, it->value)
								       ? "same"
								       : "would change")
							    : sysctl_apply_state_name(it->st)));
			json_object_set_new(j, "error",
					    it->err ? json_string(strerror(-it->err))
						    : json_null());
			json_array_append_new(a, j);
		}
		json_object_set_new(o, "items", a);
		json_object_set_new(o, "backup", backup ? json_string(backup) : json_null());
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct td_apply_item *it = &p->v[i];
		bool same = sysctl_apply_same(it->old, it->value);
		const char *st =
			dry ? (same ? "same" : "would change") : sysctl_apply_state_name(it->st);
		/* an empty value (a cleared list) is shown as "" so the line still reads */
		printf("%-36s %s -> %s  [%s]  (%s:%u)", it->key, *it->old ? it->old : "\"\"",
		       *it->value ? it->value : "\"\"", st, cmd_sysctl_file_name(s, it->file),
		       it->line);
		if (it->err)
			printf(": %s", it->err == -EIO ? "read back a different value"
						       : strerror(-it->err));
		putchar('\n');
	}
}

/* Parses, lints and plans file inside the namespace. Returns 0, or an exit code after printing. */
static int prepare(const struct td_global *g, const char *file, bool dry, struct td_sysctl_set **sp,
		   struct td_sysctl_plan **pp)
{
	struct td_sysctl_set *s = td_sysctl_set_new();
	struct td_kenv env;
	struct td_lint_opts lo = { .env = &env, .procroot = CMD_SYSCTL_PROCROOT };
	struct td_apply_opts ao = { .netns_only = g->netns != NULL };
	enum td_sev worst;

	*pp = NULL;
	*sp = s;
	sysctl_parse_file(s, file);
	sysctl_kenv_read(CMD_SYSCTL_PROCROOT, &env);
	lo.child_ns = sysctl_in_child_netns(CMD_SYSCTL_PROCROOT);
	sysctl_lint(s, &lo);
	ao.child_ns = lo.child_ns;
	sysctl_apply_plan(s, CMD_SYSCTL_PROCROOT, &ao, pp);
	worst = sysctl_worst(s);
	if (worst >= TD_SEV_ERROR) {
		cmd_sysctl_print_findings(g, s, false);
		cmd_err(g, "%s: %s: fix the errors above first", file,
			dry ? "would be refused, nothing would be applied" : "nothing applied");
		return TD_EXIT_FAIL;
	}
	return 0;
}

/* A write failed and the plan rolled back (or tried to): which line, why, and whether every
 * earlier value was restored; the backup in bnew is kept only when some were not. */
static void apply_failed(const struct td_global *g, const struct td_sysctl_set *s,
			 const struct td_sysctl_plan *p, int r, const char *bnew)
{
	const struct td_apply_item *f = &p->v[p->failed];
	bool lost = false;

	for (size_t i = 0; i < p->n; i++)
		lost |= p->v[i].st == TD_AP_RESTORE_FAILED;
	cmd_err(g, "%s:%u: %s = %s: %s; %s%s", cmd_sysctl_file_name(s, f->file), f->line, f->key,
		f->value, r == -EIO ? "the kernel kept a different value" : strerror(-r),
		lost ? "SOME VALUES COULD NOT BE RESTORED (see above); their old values are in "
		     : "every value written before was restored; the previous backup is kept",
		lost ? bnew : "");
	if (!lost)
		unlink(bnew);
}

int cmd_sysctl_apply(const struct td_global *g, const struct cmd_sysctl_args *a)
{
	struct td_sysctl_set *s = NULL;
	struct td_sysctl_plan *p = NULL;
	char *bpath = backup_path(g, a), *hdr = NULL, *bnew = NULL;
	int saved, r;
	time_t now = time(NULL);

	if (cmd_sysctl_enter(g, &saved)) {
		free(bpath);
		return TD_EXIT_FAIL;
	}
	r = prepare(g, a->args[0], a->dry_run, &s, &p);
	if (r)
		goto out;
	if (a->dry_run) {
		print_plan(g, s, p, true, NULL);
		goto out;
	}
	hdr = restore_header(g, a, ctime(&now));
	/* The backup goes to .new first: a failed apply restores everything, and must not replace
	 * the backup of the last apply that succeeded. It is on disk before the first write, so
	 * after a crash half-way the .new file holds the values to restore. */
	bnew = xasprintf("%s.new", bpath);
	r = sysctl_apply_backup(p, bnew, hdr);
	if (r) {
		cmd_err(g, "cannot write the backup %s: %s; nothing applied", bnew, strerror(-r));
		r = TD_EXIT_FAIL;
		goto out;
	}
	r = sysctl_apply_run(p, CMD_SYSCTL_PROCROOT);
	if (!r && rename(bnew, bpath)) {
		cmd_err(g, "applied, but renaming %s to %s failed: %s", bnew, bpath,
			strerror(errno));
		r = TD_EXIT_FAIL;
		goto out;
	}
	print_plan(g, s, p, false, bpath);
	if (r) {
		apply_failed(g, s, p, r, bnew);
		r = TD_EXIT_FAIL;
		goto out;
	}
	if (!g->json)
		printf("Backup of the previous values: %s\n", bpath);
	r = TD_EXIT_OK;
out:
	cmd_sysctl_leave(saved);
	sysctl_apply_plan_free(p);
	td_sysctl_set_free(s);
	free(hdr);
	free(bnew);
	free(bpath);
	return r;
}

int cmd_sysctl_rollback(const struct td_global *g, const struct cmd_sysctl_args *a)
{
	struct td_sysctl_set *s = NULL;
	struct td_sysctl_plan *p = NULL;
	char *bpath = backup_path(g, a);
	int saved, r;

	if (access(bpath, R_OK)) {
		cmd_err(g, "no backup to roll back to: %s: %s", bpath, strerror(errno));
		free(bpath);
		return TD_EXIT_FAIL;
	}
	if (cmd_sysctl_enter(g, &saved)) {
		free(bpath);
		return TD_EXIT_FAIL;
	}
	r = prepare(g, bpath, false, &s, &p);
	if (r)
		goto out;
	r = sysctl_apply_run(p, CMD_SYSCTL_PROCROOT);
	print_plan(g, s, p, false, bpath);
	if (r) {
		const struct td_apply_item *f = &p->v[p->failed];
		cmd_err(g,
			"restoring %s = %s failed: %s; the values before the rollback were put back",
			f->key, f->value,
			r == -EIO ? "the kernel kept a different value" : strerror(-r));
		r = TD_EXIT_FAIL;
		goto out;
	}
	if (!g->json)
		printf("Rolled back to %s\n", bpath);
	r = TD_EXIT_OK;
out:
	cmd_sysctl_leave(saved);
	sysctl_apply_plan_free(p);
	td_sysctl_set_free(s);
	free(bpath);
	return r;
}
