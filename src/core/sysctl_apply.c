// SPDX-License-Identifier: MIT
/*
 * All-or-nothing sysctl application (see sysctl_apply.h). The order is fixed so that no step
 * can lose a value: plan (read every old value, refuse what cannot work) -> backup on disk ->
 * writes with read-back -> on failure, restore in reverse. Rollback reuses the same path with a
 * backup file as input.
 */
#include "core/sysctl_apply.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/params.h"
#include "core/sysctl.h"
#include "core/util.h"

#define VALUE_MAX 4096

const char *sysctl_apply_state_name(enum td_apply_state st)
{
	static const char *const n[] = { "pending", "same",	"changed",	  "FAILED",
					 "ignored", "restored", "RESTORE FAILED", "not reached" };

	return (unsigned)st < TD_ARRAY_SIZE(n) ? n[st] : "?";
}

void sysctl_apply_plan_free(struct td_sysctl_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].old);
		free(p->v[i].after);
	}
	free(p->v);
	free(p);
}

/* The next blank-separated token of *s into tok; false at the end. */
static bool next_tok(const char **s, char *tok, size_t len)
{
	size_t l;

	*s += strspn(*s, " \t\r\n");
	if (!**s)
		return false;
	l = strcspn(*s, " \t\r\n");
	snprintf(tok, len, "%.*s", (int)l, *s);
	*s += l;
	return true;
}

bool sysctl_apply_same(const char *a, const char *b)
{
	char ta[64], tb[64];

	for (;;) {
		bool ha = next_tok(&a, ta, sizeof(ta)), hb = next_tok(&b, tb, sizeof(tb));
		int64_t x, y;
		if (ha != hb)
			return false;
		if (!ha)
			return true;
		if (!util_parse_i64(ta, INT64_MIN, INT64_MAX, &x) &&
		    !util_parse_i64(tb, INT64_MIN, INT64_MAX, &y)) {
			if (x != y)
				return false;
		} else if (strcmp(ta, tb)) {
			return false;
		}
	}
}

/* Whether entry i is the line that wins for its key (no later good line sets it). */
static bool wins(const struct td_sysctl_set *s, size_t i)
{
	for (size_t j = i + 1; j < s->nent; j++)
		if (!s->ent[j].bad && !strcmp(s->ent[j].key, s->ent[i].key))
			return false;
	return !s->ent[i].bad;
}

static bool plan_check(struct td_sysctl_set *s, const struct td_sysctl_entry *e,
		       const char *procroot, bool child_ns, char *old, size_t oldlen)
{
	const struct td_param *p = params_find(e->key);
	char *path;
	int r;

	if (strchr(e->value, '#')) {
		sysctl_finding_add(s, e->file, e->line, e->key, e->value, TD_SEV_ERROR,
				   "apply writes values literally, as systemd-sysctl does at boot; "
				   "remove the comment so the file means what it says.",
				   NULL, "refused: inline '#' would be written to the kernel");
		return false;
	}
	if (p && p->scope == TD_SCOPE_GLOBAL && child_ns) {
		sysctl_finding_add(
			s, e->file, e->line, e->key, e->value, TD_SEV_ERROR,
			"Global keys can only be set from the initial network namespace.",
			"tcp-facts#netns-scope",
			"refused: a global key cannot be set from a child namespace");
		return false;
	}
	path = xasprintf("%s/%s", procroot, e->path);
	r = access(path, W_OK) ? -errno : 0;
	free(path);
	if (r == -ENOENT && e->ignore_errors)
		return false;
	if (r) {
		sysctl_finding_add(s, e->file, e->line, e->key, e->value, TD_SEV_ERROR, NULL, NULL,
				   "refused: the key is not writable here (%s)%s", strerror(-r),
				   child_ns && r == -EACCES ? "; read-only in a child namespace"
							    : "");
		return false;
	}
	r = sysctl_read(procroot, e->path, old, oldlen);
	if (r) {
		sysctl_finding_add(s, e->file, e->line, e->key, e->value, TD_SEV_ERROR, NULL, NULL,
				   "refused: the current value cannot be read for the backup (%s)",
				   strerror(-r));
		return false;
	}
	return true;
}

int sysctl_apply_plan(struct td_sysctl_set *s, const char *procroot, bool child_ns,
		      struct td_sysctl_plan **out)
{
	struct td_sysctl_plan *p = xcalloc(1, sizeof(*p));
	char *old = xmalloc(VALUE_MAX);

	p->v = xcalloc(s->nent ? s->nent : 1, sizeof(*p->v));
	for (size_t i = 0; i < s->nent; i++) {
		const struct td_sysctl_entry *e = &s->ent[i];
		if (!wins(s, i) || !plan_check(s, e, procroot, child_ns, old, VALUE_MAX))
			continue;
		p->v[p->n++] = (struct td_apply_item){
			.key = e->key,
			.path = e->path,
			.value = e->value,
			.file = e->file,
			.line = e->line,
			.ignore_errors = e->ignore_errors,
			.old = xstrdup(old),
		};
	}
	p->failed = p->n;
	free(old);
	sysctl_findings_sort(s);
	*out = p;
	return 0;
}

static int write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int sysctl_apply_backup(const struct td_sysctl_plan *p, const char *path, const char *header)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *tmp, *text = NULL;
	size_t tlen = 0;
	FILE *m = open_memstream(&text, &tlen);
	int fd, r = 0;

	if (!m)
		abort();
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			r = -errno;
	}
	free(dir);
	if (r) {
		fclose(m);
		free(text);
		return r;
	}
	for (const char *h = header; h && *h;) {
		size_t l = strcspn(h, "\n");
		fprintf(m, "# %.*s\n", (int)l, h);
		h += l + (h[l] == '\n');
	}
	for (size_t i = 0; i < p->n; i++)
		fprintf(m, "%s = %s\n", p->v[i].key, p->v[i].old);
	fclose(m);
	tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
	} else {
		r = write_all(fd, text, tlen);
		if (!r && fsync(fd))
			r = -errno;
		if (close(fd) && !r)
			r = -errno;
		if (!r && rename(tmp, path))
			r = -errno;
		if (r)
			unlink(tmp);
	}
	free(tmp);
	free(text);
	return r;
}

/* Writes value and reads it back into it->after. Returns 0, -errno, or -EIO on mismatch. */
static int write_check(struct td_apply_item *it, const char *procroot, const char *value)
{
	char *after = xmalloc(VALUE_MAX);
	int r = sysctl_write(procroot, it->path, value);

	if (!r)
		r = sysctl_read(procroot, it->path, after, VALUE_MAX);
	if (!r && !sysctl_apply_same(after, value))
		r = -EIO;
	free(it->after);
	it->after = r == -EIO || !r ? after : NULL;
	if (!it->after)
		free(after);
	return r;
}

static void restore(struct td_sysctl_plan *p, const char *procroot)
{
	for (size_t j = p->failed + 1; j-- > 0;) {
		struct td_apply_item *it = &p->v[j];
		/* a refused write changed nothing; one that read back differently did */
		if (it->st != TD_AP_WRITTEN && !(it->st == TD_AP_FAILED && it->err == -EIO))
			continue;
		int r = write_check(it, procroot, it->old);
		if (it->st == TD_AP_WRITTEN)
			it->st = r ? TD_AP_RESTORE_FAILED : TD_AP_RESTORED;
		else if (r && r != -EIO) /* the failed write left it as it was, or not */
			it->st = TD_AP_RESTORE_FAILED;
	}
}

int sysctl_apply_run(struct td_sysctl_plan *p, const char *procroot)
{
	int r = 0;

	p->failed = p->n;
	for (size_t i = 0; i < p->n; i++) {
		struct td_apply_item *it = &p->v[i];
		if (sysctl_apply_same(it->old, it->value)) {
			it->st = TD_AP_SAME;
			continue;
		}
		r = write_check(it, procroot, it->value);
		if (!r) {
			it->st = TD_AP_WRITTEN;
			continue;
		}
		it->err = r;
		if (it->ignore_errors) {
			it->st = TD_AP_IGNORED;
			r = 0;
			continue;
		}
		it->st = TD_AP_FAILED;
		p->failed = i;
		for (size_t j = i + 1; j < p->n; j++)
			p->v[j].st = TD_AP_NOT_REACHED;
		restore(p, procroot);
		return r;
	}
	return 0;
}
