/* SPDX-License-Identifier: MIT */
/*
 * The exporter's metrics: what `serve` publishes, built from one collected model and its
 * findings as a list of metric families (name, help, type, samples with labels), ready for a
 * renderer (render/prom.h). Every family comes from one table row (name, help, type, getter;
 * exporter.c, exporter_ct.c), and the kernel counters from counters_known, so a metric is
 * defined in one place.
 *
 * Also the link between two collections: the counter snapshot of each namespace is kept from
 * one collection to the next so that the rules see counters rising since the previous scrape
 * (not totals since boot), as doctor sees them over its interval.
 *
 * Nothing here prints, exits or keeps global state. Not thread-safe: one caller per object.
 * Allocation failure aborts.
 */
#ifndef TD_EXPORTER_H
#define TD_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conntrack/conntrack.h"

struct td_model;
struct td_findings;
struct td_counters;

enum exporter_type {
	EXPORTER_GAUGE = 0,
	EXPORTER_COUNTER,
};

#define EXPORTER_LABELS_MAX 4

struct td_exporter_sample {
	const char *lname[EXPORTER_LABELS_MAX]; /* static label names */
	char *lval[EXPORTER_LABELS_MAX];	/* owned label values */
	size_t nlabels;
	double value; /* may be +Inf */
};

struct td_exporter_family {
	char *name; /* owned: "tcpdoctor_sockets", "tcpdoctor_tcpext_tw_total" */
	char *help; /* owned, one line */
	enum exporter_type type;
	struct td_exporter_sample *v;
	size_t n, cap;
};

struct td_metrics {
	struct td_exporter_family *v;
	size_t n, cap;
};

/* What one collection produced, and the exporter's own bookkeeping. */
struct td_exporter_input {
	const struct td_model *m;     /* NULL when the collection failed */
	const struct td_findings *fs; /* NULL when the collection failed */
	size_t top;		      /* per-destination metrics for this many destinations */
	double duration_s;	      /* how long the collection took */
	double timestamp_s;	      /* wall clock when it finished, Unix seconds */
	uint64_t collections, errors; /* since start, this one included */
	const char *version;	      /* TD_VERSION */
};

/* Builds every family from in into out (zero it first; free with exporter_metrics_free).
 * The table's families are always there, with no samples when there is nothing to count (no
 * destination, no finding, a failed collection); a kernel counter is left out when no
 * snapshot has it (--replay, an older kernel). Can't fail. */
void exporter_build(const struct td_exporter_input *in, struct td_metrics *out);

/* For the files that build families of their own (exporter_ct.c): a new family in out (takes
 * ownership of name and help), a new sample in f, a label on s (value copied; name static). */
struct td_exporter_family *exporter_family_new(struct td_metrics *out, char *name, char *help,
					       enum exporter_type type);
struct td_exporter_sample *exporter_sample_new(struct td_exporter_family *f, double value);
void exporter_label_str(struct td_exporter_sample *s, const char *name, const char *value);
void exporter_metrics_free(struct td_metrics *out);

/* Counter snapshots carried from one collection to the next, by namespace name. */
struct td_exporter_carry {
	struct {
		char *name;
		struct td_counters *c;
		bool has_ct; /* the conntrack statistics, as the previous collection read them */
		struct td_ct_stats ct;
		uint64_t ct_ns;
	} * v;
	size_t n;
};

/*
 * Before the rules run on a fresh model m (collected with one snapshot per namespace, c0):
 * for each namespace that carry has a snapshot for, that one becomes c0, m's becomes c1 and
 * interval_s their distance, so counter rules judge what happened since the last collection;
 * the conntrack statistics likewise (ct.s0 from carry, ct.has_delta).
 * Can't fail.
 */
void exporter_carry_apply(struct td_exporter_carry *carry, struct td_model *m);
/* After m was used: moves each namespace's latest snapshot out of m into carry (replacing what
 * carry held; namespaces gone from m are dropped). Call before model_free(m). Can't fail. */
void exporter_carry_keep(struct td_exporter_carry *carry, struct td_model *m);
/* Frees what carry holds; carry is then empty and reusable. */
void exporter_carry_free(struct td_exporter_carry *carry);

#endif
