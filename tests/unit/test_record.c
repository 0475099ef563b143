// SPDX-License-Identifier: MIT
/*
 * Unit tests for recorded dumps: the chunk format round-trips, and every kind of damage
 * (wrong magic, a cut header, a cut body, an absurd length, an unknown type) is refused, and
 * replay through source_run() gives exact counts, namespace by namespace, and calls a netlink
 * dump cut before NLMSG_DONE a truncated file.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/source/record.h"
#include "core/source/source.h"
#include "core/util.h"

static char *tmp_path(void)
{
	char *p = xstrdup("/tmp/td-test-record-XXXXXX");
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	return p;
}

static void write_raw(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_roundtrip(void **state)
{
	char *p = tmp_path();
	struct td_record *w;
	struct td_record_reader rd;
	uint32_t type;
	const unsigned char *d;
	size_t len;
	(void)state;

	assert_int_equal(record_create(p, &w), 0);
	assert_int_equal(record_write(w, TD_CHUNK_META, "a=1\n", 4), 0);
	assert_int_equal(record_write(w, TD_CHUNK_NETNS, "", 0), 0);
	assert_int_equal(record_write(w, TD_CHUNK_PROC_TCP, "xyz", 3), 0);
	assert_int_equal(record_close(w), 0);

	assert_int_equal(record_open(p, &rd), 0);
	assert_int_equal(record_next(&rd, &type, &d, &len), 1);
	assert_int_equal(type, TD_CHUNK_META);
	assert_int_equal(len, 4);
	assert_memory_equal(d, "a=1\n", 4);
	assert_int_equal(record_next(&rd, &type, &d, &len), 1);
	assert_int_equal(type, TD_CHUNK_NETNS);
	assert_int_equal(len, 0);
	assert_int_equal(record_next(&rd, &type, &d, &len), 1);
	assert_int_equal(type, TD_CHUNK_PROC_TCP);
	assert_string_equal((const char *)d, "xyz");
	assert_int_equal(record_next(&rd, &type, &d, &len), 0);
	record_reader_close(&rd);
	unlink(p);
	free(p);
}

static void test_damaged(void **state)
{
	static const struct {
		const char *what;
		const char *bytes;
		size_t len;
		int open_ret, next_ret;
	} cases[] = {
		{ "empty file", "", 0, -EBADMSG, 0 },
		{ "wrong magic", "TDREC002\x01\0\0\0\0\0\0\0", 16, -EBADMSG, 0 },
		{ "magic only", "TDREC001", 8, 0, 0 },
		{ "cut header", "TDREC001\x01\0\0", 11, 0, -EBADMSG },
		{ "cut body", "TDREC001\x01\0\0\0\x05\0\0\0abc", 19, 0, -EBADMSG },
		{ "unknown type", "TDREC001\x09\0\0\0\0\0\0\0", 16, 0, -EBADMSG },
		{ "type zero", "TDREC001\0\0\0\0\0\0\0\0", 16, 0, -EBADMSG },
		{ "absurd length", "TDREC001\x03\0\0\0\xff\xff\xff\xff", 16, 0, -EBADMSG },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		char *p = tmp_path();
		struct td_record_reader rd;
		uint32_t type;
		const unsigned char *d;
		size_t len;
		write_raw(p, cases[i].bytes, cases[i].len);
		int r = record_open(p, &rd);
		if (r != cases[i].open_ret)
			fail_msg("%s: open returned %d", cases[i].what, r);
		if (!r) {
			r = record_next(&rd, &type, &d, &len);
			if (r != cases[i].next_ret)
				fail_msg("%s: next returned %d", cases[i].what, r);
			record_reader_close(&rd);
		}
		unlink(p);
		free(p);
	}
	struct td_record_reader rd;
	assert_int_equal(record_open("/nonexistent/rec", &rd), -ENOENT);
}

/* A chunk header claiming 256 MiB in an 18-byte file: refused before anything is allocated
 * (the old reader grew its buffer to the claimed length first, 267 MB, then found the file
 * short). */
static void test_length_past_end(void **state)
{
	static const struct {
		const char *what;
		const char *bytes;
		size_t len;
	} cases[] = {
		{ "256 MiB claimed", "TDREC001\x02\0\0\0\0\0\0\x10td", 18 },
		{ "one byte past the end", "TDREC001\x02\0\0\0\x05\0\0\0abcd", 20 },
		{ "a second chunk past the end",
		  "TDREC001\x01\0\0\0\x01\0\0\0x\x02\0\0\0\x40\0\0\0", 25 },
	};
	(void)state;
	for (size_t i = 0; i < TD_ARRAY_SIZE(cases); i++) {
		char *p = tmp_path();
		struct td_record_reader rd;
		uint32_t type;
		const unsigned char *d;
		size_t len, cap_before;
		int r;
		write_raw(p, cases[i].bytes, cases[i].len);
		assert_int_equal(record_open(p, &rd), 0);
		assert_int_equal(rd.size, cases[i].len);
		while ((r = record_next(&rd, &type, &d, &len)) == 1)
			;
		cap_before = rd.cap;
		if (r != -EBADMSG)
			fail_msg("%s: next returned %d", cases[i].what, r);
		if (cap_before > 64)
			fail_msg("%s: the reader allocated %zu bytes for a lie", cases[i].what,
				 cap_before);
		record_reader_close(&rd);
		unlink(p);
		free(p);
	}
}

/* A chunk that fits only once the file has grown (a record still being written) is read. */
static void test_file_grows(void **state)
{
	char *p = tmp_path();
	struct td_record_reader rd;
	uint32_t type;
	const unsigned char *d;
	size_t len;
	(void)state;

	write_raw(p, "TDREC001", 8);
	assert_int_equal(record_open(p, &rd), 0);
	write_raw(p, "TDREC001\x02\0\0\0\x03\0\0\0abc", 19);
	assert_int_equal(record_next(&rd, &type, &d, &len), 1);
	assert_int_equal(len, 3);
	assert_int_equal(record_next(&rd, &type, &d, &len), 0);
	record_reader_close(&rd);
	unlink(p);
	free(p);
}

/* Only a regular file is a record: a FIFO (whose open would wait for a writer forever), a
 * character device and a directory are refused at once, and the reader says which it was. */
static void test_not_regular(void **state)
{
	char dir[] = "/tmp/td-test-record-dir-XXXXXX", fifo[64];
	struct td_record_reader rd;
	struct td_record *w = NULL;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(record_open(fifo, &rd), -EINVAL);
	assert_string_equal(record_file_kind(rd.mode), "a FIFO");
	assert_int_equal(record_open("/dev/null", &rd), -EINVAL);
	assert_string_equal(record_file_kind(rd.mode), "a character device");
	assert_int_equal(record_open(dir, &rd), -EISDIR);
	/* writing: a FIFO nobody reads fails with ENXIO instead of blocking */
	assert_int_equal(record_create(fifo, &w), -ENXIO);
	assert_null(w);
	unlink(fifo);
	rmdir(dir);
}

/* A full device: the failure is the record's, and record_error says so. */
static void test_write_error(void **state)
{
	static char big[65536];
	struct td_record *w = NULL;
	int r;
	(void)state;

	if (access("/dev/full", W_OK))
		skip();
	assert_int_equal(record_create("/dev/full", &w), 0);
	assert_int_equal(record_error(w), 0);
	r = record_write(w, TD_CHUNK_NETLINK, big, sizeof(big));
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(record_error(w), -ENOSPC);
	assert_int_equal(record_close(w), -ENOSPC);
	assert_int_equal(record_error(NULL), 0);
}

/* One inet_diag reply message, as the kernel sends it. */
static size_t diag_msg(unsigned char *buf, uint8_t family, uint8_t state, uint16_t sport)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct inet_diag_msg *m = NLMSG_DATA(h);

	memset(buf, 0, NLMSG_SPACE(sizeof(*m)));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*m));
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h->nlmsg_flags = NLM_F_MULTI;
	m->idiag_family = family;
	m->idiag_state = state;
	m->id.idiag_sport = htons(sport);
	m->id.idiag_dport = htons(80);
	return NLMSG_SPACE(sizeof(*m));
}

static size_t done_msg(unsigned char *buf)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;

	memset(buf, 0, NLMSG_SPACE(sizeof(int)));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(int));
	h->nlmsg_type = NLMSG_DONE;
	h->nlmsg_flags = NLM_F_MULTI;
	return NLMSG_SPACE(sizeof(int));
}

struct counts {
	unsigned ns;
	unsigned per_ns[4][TD_SS_COUNT];
	char names[4][16];
	char meta0[64];
};

static int c_begin(const struct td_ns_info *ns, void *arg)
{
	struct counts *c = arg;
	assert_true(ns->idx < 4);
	snprintf(c->names[ns->idx], 16, "%s", ns->name);
	if (ns->idx == 0)
		source_meta_get(ns->meta, "net.ipv4.tcp_tw_reuse", c->meta0, sizeof(c->meta0));
	c->ns = ns->idx + 1;
	return 0;
}

static int c_sock(const struct td_sock *sk, void *arg)
{
	struct counts *c = arg;
	c->per_ns[sk->netns][sk->state]++;
	return 0;
}

static char *make_record(bool cut_before_done)
{
	char *p = tmp_path();
	struct td_record *w;
	unsigned char nl[4096];
	size_t n = 0;
	const char *meta = "net.ipv4.tcp_tw_reuse=2\n";

	assert_int_equal(record_create(p, &w), 0);
	assert_int_equal(record_write(w, TD_CHUNK_META, "tool=tcpdoctor\n", 15), 0);
	assert_int_equal(record_write(w, TD_CHUNK_NETNS, "alpha", 5), 0);
	assert_int_equal(record_write(w, TD_CHUNK_META, meta, strlen(meta)), 0);
	n += diag_msg(nl + n, AF_INET, TD_SS_TIME_WAIT, 40000);
	n += diag_msg(nl + n, AF_INET, TD_SS_TIME_WAIT, 40001);
	n += diag_msg(nl + n, AF_INET6, 12 /* NEW_SYN_RECV */, 443);
	if (!cut_before_done)
		n += done_msg(nl + n);
	assert_int_equal(record_write(w, TD_CHUNK_NETLINK, nl, n), 0);
	assert_int_equal(record_write(w, TD_CHUNK_NETNS, "beta", 4), 0);
	n = diag_msg(nl, AF_INET, TD_SS_ESTABLISHED, 22);
	n += done_msg(nl + n);
	assert_int_equal(record_write(w, TD_CHUNK_NETLINK, nl, n), 0);
	assert_int_equal(record_close(w), 0);
	return p;
}

static void test_replay(void **state)
{
	char *p = make_record(false);
	struct td_source_cbs cbs = { c_begin, c_sock, NULL };
	struct td_source_opts o = { .replay = p };
	struct counts c = { 0 };
	char err[TD_ERRMSG_LEN];
	(void)state;

	assert_int_equal(source_run(&o, &cbs, &c, err), 0);
	assert_int_equal(c.ns, 2);
	assert_string_equal(c.names[0], "alpha");
	assert_string_equal(c.names[1], "beta");
	assert_string_equal(c.meta0, "2");
	assert_int_equal(c.per_ns[0][TD_SS_TIME_WAIT], 2);
	assert_int_equal(c.per_ns[0][TD_SS_SYN_RECV], 1);
	assert_int_equal(c.per_ns[1][TD_SS_ESTABLISHED], 1);

	/* -N beta: only that namespace, numbered 0 */
	memset(&c, 0, sizeof(c));
	o.netns = "beta";
	assert_int_equal(source_run(&o, &cbs, &c, err), 0);
	assert_int_equal(c.ns, 1);
	assert_string_equal(c.names[0], "beta");
	assert_int_equal(c.per_ns[0][TD_SS_ESTABLISHED], 1);
	assert_int_equal(c.per_ns[0][TD_SS_TIME_WAIT], 0);

	o.netns = "gamma";
	assert_int_equal(source_run(&o, &cbs, &c, err), -ENOENT);
	assert_non_null(strstr(err, "gamma"));

	/* a state filter applies to replay as it does to the kernel */
	memset(&c, 0, sizeof(c));
	o.netns = NULL;
	o.states = 1u << TD_SS_SYN_RECV;
	assert_int_equal(source_run(&o, &cbs, &c, err), 0);
	assert_int_equal(c.per_ns[0][TD_SS_TIME_WAIT], 0);
	assert_int_equal(c.per_ns[0][TD_SS_SYN_RECV], 1);
	unlink(p);
	free(p);
}

static void test_replay_truncated(void **state)
{
	char *p = make_record(true);
	struct td_source_cbs cbs = { c_begin, c_sock, NULL };
	struct td_source_opts o = { .replay = p };
	struct counts c = { 0 };
	char err[TD_ERRMSG_LEN];
	(void)state;

	assert_int_equal(source_run(&o, &cbs, &c, err), -EBADMSG);
	assert_non_null(strstr(err, "truncated"));
	assert_non_null(strstr(err, p));
	unlink(p);
	free(p);

	o.replay = "/nonexistent/replay";
	assert_int_equal(source_run(&o, &cbs, &c, err), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/replay"));
}

/* A namespace name of 5000 bytes is no name: a corrupt record, said so, not a 20 kB escape. */
static void test_replay_long_name(void **state)
{
	char *p = tmp_path();
	struct td_record *w;
	struct td_source_cbs cbs = { c_begin, c_sock, NULL };
	struct td_source_opts o = { .replay = p };
	struct counts c = { 0 };
	char err[TD_ERRMSG_LEN], *name = xmalloc(5000);
	(void)state;

	memset(name, 'n', 5000);
	assert_int_equal(record_create(p, &w), 0);
	assert_int_equal(record_write(w, TD_CHUNK_NETNS, name, 5000), 0);
	assert_int_equal(record_close(w), 0);
	assert_int_equal(source_run(&o, &cbs, &c, err), -EBADMSG);
	assert_non_null(strstr(err, "a namespace name of 5000 bytes"));
	unlink(p);
	free(p);
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),	 cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_length_past_end),	 cmocka_unit_test(test_file_grows),
		cmocka_unit_test(test_not_regular),	 cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_replay),		 cmocka_unit_test(test_replay_truncated),
		cmocka_unit_test(test_replay_long_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
