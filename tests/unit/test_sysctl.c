// SPDX-License-Identifier: MIT
/* Unit tests for the sysctl file parser, lint, the cross-key checks and all-or-nothing apply
 * (src/core/sysctl*.c). Lint and apply run against a fake /proc/sys built in a temporary
 * directory, so existence, did-you-mean, refusals and a failing write are exercised without
 * touching the kernel. Table-driven where the cases are lines. */
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
#include "core/sysctl/sysctl_apply.h"
#include "core/sysctl/sysctl_cross.h"
#include "core/util.h"
#include "fakeroot.h"

static const struct td_kenv k618 = { PARAMS_KV(6, 18), 262144, 1048576, 1024 };

static void test_parse_lines(void **state)
{
	static const struct {
		const char *line;
		const char *key, *value; /* NULL key: no entry */
		bool ign;
		const char *err; /* substring of the error finding, NULL for none */
	} cases[] = {
		{ "net.ipv4.tcp_tw_reuse = 1", "net.ipv4.tcp_tw_reuse", "1", false, NULL },
		{ "  net.ipv4.tcp_tw_reuse=1  ", "net.ipv4.tcp_tw_reuse", "1", false, NULL },
		{ "net/ipv4/tcp_tw_reuse = 1", "net.ipv4.tcp_tw_reuse", "1", false, NULL },
		{ "-net.ipv4.tcp_tw_recycle = 1", "net.ipv4.tcp_tw_recycle", "1", true, NULL },
		{ "- net.ipv4.x = 1", "net.ipv4.x", "1", true, NULL },
		{ "net.ipv4.ip_local_port_range =\t1024   65000\r", "net.ipv4.ip_local_port_range",
		  "1024   65000", false, NULL },
		{ "net.ipv4.tcp_tw_reuse = 1 # c", "net.ipv4.tcp_tw_reuse", "1 # c", false, NULL },
		{ "k = a=b", "k", "a=b", false, NULL },
		{ "net.ipv4.tcp_tw_reuse =", "net.ipv4.tcp_tw_reuse", "", false, NULL },
		{ "# comment = 1", NULL, NULL, false, NULL },
		{ "; comment = 1", NULL, NULL, false, NULL },
		{ "   ", NULL, NULL, false, NULL },
		{ "", NULL, NULL, false, NULL },
		{ "net.ipv4.tcp_tw_reuse 1", NULL, NULL, false, "missing '='" },
		{ "= 1", NULL, NULL, false, "missing key" },
		{ "net. ipv4 = 1", NULL, NULL, false, "invalid key" },
		{ "net..x = 1", NULL, NULL, false, "invalid key" },
		{ "-", NULL, NULL, false, "missing '='" },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_sysctl_set *s = td_sysctl_set_new();
		sysctl_parse_buf(s, "t.conf", cases[i].line, strlen(cases[i].line));
		if (cases[i].key) {
			assert_int_equal(s->nent, 1);
			assert_string_equal(s->ent[0].key, cases[i].key);
			assert_string_equal(s->ent[0].value, cases[i].value);
			assert_int_equal(s->ent[0].ignore_errors, cases[i].ign);
			assert_int_equal(s->ent[0].line, 1);
		} else {
			assert_int_equal(s->nent, 0);
		}
		size_t errs = 0;
		for (size_t j = 0; j < s->nfnd; j++)
			if (s->fnd[j].sev == TD_SEV_ERROR) {
				errs++;
				assert_non_null(cases[i].err);
				assert_non_null(strstr(s->fnd[j].message, cases[i].err));
				assert_int_equal(s->fnd[j].line, 1);
			}
		assert_int_equal(errs, cases[i].err ? 1 : 0);
		td_sysctl_set_free(s);
	}
}

static void test_parse_hostile(void **state)
{
	struct td_sysctl_set *s = td_sysctl_set_new();
	char *big = xmalloc(SYSCTL_LINE_MAX + 100);
	(void)state;

	/* NUL byte, a too-long line, CRLF, no final newline */
	static const char nul[] = "a = 1\nb\0c = 2\r\nd = 3";
	sysctl_parse_buf(s, "nul.conf", nul, sizeof(nul) - 1);
	assert_int_equal(s->nent, 2);
	assert_string_equal(s->ent[1].key, "d");
	assert_int_equal(s->ent[1].line, 3);
	memset(big, 'x', SYSCTL_LINE_MAX + 99);
	memcpy(big, "k = ", 4);
	big[SYSCTL_LINE_MAX + 99] = '\n';
	sysctl_parse_buf(s, "big.conf", big, SYSCTL_LINE_MAX + 100);
	assert_int_equal(s->nent, 2);
	sysctl_findings_sort(s);
	assert_int_equal(s->nfnd, 3);
	assert_non_null(strstr(s->fnd[0].message, "NUL byte"));
	assert_int_equal(s->fnd[0].line, 2);
	assert_non_null(strstr(s->fnd[1].message, "CRLF"));
	assert_non_null(strstr(s->fnd[2].message, "line too long"));
	assert_int_equal(s->fnd[2].file, 1);
	/* 25 broken lines: 20 errors, one "given up", nothing after */
	struct td_sysctl_parser *p = sysctl_parser_new(s, "junk.conf");
	int gave = 0;
	for (int i = 0; i < 25; i++)
		gave += sysctl_parser_line(p, "junk", 4);
	sysctl_parser_finish(p);
	assert_int_equal(gave, 6);
	assert_int_equal(s->nfnd, 3 + 21);
	free(big);
	td_sysctl_set_free(s);
}

/* A fake /proc/sys: "path=value" files, "path/" directories. */
static char *fake_proc(const char *const *files, size_t n)
{
	char *root = fakeroot_new("sysctl");

	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(files[i], '=');
		char *rel = eq ? strndup(files[i], (size_t)(eq - files[i])) : xstrdup(files[i]);
		fakeroot_put(root, rel, eq ? eq + 1 : NULL, 0644);
		free(rel);
	}
	return root;
}

static const char *const proc_files[] = {
	"net/ipv4/tcp_timestamps=1\n",	      "net/ipv4/tcp_tw_reuse=2\n",
	"net/ipv4/tcp_fin_timeout=60\n",      "net/core/somaxconn=4096\n",
	"net/ipv4/tcp_mem=1 2 3\n",	      "kernel/pid_max=4194304\n",
	"net/ipv4/tcp_keepalive_time=7200\n", "net/ipv4/tcp_congestion_control/",
};

static void test_lint(void **state)
{
	char *root = fake_proc(proc_files, TD_ARRAY_SIZE(proc_files));
	struct td_sysctl_set *s = td_sysctl_set_new();
	struct td_lint_opts o = { .env = &k618, .procroot = root, .child_ns = false };
	static const char conf[] = "net.ipv4.tcp_timestsmps = 0\n"
				   "kernel.pid_max = 1000\n"
				   "net.ipv4.tcp_fin_timeout = 30\n"
				   "net.ipv4.tcp_fin_timeout = 45\n"
				   "-net.ipv4.nope = 1\n"
				   "net.ipv4.tcp_tw_recycle = 1\n"
				   "net.ipv4.tcp_timestamps = 0\n";
	static const struct {
		unsigned line;
		enum td_sev sev;
		const char *msg;
	} want[] = {
		{ 1, TD_SEV_ERROR, "did you mean net.ipv4.tcp_timestamps?" },
		{ 2, TD_SEV_INFO, "not in tcpdoctor's knowledge table; the key exists" },
		{ 3, TD_SEV_NOTE, "bounds orphaned FIN_WAIT2" },
		{ 3, TD_SEV_NOTE, "overridden by t.conf:4, which sets '45'" },
		{ 4, TD_SEV_NOTE, "bounds orphaned FIN_WAIT2" },
		{ 5, TD_SEV_WARN, "ignored: the line starts with '-'" },
		{ 6, TD_SEV_ERROR, "removed from the kernel in 4.12" },
		{ 7, TD_SEV_HARMFUL, "disables tcp_tw_reuse" },
	};
	(void)state;
	sysctl_parse_buf(s, "t.conf", conf, sizeof(conf) - 1);
	sysctl_lint(s, &o);
	assert_int_equal(s->nfnd, TD_ARRAY_SIZE(want));
	for (size_t i = 0; i < TD_ARRAY_SIZE(want); i++) {
		if (s->fnd[i].line != want[i].line || s->fnd[i].sev != want[i].sev ||
		    !strstr(s->fnd[i].message, want[i].msg))
			fail_msg("finding %zu: %u %s '%s'", i, s->fnd[i].line,
				 params_sev_name(s->fnd[i].sev), s->fnd[i].message);
	}
	assert_int_equal(sysctl_worst(s), TD_SEV_ERROR);
	/* effective: fin_timeout from line 4; the missing and misspelled keys have none */
	assert_int_equal(s->neff, 3);
	assert_string_equal(s->eff[1].key, "net.ipv4.tcp_fin_timeout");
	assert_int_equal(s->eff[1].line, 4);
	assert_int_equal(s->eff[1].overridden, 1);
	assert_false(sysctl_in_child_netns(root));
	td_sysctl_set_free(s);
	fakeroot_rm(root);
	free(root);
}

static void test_same(void **state)
{
	static const struct {
		const char *a, *b;
		bool same;
	} cases[] = {
		{ "1", "1", true },
		{ "01", "1", true },
		{ "1 2", "1\t 2", true },
		{ "1 2", "1 3", false },
		{ "1", "1 2", false },
		{ "bbr", "bbr", true },
		{ "bbr", "cubic", false },
		{ "", "", true },
		{ "8080,9000-9010", "8080,9000-9010", true },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++)
		assert_int_equal(sysctl_apply_same(cases[i].a, cases[i].b), cases[i].same);
}

static char *slurp(const char *root, const char *rel)
{
	char buf[256];
	assert_int_equal(sysctl_read(root, rel, buf, sizeof(buf)), 0);
	return xstrdup(buf);
}

static void test_apply(void **state)
{
	char *root = fake_proc(proc_files, TD_ARRAY_SIZE(proc_files));
	struct td_sysctl_set *s = td_sysctl_set_new();
	struct td_lint_opts o = { .env = &k618, .procroot = root, .child_ns = false };
	struct td_sysctl_plan *p = NULL;
	char *bk = xasprintf("%s/bk/backup-t.conf", root), *v;
	/* line 3 "writes" into a directory: the write fails half-way */
	static const char conf[] = "net.ipv4.tcp_fin_timeout = 30\n"
				   "net.core.somaxconn = 8192\n"
				   "net.ipv4.tcp_congestion_control = bbr\n"
				   "net.ipv4.tcp_keepalive_time = 600\n";
	(void)state;
	sysctl_parse_buf(s, "t.conf", conf, sizeof(conf) - 1);
	sysctl_lint(s, &o);
	/* the congestion-control "file" is a directory: its value cannot be read -> refused */
	assert_int_equal(sysctl_apply_plan(s, root, &(struct td_apply_opts){ 0 }, &p), 0);
	assert_int_equal(sysctl_worst(s), TD_SEV_ERROR);
	assert_int_equal(p->n, 3);
	/* run the plan anyway with a failing item: make fin_timeout's successor fail */
	p->v[1].path = "net/ipv4/tcp_congestion_control";
	assert_int_equal(sysctl_apply_backup(p, bk, "test\nbackup"), 0);
	assert_int_equal(sysctl_apply_run(p, root), -EISDIR);
	assert_int_equal(p->failed, 1);
	assert_int_equal(p->v[0].st, TD_AP_RESTORED);
	assert_int_equal(p->v[1].st, TD_AP_FAILED);
	assert_int_equal(p->v[2].st, TD_AP_NOT_REACHED);
	v = slurp(root, "net/ipv4/tcp_fin_timeout");
	assert_string_equal(v, "60");
	free(v);
	v = slurp(root, "net/ipv4/tcp_keepalive_time");
	assert_string_equal(v, "7200");
	free(v);
	char *text = NULL;
	size_t len;
	assert_int_equal(util_read_file(bk, 4096, &text, &len), 0);
	assert_string_equal(text,
			    "# test\n# backup\nnet.ipv4.tcp_fin_timeout = 60\n"
			    "net.core.somaxconn = 4096\nnet.ipv4.tcp_keepalive_time = 7200\n");
	free(text);
	/* a clean plan applies and reads back */
	p->v[1].path = "net/core/somaxconn";
	assert_int_equal(sysctl_apply_run(p, root), 0);
	v = slurp(root, "net/core/somaxconn");
	assert_string_equal(v, "8192");
	free(v);
	sysctl_apply_plan_free(p);
	td_sysctl_set_free(s);

	/* in a child namespace a global key is refused */
	s = td_sysctl_set_new();
	sysctl_parse_buf(s, "g.conf", "net.ipv4.tcp_mem = 4 5 6\n", 25);
	sysctl_lint(s, &o);
	assert_int_equal(
		sysctl_apply_plan(s, root, &(struct td_apply_opts){ .child_ns = true }, &p), 0);
	assert_int_equal(p->n, 0);
	assert_non_null(strstr(s->fnd[s->nfnd - 1].message, "global key"));
	sysctl_apply_plan_free(p);
	td_sysctl_set_free(s);
	free(bk);
	fakeroot_rm(root);
	free(root);
}

static void test_cross(void **state)
{
	static const struct td_cross_listener ls[] = { { 22, 128 },
						       { 40000, 4096 },
						       { 50000, 511 } };
	static const struct {
		struct td_cross_facts f;
		const char *want; /* "key:severity" per finding */
	} cases[] = {
		{ { .timestamps = "0", .tw_reuse = "1" }, "net.ipv4.tcp_tw_reuse:warn " },
		{ { .timestamps = "0", .tw_reuse = "0" }, "" },
		{ { .timestamps = "1", .tw_reuse = "1" }, "" },
		{ { .port_range = "32768 60999", .listeners = ls, .nlisteners = 3 },
		  "net.ipv4.ip_local_port_range:warn " },
		{ { .port_range = "32768 60999",
		    .reserved_ports = "40000,49000-50000",
		    .listeners = ls,
		    .nlisteners = 3 },
		  "" },
		{ { .somaxconn = "4096", .listeners = ls, .nlisteners = 3 },
		  "net.core.somaxconn:note " },
		{ { .max_tw = "5000", .tw_count = 5000, .have_tw = true },
		  "net.ipv4.tcp_max_tw_buckets:harmful " },
		{ { .max_tw = "5000", .tw_count = 4100, .have_tw = true },
		  "net.ipv4.tcp_max_tw_buckets:warn " },
		{ { .max_tw = "5000", .tw_count = 10, .have_tw = true }, "" },
		{ { .max_tw = "5000", .tw_count = 9000, .have_tw = false }, "" },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_sysctl_set *s = td_sysctl_set_new();
		char got[256] = "";
		size_t o = 0;
		sysctl_cross_check(s, &cases[i].f);
		for (size_t j = 0; j < s->nfnd; j++)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s:%s ", s->fnd[j].key,
					      params_sev_name(s->fnd[j].sev));
		if (strcmp(got, cases[i].want))
			fail_msg("case %zu: got '%s' want '%s'", i, got, cases[i].want);
		td_sysctl_set_free(s);
	}
	assert_true(sysctl_cross_port_listed("80,9000-9010", 9005));
	assert_false(sysctl_cross_port_listed("80,9000-9010", 81));
	assert_false(sysctl_cross_port_listed("junk", 0));
	assert_false(sysctl_cross_port_listed(NULL, 80));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_lines), cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_lint),	    cmocka_unit_test(test_same),
		cmocka_unit_test(test_apply),	    cmocka_unit_test(test_cross),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
