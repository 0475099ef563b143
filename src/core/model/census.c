// SPDX-License-Identifier: MIT
/*
 * The census is a fixed array indexed by family and state, so adding a socket is two array
 * indexes and an increment.
 */
#include "core/model/census.h"

#include <sys/socket.h>

void census_add(struct td_census *c, const struct td_sock *sk)
{
	unsigned st = sk->state < TD_SS_COUNT ? sk->state : TD_SS_UNKNOWN;

	c->n[sk->family == AF_INET6 ? TD_FI_INET6 : TD_FI_INET][st]++;
}

void census_merge(struct td_census *a, const struct td_census *b)
{
	for (int f = 0; f < TD_FI_COUNT; f++)
		for (int s = 0; s < TD_SS_COUNT; s++)
			a->n[f][s] += b->n[f][s];
}

uint64_t census_state_total(const struct td_census *c, unsigned state)
{
	uint64_t t = 0;

	for (int f = 0; f < TD_FI_COUNT; f++) {
		if (state < TD_SS_COUNT) {
			t += c->n[f][state];
			continue;
		}
		t += census_family_total(c, (enum td_fam_idx)f);
	}
	return t;
}

uint64_t census_family_total(const struct td_census *c, enum td_fam_idx f)
{
	uint64_t t = 0;

	for (int s = 0; s < TD_SS_COUNT; s++)
		t += c->n[f][s];
	return t;
}
