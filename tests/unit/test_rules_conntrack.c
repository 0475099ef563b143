// SPDX-License-Identifier: MIT
/*
 * Unit tests for the conntrack rules (src/core/rules/rules_conntrack.c) on hand-built models: a
 * namespace without conntrack, or with an idle table, gets nothing; each finding fires at its
 * threshold and not one entry below, with its evidence numbers; the remedies come in order
 * (reuse, notrack, timeouts, raise the limit) with the exact notrack rule, the timeout read and
 * the memory computed from the entry size; a child namespace is told it cannot raise the limit;
 * counters with no interval only inform; a namespace name needing shell quotes is not pasted into
 * a command; and the slabinfo parser refuses hostile lines.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/model/model.h"
#include "core/rules/rules.h"
#include "core/util.h"
#include "unit/rulecheck.h"

/* One namespace with a tracked table of count entries of nf_conntrack_max max. */
static struct td_model *model_ct(uint64_t count, uint64_t max, uint64_t buckets)
{
	struct td_model *m = rc_model("");
	struct td_ns_ct *ct;

	m->ct_entry_bytes = 256;
	m->ct_entry_measured = true;
	ct = &m->ns[0].ct;
	ct->present = true;
	ct->table = (struct td_ct_table){ true, true, true, count, max, buckets };
	ct->census.entries = count;
	ct->has_stats = true;
	ct->s1.insert = count;
	for (size_t i = 0; i < TD_CT_TIMEOUTS; i++)
		ct->timeouts[i].name = "";
	ct->timeouts[0] =
		(struct td_ct_timeout){ .name = "tcp_time_wait", .known = true, .seconds = 120 };
	ct->timeouts[1] = (struct td_ct_timeout){ .name = "udp", .known = true, .seconds = 30 };
	ct->timeouts[2] =
		(struct td_ct_timeout){ .name = "tcp_syn_sent", .known = true, .seconds = 120 };
	return m;
}

static double ev(const struct td_finding *x, const char *key)
{
	const struct td_evidence *e = rc_evidence(x, key);

	if (!e)
		fail_msg("no evidence '%s' in %s", key, x->id);
	return e ? e->value : -1;
}

static size_t count_ct(const struct td_findings *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += !strncmp(f->v[i].id, "conntrack-", 10);
	return n;
}

static void test_absent_and_idle(void **state)
{
	struct td_model *m = model_ct(0, 262144, 262144);
	struct td_limits lim;
	struct td_findings f;
	(void)state;

	rules_limits_default(&lim);
	m->ns[0].ct.s1.insert = 0;
	assert_false(model_ct_tracking(&m->ns[0].ct));
	rc_eval(m, &lim, &f);
	assert_int_equal(count_ct(&f), 0); /* idle table: a state, not a finding */
	rules_findings_free(&f);
	/* no conntrack in this kernel, whatever the numbers say */
	m->ns[0].ct.present = false;
	m->ns[0].ct.table.count = 262144;
	rc_eval(m, &lim, &f);
	assert_int_equal(count_ct(&f), 0);
	rules_findings_free(&f);
	model_free(m);
}

static void test_full_threshold(void **state)
{
	struct td_limits lim;
	struct td_findings f;
	(void)state;

	rules_limits_default(&lim);
	assert_non_null(rules_limit_find(&lim, "conntrack-usage"));
	/* 75% of 1000 warns, 749 does not; 90% is critical; the limit itself says dropped */
	struct {
		uint64_t count;
		int sev; /* -1: no finding */
	} cases[] = { { 749, -1 },
		      { 750, TD_F_WARNING },
		      { 899, TD_F_WARNING },
		      { 900, TD_F_CRITICAL },
		      { 1000, TD_F_CRITICAL } };
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_model *m = model_ct(cases[i].count, 1000, 1000);
		rc_eval(m, &lim, &f);
		const struct td_finding *x = rc_find(&f, "conntrack-full");
		if (cases[i].sev < 0) {
			assert_null(x);
		} else {
			assert_non_null(x);
			assert_int_equal(x->sev, cases[i].sev);
			assert_true(ev(x, "entries") == (double)cases[i].count);
			assert_true(ev(x, "nf_conntrack_max") == 1000);
			assert_true(ev(x, "usage") == (double)cases[i].count / 10.0);
			assert_string_equal(x->ref, "tcp-facts#conntrack");
			assert_non_null(strstr(x->cause,
					       "new TCP connects (inbound ssh too) time out, "
					       "ping gets no reply and DNS queries go "
					       "unanswered"));
			assert_non_null(strstr(x->cause, "The count is this namespace's; the limit "
							 "is the host's."));
			assert_non_null(strstr(x->title, cases[i].count == 1000
								 ? "full, new flows are dropped"
								 : "nearly full"));
		}
		rules_findings_free(&f);
		model_free(m);
	}
	/* check --warn conntrack_usage=1 moves the threshold */
	struct td_model *m = model_ct(10, 1000, 1000);
	rules_limit_find(&lim, "conntrack_usage")->warn = 1;
	rc_eval(m, &lim, &f);
	assert_non_null(rc_find(&f, "conntrack-full"));
	assert_int_equal(rc_find(&f, "conntrack-full")->sev, TD_F_WARNING);
	rules_findings_free(&f);
	model_free(m);
}

static void test_remedies_order(void **state)
{
	struct td_model *m = model_ct(1000, 1000, 1000);
	struct td_limits lim;
	struct td_findings f;
	(void)state;

	rules_limits_default(&lim);
	m->ns[0].ct.top_proto = IPPROTO_TCP;
	m->ns[0].ct.top_dport = 8080;
	m->ns[0].ct.top_n = 900;
	m->ns[0].ct.max_ro = true;
	rc_eval(m, &lim, &f);
	const struct td_finding *x = rc_find(&f, "conntrack-full");
	assert_non_null(x);
	assert_int_equal(x->nrem, 4);
	assert_true(!strncmp(x->remedies[0], "Reuse connections", 17));
	assert_non_null(strstr(x->remedies[0], "(120 s here)"));
	assert_true(!strncmp(x->remedies[1], "Do not track what needs no tracking", 35));
	assert_non_null(strstr(x->remedies[1], "tcp/8080 holds the most: 900 entries"));
	assert_non_null(strstr(x->remedies[1], "nft add chain inet tdnotrack pre '{ type filter "
					       "hook prerouting priority raw; }'"));
	assert_non_null(strstr(x->remedies[1], "nft add rule inet tdnotrack CHAIN tcp dport 8080 "
					       "notrack, and the same with tcp sport 8080"));
	assert_non_null(strstr(x->remedies[2], "nf_conntrack_tcp_timeout_time_wait=30 (120 s "
					       "here, 120 by default)"));
	assert_non_null(strstr(x->remedies[2], "unlike TCP's 60 s it is a sysctl, per namespace"));
	assert_true(!strncmp(x->remedies[3], "This namespace cannot: nf_conntrack_max is read-only",
			     52));
	/* 2000 entries x 256 bytes = 0.49 MiB -> "0 MiB"; 2000 buckets x 8 bytes */
	assert_non_null(strstr(x->remedies[3], "nf_conntrack_max=2000 "
					       "net.netfilter.nf_conntrack_buckets=2000"));
	assert_non_null(strstr(x->remedies[3], "256-byte nf_conntrack slab objects"));
	rules_findings_free(&f);
	model_free(m);

	/* the host's own namespace, a real size: 524288 x 256 B = 128 MiB, x 8 B = 4 MiB */
	m = model_ct(262144, 262144, 262144);
	m->ct_entry_measured = false;
	m->ct_entry_bytes = TD_CT_ENTRY_BYTES;
	rc_eval(m, &lim, &f);
	x = rc_find(&f, "conntrack-full");
	assert_non_null(x);
	assert_true(
		!strncmp(x->remedies[3], "Raise the limit with the hash table on the host", 47));
	assert_non_null(strstr(x->remedies[3], "holds 128 MiB of entries (about 256 bytes an "
					       "entry) and the buckets take 4 MiB"));
	/* with no port known the rule says PORT */
	assert_non_null(strstr(x->remedies[1], "tcp dport PORT notrack"));
	rules_findings_free(&f);
	model_free(m);
}

static void test_drops(void **state)
{
	struct td_model *m = model_ct(500, 262144, 262144);
	struct td_limits lim;
	struct td_findings f;
	struct td_ns_ct *ct = &m->ns[0].ct;
	(void)state;

	rules_limits_default(&lim);
	/* totals with no interval only inform */
	ct->s1.early_drop = 37856;
	rc_eval(m, &lim, &f);
	assert_non_null(rc_find(&f, "conntrack-drops"));
	assert_int_equal(rc_find(&f, "conntrack-drops")->sev, TD_F_INFO);
	assert_true(ev(rc_find(&f, "conntrack-drops"), "early_drop") == 37856);
	rules_findings_free(&f);
	/* with an interval: nothing moved, nothing to say */
	ct->has_delta = true;
	ct->s0 = ct->s1;
	ct->s0_ns = 1000000000;
	ct->s1_ns = 3000000000;
	rc_eval(m, &lim, &f);
	assert_null(rc_find(&f, "conntrack-drops"));
	rules_findings_free(&f);
	/* one early drop warns; drop + early_drop + insert_failed = 100 is critical */
	ct->s1.early_drop += 1;
	rc_eval(m, &lim, &f);
	const struct td_finding *x = rc_find(&f, "conntrack-drops");
	assert_non_null(x);
	assert_int_equal(x->sev, TD_F_WARNING);
	assert_true(ev(x, "early_drop") == 1 && ev(x, "drop") == 0 && ev(x, "interval") == 2);
	rules_findings_free(&f);
	ct->s1.drop += 90;
	ct->s1.insert_failed += 8;
	rc_eval(m, &lim, &f);
	assert_int_equal(rc_find(&f, "conntrack-drops")->sev, TD_F_WARNING); /* 99 */
	rules_findings_free(&f);
	ct->s1.insert_failed += 1;
	rc_eval(m, &lim, &f);
	x = rc_find(&f, "conntrack-drops");
	assert_int_equal(x->sev, TD_F_CRITICAL); /* 100 */
	assert_true(ev(x, "drop") == 90 && ev(x, "insert_failed") == 9);
	assert_true(!strncmp(x->remedies[0], "Reuse connections", 17));
	rules_findings_free(&f);
	model_free(m);
}

static void test_time_wait(void **state)
{
	struct td_limits lim;
	struct td_findings f;
	(void)state;

	rules_limits_default(&lim);
	/* 50% of the entries, and at least 100 of them */
	struct {
		uint64_t entries, tw;
		bool fires;
	} cases[] = {
		{ 1000, 499, false }, { 1000, 500, true }, { 198, 99, false }, { 200, 100, true }
	};
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_model *m = model_ct(cases[i].entries, 262144, 262144);
		m->ns[0].ct.census.tcp_state[TD_CT_TCP_TIME_WAIT] = cases[i].tw;
		m->ns[0].ct.timeouts[0].seconds = 600;
		rc_eval(m, &lim, &f);
		const struct td_finding *x = rc_find(&f, "conntrack-time-wait");
		assert_int_equal(x != NULL, cases[i].fires);
		if (x) {
			assert_int_equal(x->sev, TD_F_INFO); /* the table has room */
			assert_true(ev(x, "time_wait") == (double)cases[i].tw);
			assert_true(ev(x, "dumped") == (double)cases[i].entries);
			assert_true(ev(x, "share") == 50);
			assert_true(ev(x, "timeout_time_wait") == 600);
			assert_non_null(strstr(x->cause,
					       "600 s here (120 s by default, twice TCP's "
					       "60 s, and unlike TCP's a sysctl, per "
					       "namespace)"));
			assert_true(!strncmp(x->remedies[0], "Reuse connections", 17));
			assert_true(!strncmp(x->remedies[1], "Do not track", 12));
			assert_true(!strncmp(x->remedies[2], "Shorten conntrack's TIME_WAIT", 29));
			assert_non_null(strstr(x->remedies[3], "nf_conntrack_max"));
		}
		rules_findings_free(&f);
		model_free(m);
	}
	/* the same share in a table past the usage threshold warns */
	struct td_model *m = model_ct(200000, 262144, 262144);
	m->ns[0].ct.census.tcp_state[TD_CT_TCP_TIME_WAIT] = 190000;
	rc_eval(m, &lim, &f);
	assert_int_equal(rc_find(&f, "conntrack-time-wait")->sev, TD_F_WARNING);
	rules_findings_free(&f);
	model_free(m);
}

static void test_unreplied(void **state)
{
	struct td_model *m = model_ct(3300, 262144, 262144);
	struct td_limits lim;
	struct td_findings f;
	(void)state;

	rules_limits_default(&lim);
	free(m->ns[0].name);
	m->ns[0].name = xstrdup("web");
	m->ns[0].ct.census.unreplied = 1649;
	rc_eval(m, &lim, &f);
	assert_null(rc_find(&f, "conntrack-unreplied"));
	rules_findings_free(&f);
	m->ns[0].ct.census.unreplied = 1650;
	rc_eval(m, &lim, &f);
	const struct td_finding *x = rc_find(&f, "conntrack-unreplied");
	assert_non_null(x);
	assert_int_equal(x->sev, TD_F_INFO);
	assert_string_equal(x->netns, "web");
	assert_true(ev(x, "unreplied") == 1650 && ev(x, "share") == 50);
	assert_non_null(strstr(x->remedies[0], "tcpdoctor -N web conntrack --by dst"));
	assert_true(!strncmp(x->remedies[1], "Do not track", 12));
	assert_non_null(strstr(x->remedies[1], "ip netns exec web nft add table inet tdnotrack"));
	assert_non_null(strstr(x->remedies[2], "nf_conntrack_udp_timeout=10 (30 s here"));
	assert_non_null(strstr(x->remedies[3], "nf_conntrack_max"));
	assert_non_null(strstr(x->cause, "a scan, a flood, or an upstream that is down"));
	rules_findings_free(&f);
	/* a name that would need shell quoting is not pasted into a command */
	free(m->ns[0].name);
	m->ns[0].name = xstrdup("a b;$(x)");
	rc_eval(m, &lim, &f);
	x = rc_find(&f, "conntrack-unreplied");
	assert_non_null(strstr(x->remedies[1], "ip netns exec NS nft add table inet tdnotrack"));
	assert_null(strstr(x->remedies[1], "$(x)"));
	rules_findings_free(&f);
	model_free(m);
}

static void test_hash(void **state)
{
	struct td_model *m = model_ct(100, 262144, 262144);
	struct td_limits lim;
	struct td_findings f;
	struct td_ns_ct *ct = &m->ns[0].ct;
	(void)state;

	rules_limits_default(&lim);
	rc_eval(m, &lim, &f); /* max = buckets: chains of 2 at a full table */
	assert_null(rc_find(&f, "conntrack-hash"));
	rules_findings_free(&f);
	ct->table.buckets = 32769; /* 2 * 262144 / 32769 = 15.999 */
	rc_eval(m, &lim, &f);
	assert_null(rc_find(&f, "conntrack-hash"));
	rules_findings_free(&f);
	ct->table.buckets = 32768; /* 16 */
	rc_eval(m, &lim, &f);
	const struct td_finding *x = rc_find(&f, "conntrack-hash");
	assert_non_null(x);
	assert_int_equal(x->sev, TD_F_WARNING);
	assert_true(ev(x, "chain_when_full") == 16);
	assert_non_null(strstr(x->remedies[0], "nf_conntrack_buckets=262144 (2 MiB"));
	rules_findings_free(&f);
	/* chaintoolong rising warns whatever the ratio */
	ct->table.buckets = 262144;
	ct->has_delta = true;
	ct->s0 = ct->s1;
	ct->s1.chaintoolong = 3;
	ct->s1_ns = 1000000000;
	rc_eval(m, &lim, &f);
	x = rc_find(&f, "conntrack-hash");
	assert_non_null(x);
	assert_true(ev(x, "chaintoolong") == 3);
	assert_non_null(strstr(x->title, "insertions refused"));
	rules_findings_free(&f);
	model_free(m);
}

static void test_slab_parse(void **state)
{
	static const char ok[] = "slabinfo - version: 2.1\n"
				 "# name <active_objs> <num_objs> <objsize> ...\n"
				 "nf_conntrack_expect 0 0 208 39 2 : tunables 0 0 0\n"
				 "nf_conntrack          48    112    256   16    1 : tunables\n";
	uint64_t b = 0;
	(void)state;

	assert_int_equal(model_ct_slab_parse(ok, strlen(ok), &b), 0);
	assert_int_equal(b, 256);
	assert_int_equal(model_ct_slab_parse("nf_conntrack_expect 0 0 208\n", 28, &b), -ENOENT);
	assert_int_equal(model_ct_slab_parse("nf_conntrack 1 2 0 4\n", 21, &b), -EBADMSG);
	assert_int_equal(model_ct_slab_parse("nf_conntrack 1 2 x 4\n", 21, &b), -EBADMSG);
	assert_int_equal(model_ct_slab_parse("nf_conntrack 1 2\n", 17, &b), -EBADMSG);
	assert_int_equal(
		model_ct_slab_parse("nf_conntrack 1 2 99999999999999999999999 4\n", 43, &b),
		-EBADMSG);
	assert_int_equal(model_ct_slab_parse("", 0, &b), -ENOENT);
	/* no terminating newline, and not NUL-terminated */
	char raw[] = { 'n', 'f', '_', 'c', 'o', 'n', 'n', 't', 'r', 'a',
		       'c', 'k', ' ', '1', ' ', '2', ' ', '3', '2', '0' };
	assert_int_equal(model_ct_slab_parse(raw, sizeof(raw), &b), 0);
	assert_int_equal(b, 320);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent_and_idle),
		cmocka_unit_test(test_full_threshold),
		cmocka_unit_test(test_remedies_order),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_time_wait),
		cmocka_unit_test(test_unreplied),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_slab_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
