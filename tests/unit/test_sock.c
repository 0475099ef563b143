// SPDX-License-Identifier: MIT
/* Unit tests for src/core/sock.c: state names and groups as ss defines them, addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/sock.h"
#include "core/util.h"

#define B(s) (1u << (s))

static void test_state_parse(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint32_t mask;
	} cases[] = {
		{ "established", 0, B(TD_SS_ESTABLISHED) },
		{ "ESTABLISHED", 0, B(TD_SS_ESTABLISHED) },
		{ "time-wait", 0, B(TD_SS_TIME_WAIT) },
		{ "TIME_WAIT", 0, B(TD_SS_TIME_WAIT) },
		{ "syn-recv", 0, B(TD_SS_SYN_RECV) },
		{ "fin-wait-1", 0, B(TD_SS_FIN_WAIT1) },
		{ "fin-wait-2", 0, B(TD_SS_FIN_WAIT2) },
		{ "fin_wait2", 0, B(TD_SS_FIN_WAIT2) },
		{ "close-wait", 0, B(TD_SS_CLOSE_WAIT) },
		{ "close", 0, B(TD_SS_CLOSE) },
		{ "listen", 0, B(TD_SS_LISTEN) },
		{ "closing", 0, B(TD_SS_CLOSING) },
		{ "last-ack", 0, B(TD_SS_LAST_ACK) },
		{ "syn-sent", 0, B(TD_SS_SYN_SENT) },
		{ "all", 0, TD_STATES_ALL },
		{ "bucket", 0, B(TD_SS_SYN_RECV) | B(TD_SS_TIME_WAIT) },
		{ "big", 0, TD_STATES_ALL & ~(B(TD_SS_SYN_RECV) | B(TD_SS_TIME_WAIT)) },
		{ "connected", 0, TD_STATES_ALL & ~(B(TD_SS_LISTEN) | B(TD_SS_CLOSE)) },
		{ "synchronized", 0,
		  TD_STATES_ALL & ~(B(TD_SS_LISTEN) | B(TD_SS_CLOSE) | B(TD_SS_SYN_SENT)) },
		{ "timewait", -EINVAL, 0 },
		{ "estab", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "fin-wait-3", -EINVAL, 0 },
		{ "unknown", -EINVAL, 0 },
		{ "established ", -EINVAL, 0 },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		uint32_t m = 0;
		assert_int_equal(sock_state_parse(cases[i].in, &m), cases[i].ret);
		if (!cases[i].ret)
			assert_int_equal(m, cases[i].mask);
	}
}

static void test_state_list(void **state)
{
	uint32_t m = 0xdead;
	const char *bad = NULL;
	size_t n = 0;
	const char *in = "listen,bogus,time-wait";
	(void)state;
	assert_int_equal(sock_state_parse_list("listen,time-wait", &m, NULL, NULL), 0);
	assert_int_equal(m, B(TD_SS_LISTEN) | B(TD_SS_TIME_WAIT));
	m = 0xdead;
	assert_int_equal(sock_state_parse_list(in, &m, &bad, &n), -EINVAL);
	assert_ptr_equal(bad, in + 7);
	assert_int_equal(n, 5);
	assert_int_equal(m, 0xdead);
	assert_int_equal(sock_state_parse_list("listen,", &m, &bad, &n), -EINVAL);
	assert_int_equal(n, 0);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(sock_state_name(TD_SS_TIME_WAIT), "TIME_WAIT");
	assert_string_equal(sock_state_name(TD_SS_FIN_WAIT2), "FIN_WAIT2");
	assert_string_equal(sock_state_name(TD_SS_CLOSE_WAIT), "CLOSE_WAIT");
	assert_string_equal(sock_state_name(12), "UNKNOWN");
	assert_string_equal(sock_state_name(255), "UNKNOWN");
	/* every kernel name round-trips through the parser */
	for (unsigned s = 1; s < TD_SS_COUNT; s++) {
		uint32_t m = 0;
		assert_int_equal(sock_state_parse(sock_state_name(s), &m), 0);
		assert_int_equal(m, B(s));
	}
}

static void test_addr(void **state)
{
	unsigned fam, pfx;
	uint8_t a[16], b[16];
	char buf[64];
	(void)state;
	assert_int_equal(sock_addr_parse("127.0.0.1", &fam, a, &pfx), 0);
	assert_int_equal(fam, AF_INET);
	assert_int_equal(pfx, 32);
	assert_string_equal(sock_addr_str(AF_INET, a, buf, sizeof(buf)), "127.0.0.1");
	assert_int_equal(sock_addr_parse("10.1.0.0/16", &fam, b, &pfx), 0);
	assert_int_equal(pfx, 16);
	assert_int_equal(sock_addr_parse("10.1.255.3", &fam, a, &pfx), 0);
	assert_true(sock_addr_match(a, b, 16));
	assert_false(sock_addr_match(a, b, 17 + 7));
	assert_int_equal(sock_addr_parse("[::1]", &fam, a, &pfx), 0);
	assert_int_equal(fam, AF_INET6);
	assert_int_equal(pfx, 128);
	assert_string_equal(sock_addr_str(AF_INET6, a, buf, sizeof(buf)), "::1");
	assert_int_equal(sock_addr_parse("fe80::/10", &fam, b, &pfx), 0);
	assert_int_equal(sock_addr_parse("fe80::1", &fam, a, &pfx), 0);
	assert_true(sock_addr_match(a, b, 10));
	static const char *const bad[] = { "",	      "1.2.3",	  "1.2.3.4/33",
					   "::1/129", "1.2.3.4/", "1.2.3.4/x",
					   "host",    "[::1",	  "1.2.3.4/-1" };
	for (size_t i = 0; i < TD_ARRAY_SIZE(bad); i++)
		assert_int_equal(sock_addr_parse(bad[i], &fam, a, &pfx), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_parse),
		cmocka_unit_test(test_state_list),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
