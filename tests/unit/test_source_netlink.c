// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/core/source/source_netlink.c: inet_diag replies captured from a private namespace
 * with a known socket set (tests/data/capture.sh), hand-built hostile messages (truncated
 * headers, lengths past the buffer, short payloads, errors, DONE, DUMP_INTR, NEW_SYN_RECV,
 * filters). The live dump is tested in test_source_live.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
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

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "core/sock.h"
#include "core/source/source.h"
#include "core/source/source_netlink.h"
#include "core/util.h"

#include "unit/sockcollect.h"

/* Parses from an exact-size heap copy, so ASan sees any read past the end. */
static int parse(const void *buf, size_t len, struct td_sink *sink, struct td_dump_stats *st)
{
	void *copy = xmalloc(len ? len : 1);
	memcpy(copy, buf, len);
	int r = netlink_parse(copy, len, sink, st);
	free(copy);
	return r;
}

static void test_sample_counts(void **state)
{
	static const struct {
		const char *file;
		unsigned total;
		unsigned n[TD_SS_COUNT];
	} cases[] = {
		{ "netlink/inet.bin",
		  24,
		  { [TD_SS_LISTEN] = 5,
		    [TD_SS_ESTABLISHED] = 11,
		    [TD_SS_SYN_SENT] = 1,
		    [TD_SS_SYN_RECV] = 1,
		    [TD_SS_FIN_WAIT1] = 1,
		    [TD_SS_FIN_WAIT2] = 2,
		    [TD_SS_TIME_WAIT] = 1,
		    [TD_SS_CLOSE_WAIT] = 2 } },
		{ "netlink/inet6.bin",
		  6,
		  { [TD_SS_LISTEN] = 2, [TD_SS_ESTABLISHED] = 3, [TD_SS_TIME_WAIT] = 1 } },
		/* asked with 0xffffffff: bit 13 adds the bound-only socket as CLOSE, which
		 * /proc/net/tcp never shows; hence netlink_dump asks for bits 1..12 */
		{ "netlink/inet-all-bits.bin",
		  25,
		  { [TD_SS_LISTEN] = 5,
		    [TD_SS_ESTABLISHED] = 11,
		    [TD_SS_SYN_SENT] = 1,
		    [TD_SS_SYN_RECV] = 1,
		    [TD_SS_FIN_WAIT1] = 1,
		    [TD_SS_FIN_WAIT2] = 2,
		    [TD_SS_TIME_WAIT] = 1,
		    [TD_SS_CLOSE_WAIT] = 2,
		    [TD_SS_CLOSE] = 1 } },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct got g = { 0 };
		struct td_dump_stats st = { 0 };
		struct td_sink sink = { collect, &g, 0, 0, 5 };
		size_t len;
		unsigned char *buf = load(cases[i].file, &len);
		assert_int_equal(parse(buf, len, &sink, &st), 1);
		free(buf);
		assert_int_equal(g.n, cases[i].total);
		assert_int_equal(st.sockets, cases[i].total);
		assert_int_equal(st.skipped, 0);
		assert_false(st.interrupted);
		assert_memory_equal(g.per_state, cases[i].n, sizeof(g.per_state));
		assert_int_equal(g.v[0].netns, 5);
	}
}

static void test_sample_fields(void **state)
{
	static const struct {
		uint16_t sport, dport;
		uint8_t st, timer, retrans;
		uint32_t rq, wq;
		uint64_t inode, cookie;
	} rows[] = {
		{ 5000, 0, TD_SS_LISTEN, 0, 0, 2, 8, 12242, 4099 }, /* accept queue 2, backlog 8 */
		{ 5003, 0, TD_SS_LISTEN, 0, 0, 1, 0, 12256, 4100 },
		{ 5002, 41040, TD_SS_SYN_RECV, 1, 0, 0, 0, 0, 4103 },
		{ 41051, 5003, TD_SS_SYN_SENT, 1, 0, 0, 1, 12258, 4107 },
		{ 41010, 5001, TD_SS_ESTABLISHED, 2, 0, 0, 0, 12246, 4109 },
		{ 41020, 5001, TD_SS_TIME_WAIT, 3, 0, 0, 0, 0, 4110 },
		{ 41030, 5001, TD_SS_FIN_WAIT2, 3, 0, 0, 0, 0, 4111 },
		{ 41031, 5001, TD_SS_FIN_WAIT2, 0, 0, 0, 0, 12252, 4112 },
		{ 41060, 5004, TD_SS_FIN_WAIT1, 4, 1, 0, 6145, 0, 4120 },
		{ 5001, 41010, TD_SS_ESTABLISHED, 0, 0, 100, 0, 12247, 4113 },
	};
	static const uint8_t lo[16] = { 127, 0, 0, 1 };
	struct got g = { 0 };
	struct td_dump_stats st = { 0 };
	struct td_sink sink = { collect, &g, 0, 0, 0 };
	size_t len;
	unsigned char *buf = load("netlink/inet.bin", &len);
	(void)state;
	assert_int_equal(parse(buf, len, &sink, &st), 1);
	free(buf);
	for (size_t i = 0; i < TD_ARRAY_SIZE(rows); i++) {
		const struct td_sock *s = find(&g, rows[i].sport, rows[i].dport);
		assert_int_equal(s->family, AF_INET);
		assert_int_equal(s->state, rows[i].st);
		assert_int_equal(s->timer, rows[i].timer);
		assert_int_equal(s->retrans, rows[i].retrans);
		assert_int_equal(s->rqueue, rows[i].rq);
		assert_int_equal(s->wqueue, rows[i].wq);
		assert_int_equal(s->inode, rows[i].inode);
		assert_int_equal(s->cookie, rows[i].cookie);
		assert_int_equal(s->uid, 0);
		assert_int_equal(s->ifindex, 0);
		assert_memory_equal(s->src, lo, 16);
	}
	assert_int_equal(find(&g, 41020, 5001)->expires_ms, 59176);
	assert_int_equal(find(&g, 41010, 5001)->expires_ms, 598976);
	assert_int_equal(find(&g, 5002, 41040)->expires_ms, 176);
	assert_int_equal(find(&g, 5000, 0)->expires_ms, 0);
}

/* Every prefix of a real reply: at a message boundary "more to come", else -EBADMSG. */
static void test_sample_prefixes(void **state)
{
	size_t len;
	unsigned char *buf = load("netlink/inet.bin", &len);
	bool boundary[4096] = { false };
	(void)state;
	assert_true(len < sizeof(boundary));
	for (size_t off = 0; off < len;) {
		boundary[off] = true;
		struct nlmsghdr h;
		memcpy(&h, buf + off, sizeof(h));
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	for (size_t cut = 0; cut < len; cut++) {
		struct got g = { 0 };
		struct td_dump_stats st = { 0 };
		struct td_sink sink = { collect, &g, 0, 0, 0 };
		assert_int_equal(parse(buf, cut, &sink, &st), boundary[cut] ? 0 : -EBADMSG);
	}
	free(buf);
}

/* Hand-built messages. */
enum payload { P_NONE, P_SOCK, P_INT, P_SHORT, P_ATTR, P_ATTR_BAD, P_ATTR_ODD };

struct msg {
	uint16_t type, flags;
	enum payload kind;
	uint8_t fam, state;
	int32_t val;
};

#define SOCK(f, s)                                                                                 \
	{                                                                                          \
		SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, P_SOCK, f, s, 0                                  \
	}
#define SOCKX(k, f, s)                                                                             \
	{                                                                                          \
		SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, k, f, s, 0                                       \
	}
#define DONE(v)                                                                                    \
	{                                                                                          \
		NLMSG_DONE, NLM_F_MULTI, P_INT, 0, 0, v                                            \
	}
#define ERR(v)                                                                                     \
	{                                                                                          \
		NLMSG_ERROR, 0, P_INT, 0, 0, v                                                     \
	}
#define V4   AF_INET
#define V6   AF_INET6
#define B(s) (1u << (s))

struct nlbuf {
	unsigned char b[2048];
	size_t len;
};

static void put(struct nlbuf *nb, const struct msg *m)
{
	unsigned char pl[256] = { 0 };
	size_t plen = 0;
	struct inet_diag_msg d = { .idiag_family = m->fam, .idiag_state = m->state };
	struct nlattr a = { .nla_len = 8, .nla_type = INET_DIAG_SHUTDOWN };

	switch (m->kind) {
	case P_NONE:
		break;
	case P_INT:
		memcpy(pl, &m->val, 4);
		plen = 4;
		break;
	case P_SOCK:
	case P_SHORT:
	case P_ATTR:
	case P_ATTR_BAD:
	case P_ATTR_ODD:
		d.id.idiag_sport = htons(1000);
		memcpy(pl, &d, sizeof(d));
		plen = m->kind == P_SHORT ? sizeof(d) - 32 : sizeof(d);
		if (m->kind == P_ATTR_BAD)
			a.nla_len = 12; /* says 12, only 8 are there */
		if (m->kind == P_ATTR_ODD)
			a.nla_len = 5; /* unpadded tail: legal */
		if (m->kind >= P_ATTR) {
			memcpy(pl + plen, &a, sizeof(a));
			plen += m->kind == P_ATTR_ODD ? 5 : 8;
		}
		break;
	}
	struct nlmsghdr h = { .nlmsg_len = (uint32_t)(NLMSG_HDRLEN + plen),
			      .nlmsg_type = m->type,
			      .nlmsg_flags = m->flags };
	memcpy(nb->b + nb->len, &h, sizeof(h));
	memcpy(nb->b + nb->len + NLMSG_HDRLEN, pl, plen);
	nb->len += NLMSG_ALIGN(h.nlmsg_len);
}

static void test_built_messages(void **state)
{
	static const struct {
		const char *name;
		struct msg m[4];
		size_t nm;
		long keep;	  /* >0: keep that many bytes; <0: drop that many; 0: all */
		uint32_t len_fix; /* non-zero: overwrite the first nlmsg_len */
		uint32_t states;
		unsigned families;
		int ret;
		unsigned sockets, skipped;
		bool intr;
		uint8_t first_state;
	} cases[] = {
		/* clang-format off: one case a line reads better than the formatter's one field a line */
		/* name, messages, count, keep, len_fix, states, families,
	 *   ret, sockets, skipped, interrupted, state of the first socket */
		{ "empty buffer", { { 0 } }, 0, 0, 0, 0, 0, 0, 0, 0, false, 0 },
		{ "one socket", { SOCK(V4, 1) }, 1, 0, 0, 0, 0, 0, 1, 0, false, 1 },
		{ "socket, DONE", { SOCK(V4, 1), DONE(0) }, 2, 0, 0, 0, 0, 1, 1, 0, false, 1 },
		{ "DONE, no payload",
		  { { NLMSG_DONE, 0, P_NONE, 0, 0, 0 } },
		  1,
		  0,
		  0,
		  0,
		  0,
		  1,
		  0,
		  0,
		  false,
		  0 },
		{ "DONE -ENOENT", { DONE(-ENOENT) }, 1, 0, 0, 0, 0, -ENOENT, 0, 0, false, 0 },
		{ "nothing after DONE",
		  { DONE(0), SOCK(V4, 1) },
		  2,
		  0,
		  0,
		  0,
		  0,
		  1,
		  0,
		  0,
		  false,
		  0 },
		{ "ERROR -EPERM",
		  { SOCK(V4, 1), ERR(-EPERM) },
		  2,
		  0,
		  0,
		  0,
		  0,
		  -EPERM,
		  1,
		  0,
		  false,
		  1 },
		{ "ERROR 0 is an ACK", { ERR(0), SOCK(V4, 1) }, 2, 0, 0, 0, 0, 0, 1, 0, false, 1 },
		{ "ERROR no payload",
		  { { NLMSG_ERROR, 0, P_NONE, 0, 0, 0 } },
		  1,
		  0,
		  0,
		  0,
		  0,
		  -EBADMSG,
		  0,
		  0,
		  false,
		  0 },
		{ "ERROR -100000", { ERR(-100000) }, 1, 0, 0, 0, 0, -EBADMSG, 0, 0, false, 0 },
		{ "ERROR INT_MIN", { ERR(INT_MIN) }, 1, 0, 0, 0, 0, -EBADMSG, 0, 0, false, 0 },
		{ "ERROR positive", { ERR(5) }, 1, 0, 0, 0, 0, -EBADMSG, 0, 0, false, 0 },
		{ "NOOP skipped",
		  { { NLMSG_NOOP, 0, P_NONE, 0, 0, 0 }, SOCK(V4, 1) },
		  2,
		  0,
		  0,
		  0,
		  0,
		  0,
		  1,
		  0,
		  false,
		  1 },
		{ "unknown type skipped",
		  { { 0x77, 0, P_SOCK, V4, 1, 0 }, SOCK(V4, 8) },
		  2,
		  0,
		  0,
		  0,
		  0,
		  0,
		  1,
		  0,
		  false,
		  8 },
		{ "short inet_diag_msg",
		  { SOCKX(P_SHORT, V4, 1) },
		  1,
		  0,
		  0,
		  0,
		  0,
		  -EBADMSG,
		  0,
		  0,
		  false,
		  0 },
		{ "DUMP_INTR",
		  { { SOCK_DIAG_BY_FAMILY, NLM_F_MULTI | NLM_F_DUMP_INTR, P_SOCK, V4, 6, 0 },
		    DONE(0) },
		  2,
		  0,
		  0,
		  0,
		  0,
		  1,
		  1,
		  0,
		  true,
		  6 },
		{ "NEW_SYN_RECV is SYN_RECV",
		  { SOCK(V4, 12) },
		  1,
		  0,
		  0,
		  B(TD_SS_SYN_RECV),
		  0,
		  0,
		  1,
		  0,
		  false,
		  TD_SS_SYN_RECV },
		{ "state 0", { SOCK(V4, 0) }, 1, 0, 0, 0, 0, -EBADMSG, 0, 0, false, 0 },
		{ "state 13", { SOCK(V4, 13) }, 1, 0, 0, 0, 0, -EBADMSG, 0, 0, false, 0 },
		{ "family AF_UNIX", { SOCK(AF_UNIX, 1) }, 1, 0, 0, 0, 0, -EBADMSG, 0, 0, false, 0 },
		{ "attribute", { SOCKX(P_ATTR, V4, 1) }, 1, 0, 0, 0, 0, 0, 1, 0, false, 1 },
		{ "attribute truncated",
		  { SOCKX(P_ATTR_BAD, V4, 1) },
		  1,
		  0,
		  0,
		  0,
		  0,
		  -EBADMSG,
		  0,
		  0,
		  false,
		  0 },
		{ "last message unpadded",
		  { SOCKX(P_ATTR_ODD, V4, 1) },
		  1,
		  -3,
		  0,
		  0,
		  0,
		  0,
		  1,
		  0,
		  false,
		  1 },
		{ "message cut short", { SOCK(V4, 1) }, 1, -4, 0, 0, 0, -EBADMSG, 0, 0, false, 0 },
		{ "header cut short", { SOCK(V4, 1) }, 1, 10, 0, 0, 0, -EBADMSG, 0, 0, false, 0 },
		{ "nlmsg_len past buffer",
		  { SOCK(V4, 1) },
		  1,
		  0,
		  4096,
		  0,
		  0,
		  -EBADMSG,
		  0,
		  0,
		  false,
		  0 },
		{ "nlmsg_len below header",
		  { SOCK(V4, 1) },
		  1,
		  0,
		  8,
		  0,
		  0,
		  -EBADMSG,
		  0,
		  0,
		  false,
		  0 },
		{ "nlmsg_len 2^32-1",
		  { SOCK(V4, 1) },
		  1,
		  0,
		  UINT32_MAX,
		  0,
		  0,
		  -EBADMSG,
		  0,
		  0,
		  false,
		  0 },
		{ "state filter",
		  { SOCK(V4, 1), SOCK(V4, 6), SOCK(V6, 10) },
		  3,
		  0,
		  0,
		  B(TD_SS_TIME_WAIT),
		  0,
		  0,
		  1,
		  2,
		  false,
		  6 },
		{ "family filter",
		  { SOCK(V4, 1), SOCK(V4, 6), SOCK(V6, 10) },
		  3,
		  0,
		  0,
		  0,
		  TD_FAM_INET6,
		  0,
		  1,
		  2,
		  false,
		  10 },
		/* clang-format on */
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct nlbuf nb = { .len = 0 };
		struct got g = { 0 };
		struct td_dump_stats st = { 0 };
		struct td_sink sink = { collect, &g, cases[i].states, cases[i].families, 0 };
		for (size_t j = 0; j < cases[i].nm; j++)
			put(&nb, &cases[i].m[j]);
		if (cases[i].len_fix)
			memcpy(nb.b, &cases[i].len_fix, 4);
		size_t len =
			cases[i].keep > 0 ? (size_t)cases[i].keep : nb.len - (size_t)-cases[i].keep;
		int r = parse(nb.b, len, &sink, &st);
		if (r != cases[i].ret || st.sockets != cases[i].sockets ||
		    st.skipped != cases[i].skipped || st.interrupted != cases[i].intr ||
		    (g.n && g.v[0].state != cases[i].first_state))
			fail_msg("%s: ret %d sockets %llu skipped %llu intr %d state %u",
				 cases[i].name, r, (unsigned long long)st.sockets,
				 (unsigned long long)st.skipped, st.interrupted,
				 g.n ? g.v[0].state : 0);
	}
}

/* Every field of inet_diag_msg lands where sock.h says, in the byte order it says. */
static void test_field_mapping(void **state)
{
	struct inet_diag_msg d = {
		.idiag_family = AF_INET6,
		.idiag_state = 6,
		.idiag_timer = 3,
		.idiag_retrans = 2,
		.id = { .idiag_sport = htons(0x1234),
			.idiag_dport = htons(443),
			.idiag_if = 3,
			.idiag_cookie = { 0x11223344, 0x55667788 } },
		.idiag_expires = 12345,
		.idiag_rqueue = 7,
		.idiag_wqueue = 9,
		.idiag_uid = 1000,
		.idiag_inode = 424242,
	};
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t dst[16] = { 0xfe, 0x80, [14] = 0xab, [15] = 0xcd };
	struct nlbuf nb = { .len = 0 };
	struct got g = { 0 };
	struct td_dump_stats st = { 0 };
	struct td_sink sink = { collect, &g, 0, 0, 9 };
	struct nlmsghdr h = { .nlmsg_len = NLMSG_HDRLEN + sizeof(d),
			      .nlmsg_type = SOCK_DIAG_BY_FAMILY };
	(void)state;
	memcpy(d.id.idiag_src, src, 16);
	memcpy(d.id.idiag_dst, dst, 16);
	memcpy(nb.b + 1, &h, sizeof(h)); /* odd address: no alignment assumed */
	memcpy(nb.b + 1 + NLMSG_HDRLEN, &d, sizeof(d));
	assert_int_equal(netlink_parse(nb.b + 1, h.nlmsg_len, &sink, &st), 0);
	assert_int_equal(g.n, 1);
	const struct td_sock *s = &g.v[0];
	assert_int_equal(s->family, AF_INET6);
	assert_int_equal(s->state, TD_SS_TIME_WAIT);
	assert_int_equal(s->timer, TD_TIMER_TIMEWAIT);
	assert_int_equal(s->retrans, 2);
	assert_int_equal(s->sport, 0x1234);
	assert_int_equal(s->dport, 443);
	assert_memory_equal(s->src, src, 16);
	assert_memory_equal(s->dst, dst, 16);
	assert_int_equal(s->ifindex, 3);
	assert_int_equal(s->cookie, 0x5566778811223344ull);
	assert_int_equal(s->expires_ms, 12345);
	assert_int_equal(s->rqueue, 7);
	assert_int_equal(s->wqueue, 9);
	assert_int_equal(s->uid, 1000);
	assert_int_equal(s->inode, 424242);
	assert_int_equal(s->netns, 9);

	/* IPv4 keeps only the first 4 bytes, the rest zero even if the kernel sent more */
	d.idiag_family = AF_INET;
	memcpy(nb.b + 1 + NLMSG_HDRLEN, &d, sizeof(d));
	g.n = 0;
	assert_int_equal(netlink_parse(nb.b + 1, h.nlmsg_len, &sink, &st), 0);
	assert_memory_equal(g.v[0].src, ((uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8 }), 16);
}

static void test_callback_stops(void **state)
{
	struct got g = { .fail_at = 3 };
	struct td_dump_stats st = { 0 };
	struct td_sink sink = { collect, &g, 0, 0, 0 };
	size_t len;
	unsigned char *buf = load("netlink/inet.bin", &len);
	(void)state;
	assert_int_equal(parse(buf, len, &sink, &st), -ECANCELED);
	assert_int_equal(g.n, 2);
	assert_int_equal(st.sockets, 3);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_counts),	cmocka_unit_test(test_sample_fields),
		cmocka_unit_test(test_sample_prefixes), cmocka_unit_test(test_built_messages),
		cmocka_unit_test(test_field_mapping),	cmocka_unit_test(test_callback_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
