// SPDX-License-Identifier: MIT
/*
 * The group-by tables are a hash table from td_group_key to td_group (hashmap.c), so adding a
 * socket is one hash and a few increments; top-N keeps a bounded heap instead of sorting every
 * group.
 */
#include "core/model/groups.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/hashmap.h"
#include "core/util.h"

struct td_groups {
	enum td_group_by by;
	struct td_hashmap *map; /* struct td_group_key -> struct td_group */
};

static const char *const by_names[TD_BY_COUNT] = { "peer", "lport", "process", "dest", "netns" };

struct td_groups *groups_new(enum td_group_by by)
{
	struct td_groups *g = xcalloc(1, sizeof(*g));

	g->by = by;
	g->map = hashmap_new(sizeof(struct td_group_key), sizeof(struct td_group));
	return g;
}

void groups_free(struct td_groups *g)
{
	if (!g)
		return;
	hashmap_free(g->map);
	free(g);
}

enum td_group_by groups_by(const struct td_groups *g)
{
	return g->by;
}

/* Copies an address; an IPv4-mapped IPv6 address is the IPv4 host it maps, so a dual-stack
 * listener's clients group with the same host seen over IPv4. */
static uint8_t copy_addr(uint8_t out[16], const uint8_t in[16], uint8_t family)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (family == AF_INET6 && !memcmp(in, mapped, 12)) {
		memcpy(out, in + 12, 4);
		return AF_INET;
	}
	memcpy(out, in, family == AF_INET ? 4 : 16);
	return family;
}

void groups_key_of(enum td_group_by by, const struct td_sock *sk, int pid, struct td_group_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = sk->netns;
	switch (by) {
	case TD_BY_PEER:
		k->family = copy_addr(k->addr, sk->dst, sk->family);
		break;
	case TD_BY_LPORT:
		k->port = sk->sport;
		break;
	case TD_BY_PROCESS:
		k->netns = 0; /* a process may hold sockets in several namespaces */
		k->pid = pid;
		break;
	case TD_BY_DEST:
		/* both addresses mapped or neither (a socket has one family) */
		copy_addr(k->src, sk->src, sk->family);
		k->family = copy_addr(k->addr, sk->dst, sk->family);
		k->port = sk->dport;
		break;
	case TD_BY_NETNS:
	case TD_BY_COUNT:
		break;
	}
}

void groups_add_key(struct td_groups *g, const struct td_group_key *k, unsigned state,
		    enum td_side side, uint64_t count, bool inferred)
{
	bool added;
	struct td_group *v = hashmap_put(g->map, k, &added);

	if (added)
		v->key = *k;
	v->n[state < TD_SS_COUNT ? state : TD_SS_UNKNOWN] += count;
	v->total += count;
	v->side[side < TD_SIDE_COUNT ? side : TD_SIDE_NEITHER] += count;
	if (inferred)
		v->inferred += count;
}

void groups_add(struct td_groups *g, const struct td_sock *sk, int pid, enum td_side side,
		bool inferred, bool shared)
{
	struct td_group_key k;

	groups_key_of(g->by, sk, pid, &k);
	groups_add_key(g, &k, sk->state, side, 1, inferred);
	if (shared)
		((struct td_group *)hashmap_get(g->map, &k))->shared++;
}

void groups_add_shared(struct td_groups *g, const struct td_group_key *k, uint64_t n)
{
	bool added;
	struct td_group *v = hashmap_put(g->map, k, &added);

	if (added)
		v->key = *k;
	v->shared += n;
}

size_t groups_count(const struct td_groups *g)
{
	return hashmap_count(g->map);
}

const struct td_group *groups_at(const struct td_groups *g, size_t i)
{
	return hashmap_val_at(g->map, i);
}

static int cmp_u(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Numeric order of keys (memcmp would order little-endian ports and pids by their low byte). */
static int key_cmp(const struct td_group_key *a, const struct td_group_key *b)
{
	int r;

	if ((r = cmp_u(a->netns, b->netns)) || (r = cmp_u(a->family, b->family)) ||
	    (r = memcmp(a->addr, b->addr, 16)) || (r = memcmp(a->src, b->src, 16)) ||
	    (r = cmp_u(a->port, b->port)))
		return r;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

/* < 0 when a ranks before b: larger n[state] (or total), then larger total, then smaller key. */
static int rank_cmp(const struct td_group *a, const struct td_group *b, unsigned state)
{
	uint64_t va = state < TD_SS_COUNT ? a->n[state] : a->total;
	uint64_t vb = state < TD_SS_COUNT ? b->n[state] : b->total;

	if (va != vb)
		return va > vb ? -1 : 1;
	if (a->total != b->total)
		return a->total > b->total ? -1 : 1;
	return key_cmp(&a->key, &b->key);
}

static int rank_qsort(const void *pa, const void *pb, void *arg)
{
	return rank_cmp(*(const struct td_group *const *)pa, *(const struct td_group *const *)pb,
			*(const unsigned *)arg);
}

/* Restores the heap below i; the root is the group ranking last of those kept. */
static void sift_down(const struct td_group **h, size_t n, size_t i, unsigned state)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		if (l < n && rank_cmp(h[l], h[w], state) > 0)
			w = l;
		if (r < n && rank_cmp(h[r], h[w], state) > 0)
			w = r;
		if (w == i)
			return;
		const struct td_group *t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

size_t groups_top(const struct td_groups *g, unsigned state, size_t limit,
		  const struct td_group **out)
{
	size_t n = groups_count(g), k = 0;

	if (limit == 0 || limit > n)
		limit = n;
	for (size_t i = 0; i < n; i++) {
		const struct td_group *x = groups_at(g, i);
		if (k < limit) {
			out[k++] = x;
			if (k == limit) /* heapify once full */
				for (size_t j = k / 2; j-- > 0;)
					sift_down(out, k, j, state);
		} else if (rank_cmp(x, out[0], state) < 0) {
			out[0] = x;
			sift_down(out, k, 0, state);
		}
	}
	qsort_r(out, k, sizeof(*out), rank_qsort, &state);
	return k;
}

const char *groups_by_name(enum td_group_by by)
{
	return by < TD_BY_COUNT ? by_names[by] : "?";
}

int groups_by_parse(const char *s, enum td_group_by *by)
{
	for (int i = 0; i < TD_BY_COUNT; i++) {
		if (s && !strcasecmp(s, by_names[i])) {
			*by = (enum td_group_by)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *groups_side_name(enum td_side s)
{
	return s == TD_SIDE_SERVER ? "server" : s == TD_SIDE_CLIENT ? "client" : "neither";
}
