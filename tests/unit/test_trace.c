// SPDX-License-Identifier: MIT
/* Unit tests for src/core/trace/trace.c, the aggregation behind `trace`, fed with hand-built events:
 * exact counts per key, which ports a key keeps (connect, bind, accepted and connected sockets),
 * sections and their order, CLOSE_WAIT stays (open, left, oldest age, longest stay, a socket
 * address reused), the rows the kernel counts itself merged with those of records (totals replaced
 * at each reading, stays open and their ages), unknown kinds refused, and the names and addresses
 * printed. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/trace/trace.h"

static struct td_trace_event ev(uint8_t kind, uint32_t pid, const char *dst, uint16_t dport)
{
	struct td_trace_event e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.pid = pid;
	e.netns = 4026531840u;
	e.family = AF_INET;
	e.sport = 40000;
	e.dport = dport;
	e.role = TD_ROLE_CONNECTED;
	inet_pton(AF_INET, "10.0.0.1", e.saddr);
	inet_pton(AF_INET, dst, e.daddr);
	snprintf(e.comm, sizeof(e.comm), "app%u", pid);
	return e;
}

static void test_failures_exact(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_trace_event e;
	struct td_trace_row *r;
	size_t n;

	(void)state;
	for (int i = 0; i < 7; i++) {
		e = ev(TD_EV_CONNECT_FAIL, 10, "10.0.0.2", 80);
		e.err = ECONNREFUSED;
		e.sport = (uint16_t)(40000 + i); /* the local port of a connect is not in the key */
		assert_int_equal(trace_agg_add(t, &e), 0);
	}
	for (int i = 0; i < 3; i++) {
		e = ev(TD_EV_CONNECT_FAIL, 10, "10.0.0.2", 80);
		e.err = EADDRNOTAVAIL;
		trace_agg_add(t, &e);
	}
	e = ev(TD_EV_CONNECT_FAIL, 11, "10.0.0.2", 80); /* another program */
	e.err = ECONNREFUSED;
	trace_agg_add(t, &e);
	e = ev(TD_EV_BIND_FAIL, 12, "0.0.0.0", 0);
	e.err = EADDRINUSE;
	e.sport = 8080;
	trace_agg_add(t, &e);

	r = trace_agg_rows(t, TD_TRACE_FAILURES, 0, &n);
	assert_int_equal(n, 4);
	assert_int_equal(r[0].count, 7);
	assert_int_equal(r[0].k.err, ECONNREFUSED);
	assert_int_equal(r[0].k.pid, 10);
	assert_int_equal(r[0].k.dport, 80);
	assert_int_equal(r[0].k.sport, 0);
	assert_string_equal(r[0].k.comm, "app10");
	assert_int_equal(r[1].count, 3);
	assert_int_equal(r[1].k.err, EADDRNOTAVAIL);
	/* ties: in the order of their keys (pid 11 before 12) */
	assert_int_equal(r[2].k.pid, 11);
	assert_int_equal(r[3].k.kind, TD_EV_BIND_FAIL);
	assert_int_equal(r[3].k.sport, 8080);
	assert_int_equal(r[3].k.dport, 0);
	assert_string_equal(trace_syscall_name(r[3].k.kind), "bind");
	assert_int_equal(trace_agg_events(t), 12);
	free(r);
	assert_null(trace_agg_rows(t, TD_TRACE_RESETS, 0, &n));
	assert_int_equal(n, 0);
	trace_agg_free(t);
}

static void test_resets_and_roles(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_trace_event e;
	struct td_trace_row *r;
	size_t n;

	(void)state;
	/* a server sends resets to clients from many ports: one row (its own port) */
	for (int i = 0; i < 5; i++) {
		e = ev(TD_EV_RESET_SENT, 20, "10.0.0.3", (uint16_t)(50000 + i));
		e.role = TD_ROLE_ACCEPTED;
		e.sport = 443;
		e.detail = TD_RST_LINGER0;
		trace_agg_add(t, &e);
	}
	/* a client receives resets from one service, from many local ports: one row */
	for (int i = 0; i < 4; i++) {
		e = ev(TD_EV_RESET_RECV, 21, "10.0.0.3", 443);
		e.sport = (uint16_t)(40000 + i);
		trace_agg_add(t, &e);
	}
	e = ev(TD_EV_RESET_SENT, 20, "10.0.0.3", 50000);
	e.role = TD_ROLE_ACCEPTED;
	e.sport = 443;
	e.detail = TD_RST_UNREAD; /* another cause: another row */
	trace_agg_add(t, &e);

	r = trace_agg_rows(t, TD_TRACE_RESETS, 0, &n);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].count, 5);
	assert_int_equal(r[0].k.sport, 443);
	assert_int_equal(r[0].k.dport, 0);
	assert_string_equal(trace_reset_dir(r[0].k.kind), "sent");
	assert_string_equal(trace_reset_cause(r[0].k.kind, r[0].k.detail), "linger0");
	assert_int_equal(r[1].count, 4);
	assert_int_equal(r[1].k.sport, 0);
	assert_int_equal(r[1].k.dport, 443);
	assert_string_equal(trace_reset_dir(r[1].k.kind), "received");
	assert_string_equal(trace_reset_cause(r[1].k.kind, r[1].k.detail), "peer");
	assert_string_equal(trace_reset_cause(r[2].k.kind, r[2].k.detail), "unread-data");
	assert_string_equal(trace_reset_cause(TD_EV_RESET_SENT, 200), "other");
	free(r);
	trace_agg_free(t);
}

static void test_close_wait(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_trace_event e;
	struct td_trace_row *r;
	size_t n;

	(void)state;
	/* three sockets of one program enter CLOSE_WAIT at 1 s, 2 s, 3 s */
	for (uint64_t i = 1; i <= 3; i++) {
		e = ev(TD_EV_CLOSE_PEER, 30, "10.0.0.4", 5432);
		e.sk = 0x1000 * i;
		e.ts_ns = i * 1000000000ull;
		trace_agg_add(t, &e);
	}
	/* the second leaves at 7 s (a 5 s stay); a socket never seen entering leaves too */
	e = ev(TD_EV_CW_LEAVE, 30, "10.0.0.4", 5432);
	e.sk = 0x2000;
	e.ts_ns = 7000000000ull;
	trace_agg_add(t, &e);
	e.sk = 0x9000;
	trace_agg_add(t, &e);
	/* this side closes first once */
	e = ev(TD_EV_CLOSE_LOCAL, 30, "10.0.0.4", 5432);
	trace_agg_add(t, &e);

	r = trace_agg_rows(t, TD_TRACE_CLOSE_WAIT, 11000000000ull, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].count, 3);
	assert_int_equal(r[0].cw_open, 2);
	assert_int_equal(r[0].cw_oldest_ns, 10000000000ull); /* entered at 1 s, now 11 s */
	assert_int_equal(r[0].cw_longest_ns, 5000000000ull);
	free(r);

	r = trace_agg_rows(t, TD_TRACE_CLOSES, 0, &n);
	assert_int_equal(n, 2);
	assert_string_equal(trace_close_first(r[0].k.kind), "peer");
	assert_int_equal(r[0].count, 3);
	assert_string_equal(trace_close_first(r[1].k.kind), "local");
	assert_int_equal(r[1].count, 1);
	free(r);

	/* socket 0x1000's address comes back in CLOSE_WAIT for another program: the old stay
	 * ends unseen (not open any more), the new one counts for the new row */
	e = ev(TD_EV_CLOSE_PEER, 31, "10.0.0.4", 5432);
	e.sk = 0x1000;
	e.ts_ns = 12000000000ull;
	trace_agg_add(t, &e);
	r = trace_agg_rows(t, TD_TRACE_CLOSE_WAIT, 13000000000ull, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].k.pid, 30);
	assert_int_equal(r[0].cw_open, 1); /* 0x3000 */
	assert_int_equal(r[0].cw_oldest_ns, 10000000000ull);
	assert_int_equal(r[1].k.pid, 31);
	assert_int_equal(r[1].cw_open, 1);
	assert_int_equal(r[1].cw_oldest_ns, 1000000000ull);
	free(r);
	assert_int_equal(trace_agg_events(t), 7);
	trace_agg_free(t);
}

/* Rows the kernel counted (closes, CLOSE_WAIT stays) add to the records' rows of the same key;
 * each reading gives totals, which replace the last */
static void test_kernel_rows(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_trace_event e, peer;
	struct td_trace_row *r;
	size_t n;

	(void)state;
	e = ev(TD_EV_CLOSE_LOCAL, 40, "10.0.0.5", 80);
	trace_agg_add(t, &e); /* two as records (top --trace, or the map full) */
	trace_agg_add(t, &e);
	trace_agg_kernel_begin(t);
	e.sport = 0; /* the kernel's key keeps only the service's port */
	trace_agg_kernel_row(t, &e, 5, 0, 0);
	r = trace_agg_rows(t, TD_TRACE_CLOSES, 0, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].count, 7);
	free(r);
	assert_int_equal(trace_agg_events(t), 7);
	trace_agg_kernel_begin(t); /* a later reading: 6 in all, not 5 + 6 */
	trace_agg_kernel_row(t, &e, 6, 0, 0);
	assert_int_equal(trace_agg_events(t), 8);

	/* an accepted socket's row keeps its own port; 4 stays opened, 3 ended, the longest 2 s */
	peer = ev(TD_EV_CLOSE_PEER, 41, "10.0.0.6", 0);
	peer.role = TD_ROLE_ACCEPTED;
	peer.sport = 8080;
	trace_agg_kernel_row(t, &peer, 4, 3, 2000000000ull);
	trace_agg_kernel_stay(t, &peer, 6000000000ull);
	trace_agg_kernel_stay(t, &peer, 9000000000ull); /* not the oldest */
	r = trace_agg_rows(t, TD_TRACE_CLOSE_WAIT, 10000000000ull, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].k.sport, 8080);
	assert_int_equal(r[0].k.dport, 0);
	assert_int_equal(r[0].count, 4);
	assert_int_equal(r[0].cw_open, 1);
	assert_int_equal(r[0].cw_oldest_ns, 4000000000ull);
	assert_int_equal(r[0].cw_longest_ns, 2000000000ull);
	free(r);
	r = trace_agg_rows(t, TD_TRACE_CLOSES, 0, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].count, 8);
	assert_int_equal(r[1].count, 4);
	assert_string_equal(trace_close_first(r[1].k.kind), "peer");
	free(r);
	assert_int_equal(trace_agg_events(t), 8 + 4 + 3);

	/* a reading of the counts alone keeps the ages of the last reading of the stays */
	trace_agg_kernel_begin(t);
	trace_agg_kernel_row(t, &peer, 4, 3, 2000000000ull);
	r = trace_agg_rows(t, TD_TRACE_CLOSE_WAIT, 10000000000ull, &n);
	assert_int_equal(r[0].cw_oldest_ns, 4000000000ull);
	free(r);
	/* which are forgotten when the stays are read again (none open now) */
	trace_agg_kernel_stays_begin(t);
	r = trace_agg_rows(t, TD_TRACE_CLOSE_WAIT, 10000000000ull, &n);
	assert_int_equal(r[0].cw_open, 1);
	assert_int_equal(r[0].cw_oldest_ns, 0);
	free(r);

	/* a reading between two CPUs' counters (more ended than opened): none open, no age */
	trace_agg_kernel_begin(t);
	trace_agg_kernel_row(t, &peer, 2, 3, 0);
	trace_agg_kernel_stay(t, &peer, 6000000000ull);
	r = trace_agg_rows(t, TD_TRACE_CLOSE_WAIT, 10000000000ull, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].cw_open, 0);
	assert_int_equal(r[0].cw_oldest_ns, 0);
	free(r);
	/* rows the kernel no longer gives and no record counted are not shown */
	trace_agg_kernel_begin(t);
	assert_null(trace_agg_rows(t, TD_TRACE_CLOSE_WAIT, 0, &n));
	assert_int_equal(trace_agg_events(t), 2);
	trace_agg_free(t);
}

static void test_bad_kind_and_names(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_trace_event e = ev(0, 1, "10.0.0.2", 1);
	uint8_t a6[16];
	char buf[64];
	size_t n;

	(void)state;
	assert_int_equal(trace_agg_add(t, &e), -EINVAL);
	e.kind = TD_TRACE_KIND_CW; /* a user-space row kind, never an event */
	assert_int_equal(trace_agg_add(t, &e), -EINVAL);
	e.kind = 250;
	assert_int_equal(trace_agg_add(t, &e), -EINVAL);
	assert_int_equal(trace_agg_events(t), 0);
	for (int s = 0; s < TD_TRACE_SECTIONS; s++)
		assert_null(trace_agg_rows(t, (enum td_trace_section)s, 0, &n));
	trace_agg_free(t);
	trace_agg_free(NULL);

	assert_string_equal(trace_section_name(TD_TRACE_FAILURES), "failures");
	assert_string_equal(trace_section_name(TD_TRACE_CLOSE_WAIT), "close_wait");
	assert_null(trace_section_name(TD_TRACE_SECTIONS));
	assert_null(trace_syscall_name(TD_EV_RESET_RECV));
	assert_null(trace_close_first(TD_EV_CONNECT_FAIL));
	assert_string_equal(trace_addr_str(AF_INET, e.daddr, buf, sizeof(buf)), "10.0.0.2");
	memset(a6, 0, sizeof(a6));
	assert_string_equal(trace_addr_str(AF_INET6, a6, buf, sizeof(buf)), "");
	inet_pton(AF_INET6, "fd00::1", a6);
	assert_string_equal(trace_addr_str(AF_INET6, a6, buf, sizeof(buf)), "fd00::1");
}

/* A comm with control bytes and no NUL is kept raw and cut to fit (escaping is the output's) */
static void test_comm_raw(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_trace_event e = ev(TD_EV_RESET_RECV, 5, "10.0.0.2", 22);
	struct td_trace_row *r;
	size_t n;

	(void)state;
	memset(e.comm, '\x1b', sizeof(e.comm));
	trace_agg_add(t, &e);
	r = trace_agg_rows(t, TD_TRACE_RESETS, 0, &n);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(r[0].k.comm), TD_TRACE_COMM_LEN - 1);
	free(r);
	trace_agg_free(t);
}

static uint64_t sum_counts(const struct td_trace_agg *t, enum td_trace_section sec, size_t *n)
{
	struct td_trace_row *r = trace_agg_rows(t, sec, 0, n);
	uint64_t sum = 0;

	for (size_t i = 0; i < *n; i++)
		sum += r[i].count;
	free(r);
	return sum;
}

/* A trace that runs for days: rows stop growing, counts by kind and errno stay exact. */
static void test_bounded_rows(void **state)
{
	struct td_trace_agg *t = trace_agg_new_bounded(4, 2, 8);
	struct td_trace_event e;
	struct td_trace_row *r;
	char dst[32];
	size_t n;

	(void)state;
	/* 10 programs fail to one destination: 4 rows keep theirs, 6 events fold into one row
	 * without a program */
	for (uint32_t pid = 1; pid <= 10; pid++) {
		e = ev(TD_EV_CONNECT_FAIL, pid, "10.0.0.2", 80);
		e.err = ECONNREFUSED;
		trace_agg_add(t, &e);
	}
	assert_int_equal(sum_counts(t, TD_TRACE_FAILURES, &n), 10);
	assert_int_equal(n, 5);
	assert_int_equal(trace_agg_folded(t), 6);
	r = trace_agg_rows(t, TD_TRACE_FAILURES, 0, &n);
	assert_int_equal(r[0].count, 6);
	assert_int_equal(r[0].k.pid, 0);
	assert_string_equal(r[0].k.comm, "");
	assert_int_equal(r[0].k.dport, 80); /* the destination is kept while there is room */
	free(r);
	/* a program already in the table keeps counting in its own row */
	e = ev(TD_EV_CONNECT_FAIL, 3, "10.0.0.2", 80);
	e.err = ECONNREFUSED;
	trace_agg_add(t, &e);
	assert_int_equal(trace_agg_folded(t), 6);
	/* 20 new destinations: one more row keeps its endpoint (4 + 2 spare), then the rest
	 * lose it too and share a row per errno */
	for (int i = 0; i < 20; i++) {
		snprintf(dst, sizeof(dst), "10.0.1.%d", i + 1);
		e = ev(TD_EV_CONNECT_FAIL, 100, dst, 443);
		e.err = i % 2 ? ETIMEDOUT : ECONNREFUSED;
		trace_agg_add(t, &e);
	}
	assert_int_equal(sum_counts(t, TD_TRACE_FAILURES, &n), 31);
	assert_true(n <= 4 + 2 + 2); /* at most one endpoint-less row per errno beyond the spare */
	assert_int_equal(trace_agg_folded(t), 26);
	assert_int_equal(trace_agg_events(t), 31);
	trace_agg_free(t);
}

/* More sockets pass through CLOSE_WAIT than the stays map holds: the ended stays make room, the
 * open ones are kept and aged, a socket past the bound is counted but not aged. */
static void test_bounded_close_wait(void **state)
{
	struct td_trace_agg *t = trace_agg_new_bounded(64, 16, 4);
	struct td_trace_event e;
	struct td_trace_row *r;
	size_t n;

	(void)state;
	/* 100 sockets enter and leave one after the other: never more than one open */
	for (uint64_t i = 1; i <= 100; i++) {
		e = ev(TD_EV_CLOSE_PEER, 40, "10.0.0.5", 6379);
		e.sk = 0x100 * i;
		e.ts_ns = i * 1000;
		trace_agg_add(t, &e);
		e.kind = TD_EV_CW_LEAVE;
		e.ts_ns = i * 1000 + 10;
		trace_agg_add(t, &e);
	}
	assert_int_equal(trace_agg_cw_untracked(t), 0);
	/* then 6 stay open: 4 are followed, 2 only counted */
	for (uint64_t i = 1; i <= 6; i++) {
		e = ev(TD_EV_CLOSE_PEER, 40, "10.0.0.5", 6379);
		e.sk = 0x100000 * i;
		e.ts_ns = 1000000 * i;
		trace_agg_add(t, &e);
	}
	assert_int_equal(trace_agg_cw_untracked(t), 2);
	r = trace_agg_rows(t, TD_TRACE_CLOSE_WAIT, 10000000, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].count, 106);
	assert_int_equal(r[0].cw_open, 4);
	assert_int_equal(r[0].cw_oldest_ns, 9000000); /* the first of the open ones, at 1 ms */
	assert_int_equal(r[0].cw_longest_ns, 10);
	free(r);
	/* one of the followed ones leaves: its stay ends, the count stays */
	e = ev(TD_EV_CW_LEAVE, 40, "10.0.0.5", 6379);
	e.sk = 0x100000;
	e.ts_ns = 11000000;
	trace_agg_add(t, &e);
	r = trace_agg_rows(t, TD_TRACE_CLOSE_WAIT, 12000000, &n);
	assert_int_equal(r[0].cw_open, 3);
	assert_int_equal(r[0].cw_longest_ns, 10000000);
	free(r);
	trace_agg_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failures_exact),
		cmocka_unit_test(test_resets_and_roles),
		cmocka_unit_test(test_close_wait),
		cmocka_unit_test(test_bad_kind_and_names),
		cmocka_unit_test(test_comm_raw),
		cmocka_unit_test(test_bounded_rows),
		cmocka_unit_test(test_bounded_close_wait),
		cmocka_unit_test(test_kernel_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
