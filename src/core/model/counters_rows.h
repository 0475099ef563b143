/* SPDX-License-Identifier: MIT */
/*
 * The rows `counters` shows for one namespace (two snapshots): each known counter this kernel
 * has and, on request, every other Tcp/TcpExt counter that moved, with its delta, rate and
 * current value; counters before gauges, the ones that moved (or went backwards) first. And
 * the rows' field tables, so text and JSON read each value the same way: one table for the
 * JSON object and the text columns of a counter, one for the text columns of a gauge (a gauge
 * shows its level, not a delta).
 *
 * Pure: no I/O, no printing. Thread-safe.
 */
#ifndef TD_COUNTERS_ROWS_H
#define TD_COUNTERS_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fields.h"
#include "core/model/counters.h"

struct td_counters_row {
	const char *name, *section; /* as the kernel spells them */
	const char *meaning;	    /* NULL for a counter the tool has no entry for (--all) */
	enum counters_src src;
	enum counters_kind kind;
	struct td_counters_delta d;
	uint64_t value; /* magnitude of the value in the later snapshot */
	bool negative;	/* the kernel printed it as "-N" */
};

/*
 * The rows between two snapshots of one namespace, in the order to show them; with all, also
 * the Tcp/TcpExt counters without an entry that moved or went backwards. Returns how many and
 * *out (caller frees; never NULL). Can't fail.
 */
size_t counters_rows(const struct td_counters *before, const struct td_counters *after, bool all,
		     struct td_counters_row **out);

/* The known counters missing from either snapshot (this kernel lacks them): fills names
 * (COUNTERS_ID_COUNT slots) in table order and returns how many. */
size_t counters_missing(const struct td_counters *before, const struct td_counters *after,
			const char **names);

/* A row's fields: JSON "name", "section", "file", "delta" (signed: how far a gauge fell),
 * "rate", "value" (signed), "kind", "meaning" (null without one), "backwards" (counters only);
 * text columns counter, delta, per s, meaning. No context. */
extern const struct td_field counters_row_fields[];
extern const size_t counters_row_nfields;
/* A gauge's text columns: gauge, now, meaning. */
extern const struct td_field counters_gauge_fields[];
extern const size_t counters_gauge_nfields;

#endif
