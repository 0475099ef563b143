// SPDX-License-Identifier: MIT
/*
 * Unit tests for the exporter's conntrack side (src/core/export/exporter.c) on hand-built models: the
 * families and their samples per namespace (entries, limit, per protocol and TCP state, the
 * statistics as counters), no sample for a namespace without conntrack or whose dump failed
 * (the dump-based families only), and the carry of the statistics from one collection to the
 * next, so that conntrack-drops judges what happened since the previous scrape.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/export/exporter.h"
#include "core/model/model.h"
#include "core/rules/rules.h"
#include "core/util.h"

static struct td_model *model2(void)
{
	struct td_model *m = xcalloc(1, sizeof(*m));

	m->n = 2;
	m->ns = xcalloc(2, sizeof(*m->ns));
	m->ns[0].name = xstrdup("web");
	m->ns[0].meta = xstrdup("");
	m->ns[1].name = xstrdup("bare");
	m->ns[1].meta = xstrdup("");
	m->ct_entry_bytes = 256;
	struct td_ns_ct *ct = &m->ns[0].ct;
	ct->present = true;
	ct->table = (struct td_ct_table){ true, true, true, 3350, 262144, 262144 };
	ct->census.entries = 3350;
	ct->census.proto[IPPROTO_TCP] = 350;
	ct->census.proto[IPPROTO_UDP] = 3000;
	ct->census.tcp_state[TD_CT_TCP_TIME_WAIT] = 350;
	ct->census.unreplied = 3000;
	ct->has_stats = true;
	ct->s1.drop = 5;
	ct->s1.early_drop = 7;
	ct->s1_ns = 1000000000;
	return m;
}

static const struct td_exporter_family *fam(const struct td_metrics *mt, const char *name)
{
	for (size_t i = 0; i < mt->n; i++)
		if (!strcmp(mt->v[i].name, name))
			return &mt->v[i];
	fail_msg("no family %s", name);
	return NULL;
}

/* The value of the sample whose labels are all given ("netns", "web", "state", "TIME_WAIT"). */
static double val(const struct td_exporter_family *f, size_t nl, ...)
{
	for (size_t i = 0; i < f->n; i++) {
		va_list ap;
		bool all = true;
		va_start(ap, nl);
		for (size_t k = 0; k < nl; k++) {
			const char *n = va_arg(ap, const char *), *v = va_arg(ap, const char *);
			bool hit = false;
			for (size_t j = 0; j < f->v[i].nlabels; j++)
				hit |= !strcmp(f->v[i].lname[j], n) && !strcmp(f->v[i].lval[j], v);
			all &= hit;
		}
		va_end(ap);
		if (all)
			return f->v[i].value;
	}
	return -1;
}

static void test_families(void **state)
{
	struct td_model *m = model2();
	struct td_metrics mt = { 0 };
	struct td_exporter_input in = { .m = m, .version = "t" };
	(void)state;

	exporter_build(&in, &mt);
	const struct td_exporter_family *f = fam(&mt, "tcpdoctor_conntrack_entries");
	assert_int_equal(f->type, EXPORTER_GAUGE);
	assert_int_equal(f->n, 1); /* "bare" has no conntrack: no sample */
	assert_true(val(f, 1, "netns", "web") == 3350);
	assert_true(val(fam(&mt, "tcpdoctor_conntrack_entries_limit"), 1, "netns", "web") ==
		    262144);
	f = fam(&mt, "tcpdoctor_conntrack_tcp_state_entries");
	assert_int_equal(f->n, TD_CT_TCP_COUNT - 1);
	assert_true(val(f, 2, "netns", "web", "state", "TIME_WAIT") == 350);
	assert_true(val(f, 2, "netns", "web", "state", "ESTABLISHED") == 0);
	f = fam(&mt, "tcpdoctor_conntrack_protocol_entries");
	assert_int_equal(f->n, 4); /* tcp, udp, icmp, icmpv6 */
	assert_true(val(f, 2, "netns", "web", "protocol", "udp") == 3000);
	assert_true(val(f, 2, "netns", "web", "protocol", "icmp") == 0);
	assert_true(val(fam(&mt, "tcpdoctor_conntrack_unreplied_entries"), 1, "netns", "web") ==
		    3000);
	f = fam(&mt, "tcpdoctor_conntrack_stat_early_drop_total");
	assert_int_equal(f->type, EXPORTER_COUNTER);
	assert_true(val(f, 1, "netns", "web") == 7);
	assert_true(val(fam(&mt, "tcpdoctor_conntrack_stat_drop_total"), 1, "netns", "web") == 5);
	exporter_metrics_free(&mt);

	/* a failed dump: the table's numbers stay, the census families go quiet */
	m->ns[0].ct.dump_err = -1;
	exporter_build(&in, &mt);
	assert_int_equal(fam(&mt, "tcpdoctor_conntrack_entries")->n, 1);
	assert_int_equal(fam(&mt, "tcpdoctor_conntrack_tcp_state_entries")->n, 0);
	assert_int_equal(fam(&mt, "tcpdoctor_conntrack_unreplied_entries")->n, 0);
	exporter_metrics_free(&mt);
	model_free(m);
}

static void test_carry(void **state)
{
	struct td_exporter_carry carry = { 0 };
	struct td_limits lim;
	struct td_findings f = { 0 };
	struct td_model *a = model2(), *b = model2();
	(void)state;

	rules_limits_default(&lim);
	exporter_carry_keep(&carry, a);
	model_free(a);
	/* the next collection: 3 more drops and 1 more early drop, 2 s later */
	b->ns[0].ct.s1.drop = 8;
	b->ns[0].ct.s1.early_drop = 8;
	b->ns[0].ct.s1_ns = 3000000000;
	exporter_carry_apply(&carry, b);
	assert_true(b->ns[0].ct.has_delta);
	assert_int_equal(b->ns[0].ct.s0.drop, 5);
	assert_false(b->ns[1].ct.has_delta);
	rules_evaluate(b, &lim, &f);
	const struct td_finding *x = NULL;
	for (size_t i = 0; i < f.n; i++)
		if (!strcmp(f.v[i].id, "conntrack-drops"))
			x = &f.v[i];
	assert_non_null(x);
	assert_int_equal(x->sev, TD_F_WARNING); /* 4, rising now */
	for (size_t i = 0; i < x->nev; i++) {
		if (!strcmp(x->ev[i].key, "drop"))
			assert_true(x->ev[i].value == 3);
		if (!strcmp(x->ev[i].key, "interval"))
			assert_true(x->ev[i].value == 2);
	}
	rules_findings_free(&f);
	exporter_carry_keep(&carry, b);
	model_free(b);
	exporter_carry_free(&carry);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_carry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
