// SPDX-License-Identifier: MIT
/*
 * Reading sysctl files: one file, a directory in name order, and the system's files in
 * systemd-sysctl order, optionally inside a root directory. Two kinds of hostile input shape
 * this file: a path that is not a regular file (a FIFO would block the open and the read
 * forever, a device may never end), refused after a non-blocking open; and, with a root, links
 * that point out of it, resolved inside the root with openat2(RESOLVE_IN_ROOT) as
 * systemd-sysctl --root does. The parser itself is in sysctl.c.
 */
#include "core/sysctl/sysctl_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "core/hashmap.h"
#include "core/sysctl/sysctl.h"
#include "core/util.h"

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
	struct stat st;
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
	return util_read_fd(fd, SYSCTL_FILE_MAX, out, len);
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
		/* the file is named in the set, with no lines: its index is the last */
		struct td_sysctl_parser *p = sysctl_parser_new(s, name);
		sysctl_finding_add(
			s, (unsigned)(s->nfiles - 1), 0, NULL, NULL, TD_SEV_ERROR, NULL, NULL, "%s",
			r == -EFBIG    ? "file larger than 16 MiB: not read"
			: r == -EINVAL ? "not a regular file (a FIFO, device or socket): not read"
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

static int cmp_base(const void *a, const void *b)
{
	return strcmp(strrchr(*(char *const *)a, '/'), strrchr(*(char *const *)b, '/'));
}

/* The *.conf files of the sysctl.d directories into *all: a name in an earlier directory masks
 * the same name in later ones (one table lookup per name). Returns 0 or -errno. */
static int collect(const char *root, char ***all, size_t *n)
{
	static const char *const dirs[] = { "/etc/sysctl.d", "/run/sysctl.d",
					    "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d" };
	struct td_hashmap *seen = hashmap_new(NAME_MAX + 1, 0);
	char key[NAME_MAX + 1];
	int r = 0;

	for (size_t d = 0; d < TD_ARRAY_SIZE(dirs) && !r; d++) {
		char **names;
		size_t m;
		r = conf_names(root, dirs[d], &names, &m);
		for (size_t i = 0; !r && i < m; i++) {
			bool added;
			memset(key, 0, sizeof(key));
			snprintf(key, sizeof(key), "%s", names[i]);
			hashmap_put(seen, key, &added);
			if (added) {
				*all = xrealloc(*all, (*n + 1) * sizeof(**all));
				(*all)[(*n)++] = xasprintf("%s/%s", dirs[d], names[i]);
			}
		}
		for (size_t i = 0; i < m; i++)
			free(names[i]);
		free(names);
	}
	hashmap_free(seen);
	return r;
}

int sysctl_system_files(const char *root, char ***out)
{
	static const char conf[] = "/etc/sysctl.conf";
	char **all = NULL, **v;
	size_t n = 0, k = 0;
	struct stat cst, st;
	bool have_conf;
	int r = collect(root, &all, &n);

	if (r) {
		for (size_t i = 0; i < n; i++)
			free(all[i]);
		free(all);
		return r;
	}
	if (n > 1) /* names are unique now: order by name across the directories */
		qsort(all, n, sizeof(*all), cmp_base);
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
