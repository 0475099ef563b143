// SPDX-License-Identifier: MIT
/*
 * Unit tests for the findings engine on hand-built models (no kernel): an empty model gives no
 * finding (and no qsort of a NULL array), each socket rule fires with the right id, severity and
 * subject at its threshold and not below, thresholds are found by name, state thresholds work,
 * the range rule stays quiet when one destination explains the usage, and findings come worst
 * first.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/model.h"
#include "core/ports.h"
#include "core/rules.h"
#include "core/util.h"

static struct td_model *model1(void)
{
	struct td_model *m = xcalloc(1, sizeof(*m));

	m->n = 1;
	m->ns = xcalloc(1, sizeof(*m->ns));
	m->ns[0].name = xstrdup("");
	m->ns[0].meta = xstrdup("");
	return m;
}

static const struct td_finding *find(const struct td_findings *f, const char *id)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].id, id))
			return &f->v[i];
	return NULL;
}

static void eval(struct td_model *m, struct td_limits *lim, struct td_findings *f)
{
	memset(f, 0, sizeof(*f));
	rules_evaluate(m, lim, f);
}

static void test_empty(void **state)
{
	struct td_model *m = model1();
	struct td_limits lim;
	struct td_findings f;
	(void)state;

	rules_limits_default(&lim);
	eval(m, &lim, &f);
	assert_int_equal(f.n, 0);
	assert_int_equal(rules_worst(&f), TD_F_OK);
	rules_findings_free(&f);
	model_free(m);
}

static void test_listener(void **state)
{
	static const struct {
		uint32_t q, backlog;
		enum td_fsev sev;
	} cases[] = {
		{ 4, 3, TD_F_CRITICAL }, /* full: backlog 3 holds 4 */
		{ 4, 4, TD_F_WARNING },	 /* 80 % of 5 */
		{ 3, 4, TD_F_OK },	 /* 60 % */
		{ 129, 128, TD_F_CRITICAL },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_model *m = model1();
		struct td_limits lim;
		struct td_findings f;
		struct td_listener *l = xcalloc(1, sizeof(*l));
		l->family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", l->addr);
		l->port = 8080;
		l->accept_q = cases[i].q;
		l->backlog = cases[i].backlog;
		m->ns[0].lis = l;
		m->ns[0].nlis = 1;
		rules_limits_default(&lim);
		eval(m, &lim, &f);
		const struct td_finding *x = find(&f, "accept-queue");
		if (cases[i].sev == TD_F_OK) {
			assert_null(x);
		} else {
			assert_non_null(x);
			assert_int_equal(x->sev, cases[i].sev);
			assert_string_equal(x->subject, "127.0.0.1:8080");
		}
		rules_findings_free(&f);
		model_free(m);
	}
}

static void test_close_wait(void **state)
{
	static const struct {
		uint32_t n;
		enum td_fsev sev;
	} cases[] = {
		{ 9, TD_F_OK }, { 10, TD_F_WARNING }, { 999, TD_F_WARNING }, { 1000, TD_F_CRITICAL }
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_model *m = model1();
		struct td_limits lim;
		struct td_findings f;
		struct td_cw_proc *w = xcalloc(1, sizeof(*w));
		w->pid = 4242;
		strcpy(w->comm, "leaky");
		w->n = cases[i].n;
		w->peers[0] =
			(struct td_cw_peer){ .family = AF_INET, .port = 5432, .n = cases[i].n };
		inet_pton(AF_INET, "10.0.0.5", w->peers[0].addr);
		m->ns[0].cw = w;
		m->ns[0].ncw = 1;
		rules_limits_default(&lim);
		eval(m, &lim, &f);
		const struct td_finding *x = find(&f, "close-wait-leak");
		if (cases[i].sev == TD_F_OK) {
			assert_null(x);
		} else {
			assert_non_null(x);
			assert_int_equal(x->sev, cases[i].sev);
			assert_string_equal(x->subject, "pid 4242 (leaky)");
			assert_non_null(strstr(x->cause, "10.0.0.5:5432"));
			assert_non_null(strstr(x->cause, "no sysctl"));
		}
		rules_findings_free(&f);
		model_free(m);
	}
}

static struct td_port_dest *dest(const char *src, uint16_t dport, uint32_t in_use, uint32_t cap,
				 double exhaust)
{
	struct td_port_dest *d = xcalloc(1, sizeof(*d));

	d->family = AF_INET;
	inet_pton(AF_INET, src, d->src);
	inet_pton(AF_INET, "198.18.0.2", d->dst);
	d->dport = dport;
	d->in_use = in_use;
	d->capacity = cap;
	d->exhaust_s = exhaust;
	d->n[TD_SS_TIME_WAIT] = in_use;
	d->reuse = TD_REUSE_LOOPBACK_ONLY;
	return d;
}

static void test_ports_and_range(void **state)
{
	struct td_model *m = model1();
	struct td_limits lim;
	struct td_findings f;
	(void)state;

	/* one destination holding all 100 ports: port-exhaustion, and no range finding */
	m->ns[0].dests = dest("198.18.0.1", 80, 100, 100, 0);
	m->ns[0].ndests = 1;
	m->ns[0].src = xcalloc(1, sizeof(*m->ns[0].src));
	m->ns[0].nsrc = 1;
	m->ns[0].src[0] = (struct td_src_ports){ .family = AF_INET, .n = 100, .capacity = 100 };
	inet_pton(AF_INET, "198.18.0.1", m->ns[0].src[0].addr);
	rules_limits_default(&lim);
	eval(m, &lim, &f);
	const struct td_finding *x = find(&f, "port-exhaustion");
	assert_non_null(x);
	assert_int_equal(x->sev, TD_F_CRITICAL);
	assert_string_equal(x->subject, "198.18.0.1 -> 198.18.0.2:80");
	assert_non_null(strstr(x->title, "exhausted"));
	assert_null(find(&f, "ephemeral-range"));
	/* remedies: application first, sysctls last */
	assert_non_null(strstr(x->remedies[0], "Reuse connections"));
	assert_non_null(strstr(x->remedies[x->nrem - 1], "ip_local_port_range"));
	rules_findings_free(&f);

	/* the same 100 ports spread over 4 destinations of 25: only the range is full */
	struct td_port_dest *d = m->ns[0].dests;
	d->in_use = 25;
	d->n[TD_SS_TIME_WAIT] = 25;
	d->exhaust_s = -1;
	eval(m, &lim, &f);
	assert_null(find(&f, "port-exhaustion"));
	x = find(&f, "ephemeral-range");
	assert_non_null(x);
	assert_int_equal(x->sev, TD_F_CRITICAL);
	assert_string_equal(x->subject, "198.18.0.1");
	rules_findings_free(&f);
	model_free(m);
}

static void test_limits_and_order(void **state)
{
	struct td_model *m = model1();
	struct td_limits lim;
	struct td_findings f;
	(void)state;

	rules_limits_default(&lim);
	assert_non_null(rules_limit_find(&lim, "time-wait"));
	assert_ptr_equal(rules_limit_find(&lim, "TIME_WAIT"), rules_limit_find(&lim, "time_wait"));
	assert_non_null(rules_limit_find(&lim, "port_usage"));
	assert_null(rules_limit_find(&lim, "bogus"));

	m->ns[0].census.n[TD_FI_INET][TD_SS_TIME_WAIT] = 60;
	m->ns[0].census.n[TD_FI_INET6][TD_SS_TIME_WAIT] = 40;
	rules_limit_find(&lim, "time_wait")->warn = 50;
	rules_limit_find(&lim, "close_wait")->crit = 1;
	m->ns[0].census.n[TD_FI_INET][TD_SS_CLOSE_WAIT] = 1;
	eval(m, &lim, &f);
	assert_int_equal(f.n, 2);
	/* worst first */
	assert_int_equal(f.v[0].sev, TD_F_CRITICAL);
	assert_string_equal(f.v[0].subject, "CLOSE_WAIT");
	assert_int_equal(f.v[1].sev, TD_F_WARNING);
	assert_string_equal(f.v[1].subject, "TIME_WAIT");
	assert_true(f.v[1].ev[0].value == 100);
	assert_int_equal(rules_worst(&f), TD_F_CRITICAL);
	assert_string_equal(rules_sev_name(rules_worst(&f)), "critical");
	rules_findings_free(&f);
	model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_listener),
		cmocka_unit_test(test_close_wait),
		cmocka_unit_test(test_ports_and_range),
		cmocka_unit_test(test_limits_and_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
