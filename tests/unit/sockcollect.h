/* SPDX-License-Identifier: MIT */
/*
 * What the parser unit tests share: a sink callback that keeps the first MAXSK sockets and counts
 * every state (and can fail on the Nth socket, to test callback errors), a loader for files under
 * tests/data, and a finder by ports. Include after <cmocka.h>.
 */
#ifndef TD_TESTS_SOCKCOLLECT_H
#define TD_TESTS_SOCKCOLLECT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/sock.h"
#include "core/util.h"

#define MAXSK 64

struct got {
	struct td_sock v[MAXSK];
	size_t n;
	unsigned per_state[TD_SS_COUNT];
	int fail_at; /* return -ECANCELED on this 1-based socket, 0 = never */
};

static inline int collect(const struct td_sock *sk, void *arg)
{
	struct got *g = arg;

	if (g->fail_at && (int)g->n + 1 == g->fail_at)
		return -ECANCELED;
	assert_true(sk->state > 0 && sk->state < TD_SS_COUNT);
	g->per_state[sk->state]++;
	if (g->n < MAXSK)
		g->v[g->n] = *sk;
	g->n++;
	return 0;
}

/* Reads tests/data/REL (below $TD_ROOT, or the current directory); the caller frees. */
static inline void *load(const char *rel, size_t *len)
{
	const char *root = getenv("TD_ROOT");
	char path[512], *buf;

	snprintf(path, sizeof(path), "%s/tests/data/%s", root ? root : ".", rel);
	assert_int_equal(util_read_file(path, 1 << 20, &buf, len), 0);
	return buf;
}

static inline const struct td_sock *find(const struct got *g, uint16_t sport, uint16_t dport)
{
	for (size_t i = 0; i < g->n && i < MAXSK; i++)
		if (g->v[i].sport == sport && g->v[i].dport == dport)
			return &g->v[i];
	fail_msg("no socket %u -> %u", sport, dport);
	return NULL;
}

#endif
