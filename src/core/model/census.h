/* SPDX-License-Identifier: MIT */
/*
 * The census: sockets counted by state and family in a fixed array (the `states` command and
 * many findings). O(1) per socket, nothing kept per socket; merging adds two censuses.
 */
#ifndef TD_CENSUS_H
#define TD_CENSUS_H

#include <stdint.h>

#include "core/sock.h"

enum td_fam_idx { TD_FI_INET = 0, TD_FI_INET6 = 1, TD_FI_COUNT = 2 };

struct td_census {
	uint64_t n[TD_FI_COUNT][TD_SS_COUNT];
};

/* Adds one socket. Can't fail; sockets of unknown state count under TD_SS_UNKNOWN. */
void census_add(struct td_census *c, const struct td_sock *sk);
/* Adds every count of b into a. */
void census_merge(struct td_census *a, const struct td_census *b);
/* Sum over families for one state; state TD_SS_COUNT means every state. */
uint64_t census_state_total(const struct td_census *c, unsigned state);
/* Sum over states for one family index. */
uint64_t census_family_total(const struct td_census *c, enum td_fam_idx f);

#endif
