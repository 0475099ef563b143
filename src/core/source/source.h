/* SPDX-License-Identifier: MIT */
/*
 * The socket source: streams struct td_sock to callbacks, from the kernel (inet_diag over
 * netlink, /proc/net/tcp{,6} as fallback) or from a recorded dump, for the current network
 * namespace, one named namespace, or every namespace on the host. Optionally records the raw
 * bytes it read. Nothing here keeps the socket list.
 *
 * Not thread-safe: entering namespaces changes the calling thread's network namespace (restored
 * before source_run returns).
 */
#ifndef TD_SOURCE_H
#define TD_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sock.h"

struct td_record;

#define TD_FAM_INET  1u
#define TD_FAM_INET6 2u
#define TD_FAM_ALL   (TD_FAM_INET | TD_FAM_INET6)

/* Called for every socket. Return 0 to go on, or a negative errno to stop the dump; source_run
 * then returns that value. */
typedef int (*td_sock_fn)(const struct td_sock *sk, void *arg);

/* Where a parser delivers: sockets whose state is not in states (bitmask 1u << state, 0 = all)
 * or whose family is not in families (TD_FAM_*, 0 = all) are skipped and never reach fn.
 * netns is copied into td_sock.netns. */
struct td_sink {
	td_sock_fn fn;
	void *arg;
	uint32_t states;
	unsigned families;
	unsigned netns;
};

/* Counts kept by the parsers, per namespace. */
struct td_dump_stats {
	uint64_t sockets; /* delivered to fn */
	uint64_t skipped; /* filtered out by state or family */
	bool interrupted; /* a netlink reply carried NLM_F_DUMP_INTR: the dump may miss or
			       duplicate sockets that changed during it (kernel-facts §14) */
};

enum td_source_kind {
	TD_SRC_AUTO = 0, /* netlink, or procfs when inet_diag is unavailable */
	TD_SRC_NETLINK,
	TD_SRC_PROCFS,
	TD_SRC_BPF, /* only as "used": states counted by the BPF census iterator (census_bpf.h) */
};

/* One namespace as the callbacks see it. */
struct td_ns_info {
	const char *name; /* "" for the current namespace, a /run/netns name, "pid:N", ... */
	unsigned idx;	  /* 0, 1, ... in visiting order; equals td_sock.netns */
	const char *meta; /* "key=value\n" lines (sysctls read in that namespace), or "" */
	enum td_source_kind used; /* which kernel source served it (TD_SRC_AUTO for replay) */
};

struct td_source_opts {
	enum td_source_kind kind;
	const char *replay; /* read this record instead of the kernel, or NULL */
	const char *record; /* also write what was read here, or NULL */
	const char *netns;  /* NULL: current; "all"; a /run/netns name; or a path like
				 /proc/PID/ns/net */
	uint32_t states;    /* 0 = all */
	unsigned families;  /* 0 = all */
	bool visit_only;    /* enter each namespace, call ns_begin/ns_end, dump nothing (a
			       second look at counters); ignored with replay */
};

#define TD_NS_COUNTED 1

struct td_source_cbs {
	/* Before the sockets of a namespace. May be NULL. Return <0 to stop, TD_NS_COUNTED when
	 * it accounted for the namespace itself (no dump then; ns_end still comes, with zero
	 * counts). */
	int (*ns_begin)(const struct td_ns_info *ns, void *arg);
	td_sock_fn sock;
	/* After them, with its counts. May be NULL. */
	int (*ns_end)(const struct td_ns_info *ns, const struct td_dump_stats *st, void *arg);
};

/* Room for a message from source_run: the error on failure; on success, when not empty, a note
 * the command should show (namespaces -N all could not enter without CAP_SYS_ADMIN). */
#define TD_ERRMSG_LEN 512

/*
 * Runs the dump. Returns 0, or -errno: -ENOENT (no such namespace or replay file), -EPERM
 * (entering a namespace needs CAP_SYS_ADMIN), -EBADMSG (corrupt record or kernel reply), or the
 * first negative value a callback returned. On error, errbuf (if non-NULL, TD_ERRMSG_LEN bytes)
 * gets a message naming the file or namespace; it is left empty when a callback failed.
 */
int source_run(const struct td_source_opts *o, const struct td_source_cbs *cbs, void *arg,
	       char *errbuf);

/* Copies the value of key from a "key=value\n" meta text into buf. Returns 0 or -ENOENT. */
int source_meta_get(const char *meta, const char *key, char *buf, size_t len);

/* Applies a sink's filters; true when the socket must be delivered. */
static inline bool source_sink_wants(const struct td_sink *s, const struct td_sock *sk)
{
	unsigned fam = sk->family == 2 /* AF_INET */ ? TD_FAM_INET : TD_FAM_INET6;
	if (s->states && !(s->states & (1u << sk->state)))
		return false;
	if (s->families && !(s->families & fam))
		return false;
	return true;
}

#endif
