// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/core/source/source_procfs.c: real /proc/net/tcp{,6} text captured from a private
 * namespace with a known socket set (tests/data/capture.sh), checked field by field and against
 * the inet_diag reply captured from the same sockets; then hand-made broken text (truncated,
 * CRLF, bad hex, overlong, ...). Every input is copied into an exact-size buffer with no
 * terminating NUL, so ASan catches a parser that reads past the end.
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

#include "core/sock.h"
#include "core/source/source.h"
#include "core/source/source_netlink.h"
#include "core/source/source_procfs.h"
#include "core/util.h"

#include "unit/sockcollect.h"

/* Parses text from an exact-size heap copy (no NUL after it). */
static int parse(const char *text, size_t len, int family, struct td_sink *sink,
		 struct td_dump_stats *st, unsigned *bad)
{
	char *copy = xmalloc(len ? len : 1);
	memcpy(copy, text, len);
	int r = procfs_parse(copy, len, family, sink, st, bad);
	free(copy);
	return r;
}

static int parse_file(const char *rel, int family, struct got *g, struct td_dump_stats *st)
{
	struct td_sink sink = { collect, g, 0, 0, 7 };
	size_t len;
	char *text = load(rel, &len);
	int r = parse(text, len, family, &sink, st, NULL);
	free(text);
	return r;
}

static void test_sample_counts(void **state)
{
	static const struct {
		const char *file;
		int family;
		unsigned total;
		unsigned n[TD_SS_COUNT];
	} cases[] = {
		{ "proc/tcp.txt",
		  AF_INET,
		  24,
		  { [TD_SS_LISTEN] = 5,
		    [TD_SS_ESTABLISHED] = 11,
		    [TD_SS_SYN_SENT] = 1,
		    [TD_SS_SYN_RECV] = 1,
		    [TD_SS_FIN_WAIT1] = 1,
		    [TD_SS_FIN_WAIT2] = 2,
		    [TD_SS_TIME_WAIT] = 1,
		    [TD_SS_CLOSE_WAIT] = 2 } },
		{ "proc/tcp6.txt",
		  AF_INET6,
		  6,
		  { [TD_SS_LISTEN] = 2, [TD_SS_ESTABLISHED] = 3, [TD_SS_TIME_WAIT] = 1 } },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct got g = { 0 };
		struct td_dump_stats st = { 0 };
		assert_int_equal(parse_file(cases[i].file, cases[i].family, &g, &st), 0);
		assert_int_equal(g.n, cases[i].total);
		assert_int_equal(st.sockets, cases[i].total);
		assert_int_equal(st.skipped, 0);
		assert_false(st.interrupted);
		assert_memory_equal(g.per_state, cases[i].n, sizeof(g.per_state));
		for (size_t j = 0; j < g.n; j++) {
			assert_int_equal(g.v[j].family, cases[i].family);
			assert_int_equal(g.v[j].netns, 7);
			assert_int_equal(g.v[j].cookie, 0);
			assert_int_equal(g.v[j].ifindex, 0);
		}
	}
}

/* Rows of tests/data/proc/tcp.txt, decoded by hand from the kernel's format. */
static void test_sample_fields(void **state)
{
	static const struct {
		uint16_t sport, dport;
		uint8_t st, timer, retrans;
		uint32_t expires_ms, rq, wq;
		uint64_t inode;
	} rows[] = {
		/* listener: rx_queue is the accept queue; no backlog in procfs (wqueue 0) */
		{ 5000, 0, TD_SS_LISTEN, 0, 0, 0, 2, 0, 12242 },
		{ 5003, 0, TD_SS_LISTEN, 0, 0, 0, 1, 0, 12256 },
		/* request socket: "01:0000001D", uid and inode 0 */
		{ 5002, 41040, TD_SS_SYN_RECV, 1, 0, 290, 0, 0, 0 },
		{ 41051, 5003, TD_SS_SYN_SENT, 1, 0, 290, 0, 1, 12258 },
		/* keepalive "02:0000EA05", probes_out (timeout column) is retrans */
		{ 41010, 5001, TD_SS_ESTABLISHED, 2, 0, 0xEA05 * 10, 0, 0, 12246 },
		{ 5001, 41010, TD_SS_ESTABLISHED, 0, 0, 0, 100, 0, 12247 },
		{ 41020, 5001, TD_SS_TIME_WAIT, 3, 0, 0x1729 * 10, 0, 0, 0 },
		/* orphan FIN_WAIT2 (timewait substate) vs a half-closed full socket */
		{ 41030, 5001, TD_SS_FIN_WAIT2, 3, 0, 0x172A * 10, 0, 0, 0 },
		{ 41031, 5001, TD_SS_FIN_WAIT2, 0, 0, 0, 0, 0, 12252 },
		{ 5001, 41030, TD_SS_CLOSE_WAIT, 0, 0, 0, 1, 0, 12251 },
		/* zero-window probe "04:00000051", probes_out 1 */
		{ 41060, 5004, TD_SS_FIN_WAIT1, 4, 1, 0x51 * 10, 0, 0x1801, 0 },
		{ 5000, 41002, TD_SS_ESTABLISHED, 0, 0, 0, 0, 0, 0 }, /* not accepted yet */
	};
	static const uint8_t lo[16] = { 127, 0, 0, 1 };
	struct got g = { 0 };
	struct td_dump_stats st = { 0 };
	(void)state;
	assert_int_equal(parse_file("proc/tcp.txt", AF_INET, &g, &st), 0);
	for (size_t i = 0; i < TD_ARRAY_SIZE(rows); i++) {
		const struct td_sock *s = find(&g, rows[i].sport, rows[i].dport);
		assert_int_equal(s->state, rows[i].st);
		assert_int_equal(s->timer, rows[i].timer);
		assert_int_equal(s->retrans, rows[i].retrans);
		assert_int_equal(s->expires_ms, rows[i].expires_ms);
		assert_int_equal(s->rqueue, rows[i].rq);
		assert_int_equal(s->wqueue, rows[i].wq);
		assert_int_equal(s->inode, rows[i].inode);
		/* only a listener's backlog is missing from /proc */
		assert_int_equal(s->flags, rows[i].st == TD_SS_LISTEN ? TD_SK_NO_BACKLOG : 0);
		assert_int_equal(s->uid, 0);
		assert_memory_equal(s->src, lo, 16);
		if (rows[i].dport)
			assert_memory_equal(s->dst, lo, 16);
		else
			assert_memory_equal(s->dst, (uint8_t[16]){ 0 }, 16);
	}
}

static void test_sample_v6(void **state)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	struct got g = { 0 };
	struct td_dump_stats st = { 0 };
	const struct td_sock *s;
	(void)state;
	assert_int_equal(parse_file("proc/tcp6.txt", AF_INET6, &g, &st), 0);
	s = find(&g, 42001, 6000);
	assert_int_equal(s->state, TD_SS_ESTABLISHED);
	assert_memory_equal(s->src, lo6, 16);
	assert_memory_equal(s->dst, lo6, 16);
	assert_int_equal(s->inode, 12264);
	s = find(&g, 6001, 41070); /* IPv4 client on a dual-stack listener */
	assert_memory_equal(s->src, mapped, 16);
	assert_memory_equal(s->dst, mapped, 16);
	s = find(&g, 42002, 6000);
	assert_int_equal(s->state, TD_SS_TIME_WAIT);
	assert_int_equal(s->expires_ms, 0x173C * 10);
	s = find(&g, 6001, 0);
	assert_int_equal(s->state, TD_SS_LISTEN);
	assert_memory_equal(s->src, (uint8_t[16]){ 0 }, 16);
}

/* procfs and inet_diag, captured from the same sockets, must describe each one alike. */
static void test_sample_matches_netlink(void **state)
{
	static const struct {
		const char *proc, *nl;
		int family;
	} pairs[] = { { "proc/tcp.txt", "netlink/inet.bin", AF_INET },
		      { "proc/tcp6.txt", "netlink/inet6.bin", AF_INET6 } };
	(void)state;
	for (size_t k = 0; k < TD_ARRAY_SIZE(pairs); k++) {
		struct got p = { 0 }, n = { 0 };
		struct td_dump_stats sp = { 0 }, sn = { 0 };
		struct td_sink sink = { collect, &n, 0, 0, 7 };
		size_t len;
		char *bin = load(pairs[k].nl, &len);
		assert_int_equal(parse_file(pairs[k].proc, pairs[k].family, &p, &sp), 0);
		assert_int_equal(netlink_parse(bin, len, &sink, &sn), 1);
		free(bin);
		assert_int_equal(p.n, n.n);
		assert_memory_equal(p.per_state, n.per_state, sizeof(p.per_state));
		for (size_t i = 0; i < n.n; i++) {
			const struct td_sock *a = &n.v[i], *b = find(&p, a->sport, a->dport);
			assert_int_equal(a->family, b->family);
			assert_int_equal(a->state, b->state);
			assert_memory_equal(a->src, b->src, 16);
			assert_memory_equal(a->dst, b->dst, 16);
			assert_int_equal(a->inode, b->inode);
			assert_int_equal(a->uid, b->uid);
			assert_int_equal(a->timer, b->timer);
			assert_int_equal(a->retrans, b->retrans);
			assert_int_equal(a->rqueue, b->rqueue);
			if (a->state != TD_SS_LISTEN) /* procfs has no backlog */
				assert_int_equal(a->wqueue, b->wqueue);
			/* captured ~0.1 s apart; procfs has 10 ms resolution */
			uint32_t d = a->expires_ms > b->expires_ms ? a->expires_ms - b->expires_ms
								   : b->expires_ms - a->expires_ms;
			assert_true(d < 1000);
		}
	}
}

#define HDR                                                                                        \
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "      \
	"timeout inode\n"
#define L_LISTEN                                                                                   \
	"   0: 0100007F:1389 00000000:0000 0A 00000000:00000003 00:00000000 00000000  1000 "       \
	"       0 12245 1 000000003f6c27d1 100 0 0 10 0"
#define L_TW                                                                                       \
	"   1: 0100007F:A03C 0100007F:1389 06 00000000:00000000 03:00001729 00000000     0 "       \
	"       0 0 3 000000000f92fef0"
#define HDR6                                                                                       \
	"  sl  local_address                         remote_address                        st "    \
	"tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
#define L6                                                                                         \
	"   0: 00000000000000000000000001000000:A411 00000000000000000000000001000000:1770 01 "    \
	"00000000:00000000 00:00000000 00000000     0        0 12264 2 0000000010c196a4 20 0 0 "   \
	"10 -1"

/* A NUL byte in the middle of a line (octal escape, then a '0' digit). */
#define NUL_TEXT                                                                                   \
	HDR "   0: 0100007F:1389 00000000:0000 01 00000000:0000\0000 00:00000000 00000000 0 0 1\n"
static const char nul_text[] = NUL_TEXT;

static void test_text_cases(void **state)
{
	static const struct {
		const char *name, *text;
		int family, ret;
		unsigned sockets, bad_line;
	} cases[] = {
		{ "empty", "", AF_INET, -EBADMSG, 0, 1 },
		{ "header only", HDR, AF_INET, 0, 0, 0 },
		{ "header cut", "  sl  local_add", AF_INET, -EBADMSG, 0, 1 },
		{ "not a header", "sk local\n" L_LISTEN "\n", AF_INET, -EBADMSG, 0, 1 },
		{ "two lines", HDR L_LISTEN "\n" L_TW "\n", AF_INET, 0, 2, 0 },
		{ "CRLF", "  sl local\r\n" L_LISTEN "\r\n" L_TW "\r\n", AF_INET, 0, 2, 0 },
		{ "no final newline", HDR L_LISTEN "\n" L_TW, AF_INET, -EBADMSG, 1, 3 },
		{ "cut after uid",
		  HDR L_LISTEN "\n   1: 0100007F:A03C 0100007F:1389 06 "
			       "00000000:00000000 03:00001729 00000000     0\n",
		  AF_INET, -EBADMSG, 1, 3 },
		{ "blank line", HDR L_LISTEN "\n\n" L_TW "\n", AF_INET, -EBADMSG, 1, 3 },
		{ "bad hex",
		  HDR "   0: 0100007G:1389 00000000:0000 0A 00000000:00000000 "
		      "00:00000000 00000000 0 0 1\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "lower-case hex",
		  HDR "   0: 0100007f:138a 00000000:0000 0a 00000000:00000000 "
		      "00:00000000 00000000 0 0 1\n",
		  AF_INET, 0, 1, 0 },
		{ "short address",
		  HDR "   0: 100007F:1389 00000000:0000 0A 00000000:00000000 "
		      "00:00000000 00000000 0 0 1\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "5-digit port",
		  HDR "   0: 0100007F:13890 00000000:0000 0A 00000000:00000000 "
		      "00:00000000 00000000 0 0 1\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "state 0",
		  HDR "   0: 0100007F:1389 00000000:0000 00 00000000:00000000 "
		      "00:00000000 00000000 0 0 1\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "state 0D",
		  HDR "   0: 0100007F:1389 00000000:0000 0D 00000000:00000000 "
		      "00:00000000 00000000 0 0 1\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "timer 5",
		  HDR "   0: 0100007F:1389 00000000:0000 01 00000000:00000000 "
		      "05:00000000 00000000 0 0 1\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "uid 2^32",
		  HDR "   0: 0100007F:1389 00000000:0000 01 00000000:00000000 "
		      "00:00000000 00000000 4294967296 0 1\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "inode 2^64",
		  HDR "   0: 0100007F:1389 00000000:0000 01 00000000:00000000 "
		      "00:00000000 00000000 0 0 18446744073709551616\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "junk after inode",
		  HDR "   0: 0100007F:1389 00000000:0000 01 00000000:00000000 "
		      "00:00000000 00000000 0 0 12x\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "17-digit timer",
		  HDR "   0: 0100007F:1389 00000000:0000 01 00000000:00000000 "
		      "01:00000000000000001 00000000 0 0 1\n",
		  AF_INET, -EBADMSG, 0, 2 },
		{ "NUL inside", nul_text, AF_INET, -EBADMSG, 0, 2 },
		{ "v4 row in tcp6", HDR6 L_LISTEN "\n", AF_INET6, -EBADMSG, 0, 2 },
		{ "v6 row in tcp", HDR L6 "\n", AF_INET, -EBADMSG, 0, 2 },
		{ "v6 row", HDR6 L6 "\n", AF_INET6, 0, 1, 0 },
		{ "v6 three words",
		  HDR6 "   0: 000000000000000000000000:A411 "
		       "00000000000000000000000001000000:1770 01 00000000:00000000 00:00000000 "
		       "00000000 0 0 1\n",
		  AF_INET6, -EBADMSG, 0, 2 },
		{ "line 600 bytes",
		  HDR L_LISTEN
		  "                                                  "
		  "                                                                                "
		  "                                                                                "
		  "                                                                                "
		  "                                                                                "
		  "                                                                                "
		  "                                                                                "
		  "\n",
		  AF_INET, -EBADMSG, 0, 2 },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct got g = { 0 };
		struct td_dump_stats st = { 0 };
		struct td_sink sink = { collect, &g, 0, 0, 0 };
		unsigned bad = 0;
		size_t len = strlen(cases[i].text);
		if (cases[i].text == nul_text) /* strlen would stop at its NUL */
			len = sizeof(NUL_TEXT) - 1;
		int r = parse(cases[i].text, len, cases[i].family, &sink, &st, &bad);
		if (r != cases[i].ret || g.n != cases[i].sockets || bad != cases[i].bad_line)
			fail_msg("%s: ret %d sockets %zu bad line %u", cases[i].name, r, g.n, bad);
	}
}

/* Lines whose columns need inet_diag's interpretation. */
static void test_line_mapping(void **state)
{
	struct got g = { 0 };
	struct td_dump_stats st = { 0 };
	struct td_sink sink = { collect, &g, 0, 0, 0 };
	const char *text =
		HDR "   0: 0100007F:138A 0100007F:A050 03 00000000:00000000 01:FFFFFFFFFFFFFFF6 "
		    "00000002  1000        0 0 0 0000000000000000\n"
		    "   1: 0100007F:138A 0100007F:A051 01 00000000:00000000 04:00000064 "
		    "00000007  1000        3 77 1\n"
		    "   2: 0100007F:138A 0100007F:A052 01 00000000:00000000 01:00000064 "
		    "00000190  1000        0 78 1\n"
		    "   3: 0100007F:138A 0100007F:A053 01 00000000:00000000 00:00000000 "
		    "00000005  1000        0 79 1\n"
		    "   4: 0100007F:138A 0100007F:A054 0C 00000000:00000000 01:00000001 "
		    "00000000  1000        0 0 0\n";
	(void)state;
	assert_int_equal(parse(text, strlen(text), AF_INET, &sink, &st, NULL), 0);
	assert_int_equal(g.n, 5);
	/* request socket: the listener's uid is not reported (inet_diag says 0); an expired
	 * timer printed as a negative number is 0 ms */
	assert_int_equal(g.v[0].state, TD_SS_SYN_RECV);
	assert_int_equal(g.v[0].uid, 0);
	assert_int_equal(g.v[0].expires_ms, 0);
	assert_int_equal(g.v[0].retrans, 2);
	/* zero-window probe: retrans is probes_out (3), not retrnsmt (7) */
	assert_int_equal(g.v[1].timer, TD_TIMER_PROBE);
	assert_int_equal(g.v[1].retrans, 3);
	assert_int_equal(g.v[1].expires_ms, 1000);
	assert_int_equal(g.v[1].uid, 1000);
	/* retransmits beyond a u8 are capped like inet_diag's field */
	assert_int_equal(g.v[2].retrans, 255);
	/* no timer: no retrans either */
	assert_int_equal(g.v[3].retrans, 0);
	/* NEW_SYN_RECV never leaks out */
	assert_int_equal(g.v[4].state, TD_SS_SYN_RECV);
	assert_int_equal(g.v[4].expires_ms, 10);
}

static void test_filter_and_errors(void **state)
{
	struct got g = { 0 };
	struct td_dump_stats st = { 0 };
	struct td_sink sink = { collect, &g, 1u << TD_SS_LISTEN, 0, 3 };
	size_t len;
	char *text = load("proc/tcp.txt", &len);
	(void)state;
	assert_int_equal(parse(text, len, AF_INET, &sink, &st, NULL), 0);
	assert_int_equal(g.n, 5);
	assert_int_equal(st.sockets, 5);
	assert_int_equal(st.skipped, 19);
	assert_int_equal(g.v[0].netns, 3);

	memset(&g, 0, sizeof(g));
	memset(&st, 0, sizeof(st));
	sink = (struct td_sink){ collect, &g, 0, TD_FAM_INET6, 0 };
	assert_int_equal(parse(text, len, AF_INET, &sink, &st, NULL), 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(st.skipped, 24);

	memset(&g, 0, sizeof(g));
	memset(&st, 0, sizeof(st));
	g.fail_at = 3;
	sink = (struct td_sink){ collect, &g, 0, 0, 0 };
	assert_int_equal(parse(text, len, AF_INET, &sink, &st, NULL), -ECANCELED);
	assert_int_equal(g.n, 2);
	assert_int_equal(st.sockets, 3);

	assert_int_equal(parse(text, len, AF_UNIX, &sink, &st, NULL), -EINVAL);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_counts),
		cmocka_unit_test(test_sample_fields),
		cmocka_unit_test(test_sample_v6),
		cmocka_unit_test(test_sample_matches_netlink),
		cmocka_unit_test(test_text_cases),
		cmocka_unit_test(test_line_mapping),
		cmocka_unit_test(test_filter_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
