/* SPDX-License-Identifier: MIT */
/*
 * The exporter's trace families (serve --trace): failed connect() and bind() by syscall, errno
 * and destination, resets by direction, cause and peer, and the events counted and lost, all
 * Prometheus counters named tcpdoctor_trace_*. Cardinality is bounded: the first `top`
 * destinations seen get their own series, every later one is summed into dst="other"; the set
 * never changes once full, so every series only grows (a counter, as Prometheus expects).
 * Nothing here prints. Not thread-safe: one caller per state.
 */
#ifndef TD_EXPORTER_TRACE_H
#define TD_EXPORTER_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/export/exporter.h"
#include "core/trace/trace.h"

#define EXPORTER_TRACE_TOP_MAX 100

struct td_exporter_trace_dest {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

/* The destinations given their own series, kept from one scrape to the next (zero it first). */
struct td_exporter_trace_state {
	size_t top; /* at most EXPORTER_TRACE_TOP_MAX */
	struct td_exporter_trace_dest chosen[EXPORTER_TRACE_TOP_MAX];
	size_t nchosen;
};

/* What the trace counted since serve started. */
struct td_exporter_trace_input {
	const struct td_trace_row *fail, *rst; /* trace_agg_rows of the failures and resets */
	size_t nfail, nrst;
	uint64_t events, lost;
};

/* Appends the tcpdoctor_trace_* families to out (after exporter_build). Can't fail. */
void exporter_trace_build(struct td_exporter_trace_state *st,
			  const struct td_exporter_trace_input *in, struct td_metrics *out);

#endif
