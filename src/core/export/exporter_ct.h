/* SPDX-License-Identifier: MIT */
/*
 * The exporter's conntrack families (tcpdoctor_conntrack_*), compatible in meaning with
 * node_exporter's node_nf_conntrack_*: the table's size per namespace, entries per protocol
 * and TCP conntrack state from the ctnetlink dump, and the summed per-CPU statistics as
 * counters. exporter_build() calls it at their place in the page. Not thread-safe per out.
 */
#ifndef TD_EXPORTER_CT_H
#define TD_EXPORTER_CT_H

struct td_model;
struct td_metrics;

/* Appends every conntrack family to out (kept when empty: HELP and TYPE document it). m may be
 * NULL (a failed collection): families without samples. Can't fail. */
void exporter_ct_build(const struct td_model *m, struct td_metrics *out);

#endif
