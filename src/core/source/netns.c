// SPDX-License-Identifier: MIT
/*
 * Network namespaces: open one by name (/run/netns/NAME) or path, list every distinct one on the
 * host (named ones first, then those only a process holds, deduplicated by device and inode),
 * and switch the calling thread into one with setns().
 */
#include "core/source/netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "core/names.h"
#include "core/util.h"

#define RUN_NETNS "/run/netns"

/* Opens path as a network namespace file, never blocking and never opening what cannot be one:
 * an nsfs inode is a regular file, so a FIFO (whose open() would wait for a writer forever), a
 * device or a directory is refused from stat() alone. After opening, the file must be on nsfs
 * (a stale /run/netns entry is an empty file on tmpfs) and name a network namespace. Returns
 * the fd with *st filled, -EINVAL for anything that is not a network namespace, or -errno. */
static int open_ns_file(const char *path, struct stat *st)
{
	struct statfs sfs;
	int fd;

	if (stat(path, st))
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) || fstatfs(fd, &sfs)) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st->st_mode) || sfs.f_type != NSFS_MAGIC ||
	    ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int netns_open(const char *spec, struct td_netns *ns)
{
	struct stat st;
	char *path;
	int fd;

	if (!spec || !*spec)
		return -EINVAL;
	if (strchr(spec, '/'))
		path = xstrdup(spec);
	else if (!strcmp(spec, ".") || !strcmp(spec, ".."))
		return -ENOENT;
	else
		path = xasprintf(RUN_NETNS "/%s", spec);
	/* Only an nsfs inode of a network namespace will do: a stale /run/netns file (not
	 * mounted), a FIFO, a directory or a mount namespace path are refused here, not at
	 * setns(). */
	fd = open_ns_file(path, &st);
	free(path);
	if (fd < 0)
		return fd;
	ns->name = names_escape_str(spec);
	ns->fd = fd;
	return 0;
}

struct seen {
	dev_t dev;
	ino_t ino;
};

static bool seen_add(struct seen **v, size_t *n, size_t *cap, const struct stat *st)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].dev == st->st_dev && (*v)[i].ino == st->st_ino)
			return false;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = (struct seen){ st->st_dev, st->st_ino };
	return true;
}

static void list_push(struct td_netns_list *l, size_t *cap, char *name, int fd)
{
	if (l->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		l->v = xrealloc(l->v, *cap * sizeof(*l->v));
	}
	l->v[l->n++] = (struct td_netns){ .name = name, .fd = fd };
}

static void stale_push(struct td_netns_list *l, char *name)
{
	l->stale = xrealloc(l->stale, (l->nstale + 1) * sizeof(*l->stale));
	l->stale[l->nstale++] = name;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_named(struct td_netns_list *l, size_t *cap, struct seen **sv, size_t *sn,
		      size_t *scap)
{
	DIR *d = opendir(RUN_NETNS);
	char **names = NULL;
	size_t n = 0, ncap = 0;
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == ncap) {
			ncap = ncap ? ncap * 2 : 16;
			names = xrealloc(names, ncap * sizeof(*names));
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n) /* qsort(NULL, 0) is undefined (UBSan: an empty /run/netns) */
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char *p = xasprintf(RUN_NETNS "/%s", names[i]);
		int fd = open_ns_file(p, &st);
		free(p);
		/* Names are the user's: shown escaped (names.h), the fd is what counts. */
		char *shown = names_escape_str(names[i]);
		free(names[i]);
		if (fd >= 0 && seen_add(sv, sn, scap, &st)) {
			list_push(l, cap, shown, fd);
			continue;
		}
		if (fd >= 0) {
			close(fd);
			free(shown);
		} else if (fd == -EINVAL) {
			/* not a namespace (what `ip netns` leaves when the bind mount is gone, a
			 * FIFO): skipped by name, not fatal */
			stale_push(l, shown);
		} else {
			free(shown); /* deleted since the listing, or unreadable */
		}
	}
	free(names);
}

int netns_list_all(struct td_netns_list *out, unsigned *skipped)
{
	struct seen *sv = NULL;
	size_t sn = 0, scap = 0, cap = 0;
	struct stat init_st = { 0 };
	bool have_init = stat("/proc/1/ns/net", &init_st) == 0;
	DIR *d;
	struct dirent *e;

	memset(out, 0, sizeof(*out));
	if (skipped)
		*skipped = 0;
	add_named(out, &cap, &sv, &sn, &scap);
	d = opendir("/proc");
	if (!d) {
		free(sv);
		return out->n ? 0 : -errno;
	}
	while ((e = readdir(d))) {
		uint64_t pid;
		struct stat st;
		if (util_parse_u64(e->d_name, 1, UINT32_MAX, &pid))
			continue;
		char *p = xasprintf("/proc/%s/ns/net", e->d_name);
		int fd = open_ns_file(p, &st);
		free(p);
		if (fd < 0) {
			/* a process that exited mid-scan is no loss; one we cannot read is */
			if (fd != -ENOENT && fd != -ESRCH && skipped)
				(*skipped)++;
			continue;
		}
		if (!seen_add(&sv, &sn, &scap, &st)) {
			close(fd);
			continue;
		}
		bool init = have_init && st.st_dev == init_st.st_dev && st.st_ino == init_st.st_ino;
		list_push(out, &cap, init ? xstrdup("init") : xasprintf("pid:%s", e->d_name), fd);
	}
	closedir(d);
	free(sv);
	return 0;
}

const char *netns_denied_hint(void)
{
	if (geteuid() != 0)
		return "not running as root: another user's process, and its namespace, can be "
		       "read only with root or CAP_SYS_PTRACE";
	return "although running as root: hidepid on /proc, a security module, or a user "
	       "namespace (a container) without CAP_SYS_PTRACE over that process?";
}

void netns_free_one(struct td_netns *ns)
{
	if (!ns)
		return;
	if (ns->fd >= 0)
		close(ns->fd);
	free(ns->name);
	ns->name = NULL;
	ns->fd = -1;
}

void netns_list_free(struct td_netns_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		netns_free_one(&l->v[i]);
	for (size_t i = 0; i < l->nstale; i++)
		free(l->stale[i]);
	free(l->v);
	free(l->stale);
	l->v = NULL;
	l->stale = NULL;
	l->n = l->nstale = 0;
}

/* True when fd is the calling thread's network namespace: entering it is a no-op, and one that
 * needs no privilege (setns() would ask for CAP_SYS_ADMIN even then). */
static bool is_current(int fd)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat("/proc/thread-self/ns/net", &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int netns_enter(const struct td_netns *ns)
{
	if (is_current(ns->fd))
		return 0;
	if (setns(ns->fd, CLONE_NEWNET))
		return errno == EINVAL ? -EINVAL : -errno;
	return 0;
}

int netns_save(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int netns_restore(int saved_fd)
{
	int r = is_current(saved_fd) || !setns(saved_fd, CLONE_NEWNET) ? 0 : -errno;

	close(saved_fd);
	return r;
}
