// SPDX-License-Identifier: MIT
/*
 * Unit tests for the findings engine on hand-built models (no kernel): an empty model gives no
 * finding (and no qsort of a NULL array), each socket rule fires with the right id, severity and
 * subject at its threshold and not below, thresholds are found by name, state thresholds work,
 * the range rule stays quiet when one destination explains the usage, and findings come worst
 * first. Then the wording and arithmetic of issue 10: what holds a destination's ports decides
 * cause and remedies, the reuse delay and sustainable rate, bind evidence for the range finding,
 * EOF versus data in CLOSE_WAIT queues, FIN_WAIT2 above a 60 s tcp_fin_timeout, and the SYN
 * retransmission schedule.
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

#include "core/model/counters.h"
#include "core/model/model.h"
#include "core/model/ports.h"
#include "core/rules/rules.h"
#include "core/util.h"
#include "unit/rulecheck.h"

/* Evaluates m with the default limits. */
static void eval_default(struct td_model *m, struct td_findings *f)
{
	struct td_limits lim;

	rules_limits_default(&lim);
	rc_eval(m, &lim, f);
}

static void done(struct td_model *m, struct td_findings *f)
{
	rules_findings_free(f);
	model_free(m);
}

static void test_empty(void **state)
{
	struct td_model *m = rc_model("");
	struct td_findings f;
	(void)state;

	eval_default(m, &f);
	assert_int_equal(f.n, 0);
	assert_int_equal(rules_worst(&f), TD_F_OK);
	done(m, &f);
}

static void test_listener(void **state)
{
	static const struct {
		uint32_t q, backlog;
		enum td_fsev sev;
		bool unknown; /* read from /proc: no backlog, no finding whatever the queue */
	} cases[] = {
		{ 4, 3, TD_F_CRITICAL, false }, /* full: backlog 3 holds 4 */
		{ 4, 4, TD_F_WARNING, false },	/* 80 % of 5 */
		{ 3, 4, TD_F_OK, false },	/* 60 % */
		{ 129, 128, TD_F_CRITICAL, false }, { 4, 0, TD_F_OK, true },
		{ 129, 0, TD_F_OK, true },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_model *m = rc_model("");
		struct td_findings f;
		struct td_listener *l = xcalloc(1, sizeof(*l));
		l->family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", l->addr);
		l->port = 8080;
		l->accept_q = cases[i].q;
		l->backlog = cases[i].backlog;
		l->backlog_unknown = cases[i].unknown;
		l->syn_recv = cases[i].unknown ? 50 : 0;
		m->ns[0].lis = l;
		m->ns[0].nlis = 1;
		eval_default(m, &f);
		const struct td_finding *x = rc_find(&f, "accept-queue");
		if (cases[i].sev == TD_F_OK) {
			assert_null(x);
			assert_null(rc_find(&f, "syn-queue"));
		} else {
			assert_non_null(x);
			assert_int_equal(x->sev, cases[i].sev);
			assert_string_equal(x->subject, "127.0.0.1:8080");
		}
		done(m, &f);
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
		struct td_model *m = rc_model("");
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
		eval_default(m, &f);
		const struct td_finding *x = rc_find(&f, "close-wait-leak");
		if (cases[i].sev == TD_F_OK) {
			assert_null(x);
		} else {
			assert_non_null(x);
			assert_int_equal(x->sev, cases[i].sev);
			assert_string_equal(x->subject, "pid 4242 (leaky)");
			assert_non_null(strstr(x->cause, "10.0.0.5:5432"));
			assert_non_null(strstr(x->cause, "no sysctl"));
		}
		done(m, &f);
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
	struct td_model *m = rc_model("");
	struct td_findings f;
	(void)state;

	/* one destination holding all 100 ports: port-exhaustion, and no range finding */
	m->ns[0].dests = dest("198.18.0.1", 80, 100, 100, 0);
	m->ns[0].ndests = 1;
	m->ns[0].src = xcalloc(1, sizeof(*m->ns[0].src));
	m->ns[0].nsrc = 1;
	m->ns[0].src[0] = (struct td_src_ports){ .family = AF_INET, .n = 100, .capacity = 100 };
	inet_pton(AF_INET, "198.18.0.1", m->ns[0].src[0].addr);
	eval_default(m, &f);
	const struct td_finding *x = rc_find(&f, "port-exhaustion");
	assert_non_null(x);
	assert_int_equal(x->sev, TD_F_CRITICAL);
	assert_string_equal(x->subject, "198.18.0.1 -> 198.18.0.2:80");
	assert_non_null(strstr(x->title, "exhausted"));
	assert_null(rc_find(&f, "ephemeral-range"));
	/* remedies: application first, sysctls last */
	assert_non_null(strstr(x->remedies[0], "Reuse connections"));
	assert_non_null(strstr(x->remedies[x->nrem - 1], "ip_local_port_range"));
	rules_findings_free(&f);

	/* the same 100 ports spread over 4 destinations of 25, half of them of the parity bind(0)
	 * takes first (connect() would not at 25 of 50 per parity): only the range is full */
	struct td_port_dest *d = m->ns[0].dests;
	d->in_use = 25;
	d->preferred = 50;
	d->n[TD_SS_TIME_WAIT] = 25;
	d->exhaust_s = -1;
	m->ns[0].src[0].bind_parity = 50;
	eval_default(m, &f);
	assert_null(rc_find(&f, "port-exhaustion"));
	x = rc_find(&f, "ephemeral-range");
	assert_non_null(x);
	assert_int_equal(x->sev, TD_F_CRITICAL);
	assert_string_equal(x->subject, "198.18.0.1");
	done(m, &f);
}

static void test_limits_and_order(void **state)
{
	struct td_model *m = rc_model("");
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
	rc_eval(m, &lim, &f);
	assert_int_equal(f.n, 2);
	/* worst first */
	assert_int_equal(f.v[0].sev, TD_F_CRITICAL);
	assert_string_equal(f.v[0].subject, "CLOSE_WAIT");
	assert_int_equal(f.v[1].sev, TD_F_WARNING);
	assert_string_equal(f.v[1].subject, "TIME_WAIT");
	assert_true(f.v[1].ev[0].value == 100);
	assert_int_equal(rules_worst(&f), TD_F_CRITICAL);
	assert_string_equal(rules_sev_name(rules_worst(&f)), "critical");
	done(m, &f);
}

static void set_meta(struct td_model *m, const char *meta)
{
	free(m->ns[0].meta);
	m->ns[0].meta = xstrdup(meta);
}

static bool has(const char *s, const char *sub)
{
	return s && strstr(s, sub);
}

static bool any_remedy(const struct td_finding *x, const char *sub)
{
	for (size_t i = 0; i < x->nrem; i++)
		if (strstr(x->remedies[i], sub))
			return true;
	return false;
}

static double ev(const struct td_finding *x, const char *key)
{
	const struct td_evidence *e = rc_evidence(x, key);

	return e ? e->value : -1;
}

/* Issue 10.1: ports held by orphaned FIN_WAIT2 (the server never closes) with tcp_tw_reuse=1:
 * the finding names FIN_WAIT2, blames the peer, offers tcp_fin_timeout, and never tw_reuse,
 * SO_LINGER or "let the server close first". */
static void test_ports_held_by_fin_wait2(void **state)
{
	struct td_model *m = rc_model("");
	struct td_findings f;
	(void)state;

	set_meta(m, "net.ipv4.ip_local_port_range=40000 40099\nnet.ipv4.tcp_tw_reuse=1\n"
		    "net.ipv4.tcp_fin_timeout=60\nnet.ipv4.tcp_tw_reuse_delay=1000\n");
	struct td_port_dest *d = dest("198.18.0.1", 8080, 100, 100, 0);
	d->n[TD_SS_TIME_WAIT] = 0;
	d->n[TD_SS_FIN_WAIT2] = 100;
	d->reuse = TD_REUSE_ACTIVE;
	m->ns[0].dests = d;
	m->ns[0].ndests = 1;
	eval_default(m, &f);
	const struct td_finding *x = rc_find(&f, "port-exhaustion");
	assert_non_null(x);
	assert_true(has(x->title, "exhausted: 100 of 100 in use (100 FIN_WAIT2)"));
	assert_true(has(x->cause, "held by 100 FIN_WAIT2."));
	assert_true(has(x->cause, "198.18.0.2:8080 acknowledged but never closed its side"));
	assert_true(has(x->cause, "tcp_fin_timeout (60 s here)"));
	assert_true(has(x->cause, "tcp_tw_reuse never takes one over"));
	assert_false(has(x->cause, "closes/s"));
	assert_false(has(x->cause, "this host closed first"));
	assert_true(has(x->remedies[0], "Fix 198.18.0.2:8080"));
	assert_true(any_remedy(x, "lower net.ipv4.tcp_fin_timeout (60 s here)"));
	assert_false(any_remedy(x, "tcp_tw_reuse already applies"));
	assert_false(any_remedy(x, "SO_LINGER"));
	assert_false(any_remedy(x, "Let the server close first"));
	assert_true(any_remedy(x, "\"32768 65535\" (32768 ports instead of 100;"));
	assert_false(any_remedy(x, "16384"));
	assert_true(ev(x, "fin_wait2") == 100);
	assert_true(ev(x, "time_wait") == 0);
	assert_true(ev(x, "tcp_fin_timeout") == 60);
	done(m, &f);
}

/* Issue 10.1 and 10.2: TIME_WAIT holders with reuse active: the delay comes from
 * tcp_tw_reuse_delay, runs from entry into TIME_WAIT, and the sustainable rate is capacity /
 * delay; without the key (before 6.14) the peer's timestamp rule and 1 s. */
static void test_ports_time_wait_reuse_delay(void **state)
{
	static const struct {
		const char *meta, *delay, *rate, *held;
	} cases[] = {
		{ "net.ipv4.tcp_tw_reuse=1\nnet.ipv4.tcp_tw_reuse_delay=250\n",
		  "250 ms (tcp_tw_reuse_delay) after it entered TIME_WAIT",
		  "about 400 connections/s can be sustained (capacity 100 / reuse delay 0.25 s)",
		  "At 40 closes/s that is about 10 ports held." },
		{ "net.ipv4.tcp_tw_reuse=1\n",
		  "about 1 s after the peer's last timestamp (kernels before 6.14",
		  "about 100 connections/s can be sustained (capacity 100 / reuse delay 1 s)",
		  "At 40 closes/s that is about 40 ports held." },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_model *m = rc_model("");
		struct td_findings f;
		set_meta(m, cases[i].meta);
		struct td_port_dest *d = dest("198.18.0.1", 80, 95, 100, 3);
		d->reuse = TD_REUSE_ACTIVE;
		d->rate = 40;
		m->ns[0].dests = d;
		m->ns[0].ndests = 1;
		eval_default(m, &f);
		const struct td_finding *x = rc_find(&f, "port-exhaustion");
		assert_non_null(x);
		assert_true(has(x->title, "(95%: 95 TIME_WAIT), exhausted in 3 s at 40 closes/s"));
		assert_true(has(x->cause, cases[i].delay));
		assert_true(has(x->cause, cases[i].held));
		assert_true(any_remedy(x, cases[i].rate));
		assert_true(any_remedy(x, "Let the server close first"));
		assert_false(any_remedy(x, "tcp_fin_timeout"));
		done(m, &f);
	}
}

/* With reuse active, TIME_WAIT past the reuse delay do not block connect(): the grade counts the
 * ports connect() cannot take (95 in use, 40 reusable: 55 %, a warning; all reusable: none). */
static void test_ports_reusable_not_blocking(void **state)
{
	static const struct {
		uint32_t reusable;
		enum td_fsev sev;
	} cases[] = { { 40, TD_F_WARNING }, { 95, TD_F_OK }, { 0, TD_F_CRITICAL } };
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_model *m = rc_model("");
		struct td_findings f;
		set_meta(m, "net.ipv4.tcp_tw_reuse=1\nnet.ipv4.tcp_tw_reuse_delay=1000\n");
		struct td_port_dest *d = dest("198.18.0.1", 80, 95, 100, -1);
		d->reuse = TD_REUSE_ACTIVE;
		d->reusable = cases[i].reusable;
		m->ns[0].dests = d;
		m->ns[0].ndests = 1;
		eval_default(m, &f);
		const struct td_finding *x = rc_find(&f, "port-exhaustion");
		if (cases[i].sev == TD_F_OK) {
			assert_null(x);
		} else {
			assert_non_null(x);
			assert_int_equal(x->sev, cases[i].sev);
			assert_true(ev(x, "reusable") == cases[i].reusable);
			assert_true(has(x->title, "(95%: 95 TIME_WAIT") &&
				    has(x->title, "40 TIME_WAIT past the reuse delay") ==
					    (cases[i].reusable == 40));
		}
		done(m, &f);
	}
}

/* Several holders: each named with its count, most first; remedies for each. */
static void test_ports_mixed_holders(void **state)
{
	struct td_model *m = rc_model("");
	struct td_findings f;
	(void)state;

	set_meta(m, "net.ipv4.ip_local_port_range=1024 65535\n");
	struct td_port_dest *d = dest("198.18.0.1", 80, 100, 100, 0);
	d->n[TD_SS_TIME_WAIT] = 60;
	d->n[TD_SS_ESTABLISHED] = 30;
	d->n[TD_SS_FIN_WAIT2] = 10;
	d->reuse = TD_REUSE_OFF;
	m->ns[0].dests = d;
	m->ns[0].ndests = 1;
	eval_default(m, &f);
	const struct td_finding *x = rc_find(&f, "port-exhaustion");
	assert_non_null(x);
	assert_true(has(x->title, "(60 TIME_WAIT, 30 ESTABLISHED and 10 FIN_WAIT2)"));
	assert_true(has(x->cause, "TIME_WAIT: this host closed first, and each keeps its port "
				  "for 60 s"));
	assert_true(has(x->cause, "ESTABLISHED: 30 open connections"));
	assert_true(has(x->cause, "FIN_WAIT2: this host closed"));
	assert_true(any_remedy(x, "net.ipv4.tcp_tw_reuse=1 lets connect() take over a TIME_WAIT "
				  "about 1 s after"));
	assert_true(any_remedy(x, "tcp_fin_timeout"));
	/* 1024-65535 is already wider than any range lint accepts: no widening proposed */
	assert_false(any_remedy(x, "ip_local_port_range"));
	assert_true(ev(x, "time_wait") == 60 && ev(x, "established") == 30 &&
		    ev(x, "fin_wait2") == 10);
	done(m, &f);
}

/* Issue 10.8: the range finding says bind() fails only when sockets hold ports of bind's parity
 * beyond what connect() explains. */
static void test_range_bind_evidence(void **state)
{
	static const struct {
		uint32_t bind_parity;
		enum td_fsev sev;
		const char *title;
	} cases[] = {
		{ 0, TD_F_INFO, "connect() can still share them" },
		{ 50, TD_F_CRITICAL,
		  "50 of them apparently bound before connect(): bind(addr, 0) "
		  "fails with EADDRINUSE" },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_model *m = rc_model("");
		struct td_findings f;
		set_meta(m, "net.ipv4.ip_local_port_range=40000 40099\n");
		m->ns[0].dests = xcalloc(4, sizeof(*m->ns[0].dests));
		for (int j = 0; j < 4; j++) {
			struct td_port_dest *d =
				dest("198.18.0.1", (uint16_t)(80 + j), 25, 100, -1);
			d->preferred = 50;
			m->ns[0].dests[j] = *d;
			free(d);
		}
		m->ns[0].ndests = 4;
		m->ns[0].src = xcalloc(1, sizeof(*m->ns[0].src));
		m->ns[0].nsrc = 1;
		m->ns[0].src[0] = (struct td_src_ports){ .family = AF_INET,
							 .n = 100,
							 .capacity = 100,
							 .bind_parity = cases[i].bind_parity };
		inet_pton(AF_INET, "198.18.0.1", m->ns[0].src[0].addr);
		eval_default(m, &f);
		const struct td_finding *x = rc_find(&f, "ephemeral-range");
		assert_non_null(x);
		assert_int_equal(x->sev, cases[i].sev);
		assert_true(has(x->title, cases[i].title));
		assert_true(ev(x, "bound_before_connect") == cases[i].bind_parity);
		if (!cases[i].bind_parity)
			assert_false(has(x->title, "EADDRINUSE"));
		done(m, &f);
	}
}

/* Issue 10.3: rqueue 1 of an idle CLOSE_WAIT is the FIN, not data. */
static void test_close_wait_eof(void **state)
{
	static const struct {
		uint32_t eof_unread;
		uint64_t data;
		const char *says;
	} cases[] = {
		{ 20, 0, "The program never read EOF on any of them" },
		{ 0, 0, "read EOF (read() returned 0) on all of them and still did not close()" },
		{ 5, 300, "On 5 the program never read EOF; on 15 it read EOF" },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_model *m = rc_model("");
		struct td_findings f;
		struct td_cw_proc *w = xcalloc(1, sizeof(*w));
		w->pid = 7;
		strcpy(w->comm, "idle");
		w->n = 20;
		w->eof_unread = cases[i].eof_unread;
		w->unread_data = cases[i].data;
		m->ns[0].cw = w;
		m->ns[0].ncw = 1;
		eval_default(m, &f);
		const struct td_finding *x = rc_find(&f, "close-wait-leak");
		assert_non_null(x);
		assert_true(has(x->cause, cases[i].says));
		assert_true(ev(x, "never_read_eof") == cases[i].eof_unread);
		assert_true(ev(x, "unread_data") == (double)cases[i].data);
		assert_true(ev(x, "unread") == -1);
		assert_true(has(x->cause, "bytes of data wait unread") == (cases[i].data > 0));
		done(m, &f);
	}
}

/* Issue 10.4: above 60 s of tcp_fin_timeout an orphaned FIN_WAIT2 is a full orphan first. */
static void test_fin_wait2_timeout(void **state)
{
	struct td_model *m = rc_model("");
	struct td_findings f;
	(void)state;

	m->ns[0].fw2_orphans = 1000;
	m->ns[0].fw2_full = 1000;
	set_meta(m, "net.ipv4.tcp_fin_timeout=120\n");
	eval_default(m, &f);
	const struct td_finding *x = rc_find(&f, "fin-wait2-orphans");
	assert_non_null(x);
	assert_true(has(x->cause, "stays a full orphan socket for its first 60 s"));
	assert_true(has(x->cause, "tcp_max_orphans"));
	assert_true(has(x->cause, "for another 60 s. Now 1000 are full orphans and 0 timewait"));
	assert_false(has(x->cause, "Each is kept as a timewait socket"));
	assert_true(ev(x, "full_orphans") == 1000 && ev(x, "timewait_sockets") == 0);
	rules_findings_free(&f);

	m->ns[0].fw2_full = 0;
	set_meta(m, "net.ipv4.tcp_fin_timeout=30\n");
	eval_default(m, &f);
	x = rc_find(&f, "fin-wait2-orphans");
	assert_non_null(x);
	assert_true(has(x->cause, "Each is kept as a timewait socket for tcp_fin_timeout (30 s)"));
	assert_false(has(x->cause, "tcp_max_orphans"));
	done(m, &f);
}

/* Issue 10.8: the SYN schedule, checked against tcp_timer.c and measured on 6.18 (connect()
 * to a silent peer: 2/4 failed after 7.13 s, 2/1 8.24, 2/0 7.18, 1/4 3.06, 1/1 4.07, 1/0 3.04;
 * 6/4 133.6 s with timer slack). */
static void test_syn_schedule(void **state)
{
	static const struct {
		unsigned retries, linear, n;
		double at[12], give_up;
	} cases[] = {
		{ 6, 4, 10, { 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 }, 131 },
		{ 6, 0, 6, { 1, 3, 7, 15, 31, 63 }, 127 },
		{ 2, 4, 5, { 1, 2, 3, 4, 5 }, 7 },
		{ 2, 1, 3, { 1, 2, 4 }, 8 },
		{ 2, 0, 2, { 1, 3 }, 7 },
		{ 1, 4, 2, { 1, 2 }, 3 },
		{ 1, 1, 2, { 1, 2 }, 4 },
		{ 1, 0, 1, { 1 }, 3 },
		{ 8, 4, 12, { 1, 2, 3, 4, 5, 7, 11, 19, 35, 67, 131, 251 }, 371 },
	};
	struct td_syn_schedule s;
	char t[200];
	(void)state;

	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		rules_syn_schedule(cases[i].retries, cases[i].linear, &s);
		assert_int_equal(s.n, cases[i].n);
		for (unsigned k = 0; k < s.n && k < TD_SYN_AT_MAX; k++)
			assert_true(s.at[k] == cases[i].at[k]);
		assert_true(s.give_up == cases[i].give_up);
	}
	rules_syn_schedule(6, 4, &s);
	rules_syn_text(&s, t, sizeof(t));
	assert_string_equal(t, "resends its SYN after 1, 2, 3, 4, 5, 7, 11, 19, 35 and 67 s and "
			       "connect() fails after about 131 s");
	rules_syn_schedule(1, 0, &s);
	rules_syn_text(&s, t, sizeof(t));
	assert_string_equal(t, "resends its SYN after 1 s and connect() fails after about 3 s");
	rules_syn_schedule(20, 4, &s);
	rules_syn_text(&s, t, sizeof(t));
	assert_true(has(t, "131, 251, ... s and connect() fails after about"));
}

/* Issue 10.8: ListenOverflows counts dropped SYNs too, and the retry schedule is this
 * namespace's. */
static void test_listen_overflow_text(void **state)
{
	static const char netstat[] = "TcpExt: ListenOverflows ListenDrops TCPReqQFullDrop\n"
				      "TcpExt: 5 5 3\n";
	struct td_model *m = rc_model("");
	struct td_findings f;
	(void)state;

	m->ns[0].c0 = counters_new();
	assert_int_equal(
		counters_parse(m->ns[0].c0, COUNTERS_NETSTAT, netstat, sizeof(netstat) - 1, NULL),
		0);
	set_meta(m, "net.ipv4.tcp_syn_retries=3\nnet.ipv4.tcp_syn_linear_timeouts=2\n");
	eval_default(m, &f);
	const struct td_finding *x = rc_find(&f, "listen-overflows");
	assert_non_null(x);
	assert_true(has(x->cause, "a new SYN (the client stays in SYN_SENT"));
	assert_true(has(x->cause,
			"(tcp_syn_retries=3, tcp_syn_linear_timeouts=2) resends its "
			"SYN after 1, 2, 3, 5 and 9 s and connect() fails after about 17 s"));
	x = rc_find(&f, "syn-drops");
	assert_non_null(x);
	assert_false(has(x->cause, "1, 3, 7 s"));
	assert_true(has(x->cause, "after 1, 2, 3, 5 and 9 s"));
	rules_findings_free(&f);

	set_meta(m, "net.ipv4.tcp_syn_retries=6\n"); /* before 6.5: no linear timeouts */
	eval_default(m, &f);
	x = rc_find(&f, "listen-overflows");
	assert_true(has(x->cause, "(tcp_syn_retries=6, no linear timeouts before 6.5) resends its "
				  "SYN after 1, 3, 7, 15, 31 and 63 s and connect() fails after "
				  "about 127 s"));
	done(m, &f);
}

/* rules_remedy keeps TD_REMEDIES_MAX and counts what it could not keep. */
static void test_remedy_overflow_counted(void **state)
{
	struct td_finding x = { 0 };

	(void)state;
	for (int i = 0; i < TD_REMEDIES_MAX + 2; i++)
		rules_remedy(&x, "remedy %d", i);
	assert_int_equal(x.nrem, TD_REMEDIES_MAX);
	assert_int_equal(x.nrem_dropped, 2);
	assert_string_equal(x.remedies[TD_REMEDIES_MAX - 1], "remedy 9");
	for (size_t i = 0; i < x.nrem; i++)
		free(x.remedies[i]);
}

/* The one mapping from a sysctl verdict's severity to a finding's, for every value. */
static void test_sev_of_sysctl(void **state)
{
	static const struct {
		enum td_sev in;
		enum td_fsev out;
	} t[] = {
		{ TD_SEV_OK, TD_F_OK },		  { TD_SEV_INFO, TD_F_OK },
		{ TD_SEV_NOTE, TD_F_OK },	  { TD_SEV_WARN, TD_F_INFO },
		{ TD_SEV_HARMFUL, TD_F_WARNING }, { TD_SEV_ERROR, TD_F_WARNING },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(rules_sev_of_sysctl(t[i].in), t[i].out);
	/* every td_sev is in the table above */
	assert_int_equal(sizeof(t) / sizeof(t[0]), TD_SEV_ERROR + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remedy_overflow_counted),
		cmocka_unit_test(test_sev_of_sysctl),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_listener),
		cmocka_unit_test(test_close_wait),
		cmocka_unit_test(test_ports_and_range),
		cmocka_unit_test(test_limits_and_order),
		cmocka_unit_test(test_ports_held_by_fin_wait2),
		cmocka_unit_test(test_ports_time_wait_reuse_delay),
		cmocka_unit_test(test_ports_mixed_holders),
		cmocka_unit_test(test_ports_reusable_not_blocking),
		cmocka_unit_test(test_range_bind_evidence),
		cmocka_unit_test(test_close_wait_eof),
		cmocka_unit_test(test_fin_wait2_timeout),
		cmocka_unit_test(test_syn_schedule),
		cmocka_unit_test(test_listen_overflow_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
