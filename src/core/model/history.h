/* SPDX-License-Identifier: MIT */
/*
 * The memory of `tcpdoctor watch`: a ring of samples (sockets per state, orphaned FIN_WAIT2 and
 * the kernel counters that tell how many timewait sockets were armed), the per-second rates
 * between two samples, the level a value takes in a sparkline, and one ring per network
 * namespace plus one for their total, kept in step with the namespaces a model holds. watch
 * takes its own samples, so the model's counters interval can be 0: rates come from deltas
 * between consecutive samples here.
 *
 * TIME_WAIT created/expired. TcpExt TW and TWKilled count a timewait socket when its timer is
 * armed (tcp_time_wait: observed on 6.18, where they move at once with the census; kernels
 * before the 2015 timewait rework counted at expiry [U]), and an orphaned FIN_WAIT2 is a
 * timewait socket too (kernel-facts §1). So created = ΔTW + ΔTWKilled and expired = created -
 * Δ(TIME_WAIT + orphaned FIN_WAIT2), which includes takeovers by connect() (tcp_tw_reuse) and
 * early kills. A dump is not a snapshot (kernel-facts §14): both are estimates, clamped at 0.
 *
 * Pure arithmetic on what the caller gives: nothing here reads the kernel or prints. Not
 * thread-safe; allocation failure aborts.
 */
#ifndef TD_HISTORY_H
#define TD_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sock.h"

struct td_model;
struct td_ns_model;

/* The kernel counters a sample keeps (deltas only mean something between two samples). */
enum td_hist_counter {
	TD_HC_ACTIVE_OPENS = 0, /* Tcp ActiveOpens: connect() sent a SYN */
	TD_HC_PASSIVE_OPENS,	/* Tcp PassiveOpens: a handshake completed on a listener */
	TD_HC_TW,		/* TcpExt TW: timewait armed for more than 4 s */
	TD_HC_TW_KILLED,	/* TcpExt TWKilled: armed for 4 s or less */
	TD_HC_COUNT,
};

struct td_sample {
	uint64_t t_ns;		 /* monotonic time the sample was taken */
	uint64_t n[TD_SS_COUNT]; /* sockets by state, both families */
	uint64_t fw2_orphans;	 /* FIN_WAIT2 held by no process: timewait sockets */
	bool have_counters;	 /* c[] is valid (not a replay, /proc readable) */
	uint64_t c[TD_HC_COUNT];
};

/* Rates between two samples, per second. */
struct td_rates {
	double dt_s;		   /* 0: no rates (one sample, or the clock did not move) */
	double state[TD_SS_COUNT]; /* net change of each state's count */
	bool have_counters;	   /* both samples had counters and none went backwards */
	double active_opens, passive_opens;
	double tw_created, tw_expired; /* see the note at the top */
};

/* Fills s from one namespace of a model (census, orphans, counters c0, or c1 when present),
 * stamped t_ns. Can't fail. */
void history_sample_of_ns(const struct td_ns_model *ns, uint64_t t_ns, struct td_sample *s);
/* Adds b's counts into a (for a total); a keeps counters only while both have them. */
void history_sample_add(struct td_sample *a, const struct td_sample *b);

/* Rates from prev to cur. dt_s 0 (and every rate 0) when cur is not later than prev. A counter
 * that went backwards (namespace recreated) clears have_counters. Can't fail. */
void history_rates(const struct td_sample *prev, const struct td_sample *cur, struct td_rates *r);

/* A ring of at most cap samples (cap >= 1); the oldest is dropped when full. Never NULL. */
struct td_history *history_new(size_t cap);
void history_free(struct td_history *h); /* NULL is fine */
void history_push(struct td_history *h, const struct td_sample *s);
size_t history_len(const struct td_history *h);
/* Sample i, 0 the oldest, history_len - 1 the newest; NULL when out of range. */
const struct td_sample *history_at(const struct td_history *h, size_t i);
/* Rates between the two newest samples (dt_s 0 with fewer than two). */
void history_last_rates(const struct td_history *h, struct td_rates *r);
/*
 * Writes into out (room for max) the newest min(max, len) values of one series, oldest first:
 * a state's count, or with state TD_SS_COUNT the timewait total (TIME_WAIT + orphaned
 * FIN_WAIT2). Returns how many were written.
 */
size_t history_series(const struct td_history *h, unsigned state, size_t max, uint64_t *out);

/* The sparkline level of v on a scale 0..max with levels steps (levels >= 2): 0 for 0, any
 * v > 0 at least 1 (a single socket stays visible), levels - 1 for v >= max; ceil(v * (levels -
 * 1) / max) in between. Can't fail. */
unsigned history_level(uint64_t v, uint64_t max, unsigned levels);

/* One ring per namespace (by name) and one for the total of all, each of cap samples. */
struct td_history_set;

struct td_history_set *history_set_new(size_t cap);
void history_set_free(struct td_history_set *hs); /* NULL is fine */
/* Pushes one sample per namespace of m (a ring for a new name; rings of namespaces m no longer
 * has are dropped) and their total, all stamped t_ns. Can't fail. */
void history_set_update(struct td_history_set *hs, const struct td_model *m, uint64_t t_ns);
/* The total's ring, or a namespace's by name (NULL when unknown). */
const struct td_history *history_set_total(const struct td_history_set *hs);
const struct td_history *history_set_find(const struct td_history_set *hs, const char *name);

#endif
