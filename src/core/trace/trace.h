/* SPDX-License-Identifier: MIT */
/*
 * `trace`: what the BPF programs in src/bpf/trace.bpf.c report, loaded and read here, and
 * aggregated into rows that count exactly: failed connect()/bind() by errno, program and
 * destination; resets received and sent; who closed first; CLOSE_WAIT entries and ages. The
 * aggregation (trace.c) needs no BPF and is unit-tested with hand-built events; the loader
 * (trace_bpf.c) exists only in a build with the BPF toolchain (TD_HAVE_BPF) and says so
 * otherwise. Never prints. Not thread-safe.
 */
#ifndef TD_TRACE_H
#define TD_TRACE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/trace.h"

/* A row's section in the report (and its JSON array) */
enum td_trace_section {
	TD_TRACE_FAILURES = 0, /* TD_EV_CONNECT_FAIL, TD_EV_BIND_FAIL */
	TD_TRACE_RESETS,       /* TD_EV_RESET_RECV, TD_EV_RESET_SENT */
	TD_TRACE_CLOSES,       /* TD_EV_CLOSE_LOCAL, TD_EV_CLOSE_PEER */
	TD_TRACE_CLOSE_WAIT,   /* rows of kind TD_TRACE_KIND_CW */
	TD_TRACE_SECTIONS,
};

/* The kind of a CLOSE_WAIT row (user space only: the events are CLOSE_PEER and CW_LEAVE) */
#define TD_TRACE_KIND_CW TD_EV_KIND_MAX

/* What a row is counted by. Ports that do not name the service are zero: the local port of a
 * connect (the peer's is the service), the peer's port of an accepted connection. A bind
 * failure has only the local side (the address and port asked for). */
struct td_trace_key {
	uint32_t netns; /* namespace inode */
	uint32_t pid;	/* 0: not known (a socket older than the trace, in softirq) */
	int32_t err;	/* positive errno of a failure, else 0 */
	uint8_t kind;	/* enum td_trace_kind, or TD_TRACE_KIND_CW */
	uint8_t family;
	uint8_t detail; /* enum td_trace_rst of a sent reset */
	uint8_t pad;
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
	char comm[TD_TRACE_COMM_LEN]; /* raw, NUL-terminated: escape before showing */
};

struct td_trace_row {
	struct td_trace_key k;
	uint64_t count; /* events; for CLOSE_WAIT rows, sockets that entered it */
	/* CLOSE_WAIT rows: */
	uint64_t cw_open;	/* still in CLOSE_WAIT when the rows were taken */
	uint64_t cw_oldest_ns;	/* age of the oldest of those, at the time given to rows */
	uint64_t cw_longest_ns; /* the longest stay of those that left it */
};

struct td_trace_agg;

/* An empty aggregate. Never NULL (aborts on OOM). Free with trace_agg_free (NULL is fine). */
struct td_trace_agg *trace_agg_new(void);

/* Bounds for a trace that runs for days (watch, serve): at most TD_TRACE_ROWS_MAX rows keep the
 * program (pid and comm); past it, an event of a new key is counted without its program (pid
 * 0, comm ""), and past TD_TRACE_ROWS_MAX + TD_TRACE_ROWS_SPARE rows without its endpoints too,
 * so counts by kind, errno and namespace stay exact while memory stays bounded; each such event
 * is "folded". TD_TRACE_CW_MAX sockets are followed through CLOSE_WAIT at once; the stays that
 * ended are dropped when that fills, and a socket beyond it is counted but not aged. */
#define TD_TRACE_ROWS_MAX   (1u << 16)
#define TD_TRACE_ROWS_SPARE (1u << 14)
#define TD_TRACE_CW_MAX	    (1u << 20)
/* The same with other bounds (tests). */
struct td_trace_agg *trace_agg_new_bounded(size_t rows_max, size_t rows_spare, size_t cw_max);
/* Events counted in a coarser row than their own (see above), and CLOSE_WAIT entries that
 * could not be aged. */
uint64_t trace_agg_folded(const struct td_trace_agg *t);
uint64_t trace_agg_cw_untracked(const struct td_trace_agg *t);
void trace_agg_free(struct td_trace_agg *t);

/* Counts one event. Returns 0, or -EINVAL for an event of no known kind (not counted). */
int trace_agg_add(struct td_trace_agg *t, const struct td_trace_event *e);

/* Events counted so far (all sections). */
uint64_t trace_agg_events(const struct td_trace_agg *t);

/* The rows of one section, most frequent first (ties in a stable order of their keys), as a
 * malloc'd array the caller frees; *n gets their number (the array is NULL when 0). now_ns (the
 * events' clock, CLOCK_MONOTONIC) dates the CLOSE_WAIT ages. Can't fail. */
struct td_trace_row *trace_agg_rows(const struct td_trace_agg *t, enum td_trace_section s,
				    uint64_t now_ns, size_t *n);

/*
 * The rows the kernel counts itself (closes and CLOSE_WAIT stays, see bpf/trace.h), read as
 * totals: trace_agg_kernel_begin forgets the last reading, then each row is given as an event of
 * kind TD_EV_CLOSE_LOCAL or TD_EV_CLOSE_PEER standing for its key (e.role says which port is
 * kept) with its counts: closes, and for CLOSE_PEER the stays that ended and the longest of them.
 * The open stays are read apart (less often): trace_agg_kernel_stays_begin forgets the last
 * reading, then trace_agg_kernel_stay gives each stay still open (since_ns: its start) for the
 * oldest age. The rows add to those counted from records, and their events to trace_agg_events.
 */
void trace_agg_kernel_begin(struct td_trace_agg *t);
void trace_agg_kernel_stays_begin(struct td_trace_agg *t);
void trace_agg_kernel_row(struct td_trace_agg *t, const struct td_trace_event *e, uint64_t count,
			  uint64_t left, uint64_t longest_ns);
void trace_agg_kernel_stay(struct td_trace_agg *t, const struct td_trace_event *e,
			   uint64_t since_ns);

/* Who closed a connection first, by its 4-tuple: kept once trace_agg_keep_closers was called,
 * from each TD_EV_CLOSE_LOCAL with a known pid (top --trace: the exact TIME_WAIT owner). A
 * tuple seen again (a port reused) takes the latest closer. */
struct td_trace_closer {
	uint32_t pid;
	char comm[TD_TRACE_COMM_LEN]; /* raw, NUL-terminated */
};
#define TD_TRACE_CLOSERS_MAX (1u << 20) /* connections kept at most (about 100 MiB) */
void trace_agg_keep_closers(struct td_trace_agg *t);
/* The closer of (netns, family, local address and port, peer address and port), ports in host
 * order, addresses in network order (IPv4 in the first 4 bytes); NULL when not seen. */
const struct td_trace_closer *trace_agg_closer(const struct td_trace_agg *t, uint32_t netns,
					       uint8_t family, const uint8_t saddr[16],
					       uint16_t sport, const uint8_t daddr[16],
					       uint16_t dport);
/* Connections kept so far. */
size_t trace_agg_closers(const struct td_trace_agg *t);

/* Names for output (static strings): the section's JSON key ("failures"), the syscall of a
 * failure ("connect", "bind"), the direction and cause of a reset ("received", "linger0"), who
 * closed first ("local", "peer"). NULL for a kind they do not apply to. */
const char *trace_section_name(enum td_trace_section s);
const char *trace_syscall_name(uint8_t kind);
const char *trace_reset_dir(uint8_t kind);
const char *trace_reset_cause(uint8_t kind, uint8_t detail);
const char *trace_close_first(uint8_t kind);

/* The address as text ("10.0.0.1", "fd00::1"); "" for an all-zero address. Returns buf. */
char *trace_addr_str(uint8_t family, const uint8_t addr[16], char *buf, size_t len);
/* An endpoint as text: "addr:port", "[v6]:port", "addr" (port 0), "*" (no address). Returns
 * buf. */
char *trace_endpoint_str(uint8_t family, const uint8_t addr[16], uint16_t port, char *buf,
			 size_t len);

/* ---- the loader (trace_bpf.c) ---- */

struct td_trace;

struct td_trace_opts {
	uint32_t netns; /* only this namespace's events (its inode); 0: every namespace */
};

/* Loads and attaches the programs. Returns 0 and *out, or -errno: -ENOTSUP in a build without
 * BPF, -ENOENT without kernel BTF (/sys/kernel/btf/vmlinux), -EPERM without the privilege
 * (CAP_BPF and CAP_PERFMON, or root), another -errno from the kernel. *why (may be NULL) gets a
 * static explanation of the failing step. */
int trace_open(const struct td_trace_opts *o, struct td_trace **out, const char **why);

/* Waits up to timeout_ms for events and counts them into agg, with the kernel's rows
 * (trace_sync). Returns the number of records read (>= 0), or -errno (-EINTR when a signal came:
 * not an error for the caller). Always the same agg for one trace. */
int trace_poll(struct td_trace *t, struct td_trace_agg *agg, int timeout_ms);

/* Reads the rows the kernel counts (closes, CLOSE_WAIT stays) into agg, and with stays true the
 * open stays' start for their ages (a walk of every socket followed: trace_poll does it once a
 * second; call it before the rows that are shown). Returns 0 or -errno. */
int trace_sync(struct td_trace *t, struct td_trace_agg *agg, bool stays);

/* First closes as records with their 4-tuple (trace_agg_keep_closers) from now on, rather than
 * counted in the kernel's rows. */
void trace_keep_closers(struct td_trace *t);

/* Events the kernel side could not queue (ring buffer full), exact, plus the runs of its
 * programs the kernel skipped (a tracepoint hit while one of them ran on that CPU), each of
 * which may have been an event: 0 says no event can be missing. */
uint64_t trace_lost(const struct td_trace *t);

/* Detaches and frees. NULL is fine. */
void trace_close(struct td_trace *t);

/* True when this build has BPF support (TD_HAVE_BPF). */
bool trace_supported(void);

#endif
