/* SPDX-License-Identifier: MIT */
/*
 * Private to the owners module: how a scan (of /proc in owners.c, of the BPF iterator in
 * owners_bpf.c) fills the table, one process at a time, in pid order.
 */
#ifndef TD_OWNERS_BUILD_H
#define TD_OWNERS_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/source/owners.h"

struct td_owners_build {
	struct td_owners *o;
	struct td_owners_stats *st;
	long cur; /* index of the current process in the table, -1 until it shows a socket */
};

/* Starts an empty table counting into st (zeroed by the caller). */
void owners_build_init(struct td_owners_build *b, struct td_owners_stats *st);
/* Sizes the table for every open file on the host (at most a million), before the scan. */
void owners_build_presize(struct td_owners_build *b);
/* A new process begins: its first socket adds it to the table. */
static inline void owners_build_proc(struct td_owners_build *b)
{
	b->cur = -1;
}
/* The current process (pid) holds socket inode (once per fd). */
void owners_build_socket(struct td_owners_build *b, pid_t pid, uint64_t inode);
/* The current process's entry, or NULL when it showed no socket. */
struct td_owner_proc *owners_build_cur(struct td_owners_build *b);
/* Fills the totals of *st and returns the table. */
struct td_owners *owners_build_finish(struct td_owners_build *b);

/* Reads the records of the BPF owners iterator (src/bpf/owners.h) into a builder, as they come
 * in blocks of any size. */
struct td_owners_reader {
	struct td_owners_build b;
	pid_t pid;  /* the process whose records are coming, 0 before the first */
	pid_t self; /* a pid to look for (our own: are we in the iterator's pid namespace?) */
	bool self_seen;
	uint32_t uid; /* the current process's, kept until its END record */
	char comm[16];
};

void owners_reader_init(struct td_owners_reader *rd, struct td_owners_stats *st, pid_t self);
/* Takes the whole records at the start of buf[0..len) and returns how many bytes they were (a
 * record cut at the end waits for the next block), or -EPROTO for a record of an unknown kind
 * or a socket before any process. */
long owners_reader_feed(struct td_owners_reader *rd, const void *buf, size_t len);

#endif
