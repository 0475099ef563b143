// SPDX-License-Identifier: MIT
/*
 * The conntrack census and group-by tables. Groups live in the shared hash table (hashmap.h),
 * keyed by a zeroed struct td_ct_key; the top-N selection keeps a bounded heap, as top's
 * groups do (groups.c), so a table of a million entries in a few groups sorts nothing big.
 */
#include "core/conntrack/ct_census.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/hashmap.h"
#include "core/sock.h"
#include "core/util.h"

void ct_census_add(struct td_ct_census *c, const struct td_ct *ct)
{
	c->entries++;
	if (ct->family == AF_INET6)
		c->ipv6++;
	else
		c->ipv4++;
	c->proto[ct->proto]++;
	if (ct->proto == IPPROTO_TCP)
		c->tcp_state[ct->tcp_state < TD_CT_TCP_COUNT ? ct->tcp_state : 0]++;
	c->assured += ct->assured;
	c->unreplied += ct->unreplied;
}

void ct_census_merge(struct td_ct_census *a, const struct td_ct_census *b)
{
	a->entries += b->entries;
	a->ipv4 += b->ipv4;
	a->ipv6 += b->ipv6;
	for (size_t i = 0; i < TD_ARRAY_SIZE(a->proto); i++)
		a->proto[i] += b->proto[i];
	for (size_t i = 0; i < TD_CT_TCP_COUNT; i++)
		a->tcp_state[i] += b->tcp_state[i];
	a->assured += b->assured;
	a->unreplied += b->unreplied;
}

static const char *const by_names[TD_CT_BY_COUNT] = { "src",   "dst",	"dport",
						      "proto", "state", "zone" };

const char *ct_by_name(enum td_ct_by by)
{
	return by < TD_CT_BY_COUNT ? by_names[by] : "?";
}

int ct_by_parse(const char *s, enum td_ct_by *by)
{
	for (unsigned i = 0; i < TD_CT_BY_COUNT; i++)
		if (!strcmp(s, by_names[i])) {
			*by = (enum td_ct_by)i;
			return 0;
		}
	return -EINVAL;
}

struct td_ct_groups {
	enum td_ct_by by;
	struct td_hashmap *m;
};

struct td_ct_groups *ct_groups_new(enum td_ct_by by)
{
	struct td_ct_groups *g = xcalloc(1, sizeof(*g));

	g->by = by;
	g->m = hashmap_new(sizeof(struct td_ct_key), sizeof(struct td_ct_group));
	return g;
}

void ct_groups_free(struct td_ct_groups *g)
{
	if (!g)
		return;
	hashmap_free(g->m);
	free(g);
}

void ct_groups_add(struct td_ct_groups *g, const struct td_ct *ct, unsigned netns)
{
	struct td_ct_key k;

	memset(&k, 0, sizeof(k));
	k.netns = netns;
	switch (g->by) {
	case TD_CT_BY_SRC:
	case TD_CT_BY_DST:
		k.family = ct->family;
		memcpy(k.addr, g->by == TD_CT_BY_SRC ? ct->src : ct->dst, sizeof(k.addr));
		break;
	case TD_CT_BY_DPORT:
		k.proto = ct->proto;
		k.port = ct->dport;
		break;
	case TD_CT_BY_STATE:
		k.proto = ct->proto;
		k.tcp_state = ct->proto == IPPROTO_TCP ? ct->tcp_state : 0;
		break;
	case TD_CT_BY_PROTO:
		k.proto = ct->proto;
		break;
	case TD_CT_BY_ZONE:
	case TD_CT_BY_COUNT:
		k.zone = ct->zone;
		break;
	}
	struct td_ct_group *v = hashmap_put(g->m, &k, NULL);
	v->entries++;
	v->time_wait += ct->proto == IPPROTO_TCP && ct->tcp_state == TD_CT_TCP_TIME_WAIT;
	v->unreplied += ct->unreplied;
	v->assured += ct->assured;
}

size_t ct_groups_count(const struct td_ct_groups *g)
{
	return hashmap_count(g->m);
}

const struct td_ct_key *ct_groups_key(const struct td_ct_groups *g, size_t i)
{
	return hashmap_key_at(g->m, i);
}

const struct td_ct_group *ct_groups_val(const struct td_ct_groups *g, size_t i)
{
	return hashmap_val_at(g->m, i);
}

/* <0 when group i ranks before group j: more entries first, then the key's bytes. */
static int rank(const struct td_ct_groups *g, size_t i, size_t j)
{
	uint64_t a = ct_groups_val(g, i)->entries, b = ct_groups_val(g, j)->entries;

	if (a != b)
		return a > b ? -1 : 1;
	return memcmp(ct_groups_key(g, i), ct_groups_key(g, j), sizeof(struct td_ct_key));
}

/* Max-heap on rank: the root is the group ranking last of those kept. */
static void sift_down(const struct td_ct_groups *g, size_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && rank(g, h[l], h[m]) > 0)
			m = l;
		if (r < n && rank(g, h[r], h[m]) > 0)
			m = r;
		if (m == i)
			return;
		size_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

size_t ct_groups_top(const struct td_ct_groups *g, size_t limit, size_t *idx)
{
	size_t n = ct_groups_count(g), k = 0;

	if (limit > n)
		limit = n;
	if (limit == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (k < limit) {
			idx[k++] = i;
			if (k == limit)
				for (size_t j = k / 2; j-- > 0;)
					sift_down(g, idx, k, j);
		} else if (rank(g, i, idx[0]) < 0) {
			idx[0] = i;
			sift_down(g, idx, k, 0);
		}
	}
	/* heap sort of the kept ones, best first */
	for (size_t end = k; end > 1; end--) {
		size_t t = idx[0];
		idx[0] = idx[end - 1];
		idx[end - 1] = t;
		sift_down(g, idx, end - 1, 0);
	}
	return k;
}

static const char *proto_str(unsigned proto, char *buf, size_t len)
{
	const char *n = conntrack_proto_name(proto);

	if (n)
		return n;
	snprintf(buf, len, "proto %u", proto);
	return buf;
}

char *ct_key_str(enum td_ct_by by, const struct td_ct_key *k, char *buf, size_t len)
{
	char p[16];

	switch (by) {
	case TD_CT_BY_SRC:
	case TD_CT_BY_DST:
		sock_addr_str(k->family, k->addr, buf, len);
		break;
	case TD_CT_BY_DPORT:
		snprintf(buf, len, "%s/%u", proto_str(k->proto, p, sizeof(p)), k->port);
		break;
	case TD_CT_BY_STATE:
		if (k->proto == IPPROTO_TCP)
			snprintf(buf, len, "tcp %s", conntrack_tcp_state_name(k->tcp_state));
		else
			snprintf(buf, len, "%s", proto_str(k->proto, p, sizeof(p)));
		break;
	case TD_CT_BY_PROTO:
		snprintf(buf, len, "%s", proto_str(k->proto, p, sizeof(p)));
		break;
	case TD_CT_BY_ZONE:
	case TD_CT_BY_COUNT:
		snprintf(buf, len, "zone %u", k->zone);
		break;
	}
	return buf;
}
