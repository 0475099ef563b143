// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/core/conntrack/conntrack.c and ct_census.c: a ctnetlink dump captured from a private
 * namespace with a known table (tests/data/conntrack/capture.py: 1 TCP ESTABLISHED, 2 TCP
 * TIME_WAIT, 4 IPv4 UDP flows to ports 6000-6003 and 1 IPv6 UDP flow to 7000, all UDP
 * unreplied), messages built here (every field, per-CPU statistics summed), hostile ones
 * (truncated, bad attribute lengths, kernel errors, DONE, DUMP_INTR), the /proc/net/stat text,
 * and the census and groups.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "core/conntrack/conntrack.h"
#include "core/conntrack/ct_census.h"
#include "core/util.h"

#define MAXN 64

struct got {
	struct td_ct v[MAXN];
	unsigned n;
	unsigned fail_at;
};

static int collect(const struct td_ct *ct, void *arg)
{
	struct got *g = arg;

	if (g->fail_at && g->n + 1 == g->fail_at)
		return -ECANCELED;
	if (g->n < MAXN)
		g->v[g->n] = *ct;
	g->n++;
	return 0;
}

/* Parses from an exact-size heap copy, so ASan sees any read past the end. */
static int parse(const void *buf, size_t len, struct got *g, struct td_ct_dump_stats *st)
{
	void *copy = xmalloc(len ? len : 1);
	memcpy(copy, buf, len);
	int r = conntrack_parse(copy, len, collect, g, st);
	free(copy);
	return r;
}

static void *load(const char *name, size_t *len)
{
	char path[256], *text;
	snprintf(path, sizeof(path), "%s/tests/data/conntrack/%s",
		 getenv("TD_ROOT") ? getenv("TD_ROOT") : ".", name);
	assert_int_equal(util_read_file(path, 1 << 20, &text, len), 0);
	return text;
}

static void test_captured_dump(void **state)
{
	struct got g = { 0 };
	struct td_ct_dump_stats st = { 0 };
	struct td_ct_census c = { 0 };
	size_t len;
	void *buf = load("dump.bin", &len);
	(void)state;

	assert_int_equal(parse(buf, len, &g, &st), 1);
	assert_int_equal(g.n, 8);
	assert_int_equal(st.entries, 8);
	assert_false(st.interrupted);
	for (unsigned i = 0; i < g.n; i++)
		ct_census_add(&c, &g.v[i]);
	assert_int_equal(c.proto[IPPROTO_TCP], 3);
	assert_int_equal(c.proto[IPPROTO_UDP], 5);
	assert_int_equal(c.tcp_state[TD_CT_TCP_ESTABLISHED], 1);
	assert_int_equal(c.tcp_state[TD_CT_TCP_TIME_WAIT], 2);
	assert_int_equal(c.ipv4, 7);
	assert_int_equal(c.ipv6, 1);
	assert_int_equal(c.unreplied, 5);
	assert_int_equal(c.assured, 3);
	for (unsigned i = 0; i < g.n; i++) {
		const struct td_ct *ct = &g.v[i];
		if (ct->proto == IPPROTO_TCP) {
			assert_int_equal(ct->dport, 5000);
			assert_memory_equal(ct->dst, ((uint8_t[4]){ 127, 0, 0, 1 }), 4);
		} else if (ct->family == AF_INET6) {
			assert_int_equal(ct->dport, 7000);
			assert_int_equal(ct->dst[15], 1);
		} else {
			assert_in_range(ct->dport, 6000, 6003);
			assert_in_range(ct->timeout_s, 1, 30);
		}
	}
	free(buf);
}

static void test_captured_stats(void **state)
{
	struct td_ct_stats s = { 0 };
	size_t len;
	void *buf = load("stats.bin", &len);
	(void)state;

	void *copy = xmalloc(len);
	memcpy(copy, buf, len);
	assert_int_equal(conntrack_stats_parse(copy, len, &s), 1);
	assert_int_equal(s.cpus, 2);
	free(copy);
	free(buf);
}

/* A buffer of messages built with libmnl. */
struct nbuf {
	union {
		char b[8192];
		uint32_t align;
	};
	size_t len;
};

static struct nlmsghdr *put(struct nbuf *nb, uint16_t type, uint8_t family, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nb->b + nb->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

static void done(struct nbuf *nb, struct nlmsghdr *nlh)
{
	nb->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

#define CT_NEW (NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW)

/* One CT_NEW entry with every field this parser reads. */
static void put_entry(struct nbuf *nb, uint8_t family, uint8_t proto, uint8_t tcp_state,
		      uint32_t status, uint16_t dport, uint16_t flags)
{
	struct nlmsghdr *nlh = put(nb, CT_NEW, family, flags);
	struct nlattr *tup = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (family == AF_INET) {
		mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(0x0a000001));
		mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(0x0a000002));
	} else {
		uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
			b[16] = { 0xfe, 0x80, [15] = 2 };
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, a);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, b);
	}
	mnl_attr_nest_end(nlh, ip);
	struct nlattr *pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(40000));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_put_u16(nlh, CTA_TUPLE_ZONE, htons(7));
	mnl_attr_nest_end(nlh, tup);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status));
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(117));
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(0xbeef));
	if (proto == IPPROTO_TCP) {
		struct nlattr *pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		struct nlattr *t = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, tcp_state);
		mnl_attr_nest_end(nlh, t);
		mnl_attr_nest_end(nlh, pi);
	}
	done(nb, nlh);
}

static void put_done(struct nbuf *nb)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nb->b + nb->len);
	nlh->nlmsg_type = NLMSG_DONE;
	mnl_nlmsg_put_extra_header(nlh, 4);
	done(nb, nlh);
}

static void test_built_fields(void **state)
{
	struct nbuf nb = { .len = 0 };
	struct got g = { 0 };
	struct td_ct_dump_stats st = { 0 };
	(void)state;

	put_entry(&nb, AF_INET, IPPROTO_TCP, TD_CT_TCP_TIME_WAIT, IPS_ASSURED | IPS_SEEN_REPLY, 443,
		  0);
	put_entry(&nb, AF_INET6, IPPROTO_UDP, 0, 0, 53, NLM_F_DUMP_INTR);
	put_entry(&nb, AF_INET, IPPROTO_TCP, 200 /* out of range */, IPS_SEEN_REPLY, 80, 0);
	assert_int_equal(parse(nb.b, nb.len, &g, &st), 0); /* no DONE yet: more to come */
	assert_int_equal(g.n, 3);
	assert_true(st.interrupted);

	const struct td_ct *a = &g.v[0], *b = &g.v[1], *c = &g.v[2];
	assert_int_equal(a->family, AF_INET);
	assert_int_equal(a->proto, IPPROTO_TCP);
	assert_int_equal(a->tcp_state, TD_CT_TCP_TIME_WAIT);
	assert_true(a->assured);
	assert_false(a->unreplied);
	assert_int_equal(a->sport, 40000);
	assert_int_equal(a->dport, 443);
	assert_int_equal(a->zone, 7);
	assert_int_equal(a->timeout_s, 117);
	assert_int_equal(a->mark, 0xbeef);
	assert_memory_equal(a->src, ((uint8_t[4]){ 10, 0, 0, 1 }), 4);
	assert_memory_equal(a->dst, ((uint8_t[4]){ 10, 0, 0, 2 }), 4);
	assert_int_equal(b->family, AF_INET6);
	assert_true(b->unreplied);
	assert_false(b->assured);
	assert_int_equal(b->tcp_state, TD_CT_TCP_NONE);
	assert_int_equal(b->src[0], 0x20);
	assert_int_equal(b->dst[15], 2);
	assert_int_equal(c->tcp_state, TD_CT_TCP_NONE); /* unknown state number */

	put_done(&nb);
	g.n = 0;
	assert_int_equal(parse(nb.b, nb.len, &g, &st), 1);
	assert_int_equal(g.n, 3);
}

static void test_hostile(void **state)
{
	struct nbuf nb = { .len = 0 };
	struct got g = { 0 };
	struct td_ct_dump_stats st = { 0 };
	(void)state;

	put_entry(&nb, AF_INET, IPPROTO_TCP, TD_CT_TCP_ESTABLISHED, IPS_ASSURED, 22, 0);
	size_t one = nb.len;
	/* every truncation of a valid message is an error or "more to come", never a crash,
	 * and never a half-read entry */
	for (size_t cut = 1; cut < one; cut++) {
		g.n = 0;
		int r = parse(nb.b, cut, &g, &st);
		assert_true(r == -EBADMSG || r == 0);
		assert_int_equal(g.n, 0);
	}
	/* a nested attribute whose length runs past its parent */
	struct nbuf bad = nb;
	struct nlmsghdr *nlh = (struct nlmsghdr *)bad.b;
	struct nlattr *first =
		(struct nlattr *)((char *)mnl_nlmsg_get_payload(nlh) + sizeof(struct nfgenmsg));
	first->nla_len = (uint16_t)(nlh->nlmsg_len + 8);
	g.n = 0;
	assert_int_equal(parse(bad.b, bad.len, &g, &st), -EBADMSG);
	assert_int_equal(g.n, 0);
	/* an entry without its original tuple is corrupt */
	struct nbuf nt = { .len = 0 };
	nlh = put(&nt, CT_NEW, AF_INET, 0);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_ASSURED));
	done(&nt, nlh);
	assert_int_equal(parse(nt.b, nt.len, &g, &st), -EBADMSG);
	/* a wrong-sized integer attribute */
	struct nbuf ws = { .len = 0 };
	nlh = put(&ws, CT_NEW, AF_INET, 0);
	struct nlattr *tup = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u16(nlh, CTA_IP_V4_SRC, 1);
	mnl_attr_nest_end(nlh, ip);
	mnl_attr_nest_end(nlh, tup);
	done(&ws, nlh);
	assert_int_equal(parse(ws.b, ws.len, &g, &st), -EBADMSG);
	/* a kernel error ends the dump with its errno */
	struct nbuf er = { .len = 0 };
	nlh = mnl_nlmsg_put_header(er.b);
	nlh->nlmsg_type = NLMSG_ERROR;
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -EPERM;
	done(&er, nlh);
	assert_int_equal(parse(er.b, er.len, &g, &st), -EPERM);
	e->error = -100000; /* no such errno */
	assert_int_equal(parse(er.b, er.len, &g, &st), -EBADMSG);
	/* a misaligned buffer is refused, not read */
	assert_int_equal(conntrack_parse(nb.b + 1, one - 1, collect, &g, &st), -EINVAL);
	/* other message types are skipped and counted */
	struct nbuf ot = { .len = 0 };
	nlh = put(&ot, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE, AF_INET, 0);
	done(&ot, nlh);
	memset(&st, 0, sizeof(st));
	g.n = 0;
	assert_int_equal(parse(ot.b, ot.len, &g, &st), 0);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(g.n, 0);
}

static void test_callback_stops(void **state)
{
	struct nbuf nb = { .len = 0 };
	struct got g = { .fail_at = 2 };
	struct td_ct_dump_stats st = { 0 };
	(void)state;

	for (int i = 0; i < 4; i++)
		put_entry(&nb, AF_INET, IPPROTO_UDP, 0, 0, (uint16_t)(1000 + i), 0);
	assert_int_equal(parse(nb.b, nb.len, &g, &st), -ECANCELED);
	assert_int_equal(g.n, 1);
	assert_int_equal(st.entries, 2);
}

static void test_stats_built(void **state)
{
	struct nbuf nb = { .len = 0 };
	struct td_ct_stats s = { 0 };
	(void)state;

	for (uint32_t cpu = 0; cpu < 3; cpu++) {
		struct nlmsghdr *nlh =
			put(&nb, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET_STATS_CPU, 0, 0);
		mnl_attr_put_u32(nlh, CTA_STATS_FOUND, htonl(10 * (cpu + 1)));
		mnl_attr_put_u32(nlh, CTA_STATS_INVALID, htonl(1));
		mnl_attr_put_u32(nlh, CTA_STATS_INSERT, htonl(2));
		mnl_attr_put_u32(nlh, CTA_STATS_INSERT_FAILED, htonl(3));
		mnl_attr_put_u32(nlh, CTA_STATS_DROP, htonl(4));
		mnl_attr_put_u32(nlh, CTA_STATS_EARLY_DROP, htonl(5));
		mnl_attr_put_u32(nlh, CTA_STATS_ERROR, htonl(6));
		mnl_attr_put_u32(nlh, CTA_STATS_SEARCH_RESTART, htonl(7));
		mnl_attr_put_u32(nlh, CTA_STATS_CLASH_RESOLVE, htonl(8));
		mnl_attr_put_u32(nlh, CTA_STATS_CHAIN_TOOLONG, htonl(0xffffffff));
		mnl_attr_put_u32(nlh, CTA_STATS_SEARCHED, htonl(99)); /* unused: not summed */
		done(&nb, nlh);
	}
	put_done(&nb);
	assert_int_equal(conntrack_stats_parse(nb.b, nb.len, &s), 1);
	assert_int_equal(s.cpus, 3);
	assert_int_equal(s.found, 60);
	assert_int_equal(s.invalid, 3);
	assert_int_equal(s.insert, 6);
	assert_int_equal(s.insert_failed, 9);
	assert_int_equal(s.drop, 12);
	assert_int_equal(s.early_drop, 15);
	assert_int_equal(s.error, 18);
	assert_int_equal(s.search_restart, 21);
	assert_int_equal(s.clash_resolve, 24);
	assert_int_equal(s.chaintoolong, 3ull * 0xffffffffull); /* summed in 64 bits */

	/* a u16 where a u32 belongs */
	struct nbuf bad = { .len = 0 };
	struct nlmsghdr *nlh =
		put(&bad, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET_STATS_CPU, 0, 0);
	mnl_attr_put_u16(nlh, CTA_STATS_DROP, 1);
	done(&bad, nlh);
	assert_int_equal(conntrack_stats_parse(bad.b, bad.len, &s), -EBADMSG);
}

static void test_stats_proc(void **state)
{
	/* the 6.18 layout: entries clashres found new invalid ignore delete chainlength insert ... */
	static const char text[] =
		"entries  clashres found new invalid ignore delete chainlength insert "
		"insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete "
		"search_restart\n"
		"0000002d  00000001 00000010 00000000 00000002 00000000 00000000 00000003 "
		"00000004 00000005 00000006 00000007 00000008  00000000 00000000 00000000 "
		"00000009\n"
		"0000002d  00000001 00000010 00000000 00000002 00000000 00000000 00000003 "
		"00000004 00000005 00000006 00000007 00000008  00000000 00000000 00000000 "
		"0000000a\n";
	struct td_ct_stats s = { 0 };
	(void)state;

	assert_int_equal(conntrack_stats_parse_proc(text, strlen(text), &s), 0);
	assert_int_equal(s.cpus, 2);
	assert_int_equal(s.clash_resolve, 2);
	assert_int_equal(s.found, 32);
	assert_int_equal(s.invalid, 4);
	assert_int_equal(s.chaintoolong, 6);
	assert_int_equal(s.insert, 8);
	assert_int_equal(s.insert_failed, 10);
	assert_int_equal(s.drop, 12);
	assert_int_equal(s.early_drop, 14);
	assert_int_equal(s.error, 16);
	assert_int_equal(s.search_restart, 19);

	static const char *const bad[] = {
		"",
		"found drop\n",				      /* header only: fine, no CPU */
		"found drop\n00000001\n",		      /* a short row */
		"found drop\n00000001 0000000g\n",	      /* not hex */
		"found drop\n00000001 1111111111111111111\n", /* too long */
		"found drop\n00000001 00000002 00000003\n",   /* a long row */
	};
	int want[] = { -EBADMSG, 0, -EBADMSG, -EBADMSG, -EBADMSG, -EBADMSG };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct td_ct_stats t = { 0 };
		assert_int_equal(conntrack_stats_parse_proc(bad[i], strlen(bad[i]), &t), want[i]);
		if (want[i])
			assert_int_equal(t.cpus, 0); /* nothing half-added */
	}
}

static void test_groups(void **state)
{
	struct td_ct_groups *g = ct_groups_new(TD_CT_BY_DPORT);
	struct td_ct ct = { .family = AF_INET, .proto = IPPROTO_TCP };
	size_t idx[8];
	char buf[64];
	(void)state;

	for (int i = 0; i < 5; i++) {
		ct.dport = 443;
		ct.tcp_state = i < 3 ? TD_CT_TCP_TIME_WAIT : TD_CT_TCP_ESTABLISHED;
		ct_groups_add(g, &ct, 0);
	}
	ct.proto = IPPROTO_UDP;
	ct.dport = 53;
	ct.unreplied = true;
	ct_groups_add(g, &ct, 0);
	ct_groups_add(g, &ct, 0);
	ct_groups_add(g, &ct, 1); /* another namespace: its own group */
	assert_int_equal(ct_groups_count(g), 3);
	assert_int_equal(ct_groups_top(g, 8, idx), 3);
	assert_string_equal(ct_key_str(TD_CT_BY_DPORT, ct_groups_key(g, idx[0]), buf, sizeof(buf)),
			    "tcp/443");
	assert_int_equal(ct_groups_val(g, idx[0])->entries, 5);
	assert_int_equal(ct_groups_val(g, idx[0])->time_wait, 3);
	assert_int_equal(ct_groups_val(g, idx[1])->entries, 2);
	assert_int_equal(ct_groups_val(g, idx[1])->unreplied, 2);
	assert_int_equal(ct_groups_top(g, 1, idx), 1);
	assert_int_equal(ct_groups_val(g, idx[0])->entries, 5);
	assert_int_equal(ct_groups_top(g, 0, idx), 0);
	ct_groups_free(g);

	static const struct {
		enum td_ct_by by;
		const char *want;
	} keys[] = {
		{ TD_CT_BY_SRC, "10.0.0.1" }, { TD_CT_BY_DST, "10.0.0.2" },
		{ TD_CT_BY_PROTO, "udp" },    { TD_CT_BY_STATE, "tcp CLOSE_WAIT" },
		{ TD_CT_BY_ZONE, "zone 3" },
	};
	struct td_ct one = { .family = AF_INET,
			     .proto = IPPROTO_UDP,
			     .zone = 3,
			     .src = { 10, 0, 0, 1 },
			     .dst = { 10, 0, 0, 2 } };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct td_ct_groups *k = ct_groups_new(keys[i].by);
		one.proto = keys[i].by == TD_CT_BY_STATE ? IPPROTO_TCP : IPPROTO_UDP;
		one.tcp_state = TD_CT_TCP_CLOSE_WAIT;
		ct_groups_add(k, &one, 0);
		assert_string_equal(ct_key_str(keys[i].by, ct_groups_key(k, 0), buf, sizeof(buf)),
				    keys[i].want);
		ct_groups_free(k);
	}
	enum td_ct_by by;
	assert_int_equal(ct_by_parse("zone", &by), 0);
	assert_int_equal(by, TD_CT_BY_ZONE);
	assert_int_equal(ct_by_parse("Zone", &by), -EINVAL);
	assert_string_equal(conntrack_tcp_state_name(TD_CT_TCP_COUNT), "NONE");
	assert_string_equal(conntrack_tcp_timeout_name(TD_CT_TCP_TIME_WAIT), "tcp_time_wait");
	assert_null(conntrack_proto_name(250));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_dump),  cmocka_unit_test(test_captured_stats),
		cmocka_unit_test(test_built_fields),   cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_callback_stops), cmocka_unit_test(test_stats_built),
		cmocka_unit_test(test_stats_proc),     cmocka_unit_test(test_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
