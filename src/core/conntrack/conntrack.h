/* SPDX-License-Identifier: MIT */
/*
 * The netfilter connection-tracking table of the current network namespace, read over
 * ctnetlink (NETLINK_NETFILTER, subsystem CTNETLINK): a dump of every entry streamed to a
 * callback one at a time (nothing keeps the table), the per-CPU statistics summed, and the
 * table's size and timeouts from /proc/sys/net/netfilter. The parsers take the raw bytes of
 * netlink replies, so tests and the fuzzer drive them without a kernel; they treat every
 * length and attribute as hostile.
 *
 * Each call opens its own socket (a dump also runs one reader thread of its own, joined
 * before it returns); no global state.
 */
#ifndef TD_CONNTRACK_H
#define TD_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TCP conntrack states (enum tcp_conntrack, include/uapi/linux/netfilter/nf_conntrack_tcp.h).
 * They are conntrack's own view of the flow, not the sockets' TCP states. */
enum td_ct_tcp_state {
	TD_CT_TCP_NONE = 0,
	TD_CT_TCP_SYN_SENT,
	TD_CT_TCP_SYN_RECV,
	TD_CT_TCP_ESTABLISHED,
	TD_CT_TCP_FIN_WAIT,
	TD_CT_TCP_CLOSE_WAIT,
	TD_CT_TCP_LAST_ACK,
	TD_CT_TCP_TIME_WAIT,
	TD_CT_TCP_CLOSE,
	TD_CT_TCP_SYN_SENT2,
	TD_CT_TCP_COUNT,
};

/* One entry as the dump delivers it: the original direction's tuple. */
struct td_ct {
	uint8_t family;	   /* AF_INET or AF_INET6 */
	uint8_t proto;	   /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, ... */
	uint8_t tcp_state; /* enum td_ct_tcp_state; TD_CT_TCP_NONE for other protocols */
	bool assured;	   /* IPS_ASSURED: seen traffic both ways, not early-dropped first */
	bool unreplied;	   /* no reply seen yet (!IPS_SEEN_REPLY) */
	uint16_t sport;	   /* host order; 0 for protocols without ports */
	uint16_t dport;
	uint16_t zone;
	uint8_t src[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint32_t timeout_s; /* seconds left */
	uint32_t mark;
};

/* Summed per-CPU statistics (CTA_STATS_*, `conntrack -S`). */
struct td_ct_stats {
	uint64_t found, invalid, insert, insert_failed, drop, early_drop, error, search_restart,
		clash_resolve, chaintoolong;
	unsigned cpus; /* how many per-CPU records were summed */
};

/* The table's size and limits in this namespace. A field that could not be read is 0 and its
 * has_ flag false. */
struct td_ct_table {
	bool has_count, has_max, has_buckets;
	uint64_t count;	  /* nf_conntrack_count: entries in this namespace */
	uint64_t max;	  /* nf_conntrack_max: the host's limit (read-only in child namespaces) */
	uint64_t buckets; /* nf_conntrack_buckets: the host's hash table size */
};

/* One timeout sysctl and its value in seconds. */
struct td_ct_timeout {
	const char *name; /* static: "tcp_time_wait", "udp", ... (key nf_conntrack_<name>_timeout
			     spelled as the kernel does, see conntrack_timeout_keys) */
	char key[64];	  /* "net.netfilter.nf_conntrack_tcp_timeout_time_wait" */
	bool known;
	uint64_t seconds;
};

typedef int (*td_ct_fn)(const struct td_ct *ct, void *arg);

/* Counts kept by the parser. */
struct td_ct_dump_stats {
	uint64_t entries; /* delivered */
	uint64_t skipped; /* messages of another type (not CT_NEW), ignored */
	bool interrupted; /* NLM_F_DUMP_INTR: the table changed during the dump */
};

/*
 * Parses one buffer of ctnetlink dump replies (as recv() returns them) and calls fn for every
 * IPCTNL_MSG_CT_NEW entry. Returns 1 when NLMSG_DONE was seen, 0 when more is to come, -EBADMSG
 * for a malformed message (nothing after it is delivered), a kernel error (-errno from an
 * NLMSG_ERROR), or the first negative value fn returned.
 */
int conntrack_parse(const void *buf, size_t len, td_ct_fn fn, void *arg,
		    struct td_ct_dump_stats *st);

/* Parses one buffer of IPCTNL_MSG_CT_GET_STATS_CPU replies, adding each CPU's record into sum.
 * Returns 1 on NLMSG_DONE, 0 for more, -EBADMSG or a kernel -errno. */
int conntrack_stats_parse(const void *buf, size_t len, struct td_ct_stats *sum);

/* Dumps the current namespace's table over ctnetlink. Returns 0, -EPROTONOSUPPORT or -ENOENT
 * when ctnetlink is not available (no nf_conntrack_netlink), -EPERM without CAP_NET_ADMIN,
 * -EBADMSG, or fn's negative value. */
int conntrack_dump(td_ct_fn fn, void *arg, struct td_ct_dump_stats *st);

/* Reads the summed per-CPU statistics of the current namespace over ctnetlink, falling back to
 * /proc/net/stat/nf_conntrack. Returns 0 or -errno (-ENOENT: no conntrack here). */
int conntrack_stats_read(struct td_ct_stats *sum);

/* Parses the text of /proc/net/stat/nf_conntrack (a header line naming the columns, then one
 * line of hex numbers per CPU), adding every CPU into sum. Columns are found by name, so a
 * kernel that adds or drops one still parses. Returns 0 or -EBADMSG. */
int conntrack_stats_parse_proc(const char *text, size_t len, struct td_ct_stats *sum);

/* Reads count, max and buckets from /proc/sys/net/netfilter in the current namespace.
 * Returns 0 when at least the count was read, -ENOENT when conntrack is not in this kernel. */
int conntrack_table_read(struct td_ct_table *t);

/* The timeout sysctls conntrack_timeouts_read fills, in display order. */
#define TD_CT_TIMEOUTS 15
/* Fills out[TD_CT_TIMEOUTS] from /proc/sys/net/netfilter in the current namespace; keys that do
 * not exist stay known = false. Can't fail. */
void conntrack_timeouts_read(struct td_ct_timeout out[TD_CT_TIMEOUTS]);

/* What --record keeps of a conntrack read, and --replay feeds back to the same parsers. */
enum td_ct_raw {
	TD_CT_RAW_DUMP = 0,   /* one recv() buffer of the IPCTNL_MSG_CT_GET dump */
	TD_CT_RAW_STATS,      /* one recv() buffer of the IPCTNL_MSG_CT_GET_STATS_CPU dump */
	TD_CT_RAW_STATS_PROC, /* the text of /proc/net/stat/nf_conntrack (the fallback) */
	TD_CT_RAW_SYSCTL,     /* "name=value\n": one /proc/sys/net/netfilter/nf_conntrack_<name> */
};

/* Optional companion of a read: tap receives the raw bytes as read (a non-zero return stops
 * the read with that value); sysctl_text, when set, replaces /proc/sys: the recorded
 * TD_CT_RAW_SYSCTL lines are looked up instead of the files (a name absent there is absent). */
struct td_ct_io {
	int (*tap)(void *arg, enum td_ct_raw kind, const void *buf, size_t len);
	void *arg;
	const char *sysctl_text;
	size_t sysctl_len;
};

/* conntrack_dump, conntrack_stats_read, conntrack_table_read and conntrack_timeouts_read with
 * an io (NULL: the plain functions). Replay calls only the sysctl readers with an io; the
 * dump and stats buffers of a record go to conntrack_parse and the stats parsers directly. */
int conntrack_dump_io(td_ct_fn fn, void *arg, struct td_ct_dump_stats *st,
		      const struct td_ct_io *io);
int conntrack_stats_read_io(struct td_ct_stats *sum, const struct td_ct_io *io);
int conntrack_table_read_io(struct td_ct_table *t, const struct td_ct_io *io);
void conntrack_timeouts_read_io(struct td_ct_timeout out[TD_CT_TIMEOUTS],
				const struct td_ct_io *io);

/* The timeout that applies to a TCP state ("tcp_established", ...), or NULL for NONE. */
const char *conntrack_tcp_timeout_name(unsigned state);

/* "ESTABLISHED", "TIME_WAIT", ... as conntrack-tools prints them; "NONE" for unknown values. */
const char *conntrack_tcp_state_name(unsigned state);

/* "tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "dccp", "udplite", or NULL for another
 * number. */
const char *conntrack_proto_name(unsigned proto);

#endif
