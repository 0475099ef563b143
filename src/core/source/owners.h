/* SPDX-License-Identifier: MIT */
/*
 * Process attribution: which process holds the socket with a given inode. One pass over
 * /proc/[0-9]*\/fd builds a hash table socket inode -> holder, so attributing N sockets costs
 * O(fds) once plus O(1) per socket (ss -p re-walks /proc per socket and is quadratic).
 *
 * Sharing: after fork() several processes hold the same socket. The table keeps the FIRST
 * holder met in the scan (the lowest pid, /proc lists pids in ascending order, usually the
 * parent) plus the number of distinct processes holding it; every holder still counts the fd in
 * its own nsockets. Keeping all holders would cost a list per inode for a case `top` only needs
 * to flag ("shared by N"), so we don't.
 *
 * Partial views: processes that exit during the scan and fds closed under it are skipped and
 * counted; /proc/PID/fd of another user's process is unreadable without root (or
 * CAP_SYS_PTRACE): those processes are skipped and counted, and the stats say attribution is
 * partial and why. None of this is an error.
 *
 * The result is immutable after owners_scan and may be read from several threads.
 */
#ifndef TD_OWNERS_H
#define TD_OWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct td_owners;

/* A process holding at least one socket. Processes without sockets are not kept. */
struct td_owner_proc {
	pid_t pid;
	uid_t uid;	   /* owner of /proc/PID */
	char comm[16];	   /* /proc/PID/comm, NUL-terminated ("" if it vanished); control
			    * characters and invalid UTF-8 replaced by '?' (names.h) */
	uint32_t nfds;	   /* open fds of any kind seen in /proc/PID/fd */
	uint32_t nsockets; /* of which sockets of any family (TCP, UDP, unix, netlink...) */
};

enum td_owners_partial {
	TD_OWNERS_COMPLETE = 0,
	TD_OWNERS_NOT_ROOT, /* unreadable processes, and we are not root */
	TD_OWNERS_DENIED,   /* unreadable processes although root (LSM, user namespace) */
};

/* How the table was built. */
enum td_owners_via {
	TD_OWNERS_VIA_PROC = 0, /* a readlink() per fd under /proc/PID/fd */
	TD_OWNERS_VIA_BPF,	/* one read of a BPF task_file iterator (root, BTF, a BPF build) */
};

#define TD_OWNERS_DENIED_SHOWN 4 /* unreadable processes named by pid */

struct td_owners_stats {
	enum td_owners_via via;
	uint32_t procs; /* numeric /proc entries visited (processes with files, via BPF) */
	uint32_t procs_with_sockets;
	uint32_t procs_gone;   /* exited between listing and reading (ENOENT/ESRCH) */
	uint32_t procs_denied; /* /proc/PID/fd unreadable (EACCES/EPERM) */
	int32_t denied_pids[TD_OWNERS_DENIED_SHOWN]; /* the first of them, 0 past procs_denied */
	uint64_t fds;				     /* fd entries read */
	uint64_t socket_fds;			     /* of which "socket:[N]" */
	uint64_t fds_gone;			     /* closed between listing and readlink */
	uint64_t inodes;			     /* distinct socket inodes */
	uint64_t shared_inodes;			     /* held by more than one process */
	enum td_owners_partial partial;
};

/*
 * Builds the table the fastest way that works here: the BPF iterator (owners_scan_bpf), else a
 * scan of /proc. Environment TD_OWNERS=proc or =bpf forces one (=bpf fails rather than fall
 * back). On success returns 0, *out (free with owners_free) and *st (may be NULL). Returns -errno
 * only when /proc itself cannot be opened or read (e.g. -ENOENT: not mounted); per-process
 * trouble is counted in *st, never returned.
 */
int owners_scan(struct td_owners **out, struct td_owners_stats *st);

/*
 * The same table from one read of a BPF iter/task_file program (src/bpf/owners.bpf.c): no
 * readlink() per fd, and no process is unreadable. Returns -ENOTSUP in a build without BPF,
 * -EPERM without CAP_BPF/CAP_PERFMON, -ENOENT without kernel BTF, -EXDEV when tcpdoctor runs in
 * another pid namespace than the kernel's pids (a container: the /proc scan names processes as
 * the container sees them), or another -errno from libbpf.
 */
int owners_scan_bpf(struct td_owners **out, struct td_owners_stats *st);

/* Same over a directory laid out like /proc (tests build one; a /proc mounted elsewhere).
 * proc_dirfd is not closed. */
int owners_scan_at(int proc_dirfd, struct td_owners **out, struct td_owners_stats *st);

/* Frees the table. NULL is fine. */
void owners_free(struct td_owners *o);

/*
 * Looks up a socket inode. Returns the first holder (see the sharing note above), or NULL when
 * no scanned process holds it (inode 0, a TIME_WAIT or request socket, an unreadable process, a
 * socket created after the scan). *nholders (if non-NULL) gets the number of distinct processes
 * holding it (0 when NULL is returned). The pointer lives as long as o.
 */
const struct td_owner_proc *owners_lookup(const struct td_owners *o, uint64_t inode,
					  unsigned *nholders);

/* Processes with sockets, in scan (pid) order: i from 0 to owners_nprocs() - 1. */
size_t owners_nprocs(const struct td_owners *o);
const struct td_owner_proc *owners_proc(const struct td_owners *o, size_t i);

/* The position of p in the process list (for per-process arrays), p from this table. */
size_t owners_proc_index(const struct td_owners *o, const struct td_owner_proc *p);

/* Why attribution is partial, one line for humans ("" when complete). Static string. */
const char *owners_partial_reason(const struct td_owners_stats *st);

/* "pid 1" or "pids 1, 7, ..." (the first unreadable processes) into buf; returns buf */
char *owners_denied_pids(const struct td_owners_stats *st, char *buf, size_t n);

#endif
