// SPDX-License-Identifier: MIT
/* Unit tests for src/core/model/history.c: sparkline levels at the edges (0, 1, max, past max, 2^64),
 * ring wrap-around and series, rates between two samples (TIME_WAIT created/expired from the TW
 * counters and the census, counter resets, no counters, a clock that did not move), samples
 * taken from a model namespace with parsed /proc text, and the per-namespace ring set as
 * namespaces come and go. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/model/counters.h"
#include "core/model/history.h"
#include "core/model/model.h"
#include "core/util.h"

#define SEC 1000000000ull

static void test_level(void **state)
{
	static const struct {
		uint64_t v, max;
		unsigned levels, want;
	} cases[] = {
		{ 0, 10, 8, 0 },
		{ 1, 10, 8, 1 }, /* ceil(0.7): one socket stays visible */
		{ 2, 10, 8, 2 },
		{ 5, 10, 8, 4 },
		{ 9, 10, 8, 7 },
		{ 10, 10, 8, 7 },
		{ 11, 10, 8, 7 },
		{ 1, 1000000, 8, 1 },
		{ 999999, 1000000, 8, 7 },
		{ 142857, 1000000, 8, 1 }, /* 0.999999 -> 1 */
		{ 142858, 1000000, 8, 2 },
		{ 0, 0, 8, 0 },
		{ 3, 0, 8, 7 },
		{ 3, 7, 8, 3 },
		{ 4, 8, 2, 1 },
		{ 5, 10, 1, 0 },
		{ UINT64_MAX - 1, UINT64_MAX, 8, 7 },
		{ UINT64_MAX / 2, UINT64_MAX, 8, 4 },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		unsigned got = history_level(cases[i].v, cases[i].max, cases[i].levels);
		if (got != cases[i].want)
			fail_msg("case %zu: level(%llu, %llu, %u) = %u, want %u", i,
				 (unsigned long long)cases[i].v, (unsigned long long)cases[i].max,
				 cases[i].levels, got, cases[i].want);
	}
}

static struct td_sample at_t(uint64_t t_s, uint64_t tw)
{
	struct td_sample s = { .t_ns = t_s * SEC };

	s.n[TD_SS_TIME_WAIT] = tw;
	s.n[TD_SS_CLOSE_WAIT] = tw / 2;
	s.fw2_orphans = 1;
	return s;
}

static void test_ring(void **state)
{
	struct td_history *h = history_new(3);
	uint64_t out[8];
	(void)state;

	assert_int_equal(history_len(h), 0);
	assert_null(history_at(h, 0));
	assert_int_equal(history_series(h, TD_SS_TIME_WAIT, 8, out), 0);
	for (uint64_t t = 1; t <= 5; t++) {
		struct td_sample s = at_t(t, t * 10);
		history_push(h, &s);
		assert_int_equal(history_len(h), t < 3 ? t : 3);
		assert_int_equal(history_at(h, history_len(h) - 1)->t_ns, t * SEC);
	}
	/* five pushed into three slots: 3, 4, 5 remain, oldest first */
	assert_int_equal(history_at(h, 0)->t_ns, 3 * SEC);
	assert_int_equal(history_at(h, 1)->t_ns, 4 * SEC);
	assert_int_equal(history_at(h, 2)->t_ns, 5 * SEC);
	assert_null(history_at(h, 3));
	assert_int_equal(history_series(h, TD_SS_TIME_WAIT, 8, out), 3);
	assert_int_equal(out[0], 30);
	assert_int_equal(out[2], 50);
	assert_int_equal(history_series(h, TD_SS_TIME_WAIT, 2, out), 2); /* the newest two */
	assert_int_equal(out[0], 40);
	assert_int_equal(out[1], 50);
	assert_int_equal(history_series(h, TD_SS_CLOSE_WAIT, 1, out), 1);
	assert_int_equal(out[0], 25);
	assert_int_equal(history_series(h, TD_SS_COUNT, 8, out), 3); /* TIME_WAIT + orphans */
	assert_int_equal(out[0], 31);
	history_free(h);

	h = history_new(0); /* a zero capacity still holds the newest sample */
	struct td_sample a = at_t(1, 1), b = at_t(2, 2);
	history_push(h, &a);
	history_push(h, &b);
	assert_int_equal(history_len(h), 1);
	assert_int_equal(history_at(h, 0)->t_ns, 2 * SEC);
	history_free(h);
	history_free(NULL);
}

struct rate_case {
	const char *name;
	uint64_t t0_ms, t1_ms;
	uint64_t tw0, tw1, fw0, fw1, est0, est1;
	bool c0, c1;
	uint64_t ao0, ao1, po0, po1, tc0, tc1, tk0, tk1;
	double dt, est_rate, tw_rate;
	bool have;
	double ao, po, created, expired;
};

static const struct rate_case rate_cases[] = {
	/* a client storm: 100 TIME_WAIT armed in 2 s, 20 of them gone */
	{ "storm", 0,  2000, 500, 580, 0,   0, 10, 10,	 true, true, 1000, 1100, 7,
	  7,	   40, 140,  0,	  0,   2.0, 0, 40, true, 50,   0,    50,   10 },
	/* TWKilled counts too; an orphaned FIN_WAIT2 that left is one expiry */
	{ "killed+orphans",
	  0,
	  500,
	  10,
	  10,
	  3,
	  2,
	  4,
	  8,
	  true,
	  true,
	  0,
	  0,
	  0,
	  5,
	  0,
	  1,
	  0,
	  1,
	  0.5,
	  8,
	  0,
	  true,
	  0,
	  10,
	  4,
	  6 },
	/* more TIME_WAIT in the dump than the counters armed: expired clamps to 0 */
	{ "clamp", 1000, 2000, 0, 5, 0,	  0, 0, 0,    true, true, 0, 3, 0,
	  0,	   0,	 3,    0, 0, 1.0, 0, 5, true, 3,    0,	  3, 0 },
	/* a counter went backwards (namespace recreated): no counter rates, census rates stay */
	{ "reset", 0,  1000, 50, 40, 0,	  0,  2,   1,	  true, true, 900, 10, 0,
	  0,	   70, 5,    0,	 0,  1.0, -1, -10, false, 0,	0,    0,   0 },
	/* replay: no counters at all */
	{ "no counters", 0, 4000, 0,	 8, 0, 0, 0, 0, false, false, 0, 0, 0, 0, 0, 0, 0, 0,
	  4.0,		 0, 2,	  false, 0, 0, 0, 0 },
	{ "one side", 0, 1000, 0, 0, 0,	  0, 0, 0,     true, false, 0, 0, 0,
	  0,	      0, 0,    0, 0, 1.0, 0, 0, false, 0,    0,	    0, 0 },
	/* the clock did not move, or went back: no rates at all */
	{ "same time", 1000, 1000, 0, 9, 0, 0, 0, 0,	 true, true, 0, 1, 0,
	  0,	       0,    0,	   0, 0, 0, 0, 0, false, 0,    0,    0, 0 },
	{ "backwards", 2000, 1000, 0, 9, 0, 0, 0, 0,	 true, true, 0, 1, 0,
	  0,	       0,    0,	   0, 0, 0, 0, 0, false, 0,    0,    0, 0 },
};

static void make_pair(const struct rate_case *c, struct td_sample *a, struct td_sample *b)
{
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->t_ns = c->t0_ms * 1000000u;
	b->t_ns = c->t1_ms * 1000000u;
	a->n[TD_SS_TIME_WAIT] = c->tw0;
	b->n[TD_SS_TIME_WAIT] = c->tw1;
	a->n[TD_SS_ESTABLISHED] = c->est0;
	b->n[TD_SS_ESTABLISHED] = c->est1;
	a->fw2_orphans = c->fw0;
	b->fw2_orphans = c->fw1;
	a->have_counters = c->c0;
	b->have_counters = c->c1;
	a->c[TD_HC_ACTIVE_OPENS] = c->ao0;
	b->c[TD_HC_ACTIVE_OPENS] = c->ao1;
	a->c[TD_HC_PASSIVE_OPENS] = c->po0;
	b->c[TD_HC_PASSIVE_OPENS] = c->po1;
	a->c[TD_HC_TW] = c->tc0;
	b->c[TD_HC_TW] = c->tc1;
	a->c[TD_HC_TW_KILLED] = c->tk0;
	b->c[TD_HC_TW_KILLED] = c->tk1;
}

static void test_rates(void **state)
{
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(rate_cases); i++) {
		const struct rate_case *c = &rate_cases[i];
		struct td_sample a, b;
		struct td_rates r;
		make_pair(c, &a, &b);
		history_rates(&a, &b, &r);
		print_message("# %s\n", c->name);
		assert_float_equal(r.dt_s, c->dt, 1e-9);
		assert_float_equal(r.state[TD_SS_ESTABLISHED], c->est_rate, 1e-9);
		assert_float_equal(r.state[TD_SS_TIME_WAIT], c->tw_rate, 1e-9);
		assert_float_equal(r.state[TD_SS_LISTEN], 0, 0);
		assert_int_equal(r.have_counters, c->have);
		assert_float_equal(r.active_opens, c->ao, 1e-9);
		assert_float_equal(r.passive_opens, c->po, 1e-9);
		assert_float_equal(r.tw_created, c->created, 1e-9);
		assert_float_equal(r.tw_expired, c->expired, 1e-9);
	}
}

static void test_last_rates(void **state)
{
	struct td_history *h = history_new(4);
	struct td_rates r;
	(void)state;

	history_last_rates(h, &r);
	assert_float_equal(r.dt_s, 0, 0);
	for (uint64_t t = 0; t < 6; t++) { /* wraps: the last two are t=4 and t=5 */
		struct td_sample s = at_t(t, t * t);
		history_push(h, &s);
	}
	history_last_rates(h, &r);
	assert_float_equal(r.dt_s, 1.0, 1e-9);
	assert_float_equal(r.state[TD_SS_TIME_WAIT], 9.0, 1e-9);  /* 25 - 16 */
	assert_float_equal(r.state[TD_SS_CLOSE_WAIT], 4.0, 1e-9); /* 12 - 8 */
	history_free(h);
}

/* A namespace with a census, orphans and counters parsed from /proc text. */
static void fill_ns(struct td_ns_model *ns, const char *name, uint64_t tw, uint64_t tw_counter)
{
	char snmp[256], netstat[256];

	memset(ns, 0, sizeof(*ns));
	ns->name = (char *)name;
	ns->census.n[TD_FI_INET][TD_SS_TIME_WAIT] = tw;
	ns->census.n[TD_FI_INET6][TD_SS_TIME_WAIT] = 1;
	ns->census.n[TD_FI_INET][TD_SS_LISTEN] = 2;
	ns->fw2_orphans = 3;
	snprintf(snmp, sizeof(snmp), "Tcp: RtoAlgorithm ActiveOpens PassiveOpens\nTcp: 1 %llu 4\n",
		 (unsigned long long)tw_counter * 2);
	snprintf(netstat, sizeof(netstat), "TcpExt: TW TWKilled TWRecycled\nTcpExt: %llu 5 6\n",
		 (unsigned long long)tw_counter);
	ns->c0 = counters_new();
	assert_int_equal(counters_parse(ns->c0, COUNTERS_SNMP, snmp, strlen(snmp), NULL), 0);
	assert_int_equal(counters_parse(ns->c0, COUNTERS_NETSTAT, netstat, strlen(netstat), NULL),
			 0);
}

static void test_sample_of_ns(void **state)
{
	struct td_ns_model ns;
	struct td_sample s, t = { .have_counters = true };
	(void)state;

	fill_ns(&ns, "x", 10, 100);
	history_sample_of_ns(&ns, 7, &s);
	assert_int_equal(s.t_ns, 7);
	assert_int_equal(s.n[TD_SS_TIME_WAIT], 11);
	assert_int_equal(s.n[TD_SS_LISTEN], 2);
	assert_int_equal(s.n[TD_SS_ESTABLISHED], 0);
	assert_int_equal(s.fw2_orphans, 3);
	assert_true(s.have_counters);
	assert_int_equal(s.c[TD_HC_ACTIVE_OPENS], 200);
	assert_int_equal(s.c[TD_HC_PASSIVE_OPENS], 4);
	assert_int_equal(s.c[TD_HC_TW], 100);
	assert_int_equal(s.c[TD_HC_TW_KILLED], 5);
	history_sample_add(&t, &s);
	history_sample_add(&t, &s);
	assert_int_equal(t.n[TD_SS_TIME_WAIT], 22);
	assert_int_equal(t.c[TD_HC_TW], 200);
	assert_true(t.have_counters);
	counters_free(ns.c0);

	/* a replay has no counters; a kernel without TWKilled neither */
	fill_ns(&ns, "y", 1, 1);
	counters_free(ns.c0);
	ns.c0 = NULL;
	history_sample_of_ns(&ns, 1, &s);
	assert_false(s.have_counters);
	history_sample_add(&t, &s);
	assert_false(t.have_counters);
	ns.c0 = counters_new();
	const char *txt = "TcpExt: TW\nTcpExt: 9\n";
	assert_int_equal(counters_parse(ns.c0, COUNTERS_NETSTAT, txt, strlen(txt), NULL), 0);
	history_sample_of_ns(&ns, 1, &s);
	assert_false(s.have_counters);
	counters_free(ns.c0);
}

static void test_set(void **state)
{
	struct td_history_set *hs = history_set_new(10);
	struct td_ns_model ns[3];
	struct td_model m = { .ns = ns };
	struct td_rates r;
	(void)state;

	fill_ns(&ns[0], "a", 10, 100);
	fill_ns(&ns[1], "b", 20, 200);
	fill_ns(&ns[2], "c", 30, 300);
	m.n = 2; /* a, b */
	history_set_update(hs, &m, 1 * SEC);
	assert_null(history_set_find(hs, "c"));
	assert_int_equal(history_len(history_set_find(hs, "a")), 1);
	ns[0].census.n[TD_FI_INET][TD_SS_TIME_WAIT] = 14; /* a: +4 TIME_WAIT in 2 s */
	history_set_update(hs, &m, 3 * SEC);
	history_last_rates(history_set_find(hs, "a"), &r);
	assert_float_equal(r.state[TD_SS_TIME_WAIT], 2.0, 1e-9);
	history_last_rates(history_set_total(hs), &r);
	assert_float_equal(r.state[TD_SS_TIME_WAIT], 2.0, 1e-9);
	assert_int_equal(history_at(history_set_total(hs), 1)->n[TD_SS_TIME_WAIT], 15 + 21);

	/* b goes, c comes: a keeps its ring, c starts one, b's is dropped */
	counters_free(ns[1].c0);
	ns[1] = ns[2];
	history_set_update(hs, &m, 4 * SEC);
	assert_int_equal(history_len(history_set_find(hs, "a")), 3);
	assert_int_equal(history_len(history_set_find(hs, "c")), 1);
	assert_null(history_set_find(hs, "b"));
	assert_int_equal(history_len(history_set_total(hs)), 3);
	assert_int_equal(history_at(history_set_total(hs), 2)->n[TD_SS_TIME_WAIT], 15 + 31);
	assert_int_equal(history_at(history_set_total(hs), 2)->c[TD_HC_TW], 400);

	m.n = 0; /* nothing visible (every namespace refused): an empty total, no counters */
	history_set_update(hs, &m, 5 * SEC);
	assert_null(history_set_find(hs, "a"));
	assert_int_equal(history_at(history_set_total(hs), 3)->n[TD_SS_TIME_WAIT], 0);
	assert_false(history_at(history_set_total(hs), 3)->have_counters);
	history_set_free(hs);
	history_set_free(NULL);
	counters_free(ns[0].c0);
	counters_free(ns[1].c0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level),	     cmocka_unit_test(test_ring),
		cmocka_unit_test(test_rates),	     cmocka_unit_test(test_last_rates),
		cmocka_unit_test(test_sample_of_ns), cmocka_unit_test(test_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
