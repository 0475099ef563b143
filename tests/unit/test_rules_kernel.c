// SPDX-License-Identifier: MIT
/*
 * Table-driven tests of the findings that come from the kernel's counters and settings
 * (rules_kernel.c) and of the socket-side ids no other unit test reaches (dump-interrupted,
 * state-threshold, syn-queue), on hand-built models: counters parsed from /proc text as the
 * kernel prints it, sysctls from a record's "key=value" meta. Each case names the id it must
 * produce, or must not, with the severity and one evidence value; a rising counter (two
 * snapshots) and a total since boot (one) grade differently, and a value under the limit
 * produces nothing.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/model/counters.h"
#include "core/model/model.h"
#include "core/rules/rules.h"
#include "core/util.h"
#include "unit/rulecheck.h"

/* A TcpExt header and one line of values, as /proc/net/netstat prints them. */
#define EXT_NAMES                                                                                  \
	"TcpExt: TCPTimeWaitOverflow ListenOverflows ListenDrops TCPReqQFullDrop "                 \
	"TCPReqQFullDoCookies TCPAbortOnMemory\n"

struct kcase {
	const char *name;
	const char *meta;     /* sysctls: "key=value\n"... */
	const char *ext0;     /* first TcpExt values line; NULL: no counters */
	const char *ext1;     /* second (an interval later); NULL: one snapshot (totals) */
	const char *sockstat; /* the TCP line of /proc/net/sockstat, with the second snapshot */
	const char *id;
	enum td_fsev sev; /* TD_F_OK: the id must not appear */
	const char *ev;	  /* an evidence key and its value, or NULL */
	double ev_value;
};

static const struct kcase kcases[] = {
	/* TCPTimeWaitOverflow: rising is critical, a total since boot a warning */
	{ "tw overflow rising", "net.ipv4.tcp_max_tw_buckets=262144\n", "7 0 0 0 0 0",
	  "19 0 0 0 0 0", NULL, "time-wait-overflow", TD_F_CRITICAL, "TCPTimeWaitOverflow", 12 },
	{ "tw overflow total", "net.ipv4.tcp_max_tw_buckets=262144\n", "7 0 0 0 0 0", NULL, NULL,
	  "time-wait-overflow", TD_F_WARNING, "TCPTimeWaitOverflow", 7 },
	{ "tw overflow still", "", "7 0 0 0 0 0", "7 0 0 0 0 0", NULL, "time-wait-overflow",
	  TD_F_OK, NULL, 0 },
	/* sockstat tw against tcp_max_tw_buckets: 80 % warns, 100 % is critical */
	{ "tw buckets 80%", "net.ipv4.tcp_max_tw_buckets=5000\n", "0 0 0 0 0 0", "0 0 0 0 0 0",
	  "TCP: inuse 3 orphan 0 tw 4000 alloc 5 mem 1\n", "time-wait-buckets", TD_F_WARNING, "tw",
	  4000 },
	{ "tw buckets full", "net.ipv4.tcp_max_tw_buckets=5000\n", "0 0 0 0 0 0", "0 0 0 0 0 0",
	  "TCP: inuse 3 orphan 0 tw 5000 alloc 5 mem 1\n", "time-wait-buckets", TD_F_CRITICAL,
	  "tcp_max_tw_buckets", 5000 },
	{ "tw buckets 79%", "net.ipv4.tcp_max_tw_buckets=5000\n", "0 0 0 0 0 0", "0 0 0 0 0 0",
	  "TCP: inuse 3 orphan 0 tw 3950 alloc 5 mem 1\n", "time-wait-buckets", TD_F_OK, NULL, 0 },
	{ "tw buckets no max", "", "0 0 0 0 0 0", "0 0 0 0 0 0",
	  "TCP: inuse 3 orphan 0 tw 5000 alloc 5 mem 1\n", "time-wait-buckets", TD_F_OK, NULL, 0 },
	/* ListenOverflows: rising is critical, a total informs */
	{ "listen overflows rising", "", "0 10 12 0 0 0", "0 25 27 0 0 0", NULL, "listen-overflows",
	  TD_F_CRITICAL, "ListenOverflows", 15 },
	{ "listen overflows total", "", "0 10 12 0 0 0", NULL, NULL, "listen-overflows", TD_F_INFO,
	  "ListenOverflows", 10 },
	/* SYN queue full: dropped (no cookies) or answered with cookies */
	{ "syn drops rising", "", "0 0 0 4 0 0", "0 0 0 9 0 0", NULL, "syn-drops", TD_F_CRITICAL,
	  "TCPReqQFullDrop", 5 },
	{ "syn cookies rising", "", "0 0 0 0 100 0", "0 0 0 0 160 0", NULL, "syn-cookies",
	  TD_F_WARNING, "TCPReqQFullDoCookies", 60 },
	{ "syn cookies total", "", "0 0 0 0 100 0", NULL, NULL, "syn-cookies", TD_F_INFO,
	  "TCPReqQFullDoCookies", 100 },
	{ "syn cookies still", "", "0 0 0 0 100 0", "0 0 0 0 100 0", NULL, "syn-cookies", TD_F_OK,
	  NULL, 0 },
	/* TCPAbortOnMemory */
	{ "abort on memory rising", "", "0 0 0 0 0 1", "0 0 0 0 0 3", NULL, "abort-on-memory",
	  TD_F_CRITICAL, "TCPAbortOnMemory", 2 },
	{ "abort on memory total", "", "0 0 0 0 0 1", NULL, NULL, "abort-on-memory", TD_F_WARNING,
	  "TCPAbortOnMemory", 1 },
	/* tcp_tw_reuse does nothing without timestamps */
	{ "reuse without timestamps", "net.ipv4.tcp_timestamps=0\nnet.ipv4.tcp_tw_reuse=1\n", NULL,
	  NULL, NULL, "tw-reuse-without-timestamps", TD_F_WARNING, NULL, 0 },
	{ "reuse 2 without timestamps", "net.ipv4.tcp_timestamps=0\nnet.ipv4.tcp_tw_reuse=2\n",
	  NULL, NULL, NULL, "tw-reuse-without-timestamps", TD_F_WARNING, NULL, 0 },
	{ "reuse with timestamps", "net.ipv4.tcp_timestamps=1\nnet.ipv4.tcp_tw_reuse=1\n", NULL,
	  NULL, NULL, "tw-reuse-without-timestamps", TD_F_OK, NULL, 0 },
	{ "no reuse, no timestamps", "net.ipv4.tcp_timestamps=0\nnet.ipv4.tcp_tw_reuse=0\n", NULL,
	  NULL, NULL, "tw-reuse-without-timestamps", TD_F_OK, NULL, 0 },
};

static struct td_counters *snapshot(const char *values, const char *sockstat)
{
	struct td_counters *c = counters_new();
	char *text = xasprintf("%sTcpExt: %s\n", EXT_NAMES, values);
	struct td_counters_err err;

	assert_int_equal(counters_parse(c, COUNTERS_NETSTAT, text, strlen(text), &err), 0);
	if (sockstat)
		assert_int_equal(
			counters_parse(c, COUNTERS_SOCKSTAT, sockstat, strlen(sockstat), &err), 0);
	free(text);
	return c;
}

static bool ev_is(const struct td_finding *x, const char *key, double value)
{
	const struct td_evidence *e = rc_evidence(x, key);

	return e && e->value == value;
}

static void test_kernel_table(void **state)
{
	struct td_limits lim;

	(void)state;
	rules_limits_default(&lim);
	for (size_t i = 0; i < TD_ARRAY_SIZE(kcases); i++) {
		const struct kcase *k = &kcases[i];
		struct td_model *m = rc_model(k->meta);
		struct td_findings f;

		if (k->ext0)
			m->ns[0].c0 = snapshot(k->ext0, k->ext1 ? NULL : k->sockstat);
		if (k->ext1) {
			m->ns[0].c1 = snapshot(k->ext1, k->sockstat);
			m->ns[0].interval_s = 1;
		}
		rc_eval(m, &lim, &f);
		const struct td_finding *x = rc_find(&f, k->id);
		if (k->sev == TD_F_OK) {
			if (x)
				fail_msg("%s: unexpected %s", k->name, k->id);
		} else {
			if (!x)
				fail_msg("%s: no %s finding", k->name, k->id);
			if (x->sev != k->sev)
				fail_msg("%s: %s is %s, not %s", k->name, k->id,
					 rules_sev_name(x->sev), rules_sev_name(k->sev));
			if (k->ev && !ev_is(x, k->ev, k->ev_value))
				fail_msg("%s: evidence %s is not %g", k->name, k->ev, k->ev_value);
			/* every kernel finding says what to do */
			assert_non_null(x->title);
			assert_true(x->nrem > 0);
		}
		rules_findings_free(&f);
		model_free(m);
	}
}

/* The kernel flagged the dump as interrupted: one info finding, nothing else. */
static void test_dump_interrupted(void **state)
{
	struct td_limits lim;
	struct td_findings f;
	struct td_model *m = rc_model("");

	(void)state;
	rules_limits_default(&lim);
	m->ns[0].interrupted = true;
	rc_eval(m, &lim, &f);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.v[0].id, "dump-interrupted");
	assert_int_equal(f.v[0].sev, TD_F_INFO);
	rules_findings_free(&f);
	model_free(m);
}

/* A state threshold (off by default) set by name grades the census at warn and crit. */
static void test_state_threshold(void **state)
{
	static const struct {
		uint64_t n;
		enum td_fsev sev;
	} cases[] = { { 99, TD_F_OK },
		      { 100, TD_F_WARNING },
		      { 499, TD_F_WARNING },
		      { 500, TD_F_CRITICAL } };
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_limits lim;
		struct td_findings f;
		struct td_model *m = rc_model("");

		rules_limits_default(&lim);
		struct td_limit *l = rules_limit_find(&lim, "close-wait");
		assert_non_null(l);
		l->warn = 100;
		l->crit = 500;
		m->ns[0].census.n[TD_FI_INET][TD_SS_CLOSE_WAIT] = cases[i].n / 2;
		m->ns[0].census.n[TD_FI_INET6][TD_SS_CLOSE_WAIT] = cases[i].n - cases[i].n / 2;
		rc_eval(m, &lim, &f);
		const struct td_finding *x = rc_find(&f, "state-threshold");
		if (cases[i].sev == TD_F_OK) {
			assert_null(x);
		} else {
			assert_non_null(x);
			assert_int_equal(x->sev, cases[i].sev);
			assert_string_equal(x->subject, "CLOSE_WAIT");
			assert_true(ev_is(x, "close_wait", (double)cases[i].n));
		}
		rules_findings_free(&f);
		model_free(m);
	}
}

/* Half-open connections at or above a known backlog warn; below it, or with no backlog, not. */
static void test_syn_queue(void **state)
{
	static const struct {
		uint32_t syn_recv, backlog;
		bool found;
	} cases[] = { { 6, 3, true }, { 3, 3, true }, { 2, 3, false }, { 6, 0, false } };
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_limits lim;
		struct td_findings f;
		struct td_model *m = rc_model("");
		struct td_listener *l = xcalloc(1, sizeof(*l));

		rules_limits_default(&lim);
		l->family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", l->addr);
		l->port = 8080;
		l->backlog = cases[i].backlog;
		l->syn_recv = cases[i].syn_recv;
		m->ns[0].lis = l;
		m->ns[0].nlis = 1;
		rc_eval(m, &lim, &f);
		const struct td_finding *x = rc_find(&f, "syn-queue");
		if (!cases[i].found) {
			assert_null(x);
		} else {
			assert_non_null(x);
			assert_int_equal(x->sev, TD_F_WARNING);
			assert_string_equal(x->subject, "127.0.0.1:8080");
		}
		rules_findings_free(&f);
		model_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_table),
		cmocka_unit_test(test_dump_interrupted),
		cmocka_unit_test(test_state_threshold),
		cmocka_unit_test(test_syn_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
