/* SPDX-License-Identifier: MIT */
/*
 * Network namespaces: find one by name or path, enumerate all distinct ones (/run/netns and
 * /proc/PID/ns/net, deduplicated by device and inode), and enter one in the calling thread.
 */
#ifndef TD_NETNS_H
#define TD_NETNS_H

#include <stddef.h>

struct td_netns {
	char *name; /* "name" from /run/netns, "init" for PID 1's, "pid:N" otherwise; escaped
		     * (names.h): valid UTF-8 without control characters */
	int fd;	    /* open O_RDONLY on the namespace file */
};

struct td_netns_list {
	struct td_netns *v;
	size_t n;
	/* /run/netns entries that are not network namespaces (a stale file left when the bind
	 * mount is gone, a FIFO): their names, escaped, for a note. netns_list_all fills them;
	 * nothing else does. */
	char **stale;
	size_t nstale;
};

/* Opens one namespace: a name under /run/netns, or a path (anything with a '/'). Never blocks
 * (a FIFO is refused before it is opened). Returns 0 and fills ns (free with netns_free_one),
 * -ENOENT, -EINVAL (not a network namespace: not an nsfs file, or another kind), -errno. */
int netns_open(const char *spec, struct td_netns *ns);

/* Every distinct network namespace: /run/netns entries first (sorted by name), then those of
 * processes in pid order. Unreadable /proc entries are skipped (*skipped counts them); /run/netns
 * entries that are not network namespaces are skipped and named in out->stale.
 * Returns 0 or -errno. */
int netns_list_all(struct td_netns_list *out, unsigned *skipped);

/* Why a namespace file of a process could not be opened (EACCES/EPERM), from what was seen:
 * the effective uid decides between "not running as root" and the causes that stop root too
 * (hidepid, an LSM, a container without CAP_SYS_PTRACE). Static string. */
const char *netns_denied_hint(void);

void netns_free_one(struct td_netns *ns);
void netns_list_free(struct td_netns_list *l);

/* Enters ns in the calling thread: returns 0 (at once, needing no privilege, when ns is the
 * current namespace), -EPERM without CAP_SYS_ADMIN, -errno.
 * netns_save() returns an fd on the current namespace (or -errno) for netns_restore(). */
int netns_enter(const struct td_netns *ns);
int netns_save(void);
int netns_restore(int saved_fd); /* closes saved_fd; returns 0 or -errno */

#endif
