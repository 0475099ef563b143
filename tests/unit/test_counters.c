// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/core/model/counters.c: real /proc/net samples captured in a private namespace on
 * 6.18 (tests/data/proc/ns-fresh right after `ip netns add`, ns-events after tcpevents made
 * refused 5, linger0 3, unread 4, timewait 6), a table of malformed texts each parsed from an
 * exact-size heap copy so ASan catches any read past the end, and deltas including counters
 * that went backwards.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "core/model/counters.h"
#include "core/model/counters_rows.h"
#include "core/util.h"
#include "render/fields.h"

/* Entries in each captured file: snmp 82, netstat 229, sockstat 12 (counted with awk). */
#define SAMPLE_ENTRIES (82 + 229 + 12)

static struct td_counters *load(const char *dir)
{
	static const char *const files[] = { "snmp", "netstat", "sockstat" };
	struct td_counters *c = counters_new();

	for (int s = 0; s < COUNTERS_SRC_COUNT; s++) {
		char path[256];
		char *buf;
		size_t len;
		struct td_counters_err err;
		snprintf(path, sizeof(path), "tests/data/proc/%s/%s", dir, files[s]);
		assert_int_equal(util_read_file(path, 1 << 20, &buf, &len), 0);
		int r = counters_parse(c, (enum counters_src)s, buf, len, &err);
		if (r)
			fail_msg("%s line %u: %s", path, err.line, err.msg);
		free(buf);
	}
	return c;
}

static uint64_t val(const struct td_counters *c, enum counters_id id)
{
	uint64_t v = 0xdead;

	assert_int_equal(counters_value(c, id, &v), 0);
	return v;
}

static void test_samples(void **state)
{
	static const struct {
		enum counters_id id;
		uint64_t fresh, events;
	} want[] = {
		{ COUNTERS_ACTIVE_OPENS, 0, 18 },  { COUNTERS_PASSIVE_OPENS, 0, 13 },
		{ COUNTERS_ATTEMPT_FAILS, 0, 5 },  { COUNTERS_ESTAB_RESETS, 0, 14 },
		{ COUNTERS_CURR_ESTAB, 0, 0 },	   { COUNTERS_TW, 0, 6 },
		{ COUNTERS_TW_KILLED, 0, 0 },	   { COUNTERS_ABORT_ON_DATA, 0, 3 },
		{ COUNTERS_ABORT_ON_CLOSE, 0, 4 }, { COUNTERS_LISTEN_OVERFLOWS, 0, 0 },
		{ COUNTERS_PAWS_TIMEWAIT, 0, 0 },  { COUNTERS_PAWS_OLD_ACK, 0, 0 },
		{ COUNTERS_SOCK_INUSE, 0, 0 },	   { COUNTERS_SOCK_TW, 0, 6 },
		{ COUNTERS_SOCK_ALLOC, 1, 1 },	   { COUNTERS_SOCK_MEM, 243, 243 },
		{ COUNTERS_SOCK_ORPHAN, 0, 0 },
	};
	struct td_counters *f = load("ns-fresh"), *e = load("ns-events");
	(void)state;

	assert_int_equal(f->n, SAMPLE_ENTRIES);
	assert_int_equal(e->n, SAMPLE_ENTRIES);
	for (size_t i = 0; i < TD_ARRAY_SIZE(want); i++) {
		assert_int_equal(val(f, want[i].id), want[i].fresh);
		assert_int_equal(val(e, want[i].id), want[i].events);
	}
	/* every known counter exists on 6.18 */
	for (int i = 0; i < COUNTERS_ID_COUNT; i++) {
		uint64_t v;
		assert_int_equal(counters_value(e, (enum counters_id)i, &v), 0);
	}
	/* the generic table keeps what the tool does not know by name */
	const struct td_counters_entry *x = counters_get(e, COUNTERS_SNMP, "Tcp", "OutRsts");
	assert_non_null(x);
	assert_int_equal(x->value, 12);
	x = counters_get(e, COUNTERS_NETSTAT, "TcpExt", "TCPDelivered");
	assert_non_null(x);
	assert_int_equal(x->value, 29);
	assert_non_null(counters_get(e, COUNTERS_NETSTAT, "MPTcpExt", "MPCapableSYNRX"));
	x = counters_get(e, COUNTERS_SOCKSTAT, "FRAG", "memory");
	assert_non_null(x);
	assert_int_equal(x->value, 0);
	/* Tcp MaxConn is printed as -1 */
	x = counters_get(e, COUNTERS_SNMP, "Tcp", "MaxConn");
	assert_non_null(x);
	assert_true(x->negative);
	assert_int_equal(x->value, 1);
	/* same names in different files or sections stay apart */
	assert_null(counters_get(e, COUNTERS_SNMP, "TCP", "inuse"));
	assert_null(counters_get(e, COUNTERS_SOCKSTAT, "Tcp", "ActiveOpens"));
	assert_non_null(counters_get(e, COUNTERS_SOCKSTAT, "UDP", "inuse"));
	counters_free(f);
	counters_free(e);
}

static void test_deltas(void **state)
{
	static const struct {
		enum counters_id id;
		uint64_t delta;
	} want[] = {
		{ COUNTERS_ACTIVE_OPENS, 18 },
		{ COUNTERS_PASSIVE_OPENS, 13 },
		{ COUNTERS_ATTEMPT_FAILS, 5 },
		{ COUNTERS_ESTAB_RESETS, 14 },
		{ COUNTERS_TW, 6 },
		{ COUNTERS_ABORT_ON_DATA, 3 },
		{ COUNTERS_ABORT_ON_CLOSE, 4 },
		{ COUNTERS_LISTEN_DROPS, 0 },
		{ COUNTERS_SOCK_TW, 6 },
	};
	struct td_counters *f = load("ns-fresh"), *e = load("ns-events");
	struct td_counters_delta d;
	(void)state;

	f->taken_ns = 1000000000ull;
	e->taken_ns = 3000000000ull; /* 2 s later */
	for (size_t i = 0; i < TD_ARRAY_SIZE(want); i++) {
		counters_delta_known(f, e, want[i].id, &d);
		assert_false(d.missing);
		assert_false(d.backwards);
		assert_int_equal(d.delta, want[i].delta);
		assert_true(d.rate == (double)want[i].delta / 2.0);
	}
	/* the namespace was recreated: the counter starts again from 0; no underflow */
	counters_delta_known(e, f, COUNTERS_ACTIVE_OPENS, &d);
	assert_true(d.backwards);
	assert_int_equal(d.delta, 0);
	assert_int_equal(d.before, 18);
	assert_int_equal(d.after, 0);
	assert_true(d.rate == 0.0);
	/* a value absent from one side */
	counters_delta(f, e, COUNTERS_NETSTAT, "TcpExt", "NoSuchCounter", &d);
	assert_true(d.missing);
	struct td_counters *empty = counters_new();
	counters_delta_known(empty, e, COUNTERS_TW, &d);
	assert_true(d.missing);
	assert_int_equal(d.after, 6);
	uint64_t v;
	assert_int_equal(counters_value(empty, COUNTERS_TW, &v), -ENOENT);
	assert_int_equal(counters_value(e, COUNTERS_ID_COUNT, &v), -EINVAL);
	/* parsed text has no time stamp: a delta but no rate */
	f->taken_ns = 0;
	counters_delta_known(f, e, COUNTERS_TW, &d);
	assert_int_equal(d.delta, 6);
	assert_true(d.rate == 0.0);
	counters_free(empty);
	counters_free(f);
	counters_free(e);
}

/* Parses s (len bytes, exact heap copy) as src into a fresh snapshot. */
static int parse_exact(enum counters_src src, const char *s, size_t len,
		       struct td_counters_err *err, struct td_counters **out)
{
	char *copy = malloc(len ? len : 1);
	struct td_counters *c = counters_new();

	memcpy(copy, s, len);
	int r = counters_parse(c, src, copy, len, err);
	free(copy);
	if (out)
		*out = c;
	else
		counters_free(c);
	return r;
}

#define T(str) str, sizeof(str) - 1

static void test_malformed(void **state)
{
	static const struct {
		enum counters_src src;
		const char *text;
		size_t len;
		int ret;
		unsigned line;
		const char *msg; /* substring of err.msg */
	} cases[] = {
		{ COUNTERS_SNMP, T("Tcp: A B\nTcp: 1 2\n"), 0, 0, "" },
		{ COUNTERS_SNMP, T("Tcp: A B\nTcp: 1 2"), 0, 0, "" }, /* no final newline */
		{ COUNTERS_SNMP, T("Tcp: A B\r\nTcp: 1 2\r\n"), 0, 0, "" },
		{ COUNTERS_SNMP, T("\n\nTcp: A\n\nTcp: 1\n\n"), 0, 0, "" },
		{ COUNTERS_SNMP, T("Tcp: A B\n"), -EBADMSG, 2, "without a value line" },
		{ COUNTERS_SNMP, T("Tcp: A B\nTcp: 1\n"), -EBADMSG, 2, "2 columns but values 1" },
		{ COUNTERS_SNMP, T("Tcp: A B\nTcp: 1 2 3\n"), -EBADMSG, 2,
		  "2 columns but values 3" },
		{ COUNTERS_SNMP, T("Tcp: A\nUdp: 1\n"), -EBADMSG, 2, "follow the 'Tcp:' header" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: x\n"), -EBADMSG, 2, "bad value 'x'" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: 1x\n"), -EBADMSG, 2, "bad value" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: +1\n"), -EBADMSG, 2, "bad value" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: 0x1\n"), -EBADMSG, 2, "bad value" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: -\n"), -EBADMSG, 2, "bad value" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: 18446744073709551615\n"), 0, 0, "" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: 18446744073709551616\n"), -EBADMSG, 2,
		  "bad value" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: 99999999999999999999999999\n"), -EBADMSG, 2,
		  "bad" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: -9223372036854775808\n"), 0, 0, "" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: -9223372036854775809\n"), -EBADMSG, 2,
		  "bad value" },
		{ COUNTERS_SNMP, T("Ip: A\nIp: 1\n"), -EBADMSG, 3, "no 'Tcp:' section" },
		{ COUNTERS_SNMP, T(""), -EBADMSG, 1, "no 'Tcp:' section" },
		{ COUNTERS_SNMP, T("Tcp: A\rB\nTcp: 1 2\n"), -EBADMSG, 1,
		  "control character 0x0d" },
		{ COUNTERS_SNMP, T("Tcp: A\0B\nTcp: 1 2\n"), -EBADMSG, 1,
		  "control character 0x00" },
		{ COUNTERS_SNMP, T("Tcp: A A\nTcp: 1 2\n"), -EBADMSG, 1, "Tcp A appears twice" },
		{ COUNTERS_SNMP, T("Tcp: A$ B\nTcp: 1 2\n"), -EBADMSG, 1, "bad counter name" },
		{ COUNTERS_SNMP, T("Tcp A\nTcp: 1\n"), -EBADMSG, 1, "no 'Section:' prefix" },
		{ COUNTERS_SNMP, T("Tcp:A\nTcp:1\n"), -EBADMSG, 1, "no blank after" },
		{ COUNTERS_SNMP, T(": A\n: 1\n"), -EBADMSG, 1, "bad section name" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: 1\nTcp: B\nTcp: 2\n"), 0, 0, "" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: 1\nTcp: A\nTcp: 2\n"), -EBADMSG, 3,
		  "Tcp A appears twice" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: 1\nIp: B\n"), -EBADMSG, 4, "without a value" },
		{ COUNTERS_SNMP, T("Tcp: A\nTcp: 1\nIp: B\nTcp: 2\n"), -EBADMSG, 4, "follow" },
		{ COUNTERS_SNMP,
		  T("Tcp: ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCD\nTcp: "
		    "1\n"),
		  -EBADMSG, 1, "bad counter name" }, /* 64 bytes: one too many with the NUL */
		{ COUNTERS_SNMP,
		  T("Tcp: ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABC\nTcp: "
		    "1\n"),
		  0, 0, "" },
		{ COUNTERS_SNMP,
		  T("TcpTcpTcpTcpTcpTcpTcpTcpTcpTcpTcp: A\nTcpTcpTcpTcpTcpTcpTcpTcpTcpTcpTcp: 1\n"),
		  -EBADMSG, 1, "bad section name" },
		{ COUNTERS_NETSTAT, T("TcpExt: TW\nTcpExt: 3\nIpExt: X\nIpExt: 4\n"), 0, 0, "" },
		{ COUNTERS_NETSTAT, T("IpExt: A\nIpExt: 1\n"), -EBADMSG, 3,
		  "no 'TcpExt:' section" },
		{ COUNTERS_NETSTAT, T("TcpExt: TW\nTcpExt: 3\n\x01"), -EBADMSG, 3, "0x01" },
		{ COUNTERS_SOCKSTAT, T("TCP: inuse 1 orphan 0 tw 2 alloc 3 mem 4\n"), 0, 0, "" },
		{ COUNTERS_SOCKSTAT, T("sockets: used 3\nTCP: inuse 1 orphan\n"), -EBADMSG, 2,
		  "name without a value" },
		{ COUNTERS_SOCKSTAT, T("TCP: inuse x\n"), -EBADMSG, 1, "TCP inuse: bad value 'x'" },
		{ COUNTERS_SOCKSTAT, T("sockets: used 1\n"), -EBADMSG, 2, "no 'TCP:' section" },
		{ COUNTERS_SOCKSTAT, T("TCP: inuse 1 inuse 2\n"), -EBADMSG, 1, "appears twice" },
		{ COUNTERS_SOCKSTAT, T("TCP: 5 inuse\n"), -EBADMSG, 1, "bad value 'inuse'" },
		{ COUNTERS_SOCKSTAT, T("TCP:\n"), 0, 0, "" },
	};
	(void)state;

	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_counters_err err;
		int r = parse_exact(cases[i].src, cases[i].text, cases[i].len, &err, NULL);
		if (r != cases[i].ret ||
		    (r && (err.line != cases[i].line || !strstr(err.msg, cases[i].msg))))
			fail_msg("case %zu: got %d line %u '%s', want %d line %u '%s'", i, r,
				 err.line, r ? err.msg : "", cases[i].ret, cases[i].line,
				 cases[i].msg);
		if (r)
			assert_int_equal(err.src, cases[i].src);
	}
}

static void test_values(void **state)
{
	struct td_counters *c;
	const struct td_counters_entry *e;
	(void)state;

	/* CRLF: the CR is not part of the last value */
	assert_int_equal(parse_exact(COUNTERS_SNMP, T("Tcp: A B\r\nTcp: 1 2\r\n"), NULL, &c), 0);
	e = counters_get(c, COUNTERS_SNMP, "Tcp", "B");
	assert_non_null(e);
	assert_int_equal(e->value, 2);
	counters_free(c);
	assert_int_equal(
		parse_exact(COUNTERS_SNMP, T("Tcp: A\nTcp: 18446744073709551615"), NULL, &c), 0);
	assert_int_equal(counters_get(c, COUNTERS_SNMP, "Tcp", "A")->value, UINT64_MAX);
	counters_free(c);
	assert_int_equal(
		parse_exact(COUNTERS_SNMP, T("Tcp: A B\nTcp: -9223372036854775808 -0"), NULL, &c),
		0);
	e = counters_get(c, COUNTERS_SNMP, "Tcp", "A");
	assert_true(e->negative);
	assert_int_equal(e->value, 9223372036854775808ull);
	e = counters_get(c, COUNTERS_SNMP, "Tcp", "B");
	assert_false(e->negative);
	assert_int_equal(e->value, 0);
	counters_free(c);
}

/* A failed parse leaves the snapshot as it was; a file is parsed only once. */
static void test_rollback(void **state)
{
	struct td_counters *c = counters_new();
	struct td_counters_err err;
	(void)state;

	assert_int_equal(counters_parse(c, COUNTERS_SNMP, T("Tcp: A B\nTcp: 1 2\n"), &err), 0);
	assert_int_equal(counters_parse(c, COUNTERS_NETSTAT,
					T("TcpExt: TW X\nTcpExt: 3 4\nIpExt: Y\nIpExt: z\n"), &err),
			 -EBADMSG);
	assert_int_equal(err.src, COUNTERS_NETSTAT);
	assert_int_equal(err.line, 4);
	assert_int_equal(c->n, 2);
	assert_false(c->have[COUNTERS_NETSTAT]);
	assert_null(counters_get(c, COUNTERS_NETSTAT, "TcpExt", "TW"));
	assert_int_equal(counters_get(c, COUNTERS_SNMP, "Tcp", "B")->value, 2);
	assert_int_equal(counters_parse(c, COUNTERS_NETSTAT, T("TcpExt: TW\nTcpExt: 5\n"), &err),
			 0);
	assert_int_equal(counters_get(c, COUNTERS_NETSTAT, "TcpExt", "TW")->value, 5);
	assert_int_equal(counters_parse(c, COUNTERS_NETSTAT, T("TcpExt: TW\nTcpExt: 5\n"), &err),
			 -EEXIST);
	assert_int_equal(counters_parse(c, COUNTERS_SRC_COUNT, T("x"), &err), -EINVAL);
	counters_free(c);
}

/* Builds "Tcp: N0 N1 ...\nTcp: 0 1 ...\n" with n columns. */
static char *wide(size_t n, size_t *len)
{
	size_t cap = 32 + n * 24, o = 0;
	char *b = malloc(cap);

	o += (size_t)snprintf(b + o, cap - o, "Tcp:");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(b + o, cap - o, " N%zu", i);
	o += (size_t)snprintf(b + o, cap - o, "\nTcp:");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(b + o, cap - o, " %zu", i * 7);
	o += (size_t)snprintf(b + o, cap - o, "\n");
	*len = o;
	return b;
}

static void test_limits(void **state)
{
	struct td_counters *c;
	struct td_counters_err err;
	size_t len;
	char *b;
	(void)state;

	/* 5000 columns: the index grows and every value is found again */
	b = wide(5000, &len);
	assert_int_equal(parse_exact(COUNTERS_SNMP, b, len, &err, &c), 0);
	assert_int_equal(c->n, 5000);
	for (size_t i = 0; i < 5000; i++) {
		char name[16];
		snprintf(name, sizeof(name), "N%zu", i);
		const struct td_counters_entry *e = counters_get(c, COUNTERS_SNMP, "Tcp", name);
		assert_non_null(e);
		assert_int_equal(e->value, i * 7);
	}
	counters_free(c);
	free(b);
	/* more entries than a snapshot takes */
	b = wide(COUNTERS_ENTRIES_MAX + 1, &len);
	assert_int_equal(parse_exact(COUNTERS_SNMP, b, len, &err, NULL), -E2BIG);
	free(b);
	/* a line longer than COUNTERS_LINE_MAX */
	b = wide(COUNTERS_LINE_MAX / 4, &len);
	assert_int_equal(parse_exact(COUNTERS_SNMP, b, len, &err, NULL), -EBADMSG);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "longer than"));
	free(b);
}

static void test_table(void **state)
{
	(void)state;
	for (int i = 0; i < COUNTERS_ID_COUNT; i++) {
		const struct td_counters_info *k = &counters_known[i];
		assert_int_equal(k->id, i);
		assert_true(strlen(k->meaning) > 10);
		assert_true(strlen(k->signals) > 5);
		assert_ptr_equal(counters_info_find(k->src, k->section, k->name), k);
		assert_ptr_equal(counters_info_find(k->src, NULL, k->name), k);
		bool gauge = i == COUNTERS_CURR_ESTAB || k->src == COUNTERS_SOCKSTAT;
		assert_int_equal(k->kind, gauge ? COUNTERS_GAUGE : COUNTERS_COUNTER);
		bool global = i == COUNTERS_SOCK_ORPHAN || i == COUNTERS_SOCK_MEM ||
			      i == COUNTERS_SOCK_ALLOC;
		assert_int_equal(k->global, global);
	}
	assert_null(counters_info_find(COUNTERS_SNMP, NULL, "tw"));
	assert_non_null(counters_info_find(COUNTERS_SOCKSTAT, "TCP", "tw"));
	assert_null(counters_info_find(COUNTERS_SOCKSTAT, "UDP", "inuse"));
	assert_string_equal(counters_src_name(COUNTERS_NETSTAT), "netstat");
	assert_string_equal(counters_src_name(COUNTERS_SRC_COUNT), "?");
}

/* On the machine running the tests: the three files parse and every §13 counter is there. */
static void test_read_live(void **state)
{
	struct td_counters *c = NULL;
	struct td_counters_err err;
	(void)state;

	int r = counters_read(&c, &err);
	if (r)
		fail_msg("counters_read: %d (%s line %u: %s)", r, counters_src_name(err.src),
			 err.line, err.msg);
	assert_true(c->taken_ns > 0);
	for (int s = 0; s < COUNTERS_SRC_COUNT; s++)
		assert_true(c->have[s]);
	uint64_t v;
	assert_int_equal(counters_value(c, COUNTERS_ACTIVE_OPENS, &v), 0);
	assert_int_equal(counters_value(c, COUNTERS_SOCK_TW, &v), 0);
	counters_free(c);
}

static const struct td_counters_row *row_of(const struct td_counters_row *v, size_t n,
					    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	fail_msg("no row %s", name);
	return NULL;
}

/* Counters before gauges, the ones that moved first, the table's order within each group. */
static void test_rows_order(void **state)
{
	static const char *const want[] = {
		"ActiveOpens",	  "PassiveOpens",    "AttemptFails", "EstabResets", "TW",
		"TCPAbortOnData", "TCPAbortOnClose", "TWKilled", /* the first still one */
	};
	struct td_counters *f = load("ns-fresh"), *e = load("ns-events");
	struct td_counters_row *v;
	const char *miss[COUNTERS_ID_COUNT];
	(void)state;

	size_t n = counters_rows(f, e, false, &v);
	assert_int_equal(n, COUNTERS_ID_COUNT); /* 6.18 has every known counter */
	assert_int_equal(counters_missing(f, e, miss), 0);
	for (size_t i = 0; i < TD_ARRAY_SIZE(want); i++)
		assert_string_equal(v[i].name, want[i]);
	/* gauges last: sockstat tw rose 0 -> 6, so it leads them */
	size_t g = 0;
	while (g < n && v[g].kind == COUNTERS_COUNTER)
		g++;
	assert_int_equal(n - g, 6);
	assert_string_equal(v[g].name, "tw");
	assert_string_equal(v[g + 1].name, "CurrEstab");
	for (size_t i = g; i < n; i++)
		assert_int_equal(v[i].kind, COUNTERS_GAUGE);
	free(v);

	/* --all: the Tcp/TcpExt counters without an entry that moved, without a meaning */
	n = counters_rows(f, e, true, &v);
	assert_true(n > COUNTERS_ID_COUNT);
	const struct td_counters_row *r = row_of(v, n, "OutRsts");
	assert_int_equal(r->d.delta, 12);
	assert_null(r->meaning);
	assert_int_equal(row_of(v, n, "TCPDelivered")->d.delta, 29);
	for (size_t i = 0; i < n; i++)
		if (!counters_info_find(v[i].src, v[i].section, v[i].name))
			assert_true(v[i].d.delta > 0 && v[i].kind == COUNTERS_COUNTER);
	free(v);
	counters_free(f);
	counters_free(e);
}

static json_t *row_json(const struct td_counters_row *r)
{
	json_t *o = json_object();

	fields_json_set(o, counters_row_fields, counters_row_nfields, r, NULL);
	return o;
}

/* fields_line of r against the layout `counters` has always printed. */
static void line_is(const struct td_field *f, size_t nf, const struct td_counters_row *r,
		    const char *label, const char *mid, const char *rate, const char *meaning)
{
	char *out = NULL, want[256];
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	fields_line(m, f, nf, r, NULL);
	fclose(m);
	snprintf(want, sizeof(want), "  %-22s %12s %10s  %s\n", label, mid, rate, meaning);
	assert_string_equal(out, want);
	free(out);
}

/* The rows (without --all) from sample `from` to sample `to`, taken 2 s apart. */
struct rows_fx {
	struct td_counters *from, *to;
	struct td_counters_row *v;
	size_t n;
};

static void rows_between(struct rows_fx *x, const char *from, const char *to)
{
	x->from = load(from);
	x->to = load(to);
	x->from->taken_ns = 1000000000ull;
	x->to->taken_ns = 3000000000ull;
	x->n = counters_rows(x->from, x->to, false, &x->v);
}

static void rows_done(struct rows_fx *x)
{
	free(x->v);
	counters_free(x->from);
	counters_free(x->to);
}

/* The namespace was recreated between the snapshots: a counter reads "reset", a gauge fell. */
static void test_rows_backwards(void **state)
{
	struct rows_fx x;
	(void)state;

	rows_between(&x, "ns-events", "ns-fresh");
	const struct td_counters_row *c = row_of(x.v, x.n, "ActiveOpens");
	json_t *o = row_json(c);
	assert_int_equal(json_integer_value(json_object_get(o, "delta")), 0);
	assert_true(json_is_true(json_object_get(o, "backwards")));
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "counter");
	json_decref(o);
	line_is(counters_row_fields, counters_row_nfields, c, "ActiveOpens", "reset", "-",
		"went backwards (18 -> 0): counters reset, was the namespace recreated?");

	const struct td_counters_row *t = row_of(x.v, x.n, "tw");
	o = row_json(t);
	assert_int_equal(json_integer_value(json_object_get(o, "delta")), -6);
	assert_null(json_object_get(o, "backwards")); /* a gauge's fall is its delta */
	assert_string_equal(json_string_value(json_object_get(o, "file")), "sockstat");
	json_decref(o);
	line_is(counters_gauge_fields, counters_gauge_nfields, t, "sockstat tw", "0", "",
		t->meaning);
	rows_done(&x);
}

/* One row in JSON and text: the members in the table's order, the rate, a negative value. */
static void test_rows_fields(void **state)
{
	struct rows_fx x;
	(void)state;

	rows_between(&x, "ns-fresh", "ns-events");
	const struct td_counters_row *r = row_of(x.v, x.n, "ActiveOpens");
	json_t *o = row_json(r);
	const char *key;
	json_t *val;
	const char *keys[] = { "name",	"section", "file",    "delta",	  "rate",
			       "value", "kind",	   "meaning", "backwards" };
	size_t k = 0;
	json_object_foreach(o, key, val)
	{
		assert_true(k < TD_ARRAY_SIZE(keys));
		assert_string_equal(key, keys[k++]);
	}
	assert_int_equal(k, TD_ARRAY_SIZE(keys));
	assert_int_equal(json_integer_value(json_object_get(o, "delta")), 18);
	assert_float_equal(json_real_value(json_object_get(o, "rate")), 9.0, 0);
	assert_int_equal(json_integer_value(json_object_get(o, "value")), 18);
	assert_string_equal(json_string_value(json_object_get(o, "section")), "Tcp");
	json_decref(o);
	line_is(counters_row_fields, counters_row_nfields, r, "ActiveOpens", "18", "9.0",
		r->meaning);

	/* Tcp MaxConn is printed as -1: the value keeps its sign */
	struct td_counters_row m = { .name = "MaxConn",
				     .section = "Tcp",
				     .value = 1,
				     .negative = true,
				     .kind = COUNTERS_COUNTER };
	o = row_json(&m);
	assert_int_equal(json_integer_value(json_object_get(o, "value")), -1);
	assert_true(json_is_null(json_object_get(o, "meaning")));
	json_decref(o);
	rows_done(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),	    cmocka_unit_test(test_deltas),
		cmocka_unit_test(test_malformed),   cmocka_unit_test(test_values),
		cmocka_unit_test(test_rollback),    cmocka_unit_test(test_limits),
		cmocka_unit_test(test_table),	    cmocka_unit_test(test_read_live),
		cmocka_unit_test(test_rows_order),  cmocka_unit_test(test_rows_backwards),
		cmocka_unit_test(test_rows_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
