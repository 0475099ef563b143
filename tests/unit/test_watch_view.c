// SPDX-License-Identifier: MIT
/* Unit tests for src/render/watch_view.c: exact sparkline strings (UTF-8 and ASCII, whole glyphs
 * dropped when the buffer is short), truncation to a width by code points, the three sort orders
 * of the destinations with stable ties, and whole frames built from a hand-made model of two
 * namespaces: exact lines for the total, each namespace, pause, help, no model yet, and a small
 * terminal (every line within the width, never more lines than the height). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/model/history.h"
#include "core/model/model.h"
#include "core/model/ports.h"
#include "core/rules/rules.h"
#include "core/util.h"
#include "render/watch_view.h"

static void test_sparkline(void **state)
{
	static const struct {
		uint64_t v[8];
		size_t n;
		bool utf8;
		size_t len;
		const char *want;
		size_t glyphs;
	} cases[] = {
		{ { 0, 1, 2, 3, 4, 5, 6, 7 }, 8, true, 64, "▁▂▃▄▅▆▇█", 8 },
		{ { 0, 1, 2, 3, 4, 5, 6, 7 }, 8, false, 64, "_.-:=+*#", 8 },
		{ { 0, 0, 0 }, 3, true, 64, "▁▁▁", 3 },
		{ { 0, 0, 0 }, 3, false, 64, "___", 3 },
		{ { 1, 100 }, 2, true, 64, "▂█", 2 }, /* 1 of 100 still shows */
		{ { 80, 100, 50, 0 }, 4, false, 64, "*#=_", 4 },
		{ { 5 }, 1, true, 64, "█", 1 },
		{ { 0 }, 0, true, 64, "", 0 },
		{ { 1, 2, 3 }, 3, true, 7, "▄▆", 2 }, /* 6 bytes fit in 7, not 9 */
		{ { 1, 2, 3 }, 3, true, 3, "", 0 },
		{ { 1, 2, 3 }, 3, false, 3, ":+", 2 },
	};
	char buf[64];
	(void)state;

	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		memset(buf, 'x', sizeof(buf));
		size_t g =
			watch_sparkline(buf, cases[i].len, cases[i].v, cases[i].n, cases[i].utf8);
		if (g != cases[i].glyphs || strcmp(buf, cases[i].want))
			fail_msg("case %zu: got '%s' (%zu glyphs), want '%s' (%zu)", i, buf, g,
				 cases[i].want, cases[i].glyphs);
	}
	assert_int_equal(watch_sparkline(buf, 0, cases[0].v, 8, true), 0);
}

static void test_truncate(void **state)
{
	static const struct {
		const char *in;
		size_t width;
		const char *want;
		size_t cols;
	} cases[] = {
		{ "abcdef", 3, "abc", 3 }, { "abc", 3, "abc", 3 }, { "ab", 5, "ab", 2 },
		{ "abc", 0, "", 0 },	   { "", 4, "", 0 },	   { "▁▂▃", 2, "▁▂", 2 },
		{ "a▁b", 2, "a▁", 2 },	   { "é", 1, "é", 1 },	   { "aé", 1, "a", 1 },
	};
	char buf[32];
	(void)state;

	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		size_t c = watch_truncate(buf, cases[i].width);
		if (c != cases[i].cols || strcmp(buf, cases[i].want))
			fail_msg("case %zu: got '%s' (%zu), want '%s' (%zu)", i, buf, c,
				 cases[i].want, cases[i].cols);
	}
}

static struct td_port_dest dest4(unsigned netns, const char *src, const char *dst, uint16_t dport,
				 uint32_t in_use, uint32_t cap, uint32_t tw, double rate)
{
	struct td_port_dest d = { .netns = netns, .family = AF_INET, .dport = dport };

	assert_int_equal(inet_pton(AF_INET, src, d.src), 1);
	assert_int_equal(inet_pton(AF_INET, dst, d.dst), 1);
	d.in_use = in_use;
	d.capacity = cap;
	d.n[TD_SS_TIME_WAIT] = tw;
	d.rate = rate;
	return d;
}

/* Namespace "a": three destinations; the current namespace (""): one. */
struct fixture {
	struct td_port_dest da[3], db[1];
	struct td_ns_model ns[2];
	struct td_model m;
	struct td_findings fs;
	struct td_history *total, *ha;
};

static void fixture_init(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	x->da[0] = dest4(0, "10.0.0.1", "10.0.0.2", 80, 100, 200, 90, 1.5);
	x->da[1] = dest4(0, "10.0.0.1", "10.0.0.3", 443, 150, 28232, 10, 9.0);
	x->da[2] = (struct td_port_dest){ .netns = 0,
					  .family = AF_INET6,
					  .dport = 5432,
					  .in_use = 20,
					  .capacity = 28232,
					  .rate = 0.5 };
	assert_int_equal(inet_pton(AF_INET6, "fd00::1", x->da[2].src), 1);
	assert_int_equal(inet_pton(AF_INET6, "fd00::2", x->da[2].dst), 1);
	x->da[2].n[TD_SS_TIME_WAIT] = 50;
	x->db[0] = dest4(1, "127.0.0.1", "127.0.0.1", 8080, 5, 10, 5, 0.1);
	x->ns[0] = (struct td_ns_model){ .name = (char *)"a", .dests = x->da, .ndests = 3 };
	x->ns[0].census.n[TD_FI_INET][TD_SS_ESTABLISHED] = 3;
	x->ns[0].census.n[TD_FI_INET][TD_SS_TIME_WAIT] = 100;
	x->ns[0].census.n[TD_FI_INET6][TD_SS_CLOSE_WAIT] = 20;
	x->ns[0].census.n[TD_FI_INET][TD_SS_LISTEN] = 2;
	x->ns[1] = (struct td_ns_model){ .name = (char *)"", .dests = x->db, .ndests = 1 };
	x->ns[1].census.n[TD_FI_INET][TD_SS_ESTABLISHED] = 1;
	x->m = (struct td_model){ .ns = x->ns, .n = 2 };
	rules_title(rules_add(&x->fs, "port-exhaustion", TD_F_CRITICAL, "a", NULL),
		    "Ephemeral ports to 10.0.0.2:80");
	rules_title(rules_add(&x->fs, "close-wait-leak", TD_F_WARNING, "a", NULL),
		    "20 CLOSE_WAIT held by pid 7 (srv)");
	rules_add(&x->fs, "attribution-partial", TD_F_INFO, "", NULL); /* no title: the id */
	/* two samples 2 s apart: +20 TIME_WAIT, 30 armed (so 10 expired), 40 connects */
	struct td_sample s0 = { .t_ns = 0, .have_counters = true }, s1;
	s0.n[TD_SS_TIME_WAIT] = 80;
	s0.n[TD_SS_CLOSE_WAIT] = 20;
	s0.n[TD_SS_ESTABLISHED] = 4;
	s1 = s0;
	s1.t_ns = 2000000000u;
	s1.n[TD_SS_TIME_WAIT] = 100;
	s1.c[TD_HC_TW] = 30;
	s1.c[TD_HC_ACTIVE_OPENS] = 40;
	x->total = history_new(16);
	history_push(x->total, &s0);
	history_push(x->total, &s1);
	x->ha = history_new(16);
	history_push(x->ha, &s1);
}

static void fixture_free(struct fixture *x)
{
	rules_findings_free(&x->fs);
	history_free(x->total);
	history_free(x->ha);
}

static void test_sort(void **state)
{
	static const struct {
		enum td_wsort s;
		unsigned want[4]; /* indexes into {da0, da1, da2, db0} */
	} cases[] = {
		{ TD_WSORT_USAGE, { 0, 3, 1, 2 } }, /* 50% x2 (more in use first), 0.53%, 0.07% */
		{ TD_WSORT_TW, { 0, 2, 1, 3 } },    /* 90, 50, 10, 5 */
		{ TD_WSORT_RATE, { 1, 0, 2, 3 } },  /* 9.0, 1.5, 0.5, 0.1 */
	};
	struct fixture x;
	(void)state;

	fixture_init(&x);
	const struct td_port_dest *all[4] = { &x.da[0], &x.da[1], &x.da[2], &x.db[0] };
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		const struct td_port_dest *v[4] = { all[3], all[2], all[1], all[0] };
		watch_sort_dests(v, 4, cases[i].s);
		for (size_t k = 0; k < 4; k++)
			if (v[k] != all[cases[i].want[k]])
				fail_msg("sort %s: position %zu wrong", watch_sort_name(cases[i].s),
					 k);
	}
	/* equal on every measure: lower netns, then lower port first, whatever the input order */
	struct td_port_dest t[3] = {
		dest4(1, "10.0.0.1", "10.0.0.9", 80, 5, 10, 1, 1),
		dest4(0, "10.0.0.1", "10.0.0.9", 81, 5, 10, 1, 1),
		dest4(0, "10.0.0.1", "10.0.0.9", 80, 5, 10, 1, 1),
	};
	const struct td_port_dest *v[3] = { &t[0], &t[1], &t[2] };
	watch_sort_dests(v, 3, TD_WSORT_RATE);
	assert_ptr_equal(v[0], &t[2]);
	assert_ptr_equal(v[1], &t[1]);
	assert_ptr_equal(v[2], &t[0]);
	assert_string_equal(watch_sort_name(TD_WSORT_TW), "TIME_WAIT");
	fixture_free(&x);
}

static void expect_lines(const struct td_wframe *f, const char *const *want, size_t n)
{
	assert_int_equal(f->n, n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(f->v[i].text, want[i]))
			fail_msg("line %zu:\n got: '%s'\nwant: '%s'", i, f->v[i].text, want[i]);
}

static void test_frame_total(void **state)
{
	static const char *const want[] = {
		"tcpdoctor watch  netns: total of 2  every 1 s  sample 2  ?: help",
		"STATE           SOCKETS     PER S",
		"ESTABLISHED           4      +0.0",
		"SYN_SENT              0      +0.0",
		"SYN_RECV              0      +0.0",
		"FIN_WAIT1             0      +0.0",
		"FIN_WAIT2             0      +0.0",
		"TIME_WAIT           100     +10.0",
		"CLOSE                 0      +0.0",
		"CLOSE_WAIT           20      +0.0",
		"LAST_ACK              0      +0.0",
		"LISTEN                2      +0.0",
		"CLOSING               0      +0.0",
		"TOTAL               126",
		"TIME_WAIT created 15.0/s  expired 5.0/s  connects 20.0/s  accepts 0.0/s",
		"TIME_WAIT  ▇█  now 100  max 100",
		"CLOSE_WAIT ██  now 20  max 20",
		"",
		"TOP DESTINATIONS  sort: TIME_WAIT  (4)",
		"NETNS        SOURCE -> DESTINATION                     IN USE CAPACITY   USE% "
		"TIME_WAIT  "
		"CLOSE/S",
		"a            10.0.0.1 -> 10.0.0.2:80                      100      200  50.0%     "
		"   90  "
		"    1.5",
		"a            fd00::1 -> [fd00::2]:5432                     20    28232   0.1%     "
		"   50  "
		"    0.5",
		"a            10.0.0.1 -> 10.0.0.3:443                     150    28232   0.5%     "
		"   10  "
		"    9.0",
		"current      127.0.0.1 -> 127.0.0.1:8080                    5       10  50.0%     "
		"    5  "
		"    0.1",
		"",
		"FINDINGS  1 critical, 1 warning, 1 info",
		"CRITICAL Ephemeral ports to 10.0.0.2:80 [a]",
		"WARNING  20 CLOSE_WAIT held by pid 7 (srv) [a]",
		"INFO     attribution-partial [current]",
	};
	struct fixture x;
	struct td_wframe f = { 0 };
	struct td_wview v = { .ns = -1,
			      .sort = TD_WSORT_TW,
			      .utf8 = true,
			      .width = 120,
			      .interval_ms = 1000,
			      .sample = 2,
			      .max_dests = 8 };
	(void)state;

	fixture_init(&x);
	watch_frame_build(&f, &v, &x.m, &x.fs, x.total);
	expect_lines(&f, want, TD_ARRAY_SIZE(want));
	assert_int_equal(f.v[0].kind, TD_WL_TITLE);
	assert_int_equal(f.v[1].kind, TD_WL_HEAD);
	assert_int_equal(f.v[26].kind, TD_WL_CRIT);
	assert_int_equal(f.v[27].kind, TD_WL_WARN);
	assert_int_equal(f.v[28].kind, TD_WL_INFO);

	/* two destination rows at most; ASCII sparklines; paused */
	v.max_dests = 2;
	v.utf8 = false;
	v.paused = true;
	v.interval_ms = 500;
	watch_frame_build(&f, &v, &x.m, &x.fs, x.total); /* rebuilding frees the old lines */
	assert_int_equal(f.n, TD_ARRAY_SIZE(want) - 2);
	assert_string_equal(f.v[0].text, "tcpdoctor watch  netns: total of 2  every 0.5 s  sample 2"
					 "  [PAUSED]  ?: help");
	assert_string_equal(f.v[15].text, "TIME_WAIT  *#  now 100  max 100");
	assert_string_equal(f.v[16].text, "CLOSE_WAIT ##  now 20  max 20");
	assert_string_equal(f.v[22].text, "");
	watch_frame_free(&f);
	fixture_free(&x);
}

static void test_frame_one_ns(void **state)
{
	struct fixture x;
	struct td_wframe f = { 0 };
	struct td_wview v = { .ns = 0,
			      .sort = TD_WSORT_RATE,
			      .utf8 = true,
			      .width = 120,
			      .interval_ms = 2000,
			      .sample = 1,
			      .max_dests = 8 };
	(void)state;

	fixture_init(&x);
	watch_frame_build(&f, &v, &x.m, &x.fs, x.ha);
	assert_string_equal(f.v[0].text, "tcpdoctor watch  netns: a  every 2 s  sample 1  ?: help");
	assert_string_equal(f.v[2].text, "ESTABLISHED           3         -");
	assert_string_equal(f.v[13].text, "TOTAL               125");
	assert_string_equal(f.v[14].text, "TIME_WAIT created -/s  expired -/s  (rates from the "
					  "second sample on)");
	assert_string_equal(f.v[15].text, "TIME_WAIT  █  now 100  max 100");
	assert_string_equal(f.v[18].text, "TOP DESTINATIONS  sort: rate  (3)");
	/* no NETNS column for one namespace */
	assert_string_equal(f.v[20].text,
			    "10.0.0.1 -> 10.0.0.3:443                     150    28232"
			    "   0.5%        10      9.0");
	assert_string_equal(f.v[24].text, "FINDINGS  1 critical, 1 warning, 0 info");
	assert_string_equal(f.v[25].text, "CRITICAL Ephemeral ports to 10.0.0.2:80");
	assert_int_equal(f.n, 27);

	/* the current namespace: one destination, only the info finding, no history yet */
	v.ns = 1;
	watch_frame_build(&f, &v, &x.m, &x.fs, NULL);
	assert_string_equal(f.v[0].text,
			    "tcpdoctor watch  netns: current  every 2 s  sample 1  ?: help");
	assert_string_equal(f.v[15].text, "TIME_WAIT    now 0  max 0");
	assert_string_equal(f.v[18].text, "TOP DESTINATIONS  sort: rate  (1)");
	assert_string_equal(f.v[22].text, "FINDINGS  0 critical, 0 warning, 1 info");
	assert_string_equal(f.v[23].text, "INFO     attribution-partial");
	assert_int_equal(f.n, 24);

	/* a namespace with neither destinations nor findings */
	x.ns[1].ndests = 0;
	rules_findings_free(&x.fs);
	memset(&x.fs, 0, sizeof(x.fs));
	watch_frame_build(&f, &v, &x.m, &x.fs, NULL);
	assert_string_equal(f.v[20].text, "  none: no connection holds an ephemeral port");
	assert_string_equal(f.v[23].text, "  nothing found");
	watch_frame_free(&f);
	fixture_free(&x);
}

static void test_frame_small_help_empty(void **state)
{
	struct fixture x;
	struct td_wframe f = { 0 };
	struct td_wview v = { .ns = -1, .utf8 = true, .interval_ms = 1000, .max_dests = 8 };
	(void)state;

	fixture_init(&x);
	/* every size from 1x1 up: never a line wider than the width, never more than the height */
	for (unsigned w = 1; w <= 130; w += 3)
		for (unsigned h = 1; h <= 40; h += 3) {
			v.width = w;
			v.height = h;
			watch_frame_build(&f, &v, &x.m, &x.fs, x.total);
			assert_true(f.n <= h);
			for (size_t i = 0; i < f.n; i++) {
				char *copy = xstrdup(f.v[i].text);
				assert_true(watch_truncate(copy, 10000) <= w);
				free(copy);
			}
		}
	v.width = 20;
	v.height = 3;
	watch_frame_build(&f, &v, &x.m, &x.fs, x.total);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.v[0].text, "tcpdoctor watch  net");
	assert_string_equal(f.v[2].text, "ESTABLISHED         ");

	v.width = 80;
	v.height = 0;
	v.help = true;
	watch_frame_build(&f, &v, &x.m, &x.fs, x.total);
	assert_string_equal(f.v[1].text, "KEYS");
	assert_string_equal(f.v[3].text, "  s      sort destinations: usage -> TIME_WAIT -> rate");
	assert_int_equal(f.v[8].kind, TD_WL_HEAD);
	assert_int_equal(f.n, 16);

	v.help = false;
	watch_frame_build(&f, &v, NULL, NULL, NULL);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.v[0].text, "tcpdoctor watch  netns: -  every 1 s  sample 0  ?: help");
	assert_string_equal(f.v[1].text, "taking the first sample...");
	watch_frame_free(&f);
	watch_frame_free(&f); /* twice is fine */
	fixture_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sparkline),    cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_sort),	     cmocka_unit_test(test_frame_total),
		cmocka_unit_test(test_frame_one_ns), cmocka_unit_test(test_frame_small_help_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
