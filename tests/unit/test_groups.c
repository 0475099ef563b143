// SPDX-License-Identifier: MIT
/* Unit tests for the group-by tables of src/core/model/groups.c and the census of src/core/model/census.c:
 * exact per-group counts for every grouping, side and inferred counts, top-N order by a state
 * or the total with stable ties, and 100k groups forcing many hash-table growths. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/model/census.h"
#include "core/model/groups.h"
#include "core/util.h"

static struct td_sock sk4(unsigned state, const char *src, uint16_t sport, const char *dst,
			  uint16_t dport, unsigned netns)
{
	struct td_sock s = { .family = AF_INET, .state = (uint8_t)state, .netns = netns };

	assert_int_equal(inet_pton(AF_INET, src, s.src), 1);
	assert_int_equal(inet_pton(AF_INET, dst, s.dst), 1);
	s.sport = sport;
	s.dport = dport;
	return s;
}

/* A fixed set: 3 ESTABLISHED and 2 TIME_WAIT to 10.0.0.2:80 from ephemeral ports, 4
 * CLOSE_WAIT on the server port 8080 from 10.0.0.3, 1 ESTABLISHED in netns 1, and one
 * dual-stack socket from ::ffff:10.0.0.3. */
static void feed(struct td_groups *g)
{
	for (uint16_t i = 0; i < 3; i++) {
		struct td_sock s = sk4(TD_SS_ESTABLISHED, "10.0.0.1", 40000 + i, "10.0.0.2", 80, 0);
		groups_add(g, &s, 100, TD_SIDE_CLIENT, false, i == 0);
	}
	for (uint16_t i = 0; i < 2; i++) {
		struct td_sock s = sk4(TD_SS_TIME_WAIT, "10.0.0.1", 40010 + i, "10.0.0.2", 80, 0);
		groups_add(g, &s, 100, TD_SIDE_CLIENT, true, false);
	}
	for (uint16_t i = 0; i < 4; i++) {
		struct td_sock s =
			sk4(TD_SS_CLOSE_WAIT, "10.0.0.1", 8080, "10.0.0.3", 50000 + i, 0);
		groups_add(g, &s, 200, TD_SIDE_SERVER, false, false);
	}
	struct td_sock s = sk4(TD_SS_ESTABLISHED, "10.0.0.1", 40000, "10.0.0.2", 80, 1);
	groups_add(g, &s, 300, TD_SIDE_CLIENT, false, false);
	struct td_sock m = { .family = AF_INET6, .state = TD_SS_ESTABLISHED, .sport = 8080 };
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.1", m.src), 1);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.3", m.dst), 1);
	m.dport = 50100;
	groups_add(g, &m, 200, TD_SIDE_SERVER, false, false);
}

static const struct td_group *only(const struct td_groups *g, size_t i)
{
	assert_true(i < groups_count(g));
	return groups_at(g, i);
}

static void test_group_by_each(void **state)
{
	static const struct {
		enum td_group_by by;
		size_t ngroups;
		uint64_t first_total, first_tw, first_client, first_inferred, first_shared;
	} cases[] = {
		/* peer: 10.0.0.2 ns0 (5), 10.0.0.3 ns0 (4 + the mapped one), 10.0.0.2 ns1 (1) */
		{ TD_BY_PEER, 3, 5, 2, 5, 2, 1 },
		/* lport: 40000 ns0 (1), 40001, 40002, 40010, 40011, 8080 ns0 (5), 40000 ns1 */
		{ TD_BY_LPORT, 7, 1, 0, 1, 0, 1 },
		/* process: 100 (5), 200 (5), 300 (1) */
		{ TD_BY_PROCESS, 3, 5, 2, 5, 2, 1 },
		/* dest: (ns0, .1, .2, 80) (5), 4+1 server-side rows by client port, (ns1 ...) */
		{ TD_BY_DEST, 7, 5, 2, 5, 2, 1 },
		/* netns: 0 (10), 1 (1) */
		{ TD_BY_NETNS, 2, 10, 2, 5, 2, 1 },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_groups *g = groups_new(cases[i].by);
		feed(g);
		assert_int_equal(groups_by(g), cases[i].by);
		assert_int_equal(groups_count(g), cases[i].ngroups);
		const struct td_group *f = only(g, 0); /* first seen */
		assert_int_equal(f->total, cases[i].first_total);
		assert_int_equal(f->n[TD_SS_TIME_WAIT], cases[i].first_tw);
		assert_int_equal(f->side[TD_SIDE_CLIENT], cases[i].first_client);
		assert_int_equal(f->inferred, cases[i].first_inferred);
		assert_int_equal(f->shared, cases[i].first_shared);
		uint64_t sum = 0;
		for (size_t j = 0; j < groups_count(g); j++)
			sum += only(g, j)->total;
		assert_int_equal(sum, 11);
		groups_free(g);
	}
	groups_free(NULL);
}

static void test_keys(void **state)
{
	struct td_groups *g = groups_new(TD_BY_PEER);
	(void)state;
	feed(g);
	/* the mapped IPv6 peer joined the IPv4 one */
	const struct td_group *p = only(g, 1);
	assert_int_equal(p->key.family, AF_INET);
	uint8_t want[16] = { 10, 0, 0, 3 };
	assert_memory_equal(p->key.addr, want, 16);
	assert_int_equal(p->total, 5);
	assert_int_equal(p->n[TD_SS_CLOSE_WAIT], 4);
	assert_int_equal(p->n[TD_SS_ESTABLISHED], 1);
	assert_int_equal(p->side[TD_SIDE_SERVER], 5);
	assert_int_equal(only(g, 2)->key.netns, 1);
	groups_free(g);

	g = groups_new(TD_BY_PROCESS);
	feed(g);
	assert_int_equal(only(g, 0)->key.pid, 100);
	assert_int_equal(only(g, 2)->key.pid, 300);
	assert_int_equal(only(g, 2)->key.netns, 0); /* processes span namespaces */
	groups_free(g);

	g = groups_new(TD_BY_DEST);
	feed(g);
	const struct td_group *d = only(g, 0);
	uint8_t src[16] = { 10, 0, 0, 1 }, dst[16] = { 10, 0, 0, 2 };
	assert_memory_equal(d->key.src, src, 16);
	assert_memory_equal(d->key.addr, dst, 16);
	assert_int_equal(d->key.port, 80);
	groups_free(g);
}

static void test_top(void **state)
{
	struct td_groups *g = groups_new(TD_BY_LPORT);
	const struct td_group *out[64];
	(void)state;

	/* lport p gets p % 7 TIME_WAIT and p % 5 ESTABLISHED, for p = 1..40 */
	for (uint16_t p = 1; p <= 40; p++) {
		/* ports past 255 check numeric (not byte-wise) tie order */
		p = p == 40 ? 265 : p; /* 0x109: 6 TIME_WAIT, 0 ESTABLISHED, ties with 20 */
		struct td_sock s = sk4(TD_SS_TIME_WAIT, "10.0.0.1", p, "10.0.0.2", 80, 0);
		groups_add_key(g, &(struct td_group_key){ .port = p }, TD_SS_TIME_WAIT,
			       TD_SIDE_NEITHER, p % 7, false);
		s.state = TD_SS_ESTABLISHED;
		for (unsigned k = 0; k < p % 5; k++)
			groups_add(g, &s, 0, TD_SIDE_NEITHER, false, false);
	}
	/* by TIME_WAIT, top 5: 6 TW at p = 6, 13, 20, 27, 34; ties by total (p % 5: 1, 3, 0, 2,
	 * 4 -> 34, 13, 27, 6, 20) */
	size_t n = groups_top(g, TD_SS_TIME_WAIT, 5, out);
	assert_int_equal(n, 5);
	static const uint16_t want_tw[] = { 34, 13, 27, 6, 20 };
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i]->key.port, want_tw[i]);
	/* by total, all: non-increasing, ties by total then key (port ascending) */
	n = groups_top(g, TD_SS_COUNT, 0, out);
	assert_int_equal(n, 40);
	for (size_t i = 1; i < n; i++) {
		assert_true(out[i - 1]->total >= out[i]->total);
		if (out[i - 1]->total == out[i]->total)
			assert_true(out[i - 1]->key.port < out[i]->key.port);
	}
	assert_int_equal(out[0]->total, 10); /* p = 34: 6 + 4 */
	/* limit larger than the table */
	assert_int_equal(groups_top(g, TD_SS_ESTABLISHED, 64, out), 40);
	assert_int_equal(out[0]->n[TD_SS_ESTABLISHED], 4);
	groups_free(g);
	g = groups_new(TD_BY_NETNS);
	assert_int_equal(groups_top(g, TD_SS_COUNT, 3, out), 0);
	groups_free(g);
}

static void test_many_groups(void **state)
{
	struct td_groups *g = groups_new(TD_BY_PEER);
	const struct td_group *out[10];
	const uint32_t n = 100000;
	(void)state;

	/* peer i gets (i % 100) + 1 sockets, i.e. 5,050,000 in all */
	for (uint32_t i = 0; i < n; i++) {
		struct td_sock s = { .family = AF_INET, .state = TD_SS_ESTABLISHED };
		uint32_t a = htonl(0x0a000000u + i);
		memcpy(s.dst, &a, 4);
		for (uint32_t k = 0; k <= i % 100; k++)
			groups_add(g, &s, 0, TD_SIDE_CLIENT, false, false);
	}
	assert_int_equal(groups_count(g), n);
	uint64_t sum = 0;
	for (size_t i = 0; i < groups_count(g); i++) {
		const struct td_group *x = groups_at(g, i);
		uint32_t a;
		memcpy(&a, x->key.addr, 4);
		assert_int_equal(x->total, (ntohl(a) - 0x0a000000u) % 100 + 1);
		sum += x->total;
	}
	assert_int_equal(sum, 5050000);
	/* top 10: 100 sockets each, peers 99, 199, ... in address order */
	assert_int_equal(groups_top(g, TD_SS_ESTABLISHED, 10, out), 10);
	for (uint32_t i = 0; i < 10; i++) {
		uint32_t a;
		memcpy(&a, out[i]->key.addr, 4);
		assert_int_equal(ntohl(a), 0x0a000000u + 99 + 100 * i);
		assert_int_equal(out[i]->total, 100);
	}
	groups_free(g);
}

static void test_names(void **state)
{
	enum td_group_by by;
	(void)state;
	static const char *const names[] = { "peer", "lport", "process", "dest", "netns" };
	for (int i = 0; i < TD_BY_COUNT; i++) {
		assert_int_equal(groups_by_parse(names[i], &by), 0);
		assert_int_equal(by, i);
		assert_string_equal(groups_by_name(by), names[i]);
	}
	assert_int_equal(groups_by_parse("PEER", &by), 0);
	assert_int_equal(groups_by_parse("pid", &by), -EINVAL);
	assert_int_equal(groups_by_parse("", &by), -EINVAL);
	assert_int_equal(groups_by_parse(NULL, &by), -EINVAL);
	assert_string_equal(groups_side_name(TD_SIDE_CLIENT), "client");
	assert_string_equal(groups_side_name(TD_SIDE_SERVER), "server");
	assert_string_equal(groups_side_name(TD_SIDE_NEITHER), "neither");
}

static void test_census(void **state)
{
	struct td_census a = { 0 }, b = { 0 };
	(void)state;
	struct td_sock s = { .family = AF_INET, .state = TD_SS_TIME_WAIT };
	census_add(&a, &s);
	s.family = AF_INET6;
	census_add(&a, &s);
	s.state = 200; /* out of range: counted as UNKNOWN */
	census_add(&b, &s);
	census_merge(&a, &b);
	assert_int_equal(census_state_total(&a, TD_SS_TIME_WAIT), 2);
	assert_int_equal(census_state_total(&a, TD_SS_UNKNOWN), 1);
	assert_int_equal(census_state_total(&a, TD_SS_COUNT), 3);
	assert_int_equal(census_family_total(&a, TD_FI_INET6), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_by_each), cmocka_unit_test(test_keys),
		cmocka_unit_test(test_top),	      cmocka_unit_test(test_many_groups),
		cmocka_unit_test(test_names),	      cmocka_unit_test(test_census),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
