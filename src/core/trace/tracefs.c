// SPDX-License-Identifier: MIT
/*
 * The ids of trace events (tracefs events/SYSTEM/NAME/id), which perf_event_open needs to attach a
 * BPF program to one syscall's tracepoint. Where tracefs is mounted they are read from it; where
 * it is not (many hosts and containers), a child process mounts it in a mount namespace of its
 * own, reads them, and exits: the host's mounts never change, and the caller's process (which
 * may have threads, where unshare(CLONE_NEWNS) is refused) keeps its namespace.
 */
#include "core/trace/tracefs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

/* One event's id from ROOT/events/NAME/id: > 0, or -errno */
static int read_id(const char *root, const char *name)
{
	char path[256], buf[32];
	uint64_t v;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/events/%s/id", root, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (util_parse_u64(buf, 1, INT32_MAX, &v))
		return -EINVAL;
	return (int)v;
}

static int read_ids(const char *root, const char *const names[], int ids[], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = read_id(root, names[i]);

		if (r < 0)
			return r;
		ids[i] = r;
	}
	return 0;
}

/* The child: a private mount namespace, tracefs in it, the ids down the pipe */
static void child_read(int wfd, const char *const names[], int ids[], size_t n)
{
	int r = -ENOTSUP;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		r = -errno;
	else if (mount("tracefs", roots[0], "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		r = -errno;
	else
		r = read_ids(roots[0], names, ids, n);
	if (write(wfd, &r, sizeof(r)) != sizeof(r) ||
	    (r == 0 && write(wfd, ids, n * sizeof(*ids)) != (ssize_t)(n * sizeof(*ids))))
		_exit(1);
	_exit(0);
}

static int ids_private(const char *const names[], int ids[], size_t n)
{
	int p[2], r = -EIO, st;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		close(p[0]);
		child_read(p[1], names, ids, n);
	}
	close(p[1]);
	if (read(p[0], &r, sizeof(r)) != sizeof(r))
		r = -EIO;
	else if (r == 0 && read(p[0], ids, n * sizeof(*ids)) != (ssize_t)(n * sizeof(*ids)))
		r = -EIO;
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return r;
}

int tracefs_event_ids(const char *const names[], int ids[], size_t n)
{
	int r = -ENOENT;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		r = read_ids(roots[i], names, ids, n);
		if (r != -ENOENT)
			return r;
	}
	return ids_private(names, ids, n);
}
