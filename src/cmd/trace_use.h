/* SPDX-License-Identifier: MIT */
/*
 * A trace run inside another command (doctor --trace, top --trace, watch and serve --trace):
 * opens the BPF programs for the namespaces the command looks at (-N NS: that one; -N all:
 * every one; none: the current one), with the same messages as `trace` when BPF, BTF or the
 * privilege is missing, and polls for a while or in the background. The aggregation is
 * core/trace/trace.h's.
 */
#ifndef TD_CMD_TRACE_USE_H
#define TD_CMD_TRACE_USE_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/cmd.h"
#include "core/trace/trace.h"

/* Parses --trace S (seconds, more than 0, at most a week) into *ms; prints and returns
 * bad_exit on a bad value. */
int trace_use_parse(const struct td_global *g, const char *arg, uint64_t *ms, int bad_exit);

/* Opens the trace for g's namespaces. Returns 0 and *t, or prints why (as `trace` does) and
 * returns fail_exit. */
int trace_use_open(const struct td_global *g, struct td_trace **t, int fail_exit);

/* Counts events into agg for ms milliseconds, or until SIGINT/SIGTERM (which ends only the trace:
 * the command goes on to report). Says "tracing S s" on stderr once attached. *secs gets how long
 * it ran. Returns 0, or prints and returns fail_exit when reading fails. */
int trace_use_run(const struct td_global *g, struct td_trace *t, struct td_trace_agg *agg,
		  uint64_t ms, double *secs, int fail_exit);

/* A trace kept running in a thread while a command watches or serves: trace_bg_rows copies a
 * section under the lock. */
struct td_trace_bg;
int trace_bg_start(const struct td_global *g, struct td_trace_bg **out, int fail_exit);
/* The rows of one section so far (trace_agg_rows); *events (may be NULL) the events counted,
 * *lost (may be NULL) those lost. */
struct td_trace_row *trace_bg_rows(struct td_trace_bg *b, enum td_trace_section s, size_t *n,
				   uint64_t *events, uint64_t *lost);
void trace_bg_stop(struct td_trace_bg *b);
/* Gives m what the trace counted so far as evidence (model_trace_attach), before the rules. */
struct td_model;
void trace_bg_attach(struct td_trace_bg *b, struct td_model *m);

/* watch --trace: the trace's failures and resets of namespace ino (0: all), most first, as
 * lines for the frame (at most max, cut to width). */
struct td_wframe;
void trace_use_frame(struct td_wframe *f, const struct td_model *m, uint32_t ino, unsigned width,
		     size_t max);

#endif
