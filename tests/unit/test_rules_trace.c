// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/core/rules/rules_trace.c on hand-built models with hand-built trace rows (no
 * kernel, no BPF): peer-rejects for a destination that refused and reset us, with exact counts,
 * the programs and the threshold; nothing without failures or without a trace; port-exhaustion
 * named from EADDRNOTAVAIL (and peer-rejects then held back); a bind() to a fixed busy port is not
 * exhaustion; rows of another namespace are not counted.
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

#include "core/model/model.h"
#include "core/rules/rules.h"
#include "core/trace/trace.h"
#include "core/util.h"
#include "unit/rulecheck.h"

#define INO 4026532000u

/* One namespace whose inode the trace rows name */
static struct td_model *model1(void)
{
	struct td_model *m = rc_model("");

	m->ns[0].ino = INO;
	return m;
}

static void add(struct td_trace_agg *t, uint8_t kind, int err, uint32_t pid, const char *comm,
		const char *dst, uint16_t dport, uint32_t netns, int times)
{
	struct td_trace_event e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.err = err;
	e.pid = pid;
	e.netns = netns;
	e.family = AF_INET;
	e.sport = 41000;
	e.dport = dport;
	e.role = TD_ROLE_CONNECTED;
	inet_pton(AF_INET, "10.0.0.1", e.saddr);
	inet_pton(AF_INET, dst, e.daddr);
	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	for (int i = 0; i < times; i++)
		assert_int_equal(trace_agg_add(t, &e), 0);
}

static double ev(const struct td_finding *x, const char *key)
{
	const struct td_evidence *e = rc_evidence(x, key);

	return e ? e->value : -1;
}

/* Evaluates m with agg attached (NULL: no trace ran) and the default limits. */
static void eval(struct td_model *m, struct td_trace_agg *agg, struct td_limits *lim,
		 struct td_findings *f)
{
	struct td_limits def;

	if (!lim) {
		rules_limits_default(&def);
		lim = &def;
	}
	if (agg)
		model_trace_attach(m, agg, 10.0, 0);
	rc_eval(m, lim, f);
}

static void test_peer_rejects(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_model *m = model1();
	struct td_findings f;
	const struct td_finding *x;

	(void)state;
	add(t, TD_EV_CONNECT_FAIL, ECONNREFUSED, 100, "curl", "10.0.0.5", 443, INO, 6);
	add(t, TD_EV_CONNECT_FAIL, ECONNREFUSED, 101, "wget", "10.0.0.5", 443, INO, 2);
	add(t, TD_EV_RESET_RECV, 0, 100, "curl", "10.0.0.5", 443, INO, 3);
	add(t, TD_EV_CONNECT_FAIL, ECONNREFUSED, 100, "curl", "10.0.0.5", 443, INO + 1, 50);
	add(t, TD_EV_CONNECT_FAIL, ETIMEDOUT, 100, "curl", "10.0.0.6", 443, INO, 9);
	eval(m, t, NULL, &f);
	assert_non_null(x = rc_find(&f, "peer-rejects"));
	assert_string_equal(x->subject, "10.0.0.5:443");
	assert_int_equal(x->sev, TD_F_WARNING);
	assert_true(ev(x, "refused") == 8); /* the other namespace's 50 are not ours */
	assert_true(ev(x, "reset") == 3);
	assert_int_equal(x->ntraced, 3);
	assert_string_equal(x->traced[0].comm, "curl");
	assert_int_equal(x->traced[0].pid, 100);
	assert_int_equal(x->traced[0].count, 6);
	assert_int_equal(x->traced[0].err, ECONNREFUSED);
	assert_string_equal(x->traced[0].dst, "10.0.0.5:443");
	assert_string_equal(x->traced[1].comm, "wget");
	assert_int_equal(x->traced[1].count, 2);
	assert_string_equal(x->traced[2].what, "reset");
	assert_int_equal(x->traced[2].count, 3);
	assert_string_equal(x->ref, "tcp-facts#peer-rejects");
	assert_non_null(strstr(x->title, "8 connects refused, 3 connections reset"));
	assert_null(rc_find(&f, "port-exhaustion"));
	/* ETIMEDOUT is not a rejection: one finding only */
	size_t n = 0;
	for (size_t i = 0; i < f.n; i++)
		n += !strcmp(f.v[i].id, "peer-rejects");
	assert_int_equal(n, 1);
	rules_findings_free(&f);

	/* at the critical threshold */
	struct td_limits lim;
	rules_limits_default(&lim);
	rules_limit_find(&lim, "peer-rejects")->crit = 11;
	model_free(m);
	m = model1();
	eval(m, t, &lim, &f);
	assert_int_equal(rc_find(&f, "peer-rejects")->sev, TD_F_CRITICAL);
	rules_findings_free(&f);
	model_free(m);
	trace_agg_free(t);
}

static void test_nothing_without_failures(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_model *m = model1(), *m2 = model1();
	struct td_findings f;

	(void)state;
	add(t, TD_EV_CLOSE_LOCAL, 0, 100, "curl", "10.0.0.5", 443, INO, 5);
	eval(m, t, NULL, &f);
	assert_null(rc_find(&f, "peer-rejects"));
	assert_null(rc_find(&f, "port-exhaustion"));
	rules_findings_free(&f);
	/* failures, but no trace attached: the rules cannot know */
	add(t, TD_EV_CONNECT_FAIL, ECONNREFUSED, 100, "curl", "10.0.0.5", 443, INO, 5);
	eval(m2, NULL, NULL, &f);
	assert_null(rc_find(&f, "peer-rejects"));
	rules_findings_free(&f);
	model_free(m);
	model_free(m2);
	trace_agg_free(t);
}

static void test_exhaustion_named(void **state)
{
	struct td_trace_agg *t = trace_agg_new();
	struct td_model *m = model1();
	struct td_findings f;
	const struct td_finding *x;
	struct td_trace_event e;

	(void)state;
	add(t, TD_EV_CONNECT_FAIL, EADDRNOTAVAIL, 200, "loadgen", "10.0.0.7", 80, INO, 4);
	add(t, TD_EV_CONNECT_FAIL, ECONNREFUSED, 200, "loadgen", "10.0.0.5", 443, INO, 3);
	/* bind() to a fixed busy port is a conflict, not exhaustion */
	memset(&e, 0, sizeof(e));
	e.kind = TD_EV_BIND_FAIL;
	e.err = EADDRINUSE;
	e.pid = 201;
	e.netns = INO;
	e.family = AF_INET;
	e.sport = 8080;
	assert_int_equal(trace_agg_add(t, &e), 0);
	eval(m, t, NULL, &f);
	assert_non_null(x = rc_find(&f, "port-exhaustion"));
	assert_int_equal(x->sev, TD_F_CRITICAL);
	assert_true(ev(x, "traced_failures") == 4);
	assert_int_equal(x->ntraced, 1);
	assert_string_equal(x->traced[0].comm, "loadgen");
	assert_int_equal(x->traced[0].pid, 200);
	assert_int_equal(x->traced[0].err, EADDRNOTAVAIL);
	assert_string_equal(x->traced[0].dst, "10.0.0.7:80");
	assert_string_equal(x->subject, "-> 10.0.0.7:80");
	/* ports are not fine here: the refusals do not make a peer-rejects finding */
	assert_null(rc_find(&f, "peer-rejects"));
	rules_findings_free(&f);
	model_free(m);
	trace_agg_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_rejects),
		cmocka_unit_test(test_nothing_without_failures),
		cmocka_unit_test(test_exhaustion_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
