/* SPDX-License-Identifier: MIT */
/*
 * Filling and emptying the conntrack table of the calling thread's network namespace, for the
 * lab's conntrack-full scenario, its integration test and `make bench` (tests/helpers/ctfill is
 * a thin wrapper). The fill writes UDP packets through a raw socket (IP_HDRINCL, batches of
 * sendmmsg) from 127.0.0.1:40000 to 127.0.0.2-127.0.0.x, one port pair per flow, so each packet
 * is a new tuple at the OUTPUT hook; with assured it also sends each flow's reply and, after
 * UDP's 2-second stream delay, a third packet, which makes the entries ASSURED: early_drop()
 * never evicts those, so a table full of them drops new flows instead of making room. The
 * namespace's ruleset should drop these packets at input (127.0.0.2-127.0.0.254 as source or
 * destination), or the kernel answers each with an ICMP port unreachable.
 *
 * Bounded: at most LAB_CTFILL_MAX flows and LAB_CTFILL_DEADLINE_MS; it stops at the first error
 * or when *stop is set. Not thread-safe with itself (static packet buffers); no other state.
 */
#ifndef TD_LAB_CTFILL_H
#define TD_LAB_CTFILL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAB_CTFILL_MAX	       2000000u
#define LAB_CTFILL_DEADLINE_MS 60000.0
/* the ruleset line that keeps the fill's packets from being answered (see above) */
#define LAB_CTFILL_NFT_DROP                                                                        \
	"ip saddr 127.0.0.2-127.0.0.254 meta l4proto udp drop\n"                                   \
	"ip daddr 127.0.0.2-127.0.0.254 meta l4proto udp drop\n"

struct lab_ctfill {
	uint64_t flows; /* asked for */
	uint64_t sent;	/* packets the kernel took */
	uint64_t eperm; /* packets the OUTPUT hook refused (a full table) */
	double ms;	/* wall time */
};

/*
 * Makes n (1..LAB_CTFILL_MAX) flows in the current namespace, ASSURED ones when assured.
 * stop may be NULL. Returns 0 with res filled, -EINTR when *stop was set, -ETIMEDOUT past the
 * deadline, -EINVAL for n out of range, or the -errno of the raw socket or sendmmsg.
 */
int lab_ctfill_run(unsigned n, bool assured, const volatile sig_atomic_t *stop,
		   struct lab_ctfill *res);

/* One IPv4 UDP conntrack tuple, as its original direction: addresses and ports in network
 * order. */
struct lab_ctfill_flow {
	uint32_t src, dst;
	uint16_t sport, dport;
};

/*
 * Sends one packet each way of every flow in v: for entries that exist but missed ASSURED.
 * Why not the fill's flows again: when an entry was evicted (early_drop() makes room for a
 * packet that needed one, the table being full), sending all flows again would make new
 * entries that evict others, for ever; packets of existing entries make none. Returns 0 or
 * -errno as lab_ctfill_run.
 */
int lab_ctfill_touch(const struct lab_ctfill_flow *v, size_t n, struct lab_ctfill *res);

/* Removes every entry of the current namespace's table (ctnetlink IPCTNL_MSG_CT_DELETE without
 * a tuple, what `conntrack -F` does). Returns 0 or -errno (-EPERM without CAP_NET_ADMIN,
 * -ENOENT/-EPROTONOSUPPORT without nf_conntrack_netlink). */
int lab_ct_flush(void);

#endif
