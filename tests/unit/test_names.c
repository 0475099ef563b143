// SPDX-License-Identifier: MIT
/*
 * Unit tests for names.c: the UTF-8 validator against the RFC 3629 edge cases, and the two ways
 * of neutralising what it rejects (\xNN escapes, '?' in place), table-driven: every output of a
 * name must be valid UTF-8 without control characters, and clean names must pass unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/names.h"
#include "core/util.h"

static void test_utf8_char(void **state)
{
	static const struct {
		const char *bytes;
		size_t n, want;
	} cases[] = {
		{ "a", 1, 1 },
		{ "\xc3\xa9", 2, 2 },	      /* é */
		{ "\xc3", 1, 0 },	      /* cut short */
		{ "\xc0\xaf", 2, 0 },	      /* overlong '/' */
		{ "\xc1\xbf", 2, 0 },	      /* overlong */
		{ "\xe0\x80\xaf", 3, 0 },     /* overlong, 3 bytes */
		{ "\xe2\x82\xac", 3, 3 },     /* € */
		{ "\xed\xa0\x80", 3, 0 },     /* surrogate U+D800 */
		{ "\xef\xbf\xbd", 3, 3 },     /* U+FFFD */
		{ "\xf0\x9f\x98\x80", 4, 4 }, /* U+1F600 */
		{ "\xf0\x8f\xbf\xbf", 4, 0 }, /* overlong, 4 bytes */
		{ "\xf4\x90\x80\x80", 4, 0 }, /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xff", 1, 0 },
		{ "\x80", 1, 0 },	  /* stray continuation */
		{ "\xe2\x82", 2, 0 },	  /* cut short */
		{ "\xe2\x28\xa1", 3, 0 }, /* bad continuation */
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		size_t got = names_utf8_char((const unsigned char *)cases[i].bytes, cases[i].n);
		if (got != cases[i].want)
			fail_msg("case %zu: %zu, expected %zu", i, got, cases[i].want);
	}
}

static void test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} cases[] = {
		{ "td-golden-1164", 14, "td-golden-1164" },
		{ "", 0, "" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },	    /* valid UTF-8 kept */
		{ "a\\b", 3, "a\\b" },			    /* backslash kept */
		{ "td-\xff", 4, "td-\\xff" },		    /* invalid byte */
		{ "\x1b[31mred", 8, "\\x1b[31mred" },	    /* ESC sequence */
		{ "a\nb\tc\x7f", 6, "a\\x0ab\\x09c\\x7f" }, /* C0 and DEL */
		{ "\xc2\x9b"
		  "2J",
		  4, "\\xc2\\x9b2J" },			  /* C1 CSI */
		{ "\xc2\xa0", 2, "\xc2\xa0" },		  /* U+00A0 is text */
		{ "a\0b", 3, "a\\x00b" },		  /* NUL inside */
		{ "\xe2\x82", 2, "\\xe2\\x82" },	  /* cut short */
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" }, /* surrogate */
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		char *got = names_escape(cases[i].in, cases[i].n);
		if (strcmp(got, cases[i].want))
			fail_msg("case %zu: '%s', expected '%s'", i, got, cases[i].want);
		free(got);
	}
	char *s = names_escape_str("ok\x1b");
	assert_string_equal(s, "ok\\x1b");
	free(s);
}

static void test_replace(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "nginx", "nginx" },
		{ "\x1b[31mevil", "?[31mevil" },
		{ "a\xff\xfe", "a??" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\xc2\x9b", "??" },
		{ "x\x07y", "x?y" },
		{ "", "" },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		char buf[16];
		strcpy(buf, cases[i].in);
		names_replace(buf);
		if (strcmp(buf, cases[i].want))
			fail_msg("case %zu: '%s', expected '%s'", i, buf, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_char),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_replace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
