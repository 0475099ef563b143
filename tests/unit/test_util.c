// SPDX-License-Identifier: MIT
/* Unit tests for the strict number parsers in src/core/util.c: table-driven, every edge. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/util.h"

static void test_parse_u64(void **state)
{
	static const struct {
		const char *in;
		uint64_t min, max;
		int ret;
		uint64_t out;
	} cases[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -ERANGE, 0 },
		{ "5", 6, 10, -ERANGE, 0 },
		{ "", 0, 10, -EINVAL, 0 },
		{ " 1", 0, 10, -EINVAL, 0 },
		{ "1 ", 0, 10, -EINVAL, 0 },
		{ "+1", 0, 10, -EINVAL, 0 },
		{ "-1", 0, 10, -EINVAL, 0 },
		{ "0x10", 0, 100, -EINVAL, 0 },
		{ "1e3", 0, 10000, -EINVAL, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, UINT64_MAX, -ERANGE, 0 },
		{ "65535", 0, 65535, 0, 65535 },
		{ "65536", 0, 65535, -ERANGE, 0 },
		{ "007", 0, 10, 0, 7 },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		uint64_t v = 12345;
		int r = util_parse_u64(cases[i].in, cases[i].min, cases[i].max, &v);
		assert_int_equal(r, cases[i].ret);
		assert_int_equal(v, r ? 12345 : cases[i].out);
	}
	uint64_t v;
	assert_int_equal(util_parse_u64(NULL, 0, 1, &v), -EINVAL);
}

static void test_parse_i64(void **state)
{
	static const struct {
		const char *in;
		int64_t min, max;
		int ret;
		int64_t out;
	} cases[] = {
		{ "-5", -10, 10, 0, -5 },
		{ "-11", -10, 10, -ERANGE, 0 },
		{ "-", -10, 10, -EINVAL, 0 },
		{ "--1", -10, 10, -EINVAL, 0 },
		{ "9223372036854775807", INT64_MIN, INT64_MAX, 0, INT64_MAX },
		{ "-9223372036854775808", INT64_MIN, INT64_MAX, 0, INT64_MIN },
		{ "9223372036854775808", INT64_MIN, INT64_MAX, -ERANGE, 0 },
		{ "-9223372036854775809", INT64_MIN, INT64_MAX, -ERANGE, 0 },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		int64_t v = 77;
		int r = util_parse_i64(cases[i].in, cases[i].min, cases[i].max, &v);
		assert_int_equal(r, cases[i].ret);
		if (!r)
			assert_true(v == cases[i].out);
		else
			assert_true(v == 77);
	}
}

static void test_parse_seconds(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t ms;
	} cases[] = {
		{ "1", 0, 1000 },	{ "0.5", 0, 500 },     { "2.25", 0, 2250 },
		{ "0", -ERANGE, 0 },	{ "0.0", -ERANGE, 0 }, { "3600", 0, 3600000 },
		{ "3601", -ERANGE, 0 }, { ".5", -EINVAL, 0 },  { "1.", -EINVAL, 0 },
		{ "1.5s", -EINVAL, 0 }, { "abc", -EINVAL, 0 }, { "", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		uint64_t ms = 9;
		int r = util_parse_seconds(cases[i].in, 3600, &ms);
		assert_int_equal(r, cases[i].ret);
		assert_int_equal(ms, r ? 9 : cases[i].ms);
	}
}

static void test_read_file(void **state)
{
	char *buf;
	size_t len;
	(void)state;
	assert_int_equal(util_read_file("/nonexistent/x", 100, &buf, &len), -ENOENT);
	assert_int_equal(util_read_file("/proc/self/status", 16, &buf, &len), -EFBIG);
	assert_int_equal(util_read_file("/proc/self/comm", 4096, &buf, &len), 0);
	assert_true(len > 0 && buf[len] == '\0');
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_i64),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
