/* SPDX-License-Identifier: MIT */
/*
 * What `tcpdoctor conntrack` collected (per namespace, from the kernel or a record) and how
 * it is shown: conntrack.c fills a struct ct_run, conntrack_show.c prints it as text or JSON.
 */
#ifndef TD_CMD_CONNTRACK_SHOW_H
#define TD_CMD_CONNTRACK_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conntrack/conntrack.h"
#include "core/conntrack/ct_census.h"

struct td_record;

/* A raw read of the first pass, kept until the namespace's chunks are written. */
struct ct_pre {
	enum td_ct_raw kind;
	unsigned char *buf;
	size_t len;
};

struct ct_ns {
	char *name;
	bool present; /* conntrack exists in this kernel / namespace */
	int dump_err; /* 0, or -errno of the ctnetlink dump */
	int stats_err;
	struct td_ct_table table;
	struct td_ct_timeout timeouts[TD_CT_TIMEOUTS];
	struct td_ct_census census;
	struct td_ct_stats before, after;
	bool has_before;
	bool interrupted;
	struct ct_pre *pre; /* --record with --interval: the first pass's stats */
	size_t npre;
};

struct ct_run {
	enum td_ct_by by;
	uint64_t limit;
	uint64_t interval_ms;
	bool second_pass; /* the pass that dumps (the only one without --interval) */
	struct ct_ns *v;
	size_t n, cap, at;
	struct td_ct_groups *groups;
	const char *record_path;
	struct td_record *rec;
	bool header; /* one header per namespace (-N, or a record made with -N) */
};

/* "(current)" for the caller's namespace (an empty name), else name. */
const char *conntrack_show_label(const char *name);
/* Namespace i as text (with a header line when header); the whole run as one JSON document. */
void conntrack_show_text(const struct ct_run *run, size_t i, bool header);
void conntrack_show_json(const struct ct_run *run);

#endif
