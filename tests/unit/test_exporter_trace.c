// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/core/export/exporter_trace.c (serve --trace's families) and the 4-tuple closers of
 * src/core/trace/trace.c (top --trace), on hand-built trace events: the failure and reset counters by
 * syscall, errno and destination with exact values, summed over programs; the first `top`
 * destinations keep their series and later ones go to dst="other", which only grows from one
 * scrape to the next; the page renders as Prometheus text; closers found by their exact tuple
 * and namespace only.
 */
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

#include "core/export/exporter_trace.h"
#include "core/trace/trace.h"
#include "core/util.h"
#include "render/prom.h"

static void add(struct td_trace_agg *t, uint8_t kind, int err, uint32_t pid, const char *dst,
		uint16_t dport, int times)
{
	struct td_trace_event e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.err = err;
	e.pid = pid;
	e.netns = 7;
	e.family = AF_INET;
	e.sport = 41000;
	e.dport = dport;
	e.role = TD_ROLE_CONNECTED;
	e.detail = TD_RST_LINGER0;
	inet_pton(AF_INET, "10.0.0.1", e.saddr);
	inet_pton(AF_INET, dst, e.daddr);
	snprintf(e.comm, sizeof(e.comm), "app%u", pid);
	for (int i = 0; i < times; i++)
		assert_int_equal(trace_agg_add(t, &e), 0);
}

/* The page for agg as serve builds it (st kept by the caller across scrapes) */
static char *page(struct td_exporter_trace_state *st, struct td_trace_agg *agg)
{
	struct td_exporter_trace_input in = { 0 };
	struct td_trace_row *f, *r;
	struct td_metrics mx = { 0 };
	size_t len;
	char *p;

	f = trace_agg_rows(agg, TD_TRACE_FAILURES, 0, &in.nfail);
	r = trace_agg_rows(agg, TD_TRACE_RESETS, 0, &in.nrst);
	in.fail = f;
	in.rst = r;
	in.events = trace_agg_events(agg);
	in.lost = 2;
	exporter_trace_build(st, &in, &mx);
	assert_int_equal(mx.n, 4);
	for (size_t i = 0; i < mx.n; i++)
		assert_int_equal(mx.v[i].type, EXPORTER_COUNTER);
	p = render_prom(&mx, &len);
	assert_int_equal(strlen(p), len);
	exporter_metrics_free(&mx);
	free(f);
	free(r);
	return p;
}

static void has(const char *p, const char *line)
{
	if (!strstr(p, line))
		fail_msg("missing line: %s\nin:\n%s", line, p);
}

static void test_families(void **state)
{
	struct td_exporter_trace_state st = { .top = 2 };
	struct td_trace_agg *t = trace_agg_new();
	char *p;

	(void)state;
	add(t, TD_EV_CONNECT_FAIL, ECONNREFUSED, 10, "10.0.0.5", 443, 6);
	add(t, TD_EV_CONNECT_FAIL, ECONNREFUSED, 11, "10.0.0.5", 443, 2); /* summed over programs */
	add(t, TD_EV_CONNECT_FAIL, EADDRNOTAVAIL, 10, "10.0.0.6", 80, 4);
	add(t, TD_EV_CONNECT_FAIL, ETIMEDOUT, 10, "10.0.0.9", 80, 3); /* third: other */
	add(t, TD_EV_RESET_SENT, 0, 10, "10.0.0.5", 443, 5);
	p = page(&st, t);
	has(p, "# TYPE tcpdoctor_trace_failures_total counter\n");
	has(p, "tcpdoctor_trace_failures_total{syscall=\"connect\",errno=\"ECONNREFUSED\","
	       "dst=\"10.0.0.5:443\"} 8\n");
	has(p, "tcpdoctor_trace_failures_total{syscall=\"connect\",errno=\"EADDRNOTAVAIL\","
	       "dst=\"10.0.0.6:80\"} 4\n");
	has(p, "tcpdoctor_trace_failures_total{syscall=\"connect\",errno=\"ETIMEDOUT\","
	       "dst=\"other\"} 3\n");
	has(p, "tcpdoctor_trace_resets_total{direction=\"sent\",cause=\"linger0\","
	       "dst=\"10.0.0.5:443\"} 5\n");
	has(p, "tcpdoctor_trace_events_total 20\n");
	has(p, "tcpdoctor_trace_events_lost_total 2\n");
	free(p);

	/* the next scrape: a newcomer goes to "other", the chosen keep their series */
	add(t, TD_EV_CONNECT_FAIL, ECONNREFUSED, 12, "10.0.0.8", 22, 1);
	add(t, TD_EV_CONNECT_FAIL, ETIMEDOUT, 10, "10.0.0.8", 22, 10);
	p = page(&st, t);
	has(p, "dst=\"10.0.0.5:443\"} 8\n");
	has(p, "tcpdoctor_trace_failures_total{syscall=\"connect\",errno=\"ETIMEDOUT\","
	       "dst=\"other\"} 13\n");
	has(p, "tcpdoctor_trace_failures_total{syscall=\"connect\",errno=\"ECONNREFUSED\","
	       "dst=\"other\"} 1\n");
	assert_null(strstr(p, "10.0.0.8"));
	assert_int_equal(st.nchosen, 2);
	free(p);
	trace_agg_free(t);
}

static void test_top_zero_and_empty(void **state)
{
	struct td_exporter_trace_state st = { .top = 0 };
	struct td_trace_agg *t = trace_agg_new();
	char *p;

	(void)state;
	p = page(&st, t); /* no events: the families are there, documented, without samples */
	has(p, "# HELP tcpdoctor_trace_failures_total ");
	assert_null(strstr(p, "tcpdoctor_trace_failures_total{"));
	has(p, "tcpdoctor_trace_events_total 0\n");
	free(p);
	add(t, TD_EV_CONNECT_FAIL, ECONNREFUSED, 10, "10.0.0.5", 443, 2);
	p = page(&st, t);
	has(p, "errno=\"ECONNREFUSED\",dst=\"other\"} 2\n");
	free(p);
	trace_agg_free(t);
}

static void test_closers(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_trace_event e;
	const struct td_trace_closer *c;
	uint8_t s[16] = { 0 }, d[16] = { 0 };

	(void)state;
	add(t, TD_EV_CLOSE_LOCAL, 0, 10, "10.0.0.5", 443, 1); /* not kept: not asked yet */
	assert_int_equal(trace_agg_closers(t), 0);
	trace_agg_keep_closers(t);
	add(t, TD_EV_CLOSE_LOCAL, 0, 10, "10.0.0.5", 443, 1);
	add(t, TD_EV_CLOSE_PEER, 0, 11, "10.0.0.5", 444, 1); /* the peer closed first: no */
	memset(&e, 0, sizeof(e));
	e.kind = TD_EV_CLOSE_LOCAL; /* pid unknown: not kept */
	e.netns = 7;
	e.family = AF_INET;
	e.sport = 41001;
	e.dport = 443;
	trace_agg_add(t, &e);
	assert_int_equal(trace_agg_closers(t), 1);
	inet_pton(AF_INET, "10.0.0.1", s);
	inet_pton(AF_INET, "10.0.0.5", d);
	assert_non_null(c = trace_agg_closer(t, 7, AF_INET, s, 41000, d, 443));
	assert_int_equal(c->pid, 10);
	assert_string_equal(c->comm, "app10");
	assert_null(trace_agg_closer(t, 8, AF_INET, s, 41000, d, 443));	 /* namespace */
	assert_null(trace_agg_closer(t, 7, AF_INET, s, 41001, d, 443));	 /* local port */
	assert_null(trace_agg_closer(t, 7, AF_INET6, s, 41000, d, 443)); /* family */
	assert_null(trace_agg_closer(t, 7, AF_INET, s, 41000, d, 444));
	trace_agg_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_top_zero_and_empty),
		cmocka_unit_test(test_closers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
