/* SPDX-License-Identifier: MIT */
/*
 * Streaming aggregation of conntrack entries (conntrack.h): a census by protocol, TCP conntrack
 * state and flags, and group-by tables (source, destination, destination port, protocol, state,
 * zone) with per-group counts. O(1) work per entry, nothing kept per entry; top-N selection is
 * O(groups * log N). Not thread-safe; allocation failure aborts.
 */
#ifndef TD_CT_CENSUS_H
#define TD_CT_CENSUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/conntrack/conntrack.h"
#include "core/fields.h"

struct td_ct_census {
	uint64_t entries;
	uint64_t ipv4, ipv6;
	uint64_t proto[256];		     /* by IP protocol number */
	uint64_t tcp_state[TD_CT_TCP_COUNT]; /* TCP entries by conntrack state */
	uint64_t assured, unreplied;
};

/* Adds one entry. Can't fail. */
void ct_census_add(struct td_ct_census *c, const struct td_ct *ct);
/* Adds every count of b into a. */
void ct_census_merge(struct td_ct_census *a, const struct td_ct_census *b);

enum td_ct_by {
	TD_CT_BY_SRC = 0, /* original source address */
	TD_CT_BY_DST,	  /* original destination address */
	TD_CT_BY_DPORT,	  /* protocol and original destination port */
	TD_CT_BY_PROTO,	  /* protocol */
	TD_CT_BY_STATE,	  /* protocol and TCP conntrack state */
	TD_CT_BY_ZONE,	  /* conntrack zone */
	TD_CT_BY_COUNT,
};

/* "src", "dst", "dport", "proto", "state", "zone". */
const char *ct_by_name(enum td_ct_by by);
/* Parses one of those names. Returns 0 or -EINVAL. */
int ct_by_parse(const char *s, enum td_ct_by *by);

/* A group's key; fields not used by the grouping are zero. */
struct td_ct_key {
	unsigned netns; /* namespace index (source_run numbering) */
	uint8_t family; /* for src/dst */
	uint8_t proto;	/* for dport/proto/state */
	uint8_t tcp_state;
	uint8_t pad;
	uint16_t port; /* for dport */
	uint16_t zone; /* for zone */
	uint8_t addr[16];
};

struct td_ct_group {
	uint64_t entries, time_wait, unreplied, assured;
};

/* One group as its field table (ct_group_fields, ct_fields.c) reads it; the fields' ctx is a
 * const enum td_ct_by * (how the key is written). */
struct td_ct_group_row {
	const struct td_ct_key *key;
	struct td_ct_group g;
};
extern const struct td_field ct_group_fields[];
extern const size_t ct_group_fields_n;

struct td_ct_groups;

/* A group-by table. Never returns NULL. Free with ct_groups_free (NULL is fine). */
struct td_ct_groups *ct_groups_new(enum td_ct_by by);
void ct_groups_free(struct td_ct_groups *g);
/* Adds one entry seen in namespace netns. Can't fail. */
void ct_groups_add(struct td_ct_groups *g, const struct td_ct *ct, unsigned netns);
size_t ct_groups_count(const struct td_ct_groups *g);
/* The indexes of the largest limit groups (by entries, then key order for ties) into idx
 * (room for limit); returns how many were written. */
size_t ct_groups_top(const struct td_ct_groups *g, size_t limit, size_t *idx);
const struct td_ct_key *ct_groups_key(const struct td_ct_groups *g, size_t i);
const struct td_ct_group *ct_groups_val(const struct td_ct_groups *g, size_t i);
/* Formats the key as the grouping shows it ("10.0.0.1", "tcp/443", "tcp TIME_WAIT", "zone 0")
 * into buf. Returns buf. */
char *ct_key_str(enum td_ct_by by, const struct td_ct_key *k, char *buf, size_t len);

#endif
