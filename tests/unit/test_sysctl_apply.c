// SPDX-License-Identifier: MIT
/* Unit tests for what keeps `sysctl apply`/`rollback`/`lint --root` in bounds
 * (src/core/sysctl/sysctl_apply.c, the file reading of src/core/sysctl/sysctl.c): the namespace scope of a
 * key (host-wide keys refused with -N), empty values written as "\n" so they round trip,
 * values compared by meaning (port lists as sets), one pass to find each key's winning line,
 * non-regular files refused without blocking, and --root resolving links inside the root. A
 * fake /proc/sys in a temporary directory stands in for the kernel. */
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
#include "core/sysctl/sysctl_files.h"
#include "core/util.h"
#include "fakeroot.h"

static const struct td_kenv k618 = { PARAMS_KV(6, 18), 262144, 1048576, 1024 };

static void test_same_meaning(void **state)
{
	static const struct {
		const char *a, *b;
		bool same;
	} cases[] = {
		/* the kernel reads a reserved-ports list back merged and sorted */
		{ "8080,8081", "8080-8081", true },
		{ "9000-9002,8080", "8080,9000-9002", true },
		{ "1-3,2", "1-3", true },
		{ "8080,8081", "8080-8082", false },
		{ "8080", "8081", false },
		{ "", "", true },
		{ "", "8080", false },
		{ "0,65535", "0,65535", true },
		{ "65536", "65536", true },  /* not a port: equal as text */
		{ "65536", "65537", false }, /* not a port, and different */
		{ "1 2", "1-2", false },     /* a vector is no port list */
		{ "-1", "-1", true },
		{ "-1", "1", false },
		{ "4096\t131072  6291456", "4096 131072 6291456", true },
		{ "007 8", "7 8", true },
		{ "8080-", "8080-", true }, /* malformed lists compare as text */
		{ "8080-", "8080", false },
		{ "3-1", "1-3", false },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++)
		assert_int_equal(sysctl_apply_same(cases[i].a, cases[i].b), cases[i].same);

	/* long tokens are compared whole (they were cut at 63 bytes) */
	char a[400] = "", b[400];
	for (int p = 1000; p < 1060; p += 2)
		snprintf(a + strlen(a), sizeof(a) - strlen(a), "%s%d", *a ? "," : "", p);
	memcpy(b, a, sizeof(b));
	b[strlen(b) - 1] = '9'; /* last port 1058 -> 1059 */
	assert_true(strlen(a) > 64);
	assert_false(sysctl_apply_same(a, b));
	assert_true(sysctl_apply_same(a, a));
}

/* Plans conf against a fake procroot; returns the set (findings) and *pp. */
static struct td_sysctl_set *plan(const char *root, const char *conf, const struct td_apply_opts *o,
				  struct td_sysctl_plan **pp)
{
	struct td_sysctl_set *s = td_sysctl_set_new();
	struct td_lint_opts lo = { .env = &k618, .procroot = root, .child_ns = o->child_ns };

	sysctl_parse_buf(s, "t.conf", conf, strlen(conf));
	sysctl_lint(s, &lo);
	assert_int_equal(sysctl_apply_plan(s, root, o, pp), 0);
	return s;
}

/* The message of the first error finding on line, or NULL. */
static const char *error_at(const struct td_sysctl_set *s, unsigned line)
{
	for (size_t i = 0; i < s->nfnd; i++)
		if (s->fnd[i].line == line && s->fnd[i].sev == TD_SEV_ERROR)
			return s->fnd[i].message;
	return NULL;
}

static void test_scope(void **state)
{
	char *root = fakeroot_new("apply");
	struct td_sysctl_plan *p = NULL;
	struct td_sysctl_set *s;
	static const char conf[] = "net.ipv4.tcp_fin_timeout = 30\n"
				   "fs.file-max = 100\n"
				   "vm.swappiness = 10\n"
				   "net.core.rmem_max = 100000\n"
				   "net.td.unknown_ro = 1\n"
				   "net.td.unknown_rw = 1\n"
				   "kernel/pid_max = 4096\n";
	(void)state;
	fakeroot_put(root, "net/ipv4/tcp_fin_timeout", "60\n", 0644);
	fakeroot_put(root, "net/ipv4/tcp_mem", "1 2 3\n", 0644);
	fakeroot_put(root, "fs/file-max", "100\n", 0644);
	fakeroot_put(root, "vm/swappiness", "60\n", 0644);
	fakeroot_put(root, "net/core/rmem_max", "212992\n", 0444);
	fakeroot_put(root, "net/td/unknown_ro", "0\n", 0444);
	fakeroot_put(root, "net/td/unknown_rw", "0\n", 0644);
	fakeroot_put(root, "kernel/pid_max", "4194304\n", 0644);

	/* -N in a namespace that looks initial: host-wide keys refused all the same */
	s = plan(root, conf, &(struct td_apply_opts){ .netns_only = true }, &p);
	assert_non_null(strstr(error_at(s, 2), "not a per-namespace key"));
	assert_non_null(strstr(error_at(s, 3), "not a per-namespace key"));
	assert_non_null(strstr(error_at(s, 4), "global key cannot be set with -N"));
	assert_non_null(strstr(error_at(s, 5), "not writable here"));
	assert_null(error_at(s, 6)); /* an unknown net. key writable in the namespace */
	assert_non_null(strstr(error_at(s, 7), "not a per-namespace key"));
	assert_null(error_at(s, 1));
	assert_int_equal(p->n, 2);
	assert_string_equal(p->v[0].key, "net.ipv4.tcp_fin_timeout");
	assert_string_equal(p->v[1].key, "net.td.unknown_rw");
	sysctl_apply_plan_free(p);
	td_sysctl_set_free(s);

	/* a child namespace without -N: the same refusals */
	s = plan(root, conf, &(struct td_apply_opts){ .child_ns = true }, &p);
	assert_non_null(strstr(error_at(s, 2), "not a per-namespace key"));
	assert_non_null(strstr(error_at(s, 4), "from a child namespace"));
	assert_int_equal(p->n, 2);
	sysctl_apply_plan_free(p);
	td_sysctl_set_free(s);

	/* the initial namespace without -N: the host's keys are the caller's to set */
	s = plan(root, conf, &(struct td_apply_opts){ 0 }, &p);
	assert_null(error_at(s, 2));
	assert_null(error_at(s, 3));
	assert_non_null(strstr(error_at(s, 4), "not writable here")); /* mode 0444 */
	assert_int_equal(p->n, 5);
	sysctl_apply_plan_free(p);
	td_sysctl_set_free(s);
	fakeroot_rm(root);
	free(root);
}

static void test_empty_round_trip(void **state)
{
	char *root = fakeroot_new("apply"), *bk = xasprintf("%s/bk/backup.conf", root), *text, *bt;
	struct td_sysctl_plan *p = NULL, *rp = NULL;
	struct td_sysctl_set *s, *rs;
	struct td_lint_opts lo = { .env = &k618, .procroot = root };
	size_t len;
	(void)state;
	fakeroot_put(root, "net/ipv4/tcp_mem", "1 2 3\n", 0644);
	fakeroot_put(root, "net/ipv4/ip_local_reserved_ports", "\n", 0644);
	fakeroot_put(root, "net/ipv4/tcp_fin_timeout", "60\n", 0644);

	/* the write ends in a newline: an empty value is "\n", which the kernel takes */
	assert_int_equal(sysctl_write(root, "net/ipv4/tcp_fin_timeout", "30"), 0);
	text = fakeroot_get(root, "net/ipv4/tcp_fin_timeout");
	assert_string_equal(text, "30\n");
	free(text);
	assert_int_equal(sysctl_write(root, "net/ipv4/ip_local_reserved_ports", ""), 0);
	text = fakeroot_get(root, "net/ipv4/ip_local_reserved_ports");
	assert_string_equal(text, "\n");
	free(text);

	/* apply a list over the empty default, back up "", then roll the backup back */
	s = plan(root, "net.ipv4.ip_local_reserved_ports = 8080,8081\n",
		 &(struct td_apply_opts){ 0 }, &p);
	assert_int_equal(sysctl_worst(s) < TD_SEV_ERROR, true);
	assert_int_equal(p->n, 1);
	assert_string_equal(p->v[0].old, "");
	assert_int_equal(sysctl_apply_backup(p, bk, "h"), 0);
	assert_int_equal(util_read_file(bk, 4096, &bt, &len), 0);
	assert_string_equal(bt, "# h\nnet.ipv4.ip_local_reserved_ports = \n");
	assert_int_equal(sysctl_apply_run(p, root), 0);
	text = fakeroot_get(root, "net/ipv4/ip_local_reserved_ports");
	assert_string_equal(text, "8080,8081\n");
	free(text);

	rs = td_sysctl_set_new();
	assert_int_equal(sysctl_parse_file(rs, bk), 0);
	sysctl_lint(rs, &lo);
	assert_int_equal(sysctl_apply_plan(rs, root, &(struct td_apply_opts){ 0 }, &rp), 0);
	assert_true(sysctl_worst(rs) < TD_SEV_ERROR); /* the empty value is no lint error */
	assert_int_equal(rp->n, 1);
	assert_int_equal(sysctl_apply_run(rp, root), 0);
	assert_int_equal(rp->v[0].st, TD_AP_WRITTEN);
	text = fakeroot_get(root, "net/ipv4/ip_local_reserved_ports");
	assert_string_equal(text, "\n");
	free(text);

	/* an empty number is still an error */
	td_sysctl_set_free(s);
	sysctl_apply_plan_free(p);
	s = plan(root, "net.ipv4.tcp_fin_timeout =\n", &(struct td_apply_opts){ 0 }, &p);
	assert_non_null(strstr(error_at(s, 1), "empty value"));
	assert_int_equal(p->n, 0);

	sysctl_apply_plan_free(p);
	sysctl_apply_plan_free(rp);
	td_sysctl_set_free(s);
	td_sysctl_set_free(rs);
	free(bt);
	free(bk);
	fakeroot_rm(root);
	free(root);
}

static void test_winners(void **state)
{
	char *root = fakeroot_new("apply");
	struct td_sysctl_set *s = td_sysctl_set_new();
	struct td_sysctl_plan *p = NULL;
	FILE *m;
	char *conf = NULL;
	size_t len = 0;
	(void)state;
	fakeroot_put(root, "net/ipv4/tcp_fin_timeout", "60\n", 0644);
	fakeroot_put(root, "net/ipv4/tcp_keepalive_time", "7200\n", 0644);
	fakeroot_put(root, "net/ipv4/tcp_mem", "1 2 3\n", 0644);
	/* 40,000 interleaved lines over two keys; each key's last line wins */
	m = open_memstream(&conf, &len);
	assert_non_null(m);
	for (int i = 0; i < 20000; i++)
		fprintf(m, "net.ipv4.tcp_fin_timeout = %d\nnet.ipv4.tcp_keepalive_time = %d\n",
			10 + i % 50, 100 + i % 50);
	fputs("net.ipv4.tcp_fin_timeout = 33\n", m);
	fclose(m);
	sysctl_parse_buf(s, "dup.conf", conf, len);
	/* a bad last line does not win: the line before it does */
	sysctl_parse_buf(s, "bad.conf", "net.ipv4.tcp_keepalive_time = 77\n", 33);
	s->ent[s->nent - 1].bad = true;
	assert_int_equal(sysctl_apply_plan(s, root, &(struct td_apply_opts){ 0 }, &p), 0);
	assert_int_equal(p->n, 2);
	assert_string_equal(p->v[0].key, "net.ipv4.tcp_keepalive_time");
	assert_string_equal(p->v[0].value, "149");
	assert_int_equal(p->v[0].line, 40000);
	assert_string_equal(p->v[1].key, "net.ipv4.tcp_fin_timeout");
	assert_string_equal(p->v[1].value, "33");
	assert_int_equal(p->v[1].line, 40001);
	sysctl_apply_plan_free(p);
	td_sysctl_set_free(s);
	free(conf);
	fakeroot_rm(root);
	free(root);
}

static void test_not_regular(void **state)
{
	char *dir = fakeroot_new("apply"), *fifo = xasprintf("%s/fifo.conf", dir);
	struct td_sysctl_set *s = td_sysctl_set_new();
	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* no writer: a blocking open would never return */
	assert_int_equal(sysctl_parse_file(s, fifo), -EINVAL);
	assert_int_equal(sysctl_parse_file(s, "/dev/null"), -EINVAL);
	assert_int_equal(sysctl_parse_file(s, dir), -EISDIR);
	assert_int_equal(s->nfnd, 3);
	assert_non_null(strstr(s->fnd[0].message, "not a regular file"));
	assert_string_equal(s->files[0], fifo);
	td_sysctl_set_free(s);
	free(fifo);
	fakeroot_rm(dir);
	free(dir);
}

static void test_root(void **state)
{
	char *w = fakeroot_new("apply"), *root = xasprintf("%s/root", w),
	     *host = xasprintf("%s/host.conf", w);
	char *link = xasprintf("%s/etc/sysctl.d/10-link.conf", root), *inside, **files = NULL;
	struct td_sysctl_set *s = td_sysctl_set_new();
	(void)state;
	assert_int_equal(mkdir(root, 0755), 0);
	fakeroot_put(w, "host.conf", "net.ipv4.tcp_fin_timeout = 11\n", 0644);
	fakeroot_put(root, "etc/sysctl.d/05-real.conf", "net.core.somaxconn = 1\n", 0644);
	inside = xasprintf("%s%s", root, host); /* where the absolute link lands inside root */
	fakeroot_put(root, inside + strlen(root) + 1, "net.ipv4.tcp_fin_timeout = 22\n", 0644);
	assert_int_equal(symlink(host, link), 0);

	assert_int_equal(sysctl_system_files(root, &files), 0);
	assert_string_equal(files[0], "/etc/sysctl.d/05-real.conf");
	assert_string_equal(files[1], "/etc/sysctl.d/10-link.conf");
	assert_null(files[2]);
	assert_int_equal(sysctl_parse_file_in(s, root, files[1]), 0);
	assert_int_equal(s->nent, 1);
	assert_string_equal(s->ent[0].value, "22"); /* not the host's 11 */
	assert_string_equal(s->files[0], link);
	sysctl_paths_free(files);
	td_sysctl_set_free(s);
	free(inside);
	free(link);
	free(host);
	free(root);
	fakeroot_rm(w);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_meaning),	 cmocka_unit_test(test_scope),
		cmocka_unit_test(test_empty_round_trip), cmocka_unit_test(test_winners),
		cmocka_unit_test(test_not_regular),	 cmocka_unit_test(test_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
