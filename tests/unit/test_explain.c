// SPDX-License-Identifier: MIT
/*
 * Unit tests for `tcpdoctor explain` (src/cmd/explain.c over catalogue_resolve): one case per
 * entry kind (a finding id, a sysctl key in each spelling, a section anchor, an error by message,
 * by errno number and by errno name, a kernel log line), the exit codes (0 found, 1 nothing
 * known with suggestions, 2 usage), --list per kind, and --json for each kind parsed back with
 * jansson. The command runs in-process with stdout sent to a temporary file.
 */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/rules/catalogue.h"
#include "core/rules/facts.h"
#include "core/sysctl/params.h"
#include "core/util.h"

struct run {
	int rc;
	char *out; /* stdout */
	char *err; /* stderr */
};

static char *slurp(FILE *f)
{
	long n;
	char *b;

	fflush(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = xmalloc((size_t)n + 1);
	b[fread(b, 1, (size_t)n, f)] = '\0';
	return b;
}

/* Runs `tcpdoctor explain ARGS...` (NULL-terminated) in-process. */
static struct run explain(const char *first, ...)
{
	char *argv[16] = { (char *)"explain" };
	int argc = 1;
	va_list ap;
	struct td_global g = { 0 };
	struct run r;
	FILE *o = tmpfile(), *e = tmpfile();
	int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);

	va_start(ap, first);
	for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	g.cmd = "explain";
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(o), STDOUT_FILENO);
	dup2(fileno(e), STDERR_FILENO);
	optind = 0;
	r.rc = cmd_run(&cmd_explain, argc, argv, &g, false);
	fflush(stdout);
	fflush(stderr);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	r.out = slurp(o);
	r.err = slurp(e);
	fclose(o);
	fclose(e);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("'%s' not in output:\n%s", (needle), (hay));                      \
	} while (0)

static void test_finding(void **state)
{
	(void)state;
	struct run r = explain("port-exhaustion", NULL);
	assert_int_equal(r.rc, 0);
	/* the catalogue's own words, remedies, thresholds and reference */
	const struct td_cat_finding *f = catalogue_finding("port-exhaustion");
	assert_contains(r.out, f->title);
	assert_contains(r.out, "port_usage");
	assert_contains(r.out, "exhaust_s");
	assert_contains(r.out, "IP_BIND_ADDRESS_NO_PORT");
	assert_contains(r.out, "tcp-facts.md#ephemeral-ports (");
	assert_contains(r.out, "tcpdoctor explain ephemeral-ports");
	assert_null(strstr(r.out, "kernel-facts"));
	run_free(&r);

	/* "orphans" is a finding and a section: both are printed */
	r = explain("orphans", NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "orphans: ");
	assert_contains(r.out, "## Orphaned sockets");
	run_free(&r);
}

static void test_key(void **state)
{
	static const char *const spellings[] = { "tcp_tw_reuse", "net.ipv4.tcp_tw_reuse",
						 "net/ipv4/tcp_tw_reuse",
						 "/proc/sys/net/ipv4/tcp_tw_reuse" };
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(spellings); i++) {
		struct run r = explain(spellings[i], NULL);
		assert_int_equal(r.rc, 0);
		assert_contains(r.out, "net.ipv4.tcp_tw_reuse\n");
		assert_contains(r.out, "per network namespace");
		assert_contains(r.out, "default: 0 before 4.18, 2 from 4.18");
		assert_contains(r.out, "79e9fed46038");
		assert_contains(r.out, "tcp-facts.md#tw-reuse");
		run_free(&r);
	}
	struct run r = explain("somaxconn", NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "net.core.somaxconn");
	assert_contains(r.out, "128 before 5.4, 4096 from 5.4");
	run_free(&r);
	r = explain("tcp_mem", NULL);
	assert_contains(r.out, "global");
	assert_contains(r.out, "computed from the memory at boot");
	run_free(&r);
	r = explain("tcp_tw_recycle", NULL);
	assert_contains(r.out, "removed in Linux 4.12");
	run_free(&r);
}

static void test_section(void **state)
{
	(void)state;
	static const char *const forms[] = { "time-wait", "tcp-facts#time-wait",
					     "tcp-facts.md#time-wait" };
	for (size_t i = 0; i < TD_ARRAY_SIZE(forms); i++) {
		struct run r = explain(forms[i], NULL);
		assert_int_equal(r.rc, 0);
		assert_contains(r.out, "## TIME_WAIT lasts 60 seconds");
		assert_contains(r.out, "TCP_TIMEWAIT_LEN");
		/* one section only */
		assert_null(strstr(r.out, "## Orphaned FIN_WAIT2"));
		run_free(&r);
	}
}

static void test_error(void **state)
{
	(void)state;
	/* a message pasted whole, in pieces, in another case, by number and by name */
	static const char *const forms[] = {
		"connect() to 10.0.0.1:80 failed: Cannot assign requested address",
		"cannot assign requested address",
		"99",
		"errno 99",
		"EADDRNOTAVAIL",
		"eaddrnotavail"
	};
	for (size_t i = 0; i < TD_ARRAY_SIZE(forms); i++) {
		struct run r = explain(forms[i], NULL);
		assert_int_equal(r.rc, 0);
		assert_contains(r.out, "EADDRNOTAVAIL (errno 99): Cannot assign requested address");
		assert_contains(r.out, "tcpdoctor ports");
		assert_contains(r.out, "tell:");
		assert_null(strstr(r.out, "ECONNRESET"));
		run_free(&r);
	}
	/* several words without quotes are one message */
	struct run r = explain("Connection", "reset", "by", "peer", NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "ECONNRESET (errno 104)");
	assert_contains(r.out, "SO_LINGER");
	run_free(&r);
	/* kernel log lines with their prefixes */
	r = explain("[123.456] nf_conntrack: nf_conntrack: table full, dropping packet", NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "tcp-facts.md#conntrack");
	assert_contains(r.out, "tcpdoctor conntrack --by state");
	run_free(&r);
	r = explain("TCP: request_sock_TCP: Possible SYN flooding on port 8080. Sending cookies.",
		    NULL);
	assert_contains(r.out, "tcp-facts.md#listen-queues");
	run_free(&r);
	r = explain("Connection timed out", NULL);
	assert_contains(r.out, "ETIMEDOUT (errno 110)");
	assert_contains(r.out, "tcp_syn_retries");
	run_free(&r);
	/* a fragment matching several messages prints each */
	r = explain("connection", NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "ECONNRESET");
	assert_contains(r.out, "ECONNREFUSED");
	assert_contains(r.out, "ETIMEDOUT");
	run_free(&r);
}

static void test_unknown_and_usage(void **state)
{
	(void)state;
	struct run r = explain("port-exhaustio", NULL);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_contains(r.err, "nothing known about 'port-exhaustio'");
	assert_contains(r.err, "Closest: port-exhaustion");
	run_free(&r);
	r = explain("tcp_tw_reus", NULL);
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "net.ipv4.tcp_tw_reuse");
	run_free(&r);
	r = explain("xyzzy", NULL);
	assert_int_equal(r.rc, 1);
	run_free(&r);
	r = explain("12345", NULL);
	assert_int_equal(r.rc, 1);
	run_free(&r);
	r = explain(NULL);
	assert_int_equal(r.rc, 2);
	run_free(&r);
	r = explain("--list", "bogus", NULL);
	assert_int_equal(r.rc, 2);
	run_free(&r);
	r = explain("--nope", NULL);
	assert_int_equal(r.rc, 2);
	run_free(&r);
	r = explain("--help", NULL);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "Usage: tcpdoctor explain");
	run_free(&r);
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_list(void **state)
{
	(void)state;
	struct run r = explain("--list", "findings", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(lines(r.out), catalogue_nfindings);
	assert_contains(r.out, "port-exhaustion\n");
	run_free(&r);
	r = explain("--list", "keys", NULL);
	assert_int_equal(lines(r.out), params_count);
	assert_contains(r.out, "net.ipv4.tcp_tw_reuse\n");
	run_free(&r);
	r = explain("--list", "sections", NULL);
	assert_int_equal(lines(r.out), facts_nsections);
	run_free(&r);
	r = explain("--list", "errors", NULL);
	assert_int_equal(lines(r.out), catalogue_nerrors);
	assert_contains(r.out, "EADDRNOTAVAIL\n");
	run_free(&r);
	r = explain("--list", NULL);
	assert_int_equal(lines(r.out),
			 catalogue_nfindings + params_count + facts_nsections + catalogue_nerrors);
	run_free(&r);
}

static json_t *json_of(struct run *r)
{
	json_error_t e;
	json_t *j = json_loads(r->out, 0, &e);

	if (!j)
		fail_msg("not JSON (%s): %s", e.text, r->out);
	return j;
}

static void test_json(void **state)
{
	static const struct {
		const char *input, *kind, *field, *value;
	} cases[] = {
		{ "close-wait-leak", "finding", "ref", "tcp-facts#close-wait" },
		{ "tcp_max_tw_buckets", "key", "key", "net.ipv4.tcp_max_tw_buckets" },
		{ "98", "error", "name", "EADDRINUSE" },
		{ "linger", "section", "anchor", "linger" },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct run r = explain("--json", cases[i].input, NULL);
		assert_int_equal(r.rc, 0);
		json_t *j = json_of(&r), *m = json_array_get(json_object_get(j, "matches"), 0);
		assert_string_equal(json_string_value(json_object_get(j, "input")), cases[i].input);
		assert_string_equal(json_string_value(json_object_get(m, "kind")), cases[i].kind);
		assert_string_equal(json_string_value(json_object_get(m, cases[i].field)),
				    cases[i].value);
		json_decref(j);
		run_free(&r);
	}
	/* details per kind */
	struct run r = explain("--json", "port-exhaustion", NULL);
	json_t *j = json_of(&r), *m = json_array_get(json_object_get(j, "matches"), 0);
	assert_int_equal(json_array_size(json_object_get(m, "thresholds")), 2);
	assert_true(json_array_size(json_object_get(m, "remedies")) >= 5);
	assert_string_equal(json_string_value(json_object_get(m, "ref_source")),
			    facts_section("ephemeral-ports")->source);
	json_decref(j);
	run_free(&r);
	r = explain("--json", "ECONNREFUSED", NULL);
	j = json_of(&r);
	m = json_array_get(json_object_get(j, "matches"), 0);
	assert_int_equal(json_integer_value(json_object_get(m, "errno")), ECONNREFUSED);
	assert_true(json_array_size(json_object_get(m, "causes")) >= 2);
	json_decref(j);
	run_free(&r);
	r = explain("--json", "tcp_tw_reuse", NULL);
	j = json_of(&r);
	m = json_array_get(json_object_get(j, "matches"), 0);
	assert_int_equal(json_array_size(json_object_get(m, "defaults")), 2);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(m, "defaults"), 1), "since")),
			    "4.18");
	json_decref(j);
	run_free(&r);
	/* --all --json: every entry once */
	r = explain("--all", "--json", NULL);
	j = json_of(&r);
	assert_int_equal(json_array_size(json_object_get(j, "matches")),
			 catalogue_nfindings + params_count + facts_nsections + catalogue_nerrors);
	assert_null(strstr(r.out, "kernel-facts"));
	json_decref(j);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finding),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_section),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_unknown_and_usage),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
