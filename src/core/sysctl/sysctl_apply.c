// SPDX-License-Identifier: MIT
/*
 * All-or-nothing sysctl application (see sysctl_apply.h). The order is fixed so that no step
 * can lose a value: plan (read every old value, refuse what cannot work) -> backup on disk ->
 * writes with read-back -> on failure, restore in reverse. Rollback reuses the same path with a
 * backup file as input.
 */
#include "core/sysctl/sysctl_apply.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hashmap.h"
#include "core/sysctl/params.h"
#include "core/sysctl/sysctl.h"
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

/* The next blank-separated token of *s: *tok and *len; false at the end. */
static bool next_tok(const char **s, const char **tok, size_t *len)
{
	*s += strspn(*s, " \t\r\n");
	if (!**s)
		return false;
	*tok = *s;
	*len = strcspn(*s, " \t\r\n");
	*s += *len;
	return true;
}

/* Whether two tokens are equal, as numbers when both are ("01" is "1"). */
static bool tok_same(const char *a, size_t la, const char *b, size_t lb)
{
	char ta[32], tb[32];
	int64_t x, y;

	if (la == lb && !memcmp(a, b, la))
		return true;
	if (la >= sizeof(ta) || lb >= sizeof(tb))
		return false;
	memcpy(ta, a, la);
	ta[la] = '\0';
	memcpy(tb, b, lb);
	tb[lb] = '\0';
	return !util_parse_i64(ta, INT64_MIN, INT64_MAX, &x) &&
	       !util_parse_i64(tb, INT64_MIN, INT64_MAX, &y) && x == y;
}

#define PORTS 65536

/* Parses one port (0..65535) at *s, moving *s past it. */
static bool port_num(const char **s, unsigned *out)
{
	unsigned v = 0;
	const char *b = *s;

	while (**s >= '0' && **s <= '9' && *s - b < 6)
		v = v * 10 + (unsigned)(*(*s)++ - '0');
	*out = v;
	return *s > b && *s - b < 6 && v < PORTS;
}

/*
 * Sets in bits (PORTS bits) the ports of a port list, "8080,9000-9010" or empty: the form of
 * ip_local_reserved_ports. The kernel keeps a bitmap and prints it back merged and sorted
 * ("8080,8081" reads back "8080-8081"), so two lists mean the same when their bitmaps are equal.
 * False when s is not a port list.
 */
static bool port_bits(const char *s, uint8_t *bits)
{
	s += strspn(s, " \t\r\n");
	while (*s) {
		unsigned lo, hi;
		if (!port_num(&s, &lo))
			return false;
		hi = lo;
		if (*s == '-') {
			s++;
			if (!port_num(&s, &hi) || hi < lo)
				return false;
		}
		for (unsigned p = lo; p <= hi; p++)
			bits[p / 8] |= (uint8_t)(1u << (p % 8));
		s += strspn(s, " \t\r\n");
		if (*s == ',') {
			s++;
			s += strspn(s, " \t\r\n");
			if (!*s)
				return false;
		} else if (*s) {
			return false;
		}
	}
	return true;
}

static bool ports_same(const char *a, const char *b)
{
	uint8_t *x = xcalloc(2, PORTS / 8), *y = x + PORTS / 8;
	bool same = port_bits(a, x) && port_bits(b, y) && !memcmp(x, y, PORTS / 8);

	free(x);
	return same;
}

bool sysctl_apply_same(const char *a, const char *b)
{
	const char *pa = a, *pb = b;

	for (;;) {
		const char *ta = NULL, *tb = NULL;
		size_t la = 0, lb = 0;
		bool ha = next_tok(&pa, &ta, &la), hb = next_tok(&pb, &tb, &lb);
		if (!ha && !hb)
			return true;
		if (ha != hb || !tok_same(ta, la, tb, lb))
			break;
	}
	/* only lists with a ',' or a '-' can differ in text and not in meaning */
	return (strpbrk(a, ",-") || strpbrk(b, ",-")) && ports_same(a, b);
}

/* The key of entry e for the winners' table: zero-padded to SYSCTL_KEY_MAX bytes. */
static void win_key(const struct td_sysctl_entry *e, char *k)
{
	memset(k, 0, SYSCTL_KEY_MAX);
	snprintf(k, SYSCTL_KEY_MAX, "%s", e->key);
}

/* For every good entry, whether it is the line that wins for its key (no later good line
 * sets it): one pass that remembers the last good line of each key, so 40,000 duplicate lines
 * cost 40,000 steps, not 40,000^2. Returns a vector of s->nent flags (free it). */
static bool *winners(const struct td_sysctl_set *s)
{
	struct td_hashmap *m = hashmap_new(SYSCTL_KEY_MAX, sizeof(size_t));
	bool *w = xcalloc(s->nent ? s->nent : 1, sizeof(*w));
	char k[SYSCTL_KEY_MAX];

	for (size_t i = 0; i < s->nent; i++) {
		if (s->ent[i].bad)
			continue;
		win_key(&s->ent[i], k);
		*(size_t *)hashmap_put(m, k, NULL) = i;
	}
	for (size_t i = 0; i < hashmap_count(m); i++)
		w[*(const size_t *)hashmap_val_at(m, i)] = true;
	hashmap_free(m);
	return w;
}

static void refuse(struct td_sysctl_set *s, const struct td_sysctl_entry *e, const char *reason,
		   const char *ref, const char *msg)
{
	sysctl_finding_add(s, e->file, e->line, e->key, e->value, TD_SEV_ERROR, reason, ref, "%s",
			   msg);
}

/* Whether e may be written given the namespace rules (tcp-facts#netns-scope). */
static bool scope_check(struct td_sysctl_set *s, const struct td_sysctl_entry *e,
			const struct td_param *p, const struct td_apply_opts *o)
{
	if (!o->netns_only && !o->child_ns)
		return true;
	if (strncmp(e->key, "net.", 4)) {
		refuse(s, e,
		       "Only keys under net. can belong to a network namespace; this one is one "
		       "value for the whole host, so writing it from a namespace would change the "
		       "host.",
		       "tcp-facts#netns-scope",
		       "refused: not a per-namespace key (host-wide): apply it without -N, on the "
		       "host");
		return false;
	}
	if (p && p->scope == TD_SCOPE_GLOBAL) {
		refuse(s, e, "Global keys can only be set from the initial network namespace.",
		       "tcp-facts#netns-scope",
		       o->child_ns ? "refused: a global key cannot be set from a child namespace"
				   : "refused: a global key cannot be set with -N (it is the "
				     "host's)");
		return false;
	}
	return true;
}

static bool plan_check(struct td_sysctl_set *s, const struct td_sysctl_entry *e,
		       const char *procroot, const struct td_apply_opts *o, char *old,
		       size_t oldlen)
{
	const struct td_param *p = params_find(e->key);
	struct stat st;
	char *path;
	int r;

	if (strchr(e->value, '#')) {
		refuse(s, e,
		       "apply writes values literally, as systemd-sysctl does at boot; "
		       "remove the comment so the file means what it says.",
		       NULL, "refused: inline '#' would be written to the kernel");
		return false;
	}
	if (!scope_check(s, e, p, o))
		return false;
	/* Known or not, the key is looked up where it will be written: it must exist there, be
	 * a regular sysctl file and be writable (a global net. key the table does not know is
	 * absent or read-only in a child namespace). */
	path = xasprintf("%s/%s", procroot, e->path);
	r = stat(path, &st) ? -errno : !S_ISREG(st.st_mode) ? -EISDIR : 0;
	if (!r && !(st.st_mode & 0222)) /* read-only whoever asks (root passes access()) */
		r = -EACCES;
	if (!r && access(path, W_OK))
		r = -errno;
	free(path);
	if (r == -ENOENT && e->ignore_errors)
		return false;
	if (r) {
		sysctl_finding_add(s, e->file, e->line, e->key, e->value, TD_SEV_ERROR, NULL, NULL,
				   "refused: the key is not writable here (%s)%s", strerror(-r),
				   o->child_ns && r == -EACCES
					   ? "; read-only in a child namespace: the host's value"
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

int sysctl_apply_plan(struct td_sysctl_set *s, const char *procroot, const struct td_apply_opts *o,
		      struct td_sysctl_plan **out)
{
	struct td_sysctl_plan *p = xcalloc(1, sizeof(*p));
	char *old = xmalloc(VALUE_MAX);
	bool *win = winners(s);

	p->v = xcalloc(s->nent ? s->nent : 1, sizeof(*p->v));
	for (size_t i = 0; i < s->nent; i++) {
		const struct td_sysctl_entry *e = &s->ent[i];
		if (!win[i] || !plan_check(s, e, procroot, o, old, VALUE_MAX))
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
	free(win);
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
