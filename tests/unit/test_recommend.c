// SPDX-License-Identifier: MIT
/*
 * Unit tests for the recommendation policy on hand-built models (no kernel): a fresh namespace
 * gets nothing; each recommendation fires at its boundary and not just below it (harmful values
 * back to the default, tcp_tw_reuse when TIME_WAIT holds more than half of one destination's
 * ports, somaxconn doubled when ListenOverflows meets a capped listener, the cases no sysctl
 * fixes, the server profile's somaxconn floor); a key is suggested once, with the larger value;
 * application fixes come first; the audit's cross-key facts come from the same model.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/model/counters.h"
#include "core/model/model.h"
#include "core/model/ports.h"
#include "core/sysctl/recommend.h"
#include "core/util.h"

/* A fresh namespace's values of the keys the policy reads. */
#define FRESH                                                                                      \
	"net.ipv4.tcp_timestamps=1\nnet.ipv4.tcp_tw_reuse=2\nnet.core.somaxconn=4096\n"            \
	"net.ipv4.ip_local_port_range=32768 60999\nnet.ipv4.tcp_max_tw_buckets=32768\n"

static const struct td_kenv env = { .kver = PARAMS_KV(6, 8), .ehash = 65536 };

static struct td_ns_model *ns_new(const char *meta)
{
	struct td_ns_model *ns = xcalloc(1, sizeof(*ns));

	ns->name = xstrdup("");
	ns->meta = xstrdup(meta);
	return ns;
}

static void ns_free(struct td_ns_model *ns)
{
	free(ns->name);
	free(ns->meta);
	free(ns->lis);
	free(ns->dests);
	counters_free(ns->c0);
	free(ns);
}

/* One client-side destination holding tw TIME_WAIT of capacity ports. */
static void add_dest(struct td_ns_model *ns, uint32_t tw, uint32_t capacity)
{
	struct td_port_dest *d;

	ns->dests = xrealloc(ns->dests, (ns->ndests + 1) * sizeof(*d));
	d = &ns->dests[ns->ndests++];
	memset(d, 0, sizeof(*d));
	d->family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", d->src);
	inet_pton(AF_INET, "10.0.0.2", d->dst);
	d->dport = 80;
	d->n[TD_SS_TIME_WAIT] = d->in_use = tw;
	d->capacity = capacity;
	ns->census.n[TD_FI_INET][TD_SS_TIME_WAIT] += tw;
}

static void add_listener(struct td_ns_model *ns, uint16_t port, uint32_t backlog)
{
	ns->lis = xrealloc(ns->lis, (ns->nlis + 1) * sizeof(*ns->lis));
	memset(&ns->lis[ns->nlis], 0, sizeof(*ns->lis));
	ns->lis[ns->nlis].family = AF_INET;
	ns->lis[ns->nlis].port = port;
	ns->lis[ns->nlis++].backlog = backlog;
}

static void set_netstat(struct td_ns_model *ns, uint64_t listen_overflows, uint64_t tw_overflow)
{
	char text[200];
	int n = snprintf(text, sizeof(text),
			 "TcpExt: ListenOverflows TCPTimeWaitOverflow\nTcpExt: %" PRIu64 " %" PRIu64
			 "\n",
			 listen_overflows, tw_overflow);

	ns->c0 = counters_new();
	assert_int_equal(counters_parse(ns->c0, COUNTERS_NETSTAT, text, (size_t)n, NULL), 0);
}

static const struct td_rec *rec_of(const struct td_recs *rs, const char *key)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].key && !strcmp(rs->v[i].key, key))
			return &rs->v[i];
	return NULL;
}

static size_t count_kind(const struct td_recs *rs, enum td_rec_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n; i++)
		n += rs->v[i].kind == k;
	return n;
}

static void test_fresh(void **state)
{
	struct td_ns_model *ns = ns_new(FRESH);
	struct td_recs rs;
	(void)state;

	add_listener(ns, 22, 4096);
	for (int p = TD_REC_AUTO; p <= TD_REC_SERVER; p++) {
		recommend_run(ns, &env, (enum td_rec_profile)p, &rs);
		/* the client profile asks for reuse 1 even without evidence */
		assert_int_equal(rs.n, p == TD_REC_CLIENT ? 1 : 0);
		recommend_free(&rs);
	}
	ns_free(ns);
}

static void test_harmful(void **state)
{
	struct td_ns_model *ns = ns_new(
		"net.ipv4.tcp_timestamps=0\nnet.ipv4.tcp_tw_reuse=1\nnet.core.somaxconn=4096\n"
		"net.ipv4.tcp_max_tw_buckets=5000\n");
	struct td_recs rs;
	(void)state;

	recommend_run(ns, &env, TD_REC_AUTO, &rs);
	assert_int_equal(rs.n, 2);
	const struct td_rec *r = rec_of(&rs, "net.ipv4.tcp_timestamps");
	assert_non_null(r);
	assert_int_equal(r->kind, TD_REC_RESET);
	assert_string_equal(r->current, "0");
	assert_string_equal(r->suggested, "1");
	assert_non_null(strstr(r->reason, "Back to this kernel's default"));
	assert_non_null(r->ref);
	r = rec_of(&rs, "net.ipv4.tcp_max_tw_buckets");
	assert_non_null(r);
	assert_string_equal(r->current, "5000");
	assert_string_equal(r->suggested, "32768"); /* half the ehash */
	/* reuse=1 is dead without timestamps, but the fix is timestamps, not reuse */
	assert_null(rec_of(&rs, "net.ipv4.tcp_tw_reuse"));
	recommend_free(&rs);
	ns_free(ns);
}

static void test_tw_reuse_boundary(void **state)
{
	static const struct {
		const char *meta;
		uint32_t tw, capacity;
		enum td_rec_profile prof;
		enum td_rec_kind kind; /* TD_REC_KIND_COUNT: none */
	} cases[] = {
		{ FRESH, 50, 100, TD_REC_AUTO, TD_REC_KIND_COUNT }, /* half: not more */
		{ FRESH, 51, 100, TD_REC_AUTO, TD_REC_EVIDENCE },
		{ FRESH, 51, 100, TD_REC_SERVER, TD_REC_KIND_COUNT }, /* never for a server */
		{ FRESH, 50, 100, TD_REC_CLIENT, TD_REC_PROFILE },
		{ FRESH, 51, 100, TD_REC_CLIENT, TD_REC_EVIDENCE },
		{ FRESH, 51, 0, TD_REC_AUTO, TD_REC_KIND_COUNT }, /* no capacity: no ratio */
		{ "net.ipv4.tcp_timestamps=1\nnet.ipv4.tcp_tw_reuse=1\n", 99, 100, TD_REC_CLIENT,
		  TD_REC_KIND_COUNT }, /* already on */
		{ "net.ipv4.tcp_tw_reuse=2\n", 99, 100, TD_REC_AUTO,
		  TD_REC_KIND_COUNT }, /* timestamps unknown */
	};
	(void)state;

	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_ns_model *ns = ns_new(cases[i].meta);
		struct td_recs rs;
		add_dest(ns, 3, 100); /* a smaller destination first: the busiest one counts */
		add_dest(ns, cases[i].tw, cases[i].capacity);
		recommend_run(ns, &env, cases[i].prof, &rs);
		const struct td_rec *r = rec_of(&rs, "net.ipv4.tcp_tw_reuse");
		assert_int_equal(rs.ev.top_tw, cases[i].tw);
		assert_int_equal(rs.ev.time_wait, cases[i].tw + 3);
		if (cases[i].kind == TD_REC_KIND_COUNT) {
			assert_null(r);
		} else {
			assert_non_null(r);
			assert_int_equal(r->kind, cases[i].kind);
			assert_string_equal(r->suggested, "1");
			assert_string_equal(r->ref, "tcp-facts#tw-reuse");
		}
		if (r && r->kind == TD_REC_EVIDENCE) {
			char want[128];
			snprintf(want, sizeof(want),
				 "%u TIME_WAIT sockets to 10.0.0.2 port 80 hold %u of the %u",
				 cases[i].tw, cases[i].tw, cases[i].capacity);
			assert_non_null(strstr(r->reason, want));
			assert_non_null(r->app_fix);
		}
		recommend_free(&rs);
		ns_free(ns);
	}
}

static void test_listen(void **state)
{
	static const struct {
		const char *somaxconn;
		uint32_t backlog;
		uint64_t overflows, tw_overflow;
		enum td_rec_profile prof;
		const char *suggested; /* NULL: no somaxconn line */
		size_t napp;
	} cases[] = {
		{ "4096", 4096, 0, 0, TD_REC_AUTO, NULL, 0 },	  /* no overflow */
		{ "4096", 4096, 1, 0, TD_REC_AUTO, "8192", 0 },	  /* capped */
		{ "4096", 4095, 1, 0, TD_REC_AUTO, NULL, 1 },	  /* not capped: the program */
		{ "65536", 65536, 1, 0, TD_REC_AUTO, NULL, 1 },	  /* no larger value */
		{ "4096", 4096, 0, 1, TD_REC_AUTO, NULL, 1 },	  /* TIME_WAIT overflow */
		{ "4095", 128, 0, 0, TD_REC_SERVER, "4096", 0 },  /* the server floor */
		{ "4096", 128, 0, 0, TD_REC_SERVER, NULL, 0 },	  /* at the floor */
		{ "1024", 1024, 3, 0, TD_REC_SERVER, "4096", 0 }, /* once, the larger */
		{ "4000", 4000, 3, 0, TD_REC_SERVER, "8000", 0 }, /* once, the larger */
	};
	(void)state;

	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		char meta[128];
		snprintf(meta, sizeof(meta), "net.core.somaxconn=%s\n", cases[i].somaxconn);
		struct td_ns_model *ns = ns_new(meta);
		struct td_recs rs;
		add_listener(ns, 8080, cases[i].backlog);
		add_listener(ns, 8080, cases[i].backlog); /* IPv6 on the same port */
		set_netstat(ns, cases[i].overflows, cases[i].tw_overflow);
		recommend_run(ns, &env, cases[i].prof, &rs);
		assert_int_equal(rs.ev.listeners, 1);
		assert_int_equal(rs.ev.listen_overflows, cases[i].overflows);
		const struct td_rec *r = rec_of(&rs, "net.core.somaxconn");
		if (cases[i].suggested) {
			assert_non_null(r);
			assert_string_equal(r->suggested, cases[i].suggested);
			assert_string_equal(r->current, cases[i].somaxconn);
		} else {
			assert_null(r);
		}
		assert_int_equal(count_kind(&rs, TD_REC_APP), cases[i].napp);
		recommend_free(&rs);
		ns_free(ns);
	}
}

static void test_app_first(void **state)
{
	struct td_ns_model *ns = ns_new("net.ipv4.tcp_timestamps=0\nnet.core.somaxconn=4096\n");
	struct td_recs rs;
	(void)state;

	set_netstat(ns, 0, 7);
	recommend_run(ns, &env, TD_REC_AUTO, &rs);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.v[0].kind, TD_REC_APP);
	assert_null(rs.v[0].key);
	assert_string_equal(rs.v[0].ref, "tcp-facts#tw-buckets");
	assert_non_null(strstr(rs.v[0].reason, "TCPTimeWaitOverflow = 7"));
	assert_int_equal(rs.v[1].kind, TD_REC_RESET);
	recommend_free(&rs);
	ns_free(ns);
}

static void test_cross_facts(void **state)
{
	struct td_ns_model *ns = ns_new("net.ipv4.tcp_timestamps=1\nnet.ipv4.ip_local_port_range="
					"32768  60999\nnet.core.somaxconn=128\n");
	struct td_rec_cross x;
	char text[] = "TCP: inuse 1 orphan 0 tw 17 alloc 1 mem 0\n";
	(void)state;

	add_listener(ns, 40000, 128);
	add_listener(ns, 40000, 128);
	add_listener(ns, 22, 4096);
	ns->c0 = counters_new();
	assert_int_equal(counters_parse(ns->c0, COUNTERS_SOCKSTAT, text, sizeof(text) - 1, NULL),
			 0);
	recommend_cross_facts(ns, &x);
	assert_string_equal(x.f.timestamps, "1");
	assert_string_equal(x.f.port_range, "32768 60999"); /* blanks folded */
	assert_string_equal(x.f.somaxconn, "128");
	assert_null(x.f.tw_reuse);
	assert_null(x.f.max_tw);
	assert_int_equal(x.f.nlisteners, 2);
	assert_int_equal(x.f.listeners[0].port, 40000);
	assert_int_equal(x.f.listeners[0].backlog, 128);
	assert_true(x.f.have_tw);
	assert_int_equal(x.f.tw_count, 17);
	recommend_cross_free(&x);
	ns_free(ns);
}

static void test_names(void **state)
{
	enum td_rec_profile p;
	(void)state;

	assert_int_equal(recommend_profile_parse("server", &p), 0);
	assert_int_equal(p, TD_REC_SERVER);
	assert_string_equal(recommend_profile_name(p), "server");
	assert_int_equal(recommend_profile_parse("Server", &p), -EINVAL);
	assert_string_equal(recommend_kind_name(TD_REC_APP), "app");
	assert_string_equal(recommend_kind_name(TD_REC_KIND_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_harmful),
		cmocka_unit_test(test_tw_reuse_boundary),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_app_first),
		cmocka_unit_test(test_cross_facts),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
