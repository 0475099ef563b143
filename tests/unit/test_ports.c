// SPDX-License-Identifier: MIT
/* Unit tests for src/core/model/ports.c: strict sysctl parsers (hostile strings included), capacity
 * and parity, the tw_reuse loopback rule, close-rate and exhaustion arithmetic on constructed
 * sockets, server-side exclusion and risk order. "Now" is the dump: expires_ms is what is left. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/model/ports.h"
#include "core/util.h"

static void test_parse_range(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint16_t lo, hi;
	} cases[] = {
		{ "32768\t60999", 0, 32768, 60999 },
		{ "32768\t60999\n", 0, 32768, 60999 },
		{ "32768 60999", 0, 32768, 60999 },
		{ "1 \t 65535", 0, 1, 65535 },
		{ "5 5", 0, 5, 5 },
		{ "007 8", 0, 7, 8 },
		{ "60999 32768", -ERANGE, 0, 0 },
		{ "0 100", -ERANGE, 0, 0 },
		{ "1 65536", -ERANGE, 0, 0 },
		{ "99999999999999999999 1", -ERANGE, 0, 0 },
		{ "", -EINVAL, 0, 0 },
		{ "\n", -EINVAL, 0, 0 },
		{ "32768", -EINVAL, 0, 0 },
		{ "32768\t", -EINVAL, 0, 0 },
		{ "32768\t\n", -EINVAL, 0, 0 },
		{ " 1 2", -EINVAL, 0, 0 },
		{ "1 2 ", -EINVAL, 0, 0 },
		{ "1 2 3", -EINVAL, 0, 0 },
		{ "1 2\n\n", -EINVAL, 0, 0 },
		{ "1\n2", -EINVAL, 0, 0 },
		{ "1,2", -EINVAL, 0, 0 },
		{ "-1 5", -EINVAL, 0, 0 },
		{ "+1 5", -EINVAL, 0, 0 },
		{ "0x10 20", -EINVAL, 0, 0 },
		{ "1e3 2000", -EINVAL, 0, 0 },
		{ "1 2junk", -EINVAL, 0, 0 },
		{ "abcdefghijklmnopqrstuvwxyz 1", -EINVAL, 0, 0 },
		{ "1 2\0 3", 0, 1, 2 }, /* C string ends at the NUL */
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		uint16_t lo = 11, hi = 22;
		int r = ports_parse_range(cases[i].in, &lo, &hi);
		assert_int_equal(r, cases[i].ret);
		assert_int_equal(lo, r ? 11 : cases[i].lo);
		assert_int_equal(hi, r ? 22 : cases[i].hi);
	}
	uint16_t lo, hi;
	assert_int_equal(ports_parse_range(NULL, &lo, &hi), -EINVAL);
}

static void test_parse_reserved(void **state)
{
	static const struct {
		const char *in;
		int ret;
		unsigned nset; /* bits set on success */
	} cases[] = {
		{ "", 0, 0 },
		{ "\n", 0, 0 },
		{ "1000-1010,2000", 0, 12 },
		{ "1000-1010,2000\n", 0, 12 },
		{ "0,65535", 0, 2 },
		{ "0-65535", 0, 65536 },
		{ "5-5", 0, 1 },
		{ "3,3,3", 0, 1 },
		{ "5-3", -ERANGE, 0 },
		{ "65536", -ERANGE, 0 },
		{ "1-65536", -ERANGE, 0 },
		{ "123456789012345678901", -ERANGE, 0 },
		{ "1,,2", -EINVAL, 0 },
		{ ",1", -EINVAL, 0 },
		{ "1,", -EINVAL, 0 },
		{ "1,\n", -EINVAL, 0 },
		{ "1-", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "1-2-3", -EINVAL, 0 },
		{ "1 ,2", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "a", -EINVAL, 0 },
		{ "1\n\n", -EINVAL, 0 },
		{ "1\n2", -EINVAL, 0 },
		{ "1;2", -EINVAL, 0 },
	};
	static uint8_t bm[65536 / 8];
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		memset(bm, 0xaa, sizeof(bm));
		int r = ports_parse_reserved(cases[i].in, bm);
		assert_int_equal(r, cases[i].ret);
		unsigned n = 0;
		for (size_t j = 0; j < sizeof(bm); j++)
			n += (unsigned)__builtin_popcount(bm[j]);
		assert_int_equal(n, r ? 65536 / 2 : cases[i].nset); /* untouched on error */
	}
	assert_int_equal(ports_parse_reserved("1000-1010,2000", bm), 0);
	for (unsigned p = 990; p < 2010; p++) {
		bool want = (p >= 1000 && p <= 1010) || p == 2000;
		assert_int_equal(!!(bm[p / 8] & (1u << (p % 8))), want);
	}
}

static struct td_port_cfg *cfg_range(uint16_t lo, uint16_t hi, const char *resv)
{
	static struct td_port_cfg c; /* test-only scratch */

	ports_cfg_default(&c);
	c.low = lo;
	c.high = hi;
	assert_int_equal(ports_parse_reserved(resv, c.reserved), 0);
	return &c;
}

static void test_capacity_parity(void **state)
{
	static const struct {
		uint16_t lo, hi;
		const char *resv;
		unsigned cap, pref;
	} cases[] = {
		{ 32768, 60999, "", 28232, 14116 }, /* kernel default */
		{ 40000, 40099, "", 100, 50 },
		{ 40000, 40002, "", 2, 1 }, /* same parity: connect() never uses 40002 */
		{ 40001, 40003, "", 2, 1 },
		{ 40000, 40003, "", 4, 2 },
		{ 40000, 40000, "", 1, 1 },
		{ 40000, 40099, "40000", 99, 49 },
		{ 40000, 40099, "40001", 99, 50 },
		{ 40000, 40099, "39000-39999,40100-41000", 100, 50 }, /* outside the range */
		{ 40000, 40099, "40000-40099", 0, 0 },
		{ 40000, 40099, "40050-40200", 50, 25 },
		{ 1, 65535, "", 65534, 32767 },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_port_cfg *c = cfg_range(cases[i].lo, cases[i].hi, cases[i].resv);
		assert_int_equal(ports_capacity(c), cases[i].cap);
		assert_int_equal(ports_preferred(c), cases[i].pref);
	}
	struct td_port_cfg *c = cfg_range(40000, 40002, "40001");
	assert_true(ports_is_ephemeral(c, 40000));
	assert_false(ports_is_ephemeral(c, 40001)); /* reserved */
	assert_false(ports_is_ephemeral(c, 40002)); /* the lost top port */
	assert_false(ports_is_ephemeral(c, 39999));
	assert_false(ports_is_ephemeral(c, 65535));
	/* a hand-made inverted range is empty, not a wild loop */
	c->low = 5000;
	c->high = 4000;
	assert_int_equal(ports_capacity(c), 0);
}

static void addr(unsigned family, const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton((int)family, s, out), 1);
}

static void test_loopback_rule(void **state)
{
	static const struct {
		unsigned family;
		const char *src, *dst;
		uint32_t ifindex;
		bool lo;
	} cases[] = {
		{ AF_INET, "127.0.0.1", "127.0.0.1", 0, true },
		{ AF_INET, "10.0.0.1", "127.9.8.7", 0, true },
		{ AF_INET, "127.0.0.2", "10.0.0.1", 0, true },
		{ AF_INET, "10.0.0.1", "10.0.0.2", 0, false },
		{ AF_INET, "192.0.2.1", "192.0.2.1", 0,
		  false },				      /* own address: via lo, not counted */
		{ AF_INET, "10.0.0.1", "10.0.0.2", 1, true }, /* bound to lo */
		{ AF_INET, "10.0.0.1", "10.0.0.2", 2, false },
		{ AF_INET, "128.0.0.1", "126.255.255.255", 0, false },
		{ AF_INET6, "::1", "::1", 0, true },
		{ AF_INET6, "2001:db8::1", "::1", 0, true },
		{ AF_INET6, "::ffff:127.0.0.1", "::ffff:10.0.0.1", 0, true },
		{ AF_INET6, "::ffff:10.0.0.1", "::ffff:127.1.2.3", 0, true },
		{ AF_INET6, "::ffff:10.0.0.1", "::ffff:10.0.0.2", 0, false },
		{ AF_INET6, "::127.0.0.1", "2001:db8::2", 0,
		  false }, /* v4-compatible is not mapped */
		{ AF_INET6, "2001:db8::1", "2001:db8::2", 0, false },
		{ AF_INET6, "::2", "::", 0, false },
		{ AF_INET6, "fe80::1", "fe80::2", 1, true },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		uint8_t s[16], d[16];
		addr(cases[i].family, cases[i].src, s);
		addr(cases[i].family, cases[i].dst, d);
		assert_int_equal(ports_is_loopback(cases[i].family, s, d, cases[i].ifindex),
				 cases[i].lo);
	}
}

static void test_reuse_verdict(void **state)
{
	static const struct {
		int reuse, ts;
		bool lo;
		enum td_reuse want;
	} cases[] = {
		{ 2, 1, true, TD_REUSE_ACTIVE },	 { 2, 1, false, TD_REUSE_LOOPBACK_ONLY },
		{ 2, 2, true, TD_REUSE_ACTIVE },	 { 1, 1, false, TD_REUSE_ACTIVE },
		{ 1, 0, false, TD_REUSE_NO_TIMESTAMPS }, { 2, 0, true, TD_REUSE_NO_TIMESTAMPS },
		{ 0, 0, true, TD_REUSE_NO_TIMESTAMPS },	 { 0, 1, true, TD_REUSE_OFF },
		{ -1, 1, true, TD_REUSE_UNKNOWN },	 { 1, -1, true, TD_REUSE_UNKNOWN },
	};
	struct td_port_cfg c;
	(void)state;
	ports_cfg_default(&c);
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		c.tw_reuse = cases[i].reuse;
		c.timestamps = cases[i].ts;
		assert_int_equal(ports_reuse(&c, cases[i].lo), cases[i].want);
	}
	assert_string_equal(ports_reuse_name(TD_REUSE_LOOPBACK_ONLY), "loopback-only");
	assert_string_equal(ports_reuse_name(TD_REUSE_NO_TIMESTAMPS), "no-timestamps");
}

static void test_cfg_from_meta(void **state)
{
	struct td_port_cfg c;
	const char *bad = "x";
	(void)state;

	assert_int_equal(ports_cfg_from_meta(&c,
					     "net.core.somaxconn=4096\n"
					     "net.ipv4.ip_local_port_range=40000 40099\n"
					     "net.ipv4.ip_local_reserved_ports=40000-40009\n"
					     "net.ipv4.tcp_tw_reuse=1\n"
					     "net.ipv4.tcp_timestamps=0\n"
					     "net.ipv4.tcp_tw_reuse_delay=2500\n",
					     &bad),
			 0);
	assert_null(bad);
	assert_int_equal(c.low, 40000);
	assert_int_equal(c.high, 40099);
	assert_int_equal(ports_capacity(&c), 90);
	assert_int_equal(c.tw_reuse, 1);
	assert_int_equal(c.timestamps, 0);
	assert_int_equal(c.tw_reuse_delay_ms, 2500);
	/* nothing known: kernel defaults */
	assert_int_equal(ports_cfg_from_meta(&c, "", NULL), 0);
	assert_int_equal(ports_capacity(&c), 28232);
	assert_int_equal(c.tw_reuse, 2);
	assert_int_equal(c.tw_reuse_delay_ms, 1000);
	static const struct {
		const char *meta, *key;
	} bads[] = {
		{ "net.ipv4.ip_local_port_range=60999 32768\n", "net.ipv4.ip_local_port_range" },
		{ "net.ipv4.ip_local_reserved_ports=1,,2\n", "net.ipv4.ip_local_reserved_ports" },
		{ "net.ipv4.tcp_tw_reuse=3\n", "net.ipv4.tcp_tw_reuse" },
		{ "net.ipv4.tcp_timestamps=-1\n", "net.ipv4.tcp_timestamps" },
		{ "net.ipv4.tcp_tw_reuse_delay=0\n", "net.ipv4.tcp_tw_reuse_delay" },
		{ "net.ipv4.tcp_tw_reuse_delay=60001\n", "net.ipv4.tcp_tw_reuse_delay" },
	};
	for (size_t i = 0; i < TD_ARRAY_SIZE(bads); i++) {
		assert_int_equal(ports_cfg_from_meta(&c, bads[i].meta, &bad), -EINVAL);
		assert_string_equal(bad, bads[i].key);
	}
}

static void test_exhaustion_arithmetic(void **state)
{
	uint16_t tw[60] = { 0 };
	(void)state;

	/* No TIME_WAIT: 100 ports, 50 held, 2 closes/s: full after 25 s. */
	assert_true(ports_exhaustion_s(100, 50, tw, 2.0, 60) == 25.0);
	/* Already full, or no capacity at all. */
	assert_true(ports_exhaustion_s(100, 100, tw, 0.0, 60) == 0.0);
	assert_true(ports_exhaustion_s(0, 0, tw, 0.0, 60) == 0.0);
	/* No closes: never. */
	assert_true(ports_exhaustion_s(100, 99, tw, 0.0, 60) < 0);
	/* Steady state below capacity: 40 + 0.5 * 60 = 70 < 100. */
	assert_true(ports_exhaustion_s(100, 40, tw, 0.5, 60) < 0);
	/* Steady state exactly at capacity: 40 + 1 * 60 = 100, reached at 60 s. */
	assert_true(ports_exhaustion_s(100, 40, tw, 1.0, 60) == 60.0);
	/* 30 TIME_WAIT freed by 3 s change the answer from 10 s to 40 s:
	 * held 50 + 30 (slot 2) + 10 (slot 59) = 90; 1/s; at 3 s 30 go. */
	tw[2] = 30;
	tw[59] = 10;
	assert_true(ports_exhaustion_s(100, 50, tw, 1.0, 60) == 40.0);
	/* With reuse after 1 s, only slot 59 still holds ports: 50 + 10 = 60 held, and each
	 * new close holds its port 1 s: steady 50 + 1 = 51 < 100. */
	assert_true(ports_exhaustion_s(100, 50, tw, 1.0, 1) < 0);
	/* ... but at 60 closes/s it fills: 60 + 60 t = 100 before the 10 go at 1 s? t = 0.667 */
	double t = ports_exhaustion_s(100, 50, tw, 60.0, 1);
	assert_true(t > 0.6666 && t < 0.6667);
}

static struct td_sock mksock(unsigned state, const char *src, uint16_t sport, const char *dst,
			     uint16_t dport, uint32_t expires_ms)
{
	struct td_sock s = { .family = AF_INET, .state = (uint8_t)state };

	addr(AF_INET, src, s.src);
	addr(AF_INET, dst, s.dst);
	s.sport = sport;
	s.dport = dport;
	s.expires_ms = expires_ms;
	if (state == TD_SS_TIME_WAIT)
		s.timer = TD_TIMER_TIMEWAIT;
	return s;
}

static const struct td_port_dest *find(const struct td_port_dest *v, size_t n, const char *dst,
				       uint16_t dport, unsigned netns)
{
	uint8_t d[16];

	addr(AF_INET, dst, d);
	for (size_t i = 0; i < n; i++)
		if (v[i].netns == netns && v[i].dport == dport && !memcmp(v[i].dst, d, 16))
			return &v[i];
	return NULL;
}

static void add(struct td_ports *t, struct td_sock s)
{
	ports_add(t, &s);
}

/* Range 40000-40099 (100 ports), tw_reuse 2, timestamps 1. */
static struct td_ports *table_100(void)
{
	struct td_ports *t = ports_new();
	assert_int_equal(ports_set_cfg(t, 0, cfg_range(40000, 40099, "")), 0);
	return t;
}

static void test_rates_and_usage(void **state)
{
	struct td_ports *t = table_100();
	struct td_port_dest *v;
	size_t n;
	uint16_t p = 40000;
	(void)state;

	/* Destination A, 10.0.0.2:80: 50 established, 20 TIME_WAIT closed 4.5 s ago (expires
	 * 55.5 s), 10 TIME_WAIT closed 40 s ago (expires 20 s), 1 over 60 s old (expires 0). */
	for (int i = 0; i < 50; i++)
		add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", p++, "10.0.0.2", 80, 0));
	for (int i = 0; i < 20; i++)
		add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", p++, "10.0.0.2", 80, 55500));
	for (int i = 0; i < 10; i++)
		add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", p++, "10.0.0.2", 80, 20000));
	add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", p++, "10.0.0.2", 80, 0));
	/* Not usage of A: another dport, a reserved-range miss, a server-side TIME_WAIT from a
	 * low port, a socket without peer, a request socket, the odd top port. */
	add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", 40090, "10.0.0.2", 81, 0));
	add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", 39999, "10.0.0.2", 80, 0));
	add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", 80, "10.0.0.9", 40000, 30000));
	add(t, mksock(TD_SS_CLOSE, "10.0.0.1", 40095, "0.0.0.0", 0, 0));
	add(t, mksock(TD_SS_SYN_RECV, "10.0.0.1", 40096, "10.0.0.7", 5555, 0));
	/* The same 4-tuple space seen over a dual-stack socket counts as IPv4 A. */
	struct td_sock m = mksock(TD_SS_SYN_SENT, "10.0.0.1", p++, "10.0.0.2", 80, 0);
	m.family = AF_INET6;
	addr(AF_INET6, "::ffff:10.0.0.1", m.src);
	addr(AF_INET6, "::ffff:10.0.0.2", m.dst);
	ports_add(t, &m);

	ports_result(t, &v, &n);
	assert_int_equal(n, 2);
	const struct td_port_dest *a = find(v, n, "10.0.0.2", 80, 0);
	assert_non_null(a);
	assert_int_equal(a->family, AF_INET);
	assert_int_equal(a->in_use, 82);
	assert_int_equal(a->capacity, 100);
	assert_int_equal(a->preferred, 50);
	assert_int_equal(a->n[TD_SS_ESTABLISHED], 50);
	assert_int_equal(a->n[TD_SS_TIME_WAIT], 31);
	assert_int_equal(a->n[TD_SS_SYN_SENT], 1);
	assert_int_equal(a->closed_60s, 30);
	assert_int_equal(a->closed_recent, 20);
	assert_true(a->rate_60s == 0.5);
	assert_true(a->rate_recent == 2.0);
	assert_true(a->rate == 2.0);
	assert_false(a->loopback);
	assert_int_equal(a->reuse, TD_REUSE_LOOPBACK_ONLY);
	assert_int_equal(a->reusable, 0);
	/* held 51 + TW 31 = 82; at 2/s: the one with expires 0 goes at 1 s: 82 - 1 + 2t = 100
	 * -> t = 9.5 */
	assert_true(a->exhaust_s == 9.5);
	const struct td_port_dest *b = find(v, n, "10.0.0.2", 81, 0);
	assert_non_null(b);
	assert_int_equal(b->in_use, 1);
	assert_true(b->exhaust_s < 0);
	assert_ptr_equal(&v[0], a); /* riskier first */
	free(v);
	ports_free(t);
	ports_free(NULL);
}

static void test_server_side_late_listener(void **state)
{
	struct td_ports *t = table_100();
	struct td_port_dest *v;
	size_t n;
	(void)state;

	/* A server listening on 40050, inside the range: its accepted connections and its own
	 * TIME_WAIT arrive before the listener does. They cost clients no port. */
	for (uint16_t cp = 50000; cp < 50005; cp++)
		add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", 40050, "10.0.0.3", cp, 0));
	for (uint16_t cp = 50005; cp < 50008; cp++)
		add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", 40050, "10.0.0.3", cp, 30000));
	add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", 40001, "10.0.0.2", 80, 0));
	add(t, mksock(TD_SS_LISTEN, "0.0.0.0", 40050, "0.0.0.0", 0, 0));
	/* after the listener: dropped at once */
	add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", 40050, "10.0.0.3", 50009, 0));
	ports_result(t, &v, &n);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].dport, 80);
	assert_int_equal(v[0].in_use, 1);
	free(v);
	ports_free(t);
}

static void test_reuse_active_and_netns(void **state)
{
	struct td_ports *t = ports_new();
	struct td_port_cfg *c = cfg_range(40000, 40099, "");
	struct td_port_dest *v;
	size_t n;
	uint16_t p = 40000;
	(void)state;

	c->tw_reuse = 1;
	assert_int_equal(ports_set_cfg(t, 0, c), 0);
	c->tw_reuse = 0;
	assert_int_equal(ports_set_cfg(t, 3, c), 0);
	assert_int_equal(ports_set_cfg(t, 70000, c), -ERANGE);
	for (int i = 0; i < 10; i++)
		add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", p++, "10.0.0.2", 80, 59500));
	for (int i = 0; i < 20; i++)
		add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", p++, "10.0.0.2", 80, 30000));
	struct td_sock s = mksock(TD_SS_TIME_WAIT, "10.0.0.1", 40000, "10.0.0.2", 80, 30000);
	s.netns = 3;
	ports_add(t, &s);
	ports_result(t, &v, &n);
	assert_int_equal(n, 2);
	const struct td_port_dest *a = find(v, n, "10.0.0.2", 80, 0);
	const struct td_port_dest *b = find(v, n, "10.0.0.2", 80, 3);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->reuse, TD_REUSE_ACTIVE);
	assert_int_equal(a->reusable, 20); /* older than the 1 s delay */
	assert_int_equal(a->in_use, 30);
	assert_true(a->exhaust_s < 0);
	assert_int_equal(b->reuse, TD_REUSE_OFF);
	assert_int_equal(b->reusable, 0);
	assert_int_equal(b->in_use, 1);
	free(v);
	ports_free(t);
}

static void test_risk_order(void **state)
{
	struct td_ports *t = table_100();
	struct td_port_dest *v;
	size_t n;
	(void)state;

	/* D1 (port 1): 90 established, no closes: never, but 90 % used.
	 * D2 (port 2): 10 established: never, 10 %.
	 * D3 (port 3): 10 TW closed in the last 10 s (1/s), 50 established: 60 + t = 100 -> 40 s
	 * D4 (port 4): 20 TW in the last 10 s (2/s), 60 established: 80 + 2t = 100 -> 10 s */
	uint16_t p = 40000;
	for (int i = 0; i < 90; i++)
		add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", p++, "10.0.0.2", 1, 0));
	p = 40000;
	for (int i = 0; i < 10; i++)
		add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", p++, "10.0.0.2", 2, 0));
	p = 40000;
	for (int i = 0; i < 10; i++)
		add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", p++, "10.0.0.2", 3, 59000));
	for (int i = 0; i < 50; i++)
		add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", p++, "10.0.0.2", 3, 0));
	p = 40000;
	for (int i = 0; i < 20; i++)
		add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", p++, "10.0.0.2", 4, 59000));
	for (int i = 0; i < 60; i++)
		add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", p++, "10.0.0.2", 4, 0));
	ports_result(t, &v, &n);
	assert_int_equal(n, 4);
	static const uint16_t order[] = { 4, 3, 1, 2 };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(v[i].dport, order[i]);
	assert_true(v[0].exhaust_s == 10.0);
	assert_true(v[1].exhaust_s == 40.0);
	free(v);
	ports_free(t);
}

/* Issue 10.2: the reuse delay is tcp_tw_reuse_delay, counted from entry into TIME_WAIT (60 s
 * minus expires), never a fixed 1 s; and 10.1: FIN_WAIT2 holds its port and is never reusable. */
static void test_reuse_delay_and_fin_wait2(void **state)
{
	static const struct {
		uint32_t delay_ms, reusable;
		double exhaust; /* 40 established, 30 closes in the last 10 s (3/s), capacity 100 */
	} cases[] = {
		{ 5000, 20, -1 }, /* steady state 40 + 3 * 5 = 55 */
		{ 1000, 30, -1 }, /* the 10 entered 2 s ago are past a 1 s delay too: 43 */
		{ 30000, 0, 10 }, /* 70 held, none free for 20 s: 100 - 70 = 30 ports in 10 s */
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_ports *t = ports_new();
		struct td_port_cfg *c = cfg_range(40000, 40099, "");
		struct td_port_dest *v;
		size_t n;
		uint16_t p = 40000;
		c->tw_reuse = 1;
		c->tw_reuse_delay_ms = cases[i].delay_ms;
		assert_int_equal(ports_set_cfg(t, 0, c), 0);
		for (int k = 0; k < 10; k++) /* entered TIME_WAIT 2 s ago */
			add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", p++, "10.0.0.2", 80, 58000));
		for (int k = 0; k < 20; k++) /* 10 s ago */
			add(t, mksock(TD_SS_TIME_WAIT, "10.0.0.1", p++, "10.0.0.2", 80, 50000));
		for (int k = 0; k < 40; k++)
			add(t, mksock(TD_SS_ESTABLISHED, "10.0.0.1", p++, "10.0.0.2", 80, 0));
		for (int k = 0; k < 100; k++) /* orphaned FIN_WAIT2 to another port */
			add(t, mksock(TD_SS_FIN_WAIT2, "10.0.0.1", (uint16_t)(40000 + k),
				      "10.0.0.2", 81, 0));
		ports_result(t, &v, &n);
		const struct td_port_dest *a = find(v, n, "10.0.0.2", 80, 0);
		const struct td_port_dest *b = find(v, n, "10.0.0.2", 81, 0);
		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(a->reuse, TD_REUSE_ACTIVE);
		assert_int_equal(a->reusable, cases[i].reusable);
		assert_true(a->exhaust_s == cases[i].exhaust);
		/* FIN_WAIT2: all 100 ports held, exhausted now, nothing reusable, reuse or not */
		assert_int_equal(b->reuse, TD_REUSE_ACTIVE);
		assert_int_equal(b->in_use, 100);
		assert_int_equal(b->n[TD_SS_FIN_WAIT2], 100);
		assert_int_equal(b->reusable, 0);
		assert_true(b->exhaust_s == 0);
		free(v);
		ports_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_parse_reserved),
		cmocka_unit_test(test_capacity_parity),
		cmocka_unit_test(test_loopback_rule),
		cmocka_unit_test(test_reuse_verdict),
		cmocka_unit_test(test_cfg_from_meta),
		cmocka_unit_test(test_exhaustion_arithmetic),
		cmocka_unit_test(test_rates_and_usage),
		cmocka_unit_test(test_server_side_late_listener),
		cmocka_unit_test(test_reuse_active_and_netns),
		cmocka_unit_test(test_risk_order),
		cmocka_unit_test(test_reuse_delay_and_fin_wait2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
