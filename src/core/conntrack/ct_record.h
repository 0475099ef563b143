/* SPDX-License-Identifier: MIT */
/*
 * `conntrack --record FILE` and `--replay FILE`: the conntrack reads of each namespace kept as
 * the raw bytes the kernel gave (ctnetlink dump and stats buffers, /proc/net/stat text, the
 * nf_conntrack sysctls as "name=value" lines) in a TDREC001 record (record.h), so that replay
 * runs the very parsers of a live run and prints the same thing.
 *
 * Chunks: META "recorded_by=conntrack\nnetns=0|1\ninterval=0|1\n" first; then per namespace
 * NETNS (its name), CT chunks { u8 pass (0: before --interval, 1: the main pass); u8 kind
 * (enum td_ct_raw); bytes }, and CT_END "dump_err=N\ninterrupted=0|1\n" (N a positive errno or 0).
 *
 * No global state; the writer and the replay are not thread-safe per object.
 */
#ifndef TD_CT_RECORD_H
#define TD_CT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conntrack/conntrack.h"

struct td_record;

/* The tap that writes a pass's raw reads into rec (struct td_ct_io.tap with arg = the struct
 * below). */
struct td_ct_rec_tap {
	struct td_record *rec;
	unsigned pass;
};
int ct_record_tap(void *arg, enum td_ct_raw kind, const void *buf, size_t len);

/* Writes the file-level META chunk. Returns 0 or -errno. */
int ct_record_meta(struct td_record *rec, bool netns, bool interval);
/* Writes the end of one namespace. Returns 0 or -errno. */
int ct_record_end(struct td_record *rec, int dump_err, bool interrupted);

/* What replay hands back, one namespace at a time. */
struct td_ct_replay_cbs {
	/* a namespace starts (name escaped, never NULL) */
	int (*ns_begin)(void *arg, const char *name);
	/* the namespace's sysctls: io->sysctl_text holds them, read with conntrack_*_read_io */
	int (*sysctls)(void *arg, const struct td_ct_io *io);
	td_ct_fn entry;
	/* the stats of a pass, summed from the recorded buffers */
	int (*stats)(void *arg, unsigned pass, const struct td_ct_stats *s);
	/* the namespace ends: dump_err (-errno or 0) and the dump's counts */
	int (*ns_end)(void *arg, int dump_err, const struct td_ct_dump_stats *st);
};

/* Replays path. *netns and *interval receive the META flags. Returns 0, or -errno with a
 * message in err naming the file and the offset of the bad chunk: -EBADMSG for a damaged or
 * foreign record (a socket dump), -errno for I/O. */
int ct_record_replay(const char *path, const struct td_ct_replay_cbs *cbs, void *arg, bool *netns,
		     bool *interval, char *err, size_t errlen);

#endif
