// SPDX-License-Identifier: MIT
/* Unit tests for sysctl lint (src/core/sysctl/sysctl_lint.c) beyond the parser: an inline '#' judged as
 * the kernel takes it for each value shape (measured on 6.18 in a fresh namespace: integer and
 * vector keys keep the numbers before a blank and '#', names and port lists reject the write),
 * keys without write permission, keys outside the table grouped per file unless verbose,
 * tcp_tw_reuse left dead by tcp_timestamps=0, and duplicates of one key counted in one pass.
 * A fake /proc/sys in a temporary directory stands in for the kernel. Table-driven. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/sysctl/sysctl.h"
#include "core/util.h"
#include "fakeroot.h"

static const struct td_kenv k618 = { PARAMS_KV(6, 18), 262144, 1048576, 1024 };

/* path, value, mode */
static const struct {
	const char *path, *value;
	mode_t mode;
} proc[] = {
	{ "net/ipv4/tcp_fin_timeout", "60", 0644 },
	{ "net/ipv4/ip_local_port_range", "32768\t60999", 0644 },
	{ "net/ipv4/ip_local_reserved_ports", "", 0644 },
	{ "net/ipv4/tcp_congestion_control", "cubic", 0644 },
	{ "net/ipv4/tcp_timestamps", "1", 0644 },
	{ "net/ipv4/tcp_tw_reuse", "2", 0644 },
	{ "net/core/rmem_max", "212992", 0444 },
	{ "net/core/somaxconn", "4096", 0644 },
	{ "vm/swappiness", "60", 0644 },
	{ "kernel/pid_max", "4194304", 0644 },
	{ "kernel/tainted", "0", 0444 },
};

static char *fake_proc(void)
{
	char *root = fakeroot_new("lint");

	for (size_t i = 0; i < TD_ARRAY_SIZE(proc); i++)
		fakeroot_put(root, proc[i].path, proc[i].value, proc[i].mode);
	return root;
}

/* Lints text and returns "line sev message|" for every finding (caller frees). */
static char *lint(const char *root, const char *text, bool child, bool verbose,
		  struct td_sysctl_set **out)
{
	struct td_sysctl_set *s = td_sysctl_set_new();
	struct td_lint_opts o = {
		.env = &k618, .procroot = root, .child_ns = child, .verbose = verbose
	};
	char *r = xstrdup("");

	sysctl_parse_buf(s, "t.conf", text, strlen(text));
	sysctl_lint(s, &o);
	for (size_t i = 0; i < s->nfnd; i++) {
		char *t = xasprintf("%s%u %s %s|", r, s->fnd[i].line,
				    params_sev_name(s->fnd[i].sev), s->fnd[i].message);
		free(r);
		r = t;
	}
	if (out)
		*out = s;
	else
		td_sysctl_set_free(s);
	return r;
}

static void test_inline_hash(void **state)
{
	static const struct {
		const char *line;
		const char *want; /* substring of the findings */
		bool effective;
	} cases[] = {
		{ "net.ipv4.tcp_fin_timeout = 30 # c",
		  "1 warn inline '#' is not a comment: the kernel keeps '30' and ignores the rest|",
		  true },
		{ "net.ipv4.tcp_fin_timeout = 30\t#c", "the kernel keeps '30'", true },
		{ "net.ipv4.ip_local_port_range = 40000 50001 # c",
		  "the kernel keeps '40000 50001'", true },
		{ "net.ipv4.tcp_congestion_control = cubic # c",
		  "1 error inline '#' is part of the value: the kernel rejects the write (ENOENT: "
		  "no "
		  "such name)|",
		  false },
		{ "net.ipv4.ip_local_reserved_ports = 8080 # x",
		  "1 error inline '#' is part of the value: the kernel rejects the write (EINVAL)|",
		  false },
		{ "net.ipv4.tcp_fin_timeout = 30# c", "rejects the write (EINVAL)", false },
		{ "net.ipv4.tcp_fin_timeout = # c", "rejects the write (EINVAL)", false },
		{ "net.ipv4.ip_local_port_range = 40000 # c", "rejects the write (EINVAL)", false },
		{ "-net.ipv4.tcp_congestion_control = cubic # c",
		  "1 warn inline '#' is part of the value: the kernel rejects the write (ENOENT: "
		  "no "
		  "such name) (ignored: the line starts with '-')|",
		  false },
		{ "vm.swappiness = 10 # c", "an integer key keeps the number before it", true },
		/* an empty value clears a port list; a number refuses it */
		{ "net.ipv4.ip_local_reserved_ports =", "same as this kernel's default", true },
		{ "net.ipv4.tcp_fin_timeout =", "1 error empty value|", false },
	};
	char *root = fake_proc();
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_sysctl_set *s;
		char *got = lint(root, cases[i].line, false, false, &s);
		if (!strstr(got, cases[i].want) || (s->neff == 1) != cases[i].effective)
			fail_msg("'%s': got '%s' (%zu effective), want '%s'", cases[i].line, got,
				 s->neff, cases[i].want);
		free(got);
		td_sysctl_set_free(s);
	}
	fakeroot_rm(root);
	free(root);
}

static void test_readonly(void **state)
{
	char *root = fake_proc();
	struct td_sysctl_set *s;
	char *got;
	(void)state;

	/* a global key in a child namespace: the host's value, read-only */
	got = lint(root, "net.core.rmem_max = 16777216\nnet.core.somaxconn = 8192\n", true, false,
		   &s);
	assert_string_equal(got, "1 warn global key: read-only in this network namespace; set it "
				 "on the host|2 info harmless: only a cap|");
	assert_int_equal(s->neff, 1);
	assert_string_equal(s->eff[0].key, "net.core.somaxconn");
	/* not "bad": apply must still see the line and refuse the whole file, not skip it */
	assert_false(s->ent[0].bad);
	free(got);
	td_sysctl_set_free(s);
	/* any other key without write permission */
	got = lint(root, "kernel.tainted = 0\n-kernel.tainted = 1\n", false, false, NULL);
	assert_string_equal(got, "1 warn read-only key: the kernel refuses the write|2 warn "
				 "read-only key: the kernel refuses the write (ignored: the line "
				 "starts with '-')|");
	free(got);
	fakeroot_rm(root);
	free(root);
}

static void test_unknown_grouped(void **state)
{
	static const char text[] = "vm.swappiness = 10\n"
				   "kernel.pid_max = 100000\n"
				   "net.ipv4.tcp_fin_timeout = 60\n"
				   "vm.swappiness = 1\n";
	char *root = fake_proc();
	char *got;
	(void)state;

	got = lint(root, text, false, false, NULL);
	assert_string_equal(got, "1 info 3 lines with 2 keys not in tcpdoctor's knowledge table: "
				 "vm.swappiness, kernel.pid_max|"
				 "1 note overridden by t.conf:4, which sets '1'|"
				 "3 info same as this kernel's default: the line changes nothing|");
	free(got);
	got = lint(root, text, false, true, NULL);
	assert_int_equal(strstr(got, "3 lines") == NULL, 1);
	size_t n = 0;
	for (const char *p = got; (p = strstr(p, "not in tcpdoctor's knowledge table; the key "
						 "exists"));
	     p++)
		n++;
	assert_int_equal(n, 3);
	free(got);
	/* one line: its own finding, with the key */
	got = lint(root, "vm.swappiness = 10\n", false, false, NULL);
	assert_string_equal(got,
			    "1 info not in tcpdoctor's knowledge table; the key exists on this "
			    "kernel|");
	free(got);
	fakeroot_rm(root);
	free(root);
}

static void test_cross_lint(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_timestamps = 0\n",
		  "1 warn dead: tcp_timestamps = 0 at t.conf:2 disables tcp_tw_reuse|" },
		{ "net.ipv4.tcp_timestamps = 0\nnet.ipv4.tcp_tw_reuse = 1 # on\n",
		  "2 warn dead: tcp_timestamps = 0 at t.conf:1 disables tcp_tw_reuse|" },
		/* the later line wins: timestamps back on, reuse alive */
		{ "net.ipv4.tcp_timestamps = 0\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_timestamps "
		  "= "
		  "1\n",
		  NULL },
		{ "net.ipv4.tcp_tw_reuse = 0\nnet.ipv4.tcp_timestamps = 0\n", NULL },
	};
	char *root = fake_proc();
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		char *got = lint(root, cases[i].text, false, false, NULL);
		if (cases[i].want ? !strstr(got, cases[i].want) : strstr(got, "dead") != NULL)
			fail_msg("case %zu: got '%s'", i, got);
		free(got);
	}
	fakeroot_rm(root);
	free(root);
}

static void test_duplicates(void **state)
{
	struct td_sysctl_set *s = td_sysctl_set_new();
	struct td_lint_opts o = { .env = &k618, .procroot = NULL };
	size_t n = 20000, overridden = 0;
	(void)state;

	/* two keys interleaved, a refused line in between: each earlier line names its winner */
	for (size_t i = 0; i < n; i++) {
		const char *l =
			i % 2 ? "net.ipv4.tcp_fin_timeout = 30" : "net.core.somaxconn = 8192";
		sysctl_parse_buf(s, "d.conf", l, strlen(l));
	}
	sysctl_parse_buf(s, "d.conf", "net.core.somaxconn = x", 22);
	sysctl_lint(s, &o);
	for (size_t i = 0; i < s->nfnd; i++)
		overridden += !strncmp(s->fnd[i].message, "overridden by d.conf:1,", 23);
	assert_int_equal(overridden, n - 2);
	assert_int_equal(s->neff, 2);
	assert_int_equal(s->eff[0].overridden, n / 2 - 1);
	assert_int_equal(s->eff[0].file, n - 2); /* each line is its own "file" here */
	td_sysctl_set_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_hash),	cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_unknown_grouped), cmocka_unit_test(test_cross_lint),
		cmocka_unit_test(test_duplicates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
