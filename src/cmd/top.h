/* SPDX-License-Identifier: MIT */
/*
 * `top`'s run, shared by its files: top.c collects (the two dumps), top_owners.c attributes
 * sockets to processes (--by process) and top_show.c renders the groups as a table or JSON from
 * the key field tables.
 */
#ifndef TD_CMD_TOP_H
#define TD_CMD_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/cmd.h"
#include "core/hashmap.h"
#include "core/model/groups.h"
#include "core/model/ports.h"
#include "core/source/owners.h"

struct top_owners;
struct top_trace;

struct top_ns {
	char *name;
	uint8_t listen[65536 / 8]; /* listening ports, from the first dump */
};

struct top_run {
	struct td_global *g;
	enum td_group_by by;
	uint32_t states; /* user filter, 0 = all */
	unsigned sort;	 /* state, or TD_SS_COUNT for the total */
	size_t limit;
	bool listen_pass;  /* first dump: LISTEN only */
	struct top_ns *ns; /* by first-dump index */
	size_t nns;
	struct top_ns *cur; /* namespace of the second dump, or NULL if unseen */
	char **names;	    /* second-dump index -> name */
	size_t nnames;
	struct td_port_cfg cfg; /* current namespace's port settings */
	struct td_groups *groups;
	struct top_owners *att;		/* --by process, live: attribution (top_owners.h) */
	const struct td_owners *owners; /* its table, once the dumps are done */
	struct td_owners_stats ost;
	uint64_t trace_ms;	 /* --trace S */
	struct top_trace *trace; /* exact owners of what it saw closed (top_trace.h) */
	uint32_t cur_ino;	 /* inode of the second dump's namespace */
};

/* The rows (largest first, n of them) as a table with notes, or as one JSON document. */
void top_print_text(const struct top_run *t, const struct td_group **rows, size_t n);
void top_print_json(const struct top_run *t, const struct td_group **rows, size_t n);

#endif
