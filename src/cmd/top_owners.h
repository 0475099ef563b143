/* SPDX-License-Identifier: MIT */
/*
 * `top --by process`: who holds each socket. The owners table (core/source/owners.h) is built in
 * a second thread while the main thread streams the dumps, so the two costs overlap instead of
 * adding up. Everything that needs the table waits: the listeners' inodes, and for every socket
 * with an inode a compact record (inode, state, side, destination) appended to chunks that the
 * owners thread, once its table exists, looks up as they come (the lookups, random accesses into
 * a table of every socket inode on the host, are the costly part, and they too run beside the
 * dump). Sockets without an inode need no table: they are counted at once, per destination or
 * listening port, and attributed by inference when the run ends.
 *
 * Threads: the main thread calls every function here; the owners thread only reads the records
 * published to it (under a mutex), writes their looked-up holder, and is joined by
 * top_owners_end() or top_owners_free() on every path. With TD_OWNERS_THREAD=0 the table is
 * built before the dumps and the records are looked up at the end, in the main thread: the same
 * result, one step after the other.
 */
#ifndef TD_CMD_TOP_OWNERS_H
#define TD_CMD_TOP_OWNERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model/groups.h"
#include "core/sock.h"
#include "core/source/owners.h"

struct top_owners;

/* Starts building the owners table (in a thread unless TD_OWNERS_THREAD=0). Returns 0 and *out,
 * or -errno: from the scan itself when it ran before returning, or from pthread_create. */
int top_owners_start(struct top_owners **out);

/* The listener with inode in the first dump's namespace ns on port (LISTEN dump). */
void top_owners_listener(struct top_owners *a, uint32_t ns, uint16_t port, uint64_t inode);

/* One socket of the second dump, its side known; wanted: it passes --state (the others only
 * help to infer owners). ns is its first-dump namespace index, or -1 when that dump did not see
 * its namespace. Sockets without an inode attributed exactly by --trace are the caller's. */
void top_owners_sock(struct top_owners *a, const struct td_sock *sk, enum td_side side, long ns,
		     bool wanted);

/*
 * After the dumps: waits for the table, then adds every socket held or counted above to g
 * (grouped by process). Returns 0 and sets *owners (owned by a, valid until top_owners_free)
 * and *st, or the scan's -errno (nothing added then).
 */
int top_owners_end(struct top_owners *a, struct td_groups *g, const struct td_owners **owners,
		   struct td_owners_stats *st);

/* Joins the thread if it still runs and frees everything. NULL is fine. */
void top_owners_free(struct top_owners *a);

#endif
