// SPDX-License-Identifier: MIT
/* Unit tests for the sysctl knowledge table (src/core/params*.c): table-driven verdicts for the
 * widely copied advice of kernel-facts.md, key normalisation, defaults by kernel version and
 * ehash size, value shapes, and the did-you-mean distance. The kernel is pinned (6.18, an ehash
 * of 262144, 4 GiB of RAM) so that nothing depends on the machine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/sysctl/params.h"
#include "core/util.h"

static const struct td_kenv k618 = { PARAMS_KV(6, 18), 262144, 1048576, 1024 };

static void test_verdicts(void **state)
{
	static const struct {
		const char *key, *value;
		enum td_sev worst;
		const char *msg; /* substring of the first verdict */
	} cases[] = {
		{ "net.ipv4.tcp_tw_recycle", "1", TD_SEV_ERROR, "removed from the kernel" },
		{ "net.ipv4.tcp_timestamps", "0", TD_SEV_HARMFUL, "disables tcp_tw_reuse" },
		{ "net.ipv4.tcp_timestamps", "1", TD_SEV_INFO, "default" },
		{ "net.ipv4.tcp_timestamps", "2", TD_SEV_OK, "no known problem" },
		{ "net.ipv4.tcp_timestamps", "5", TD_SEV_WARN, "not a documented value" },
		{ "net.ipv4.tcp_max_tw_buckets", "5000", TD_SEV_HARMFUL, "skips TIME_WAIT" },
		{ "net.ipv4.tcp_max_tw_buckets", "131072", TD_SEV_INFO, "default" },
		{ "net.ipv4.tcp_max_tw_buckets", "262144", TD_SEV_OK, "no known problem" },
		{ "net.ipv4.tcp_fin_timeout", "30", TD_SEV_NOTE, "TIME_WAIT stays 60 s" },
		{ "net.ipv4.tcp_fin_timeout", "120", TD_SEV_NOTE,
		  "orphaned FIN_WAIT2 kept longer" },
		{ "net.ipv4.tcp_fin_timeout", "60", TD_SEV_INFO, "default" },
		{ "net.ipv4.tcp_tw_reuse", "1", TD_SEV_NOTE, "outgoing connect() only" },
		{ "net.ipv4.tcp_tw_reuse", "2", TD_SEV_INFO, "default" },
		{ "net.ipv4.tcp_tw_reuse", "3", TD_SEV_ERROR, "out of range" },
		{ "net.ipv4.ip_local_port_range", "10000 65000", TD_SEV_WARN, "same parity" },
		{ "net.ipv4.ip_local_port_range", "32768 60999", TD_SEV_INFO, "default" },
		{ "net.ipv4.ip_local_port_range", "40000 30000", TD_SEV_ERROR, "high end below" },
		{ "net.ipv4.ip_local_port_range", "500 60001", TD_SEV_ERROR, "unprivileged" },
		{ "net.ipv4.ip_local_port_range", "40000 70000", TD_SEV_ERROR, "out of range" },
		{ "net.ipv4.ip_local_port_range", "40000", TD_SEV_ERROR, "invalid value" },
		{ "net.ipv4.tcp_max_syn_backlog", "8192", TD_SEV_NOTE, "mostly ineffective" },
		{ "net.ipv4.tcp_max_syn_backlog", "2048", TD_SEV_INFO, "default" },
		{ "net.core.somaxconn", "32768", TD_SEV_INFO, "harmless" },
		{ "net.core.somaxconn", "128", TD_SEV_WARN, "caps every listener" },
		{ "net.ipv4.tcp_syn_retries", "2", TD_SEV_HARMFUL, "harmful as a default" },
		{ "net.ipv4.tcp_syn_retries", "0", TD_SEV_ERROR, "out of range" },
		{ "net.ipv4.tcp_keepalive_time", "1200", TD_SEV_INFO, "neutral" },
		{ "net.ipv4.tcp_mem", "94500000 91500000 92700000", TD_SEV_HARMFUL,
		  "min > pressure" },
		{ "net.ipv4.tcp_mem", "1000 2000 3000", TD_SEV_OK, "no known problem" },
		{ "net.ipv4.tcp_mem", "1 2", TD_SEV_ERROR, "invalid value" },
		{ "net.ipv4.tcp_max_orphans", "3276800", TD_SEV_NOTE, "raises the orphan limit" },
		{ "net.ipv4.tcp_max_orphans", "1000", TD_SEV_WARN, "do not lower" },
		{ "net.ipv4.ip_local_port_range", "16384 65535", TD_SEV_NOTE,
		  "reserve the service" },
		/* keys pasted from blogs that are not about connection states */
		{ "net.ipv4.tcp_fack", "1", TD_SEV_INFO, "no effect on current kernels" },
		{ "net.ipv4.tcp_low_latency", "1", TD_SEV_INFO, "no effect on current kernels" },
		{ "net.ipv4.tcp_sack", "0", TD_SEV_WARN, "turns SACK off" },
		{ "net.ipv4.tcp_sack", "1", TD_SEV_INFO, "default" },
		{ "net.ipv4.tcp_window_scaling", "0", TD_SEV_WARN, "64 KB" },
		{ "net.ipv4.tcp_slow_start_after_idle", "0", TD_SEV_INFO,
		  "unrelated to connection" },
		{ "net.ipv4.tcp_no_metrics_save", "1", TD_SEV_INFO, "unrelated to connection" },
		{ "net.ipv4.ip_forward", "1", TD_SEV_INFO, "routing" },
		{ "net.ipv4.tcp_fastopen", "3", TD_SEV_INFO, "data in the SYN" },
		{ "net.ipv4.tcp_notsent_lowat", "16384", TD_SEV_INFO, "send queues" },
		{ "net.ipv4.tcp_notsent_lowat", "4294967295", TD_SEV_INFO, "default" },
		{ "net.ipv4.tcp_notsent_lowat", "4294967296", TD_SEV_ERROR, "invalid value" },
		{ "net.ipv4.tcp_mtu_probing", "1", TD_SEV_INFO, "path MTU" },
		{ "net.ipv4.tcp_retries2", "5", TD_SEV_WARN, "RFC 1122" },
		{ "net.ipv4.tcp_retries2", "8", TD_SEV_INFO, "unrelated to TIME_WAIT" },
		{ "net.ipv4.tcp_retries2", "256", TD_SEV_ERROR, "out of range" },
		{ "net.ipv4.tcp_syncookies", "0", TD_SEV_WARN, "no SYN cookies" },
		{ "net.ipv4.tcp_abort_on_overflow", "1", TD_SEV_WARN, "RST" },
		{ "net.ipv4.tcp_tw_reuse_delay", "0", TD_SEV_ERROR, "out of range" },
		{ "net.ipv4.tcp_tw_reuse", "0x1", TD_SEV_ERROR, "invalid value" },
		{ "net.ipv4.tcp_tw_reuse", "+1", TD_SEV_ERROR, "invalid value" },
		{ "net.ipv4.ip_local_reserved_ports", "8080,9000-9010", TD_SEV_OK,
		  "no known problem" },
		{ "net.ipv4.ip_local_reserved_ports", "9010-9000", TD_SEV_ERROR, "invalid value" },
		{ "net.ipv4.ip_local_reserved_ports", "80,", TD_SEV_ERROR, "invalid value" },
		{ "net.ipv4.tcp_congestion_control", "td nosuch", TD_SEV_ERROR, "invalid value" },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		const struct td_param *p = params_find(cases[i].key);
		struct td_verdict v[PARAMS_VERDICTS_MAX];
		size_t n = 0;
		assert_non_null(p);
		enum td_sev w = params_judge(p, &k618, cases[i].value, v, &n);
		if (w != cases[i].worst || !strstr(v[0].message, cases[i].msg))
			fail_msg("%s = %s: got %s '%s', want %s '%s'", cases[i].key, cases[i].value,
				 params_sev_name(w), v[0].message, params_sev_name(cases[i].worst),
				 cases[i].msg);
		assert_true(n >= 1 && n <= PARAMS_VERDICTS_MAX);
	}
}

static void test_versions(void **state)
{
	static const struct {
		const char *key;
		unsigned kver;
		int ret;
		const char *def;
	} cases[] = {
		{ "net.ipv4.tcp_tw_reuse", PARAMS_KV(4, 11), 0, "0" },
		{ "net.ipv4.tcp_tw_reuse", PARAMS_KV(4, 18), 0, "2" },
		{ "net.core.somaxconn", PARAMS_KV(5, 3), 0, "128" },
		{ "net.core.somaxconn", PARAMS_KV(5, 4), 0, "4096" },
		{ "net.ipv4.ip_local_port_range", PARAMS_KV(4, 1), 0, "32768 61000" },
		{ "net.ipv4.ip_local_port_range", PARAMS_KV(6, 18), 0, "32768 60999" },
		{ "net.ipv4.tcp_tw_recycle", PARAMS_KV(4, 11), 0, "0" },
		{ "net.ipv4.tcp_tw_recycle", PARAMS_KV(4, 12), -ENOENT, NULL },
		{ "net.ipv4.tcp_tw_reuse_delay", PARAMS_KV(6, 13), -ENOENT, NULL },
		{ "net.ipv4.tcp_tw_reuse_delay", PARAMS_KV(6, 14), 0, "1000" },
		{ "net.ipv4.tcp_max_tw_buckets", PARAMS_KV(6, 18), 0, "131072" },
		{ "net.ipv4.tcp_max_orphans", PARAMS_KV(6, 18), 0, "131072" },
		{ "net.ipv4.tcp_max_syn_backlog", PARAMS_KV(6, 18), 0, "2048" },
		{ "net.ipv4.tcp_mem", PARAMS_KV(6, 18), -ENODATA, NULL },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		struct td_kenv env = k618;
		char buf[64];
		env.kver = cases[i].kver;
		int r = params_default(params_find(cases[i].key), &env, buf, sizeof(buf));
		if (r != cases[i].ret || (!r && strcmp(buf, cases[i].def)))
			fail_msg("%s on %u: got %d '%s'", cases[i].key, cases[i].kver, r,
				 r ? "" : buf);
	}
	/* on 4.11 recycle=1 was harmful, not missing */
	struct td_kenv old = k618;
	struct td_verdict v[PARAMS_VERDICTS_MAX];
	size_t n;
	old.kver = PARAMS_KV(4, 11);
	assert_int_equal(params_judge(params_find("net.ipv4.tcp_tw_recycle"), &old, "1", v, &n),
			 TD_SEV_HARMFUL);
	/* tiny ehash: the syn backlog default never drops below 128 */
	old.ehash = 1024;
	char buf[16];
	assert_int_equal(
		params_default(params_find("net.ipv4.tcp_max_syn_backlog"), &old, buf, sizeof(buf)),
		0);
	assert_string_equal(buf, "128");
}

static void test_normalize(void **state)
{
	static const struct {
		const char *in;
		int ret;
		const char *dotted, *path;
	} cases[] = {
		{ "net.ipv4.tcp_tw_reuse", 0, "net.ipv4.tcp_tw_reuse", "net/ipv4/tcp_tw_reuse" },
		{ "net/ipv4/tcp_tw_reuse", 0, "net.ipv4.tcp_tw_reuse", "net/ipv4/tcp_tw_reuse" },
		{ "net/ipv4/conf/eth0.1/rp_filter", 0, "net.ipv4.conf.eth0/1.rp_filter",
		  "net/ipv4/conf/eth0.1/rp_filter" },
		{ "net.ipv4.conf.eth0/1.rp_filter", 0, "net.ipv4.conf.eth0/1.rp_filter",
		  "net/ipv4/conf/eth0.1/rp_filter" },
		{ "", -EINVAL, NULL, NULL },
		{ ".net", -EINVAL, NULL, NULL },
		{ "net.", -EINVAL, NULL, NULL },
		{ "net..ipv4", -EINVAL, NULL, NULL },
		{ "net.ipv4 .x", -EINVAL, NULL, NULL },
		{ "net.ipv4\x01.x", -EINVAL, NULL, NULL },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		char d[64], p[64];
		int r = params_key_normalize(cases[i].in, d, p, sizeof(d));
		assert_int_equal(r, cases[i].ret);
		if (!r) {
			assert_string_equal(d, cases[i].dotted);
			assert_string_equal(p, cases[i].path);
		}
	}
	char small[8];
	assert_int_equal(params_key_normalize("net.ipv4.tcp_tw_reuse", small, NULL, sizeof(small)),
			 -ENAMETOOLONG);
}

static void test_suggest(void **state)
{
	unsigned d;
	(void)state;
	assert_int_equal(params_edit_distance("kitten", "sitting", 5), 3);
	assert_int_equal(params_edit_distance("abc", "abc", 0), 0);
	assert_int_equal(params_edit_distance("a", "abcdef", 2), 3); /* bail-out: limit + 1 */
	const struct td_param *p = params_suggest("net.ipv4.tcp_timestsmps", 2, &d);
	assert_non_null(p);
	assert_string_equal(p->key, "net.ipv4.tcp_timestamps");
	assert_int_equal(d, 1);
	assert_null(params_suggest("kernel.pid_max", 2, NULL));
}

/* Words for the project's own bookkeeping must not reach users, nor verdicts that presume a
 * motive ("wrong reason"): every user-visible string of the table is checked. */
static void test_words(void **state)
{
	static const char *const banned[] = { "inferred", "(from host)", "wrong reason",
					      "kernel-facts §" };
	(void)state;
	for (size_t i = 0; i < params_count; i++) {
		const struct td_param *p = &params_table[i];
		const char *texts[64];
		size_t n = 0;
		texts[n++] = p->history;
		texts[n++] = p->meaning;
		for (size_t r = 0; r < p->nrules && n + 2 < TD_ARRAY_SIZE(texts); r++) {
			texts[n++] = p->rules[r].message;
			texts[n++] = p->rules[r].reason;
		}
		for (size_t t = 0; t < n; t++)
			for (size_t b = 0; b < TD_ARRAY_SIZE(banned); b++)
				if (texts[t] && strstr(texts[t], banned[b]))
					fail_msg("%s: '%s' in '%s'", p->key, banned[b], texts[t]);
	}
}

static void test_table(void **state)
{
	(void)state;
	/* every key of kernel-facts.md and the fixtures is in the table, once */
	static const char *const keys[] = {
		"net.ipv4.tcp_tw_recycle",
		"net.ipv4.tcp_tw_reuse",
		"net.ipv4.tcp_tw_reuse_delay",
		"net.ipv4.tcp_fin_timeout",
		"net.ipv4.tcp_max_tw_buckets",
		"net.ipv4.ip_local_port_range",
		"net.ipv4.ip_local_reserved_ports",
		"net.ipv4.ip_unprivileged_port_start",
		"net.ipv4.tcp_timestamps",
		"net.core.somaxconn",
		"net.ipv4.tcp_max_syn_backlog",
		"net.ipv4.tcp_syncookies",
		"net.ipv4.tcp_abort_on_overflow",
		"net.ipv4.tcp_synack_retries",
		"net.ipv4.tcp_syn_retries",
		"net.ipv4.tcp_syn_linear_timeouts",
		"net.ipv4.tcp_max_orphans",
		"net.ipv4.tcp_orphan_retries",
		"net.ipv4.tcp_mem",
		"net.ipv4.tcp_rmem",
		"net.ipv4.tcp_wmem",
		"net.core.rmem_max",
		"net.core.wmem_max",
		"net.ipv4.tcp_keepalive_time",
		"net.ipv4.tcp_keepalive_intvl",
		"net.ipv4.tcp_keepalive_probes",
		"net.ipv4.tcp_rfc1337",
		"net.core.netdev_max_backlog",
		"net.ipv4.tcp_fack",
		"net.ipv4.tcp_low_latency",
		"net.ipv4.tcp_sack",
		"net.ipv4.tcp_window_scaling",
		"net.ipv4.tcp_slow_start_after_idle",
		"net.ipv4.tcp_no_metrics_save",
		"net.ipv4.ip_forward",
		"net.ipv4.tcp_fastopen",
		"net.ipv4.tcp_notsent_lowat",
		"net.ipv4.tcp_mtu_probing",
		"net.ipv4.tcp_retries2",
	};
	for (size_t i = 0; i < TD_ARRAY_SIZE(keys); i++)
		if (!params_find(keys[i]))
			fail_msg("%s missing from the table", keys[i]);
	for (size_t i = 0; i < params_count; i++) {
		assert_non_null(params_table[i].meaning);
		assert_non_null(params_table[i].history);
		assert_non_null(params_table[i].ref);
		for (size_t j = i + 1; j < params_count; j++)
			assert_string_not_equal(params_table[i].key, params_table[j].key);
	}
	assert_int_equal(params_find("net.ipv4.tcp_mem")->scope, TD_SCOPE_GLOBAL);
	/* on 6.18 tcp_low_latency exists only in the initial namespace, tcp_fack in each one */
	assert_int_equal(params_find("net.ipv4.tcp_low_latency")->scope, TD_SCOPE_GLOBAL);
	assert_int_equal(params_find("net.ipv4.tcp_fack")->scope, TD_SCOPE_NETNS);
	assert_int_equal(params_find("net.core.somaxconn")->scope, TD_SCOPE_NETNS);
}

/* The conntrack rows: defaults and scope as read on 6.18 in a fresh namespace (the host's limit
 * and hash size are read-only there), the verdicts with their meaning, and every legacy
 * ip_conntrack_ name gone since 4.10 and naming its replacement. */
static void test_conntrack(void **state)
{
	static const struct {
		const char *key, *def;
		enum td_pscope scope;
	} rows[] = {
		{ "net.netfilter.nf_conntrack_max", NULL, TD_SCOPE_GLOBAL },
		{ "net.nf_conntrack_max", NULL, TD_SCOPE_GLOBAL },
		{ "net.netfilter.nf_conntrack_buckets", NULL, TD_SCOPE_GLOBAL },
		{ "net.netfilter.nf_conntrack_expect_max", NULL, TD_SCOPE_GLOBAL },
		{ "net.netfilter.nf_conntrack_count", NULL, TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_syn_sent", "120", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_syn_recv", "60", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_established", "432000", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_fin_wait", "120", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_close_wait", "60", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_last_ack", "30", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_time_wait", "120", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_close", "10", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_max_retrans", "300", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_timeout_unacknowledged", "300", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_loose", "1", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_be_liberal", "0", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_tcp_max_retrans", "3", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_udp_timeout", "30", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_udp_timeout_stream", "120", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_icmp_timeout", "30", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_generic_timeout", "600", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_acct", "0", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_checksum", "1", TD_SCOPE_NETNS },
		{ "net.netfilter.nf_conntrack_log_invalid", "0", TD_SCOPE_NETNS },
	};
	static const char *const legacy[] = { "max",
					      "buckets",
					      "tcp_timeout_time_wait",
					      "tcp_timeout_established",
					      "tcp_be_liberal",
					      "udp_timeout",
					      "generic_timeout" };
	struct td_kenv env = { .kver = PARAMS_KV(6, 18) };
	struct td_verdict v[PARAMS_VERDICTS_MAX];
	char buf[64], key[96];
	size_t n;
	(void)state;

	for (size_t i = 0; i < TD_ARRAY_SIZE(rows); i++) {
		const struct td_param *p = params_find(rows[i].key);
		assert_non_null(p);
		assert_int_equal(p->scope, rows[i].scope);
		assert_string_equal(p->ref, "tcp-facts#conntrack-sysctl");
		if (!rows[i].def) {
			assert_int_not_equal(params_default(p, &env, buf, sizeof(buf)), 0);
			continue;
		}
		assert_int_equal(params_default(p, &env, buf, sizeof(buf)), 0);
		assert_string_equal(buf, rows[i].def);
		/* the default itself earns nothing worse than "same as the default" */
		assert_int_equal(params_judge(p, &env, rows[i].def, v, &n), TD_SEV_INFO);
	}
	for (size_t i = 0; i < TD_ARRAY_SIZE(legacy); i++) {
		snprintf(key, sizeof(key), "net.ipv4.netfilter.ip_conntrack_%s", legacy[i]);
		const struct td_param *p = params_find(key);
		assert_non_null(p);
		assert_int_equal(params_judge(p, &env, "1", v, &n), TD_SEV_ERROR);
		assert_int_equal(v[0].kv, PARAMS_KV(4, 10));
		snprintf(key, sizeof(key), "net.netfilter.nf_conntrack_%s", legacy[i]);
		assert_non_null(strstr(v[0].reason, key));
		assert_non_null(params_find(key));
		/* before 4.10 the old name was a working alias: no error for its existence */
		struct td_kenv old = { .kver = PARAMS_KV(4, 9) };
		assert_int_not_equal(params_judge(p, &old, "1", v, &n), TD_SEV_ERROR);
	}
	const struct td_param *p = params_find("net.netfilter.nf_conntrack_tcp_be_liberal");
	assert_int_equal(params_judge(p, &env, "1", v, &n), TD_SEV_WARN);
	assert_non_null(strstr(v[0].message, "hides invalid packets"));
	p = params_find("net.netfilter.nf_conntrack_tcp_timeout_time_wait");
	assert_int_equal(params_judge(p, &env, "30", v, &n), TD_SEV_NOTE);
	assert_non_null(strstr(v[0].message, "TCP's own TIME_WAIT stays 60 s"));
	p = params_find("net.netfilter.nf_conntrack_tcp_timeout_established");
	assert_int_equal(params_judge(p, &env, "600", v, &n), TD_SEV_WARN);
	assert_int_equal(params_judge(p, &env, "86400", v, &n), TD_SEV_INFO);
	p = params_find("net.netfilter.nf_conntrack_tcp_loose");
	assert_int_equal(params_judge(p, &env, "0", v, &n), TD_SEV_NOTE);
	p = params_find("net.netfilter.nf_conntrack_max");
	assert_int_equal(params_judge(p, &env, "0", v, &n), TD_SEV_WARN);
	assert_int_equal(params_judge(p, &env, "524288", v, &n), TD_SEV_OK);
	/* the count is a reading: audit shows it, lint finds its file read-only */
	p = params_find("net.netfilter.nf_conntrack_count");
	assert_int_equal(params_judge(p, &env, "5", v, &n), TD_SEV_OK);
	p = params_find("net.netfilter.nf_conntrack_log_invalid");
	assert_int_equal(params_judge(p, &env, "256", v, &n), TD_SEV_ERROR);
	assert_int_equal(params_judge(p, &env, "6", v, &n), TD_SEV_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),  cmocka_unit_test(test_versions),
		cmocka_unit_test(test_normalize), cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_table),	  cmocka_unit_test(test_conntrack),
		cmocka_unit_test(test_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
