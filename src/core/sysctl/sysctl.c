// SPDX-License-Identifier: MIT
/*
 * sysctl files: the set that collects entries and findings, the line parser (init/line/finish
 * so the fuzzer can drive it), and the live kernel's /proc/sys. Reading files and directories
 * (and the system's files in systemd-sysctl order) is in sysctl_files.c, lint in
 * sysctl_lint.c.
 *
 * Parsing matches systemd-sysctl and procps `sysctl -p` where they agree; where a line would be
 * skipped silently by one of them (no '='), tcpdoctor reports an error naming file and line.
 */
#include "core/sysctl/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/util.h"

struct td_sysctl_set *td_sysctl_set_new(void)
{
	return xcalloc(1, sizeof(struct td_sysctl_set));
}

void td_sysctl_set_free(struct td_sysctl_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	for (size_t i = 0; i < s->nent; i++) {
		free(s->ent[i].key);
		free(s->ent[i].path);
		free(s->ent[i].value);
	}
	for (size_t i = 0; i < s->nfnd; i++) {
		struct td_sysctl_finding *f = &s->fnd[i];
		free(f->key);
		free(f->value);
		free(f->message);
		free(f->reason);
		free(f->ref);
	}
	free(s->files);
	free(s->ent);
	free(s->fnd);
	free(s->eff);
	free(s);
}

void sysctl_finding_add(struct td_sysctl_set *s, unsigned file, unsigned line, const char *key,
			const char *value, enum td_sev sev, const char *reason, const char *ref,
			const char *fmt, ...)
{
	struct td_sysctl_finding *f;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (s->nfnd == s->capfnd) {
		s->capfnd = s->capfnd ? s->capfnd * 2 : 16;
		s->fnd = xrealloc(s->fnd, s->capfnd * sizeof(*s->fnd));
	}
	f = &s->fnd[s->nfnd];
	*f = (struct td_sysctl_finding){
		.file = file,
		.line = line,
		.key = key ? xstrdup(key) : NULL,
		.value = value ? xstrdup(value) : NULL,
		.sev = sev,
		.message = msg,
		.reason = reason ? xstrdup(reason) : NULL,
		.ref = ref ? xstrdup(ref) : NULL,
		.seq = (unsigned)s->nfnd,
	};
	s->nfnd++;
}

enum td_sev sysctl_worst(const struct td_sysctl_set *s)
{
	enum td_sev w = TD_SEV_OK;

	for (size_t i = 0; i < s->nfnd; i++)
		if (s->fnd[i].sev > w)
			w = s->fnd[i].sev;
	return w;
}

static int cmp_finding(const void *a, const void *b)
{
	const struct td_sysctl_finding *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sysctl_findings_sort(struct td_sysctl_set *s)
{
	if (s->nfnd > 1)
		qsort(s->fnd, s->nfnd, sizeof(*s->fnd), cmp_finding);
}

/* --- parser --- */

struct td_sysctl_parser {
	struct td_sysctl_set *s;
	unsigned file;
	unsigned line;
	unsigned errors;
	unsigned crlf_first; /* first line ending in CR, 0 = none */
	bool gave_up;
};

struct td_sysctl_parser *sysctl_parser_new(struct td_sysctl_set *s, const char *name)
{
	struct td_sysctl_parser *p = xcalloc(1, sizeof(*p));

	s->files = xrealloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
	s->files[s->nfiles] = xstrdup(name);
	p->s = s;
	p->file = (unsigned)s->nfiles++;
	return p;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims [*b, *e) in place. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && is_blank(**b))
		(*b)++;
	while (*e > *b && is_blank((*e)[-1]))
		(*e)--;
}

static void perr(struct td_sysctl_parser *p, const char *key, const char *reason, const char *msg)
{
	sysctl_finding_add(p->s, p->file, p->line, key, NULL, TD_SEV_ERROR, reason,
			   "systemd-sysctl, procps sysctl -p", "%s", msg);
	p->errors++;
}

static void add_entry(struct td_sysctl_parser *p, const char *k, size_t kl, const char *v,
		      size_t vl, bool ign)
{
	struct td_sysctl_set *s = p->s;
	char raw[SYSCTL_KEY_MAX], dotted[SYSCTL_KEY_MAX], path[SYSCTL_KEY_MAX];
	char *value = xmalloc(vl + 1);
	int r;

	memcpy(value, v, vl);
	value[vl] = '\0';
	if (kl >= sizeof(raw)) {
		perr(p, NULL, "Keys are paths under /proc/sys; none is this long.", "key too long");
		free(value);
		return;
	}
	memcpy(raw, k, kl);
	raw[kl] = '\0';
	r = params_key_normalize(raw, dotted, path, sizeof(dotted));
	if (r) {
		char *msg = xasprintf("invalid key '%s'", raw);
		perr(p, NULL,
		     "A key is names separated by '.' or '/', without blanks or control bytes.",
		     msg);
		free(msg);
		free(value);
		return;
	}
	if (s->nent == s->capent) {
		s->capent = s->capent ? s->capent * 2 : 16;
		s->ent = xrealloc(s->ent, s->capent * sizeof(*s->ent));
	}
	s->ent[s->nent++] = (struct td_sysctl_entry){
		.file = p->file,
		.line = p->line,
		.key = xstrdup(dotted),
		.path = xstrdup(path),
		.value = value,
		.ignore_errors = ign,
	};
}

int sysctl_parser_line(struct td_sysctl_parser *p, const char *line, size_t len)
{
	const char *b = line, *e = line + len, *eq;
	bool ign = false;

	p->line++;
	if (p->gave_up)
		return 1;
	if (len && line[len - 1] == '\r' && !p->crlf_first)
		p->crlf_first = p->line;
	if (len > SYSCTL_LINE_MAX) {
		perr(p, NULL,
		     "No sysctl value is this long; systemd-sysctl refuses lines over 1 MB.",
		     "line too long: skipped");
	} else if (memchr(line, '\0', len)) {
		perr(p, NULL, "A configuration file is text; this looks like binary data.",
		     "NUL byte in line: not a text file?");
	} else {
		trim(&b, &e);
		if (b == e || *b == '#' || *b == ';')
			return 0;
		if (*b == '-') {
			ign = true;
			b++;
			trim(&b, &e);
		}
		eq = memchr(b, '=', (size_t)(e - b));
		if (!eq) {
			perr(p, NULL,
			     "Every line must be 'key = value'; systemd-sysctl skips this one.",
			     "not an assignment: missing '='");
		} else {
			const char *ke = eq, *vb = eq + 1;
			trim(&b, &ke);
			trim(&vb, &e);
			if (b == ke)
				perr(p, NULL, "The line has a value but no key.",
				     "missing key before '='");
			else
				add_entry(p, b, (size_t)(ke - b), vb, (size_t)(e - vb), ign);
		}
	}
	if (p->errors >= SYSCTL_ERRORS_PER_FILE) {
		sysctl_finding_add(
			p->s, p->file, p->line, NULL, NULL, TD_SEV_ERROR,
			"After this many errors the file is unlikely to be a sysctl file.", NULL,
			"%u errors: the rest of the file is skipped", p->errors);
		p->gave_up = true;
		return 1;
	}
	return 0;
}

void sysctl_parser_finish(struct td_sysctl_parser *p)
{
	if (!p)
		return;
	if (p->crlf_first)
		sysctl_finding_add(
			p->s, p->file, p->crlf_first, NULL, NULL, TD_SEV_NOTE,
			"systemd-sysctl and sysctl -p strip the CR, other tools may keep "
			"it in the value.",
			NULL, "CRLF (Windows) line endings");
	free(p);
}

void sysctl_parse_buf(struct td_sysctl_set *s, const char *name, const char *buf, size_t len)
{
	struct td_sysctl_parser *p = sysctl_parser_new(s, name);
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (buf + i)) : len - i;
		if (sysctl_parser_line(p, buf + i, l))
			break;
		i += l + 1;
	}
	sysctl_parser_finish(p);
}

/* --- the live kernel --- */

int sysctl_read(const char *procroot, const char *path, char *buf, size_t len)
{
	char *p = xasprintf("%s/%s", procroot, path), *data = NULL;
	size_t n = 0, o = 0;
	int r = util_read_file(p, 1u << 20, &data, &n);

	free(p);
	if (r)
		return r;
	for (size_t i = 0; i < n; i++) {
		bool bl = data[i] == ' ' || data[i] == '\t' || data[i] == '\n';
		if (bl && (o == 0 || buf[o - 1] == ' '))
			continue;
		if (o + 1 >= len) {
			free(data);
			return -ENOSPC;
		}
		buf[o++] = bl ? ' ' : data[i];
	}
	while (o && buf[o - 1] == ' ')
		o--;
	if (len)
		buf[o] = '\0';
	free(data);
	return 0;
}

int sysctl_write(const char *procroot, const char *path, const char *value)
{
	char *p = xasprintf("%s/%s", procroot, path);
	int fd = open(p, O_WRONLY | O_CLOEXEC | O_TRUNC | O_NONBLOCK | O_NOCTTY);
	char *line = xasprintf("%s\n", value);
	size_t l = strlen(line);
	ssize_t w;
	int r = 0;

	free(p);
	if (fd < 0) {
		free(line);
		return -errno;
	}
	/* One write, ended by a newline as systemd-sysctl does: the kernel parses a write as a
	 * whole (a partial write would be taken as the complete value), and it ignores a write
	 * of 0 bytes, so an empty value must be "\n" to clear a list. */
	w = write(fd, line, l);
	if (w < 0)
		r = -errno;
	else if ((size_t)w != l)
		r = -EIO;
	if (close(fd) && !r)
		r = -errno;
	free(line);
	return r;
}

/* "6.18.0-rc1" as PARAMS_KV(6, 18), through the strict parser. Returns 0 or -EINVAL. */
static int kver_parse(const char *rel, unsigned *kv)
{
	char maj[8], min[8];
	size_t n = strspn(rel, "0123456789"), m = 0;
	uint64_t a, b;

	if (n && n < sizeof(maj) && rel[n] == '.')
		m = strspn(rel + n + 1, "0123456789");
	if (!m || m >= sizeof(min))
		return -EINVAL;
	memcpy(maj, rel, n);
	maj[n] = '\0';
	memcpy(min, rel + n + 1, m);
	min[m] = '\0';
	if (util_parse_u64(maj, 0, 999, &a) || util_parse_u64(min, 0, 999, &b))
		return -EINVAL;
	*kv = PARAMS_KV(a, b);
	return 0;
}

void sysctl_kenv_read(const char *procroot, struct td_kenv *env)
{
	struct utsname u;
	char buf[64];
	long pages = sysconf(_SC_PHYS_PAGES);
	int64_t v;

	*env = (struct td_kenv){ 0 };
	if (!uname(&u))
		kver_parse(u.release, &env->kver);
	if (!sysctl_read(procroot, "net/ipv4/tcp_ehash_entries", buf, sizeof(buf)) &&
	    !util_parse_i64(buf, -(INT64_C(1) << 40), INT64_C(1) << 40, &v))
		env->ehash = (uint64_t)(v < 0 ? -v : v); /* negative: shares init's table */
	if (!sysctl_read(procroot, "net/ipv4/ip_unprivileged_port_start", buf, sizeof(buf)) &&
	    !util_parse_i64(buf, 0, 65535, &v))
		env->unpriv_port_start = (uint64_t)v;
	if (pages > 0)
		env->phys_pages = (uint64_t)pages;
}

bool sysctl_in_child_netns(const char *procroot)
{
	char *p = xasprintf("%s/net/ipv4/tcp_mem", procroot);
	struct stat st;
	bool child = stat(p, &st) && errno == ENOENT;

	free(p);
	return child;
}
