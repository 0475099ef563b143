// SPDX-License-Identifier: MIT
/*
 * sysctl files: the set that collects entries and findings, the line parser (init/line/finish
 * so the fuzzer can drive it), reading files and directories, the system's files in
 * systemd-sysctl order, and the live kernel's /proc/sys. Lint is in sysctl_lint.c.
 *
 * Parsing matches systemd-sysctl and procps `sysctl -p` where they agree; where a line would be
 * skipped silently by one of them (no '='), tcpdoctor reports an error naming file and line.
 */
#include "core/sysctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/openat2.h>

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
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		abort(); /* OOM, as the x-allocators do */
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
		perr(p, NULL,
		     "A key is names separated by '.' or '/', without blanks or control bytes.",
		     "invalid key");
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

/* Opens path read-only; with a root ("" or NULL: none), path is resolved inside root as
 * systemd-sysctl --root does: every symlink, absolute ones included, and every ".." stay inside
 * root (openat2 RESOLVE_IN_ROOT), so a link in an image never reaches the host's files.
 * Returns the fd or -errno. */
static int open_in_root(const char *root, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int rfd, fd = -1;

	if (!root || !*root) {
		fd = open(path, flags | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	/* EAGAIN: a rename raced the resolution; the kernel asks to retry */
	for (int i = 0; i < 8; i++) {
		fd = (int)syscall(SYS_openat2, rfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd < 0)
		fd = -errno;
	close(rfd);
	return fd;
}

/*
 * Reads a sysctl file into *out (NUL-terminated). The open does not block (a FIFO would wait
 * for a writer forever) and anything but a regular file is refused before the first read (a
 * FIFO or a device may never end). Returns 0, -EINVAL (not a regular file), -EISDIR, -EFBIG
 * (over SYSCTL_FILE_MAX) or -errno.
 */
static int read_conf(const char *root, const char *path, char **out, size_t *len)
{
	int fd = open_in_root(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	size_t cap = 4096, n = 0;
	struct stat st;
	char *buf;
	int r = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st))
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (r) {
		close(fd);
		return r;
	}
	buf = xmalloc(cap);
	for (;;) {
		ssize_t got;
		if (n + 1 >= cap) {
			if (cap > SYSCTL_FILE_MAX) {
				r = -EFBIG;
				break;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = got < 0 ? -errno : 0;
			break;
		}
		n += (size_t)got;
	}
	close(fd);
	if (!r && n > SYSCTL_FILE_MAX)
		r = -EFBIG;
	if (r) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int sysctl_parse_file_in(struct td_sysctl_set *s, const char *root, const char *path)
{
	size_t rl = root ? strlen(root) : 0, len = 0;
	char *buf = NULL, *name;
	int r;

	while (rl && root[rl - 1] == '/') /* "/img/" + "/etc/x.conf" reads "/img/etc/x.conf" */
		rl--;
	name = xasprintf("%.*s%s", (int)rl, root ? root : "", path);
	r = read_conf(root, path, &buf, &len);

	if (r) {
		struct td_sysctl_parser *p = sysctl_parser_new(s, name);
		sysctl_finding_add(s, p->file, 0, NULL, NULL, TD_SEV_ERROR, NULL, NULL, "%s",
				   r == -EFBIG	  ? "file larger than 16 MiB: not read"
				   : r == -EINVAL ? "not a regular file (a FIFO, device or "
						    "socket): not read"
						  : strerror(-r));
		sysctl_parser_finish(p);
	} else {
		sysctl_parse_buf(s, name, buf, len);
	}
	free(buf);
	free(name);
	return r;
}

int sysctl_parse_file(struct td_sysctl_set *s, const char *path)
{
	return sysctl_parse_file_in(s, NULL, path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "*.conf" names in dir (inside root), sorted. Returns 0 (empty when dir is missing) or
 * -errno. */
static int conf_names(const char *root, const char *dir, char ***out, size_t *n)
{
	int fd = open_in_root(root, dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		int r = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		return r == -ENOENT || r == -ENOTDIR ? 0 : r;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l <= 5 || de->d_name[0] == '.' || strcmp(de->d_name + l - 5, ".conf"))
			continue;
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*out = v;
	*n = cnt;
	return 0;
}

int sysctl_parse_dir(struct td_sysctl_set *s, const char *dir)
{
	char **names;
	size_t n;
	int r = conf_names(NULL, dir, &names, &n);

	if (r)
		return r;
	for (size_t i = 0; i < n; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		sysctl_parse_file(s, p);
		free(p);
		free(names[i]);
	}
	free(names);
	return 0;
}

void sysctl_paths_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A link to /dev/null masks a file of that name (the link itself, resolved inside root). */
static bool masked(const char *root, const char *path)
{
	int fd = open_in_root(root, path, O_PATH | O_NOFOLLOW);
	char buf[16];
	ssize_t l;

	if (fd < 0)
		return false;
	l = readlinkat(fd, "", buf, sizeof(buf) - 1);
	close(fd);
	if (l < 0)
		return false;
	buf[l] = '\0';
	return !strcmp(buf, "/dev/null");
}

/* The identity of the file path resolves to inside root; false when it does not resolve. */
static bool file_id(const char *root, const char *path, struct stat *st)
{
	int fd = open_in_root(root, path, O_PATH);
	bool ok = fd >= 0 && !fstat(fd, st);

	if (fd >= 0)
		close(fd);
	return ok;
}

int sysctl_system_files(const char *root, char ***out)
{
	static const char *const dirs[] = { "/etc/sysctl.d", "/run/sysctl.d",
					    "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d" };
	static const char conf[] = "/etc/sysctl.conf";
	char **all = NULL, **v;
	size_t n = 0, k = 0;
	struct stat cst, st;
	bool have_conf;

	for (size_t d = 0; d < TD_ARRAY_SIZE(dirs); d++) {
		char **names;
		size_t m;
		int r = conf_names(root, dirs[d], &names, &m);
		for (size_t i = 0; !r && i < m; i++) {
			bool seen = false;
			for (size_t j = 0; j < n && !seen; j++)
				seen = !strcmp(strrchr(all[j], '/') + 1, names[i]);
			if (!seen) { /* earlier directories mask later ones by name */
				all = xrealloc(all, (n + 1) * sizeof(*all));
				all[n++] = xasprintf("%s/%s", dirs[d], names[i]);
			}
			free(names[i]);
		}
		free(names);
		if (r) {
			for (size_t i = 0; i < n; i++)
				free(all[i]);
			free(all);
			return r;
		}
	}
	for (size_t i = 0; i + 1 < n; i++) /* sort by name: insertion sort keeps it simple */
		for (size_t j = i + 1;
		     j > 0 && strcmp(strrchr(all[j - 1], '/'), strrchr(all[j], '/')) > 0; j--) {
			char *t = all[j];
			all[j] = all[j - 1];
			all[j - 1] = t;
		}
	have_conf = file_id(root, conf, &cst);
	v = xcalloc(n + 2, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		if (masked(root, all[i])) {
			free(all[i]);
			continue;
		}
		if (have_conf && file_id(root, all[i], &st) && st.st_dev == cst.st_dev &&
		    st.st_ino == cst.st_ino)
			have_conf = false; /* already read through a link */
		v[k++] = all[i];
	}
	if (have_conf)
		v[k++] = xstrdup(conf);
	free(all);
	*out = v;
	return 0;
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

void sysctl_kenv_read(const char *procroot, struct td_kenv *env)
{
	struct utsname u;
	char buf[64];
	unsigned maj, min;
	long pages = sysconf(_SC_PHYS_PAGES);
	int64_t v;

	*env = (struct td_kenv){ 0 };
	if (!uname(&u) && sscanf(u.release, "%u.%u", &maj, &min) == 2)
		env->kver = PARAMS_KV(maj, min);
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
