// SPDX-License-Identifier: MIT
/*
 * Live test of both kernel sources (needs root; skipped otherwise): the test moves into a
 * network namespace of its own, builds listeners, established pairs and 2000 TIME_WAIT
 * sockets, and checks that netlink_dump and procfs_dump see exactly those, socket by socket,
 * with their filters, and that a record of both replays to the same sockets. 2000 sockets make
 * the netlink dump span several recv() buffers and /proc/net/tcp exceed one 256 KiB read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/source/record.h"
#include "core/sock.h"
#include "core/source/source.h"
#include "core/source/source_netlink.h"
#include "core/source/source_procfs.h"
#include "core/util.h"

#define B(s) (1u << (s))

#define LIVE_TW	 2000 /* > 256 KiB of /proc text, many netlink buffers */
#define LIVE_MAX 4096

struct live {
	struct td_sock *v;
	size_t n;
	unsigned per_state[TD_SS_COUNT];
};

static int live_collect(const struct td_sock *sk, void *arg)
{
	struct live *l = arg;

	assert_true(l->n < LIVE_MAX);
	l->v[l->n++] = *sk;
	l->per_state[sk->state]++;
	return 0;
}

static int live_cmp(const void *a, const void *b)
{
	const struct td_sock *x = a, *y = b;
	int c = memcmp(x->src, y->src, 16);

	if (x->family != y->family)
		return x->family - y->family;
	if (c || (c = memcmp(x->dst, y->dst, 16)))
		return c;
	if (x->sport != y->sport)
		return x->sport - y->sport;
	return x->dport - y->dport;
}

static bool live_enter_ns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (unshare(CLONE_NEWNET))
		return false;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
	return true;
}

static int live_listen(int fam, int backlog, uint16_t *port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr *sa = fam == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6;
	socklen_t len = fam == AF_INET ? sizeof(a4) : sizeof(a6);
	int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, sa, len), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, sa, &len), 0);
	*port = ntohs(fam == AF_INET ? a4.sin_port : a6.sin6_port);
	return fd;
}

static int live_connect(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* LISTEN: 2 IPv4 + 1 IPv6; ESTABLISHED: an accepted pair and a pair still in the accept
 * queue; LIVE_TW client-side TIME_WAIT. Returns the fds to keep open. */
static void live_sockets(int fd[6])
{
	uint16_t p, ptw, p6;

	fd[0] = live_listen(AF_INET, 7, &p);
	fd[1] = live_connect(p);
	fd[2] = accept(fd[0], NULL, NULL);
	fd[3] = live_connect(p);
	fd[4] = live_listen(AF_INET, 16, &ptw);
	for (int i = 0; i < LIVE_TW; i++) {
		int c = live_connect(ptw), a = accept(fd[4], NULL, NULL);
		assert_true(a >= 0);
		close(c); /* the client closes first: its side keeps TIME_WAIT */
		close(a);
	}
	fd[5] = live_listen(AF_INET6, 3, &p6);
}

static void live_dump(bool netlink, uint32_t states, unsigned fams, struct td_record *rec,
		      struct live *l, struct td_dump_stats *st)
{
	struct td_sink sink = { live_collect, l, states, fams, 0 };

	l->n = 0;
	memset(l->per_state, 0, sizeof(l->per_state));
	memset(st, 0, sizeof(*st));
	assert_int_equal(netlink ? netlink_dump(&sink, rec, st) : procfs_dump(&sink, rec, st), 0);
}

/* Loopback runs the closing handshakes in softirq; wait until all have reached TIME_WAIT. */
static void live_settle(struct live *l, struct td_dump_stats *st)
{
	for (int i = 0; i < 300; i++) {
		live_dump(true, 0, 0, NULL, l, st);
		if (l->per_state[TD_SS_TIME_WAIT] == LIVE_TW && l->n == LIVE_TW + 7)
			return;
		usleep(10000);
	}
}

static void live_compare(struct live *a, struct live *b)
{
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->per_state, b->per_state, sizeof(a->per_state));
	qsort(a->v, a->n, sizeof(a->v[0]), live_cmp);
	qsort(b->v, b->n, sizeof(b->v[0]), live_cmp);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(live_cmp(&a->v[i], &b->v[i]), 0);
		assert_int_equal(a->v[i].state, b->v[i].state);
		assert_int_equal(a->v[i].inode, b->v[i].inode);
		assert_int_equal(a->v[i].uid, b->v[i].uid);
		assert_int_equal(a->v[i].rqueue, b->v[i].rqueue);
		assert_int_equal(a->v[i].timer, b->v[i].timer);
	}
}

/* Replays what a record holds: NETLINK chunks with netlink_parse, PROC_* with procfs_parse. */
static void live_replay(const char *path, struct live *nl, struct live *pf, unsigned *chunks)
{
	struct td_record_reader rd;
	struct td_dump_stats st = { 0 };
	struct td_sink snl = { live_collect, nl, 0, 0, 0 }, spf = { live_collect, pf, 0, 0, 0 };
	const unsigned char *d;
	uint32_t type;
	size_t len;
	int r;

	assert_int_equal(record_open(path, &rd), 0);
	while ((r = record_next(&rd, &type, &d, &len)) == 1) {
		if (type == TD_CHUNK_NETLINK) {
			assert_true(len <= 64 * 1024);
			assert_in_range(netlink_parse(d, len, &snl, &st), 0, 1);
			(*chunks)++;
		} else {
			assert_true(type == TD_CHUNK_PROC_TCP || type == TD_CHUNK_PROC_TCP6);
			assert_int_equal(
				procfs_parse((const char *)d, len,
					     type == TD_CHUNK_PROC_TCP ? AF_INET : AF_INET6, &spf,
					     &st, NULL),
				0);
		}
	}
	assert_int_equal(r, 0);
	record_reader_close(&rd);
}

/* The test process moves into the new namespace for good. */
static void test_live_dump(void **state)
{
	struct live nl = { .v = xcalloc(LIVE_MAX, sizeof(struct td_sock)) };
	struct live pf = { .v = xcalloc(LIVE_MAX, sizeof(struct td_sock)) };
	struct live rn = { .v = xcalloc(LIVE_MAX, sizeof(struct td_sock)) };
	struct live rp = { .v = xcalloc(LIVE_MAX, sizeof(struct td_sock)) };
	struct td_dump_stats st;
	struct td_record *rec;
	char path[] = "/tmp/td-test-netlink-XXXXXX";
	unsigned chunks = 0;
	int fd[6];
	(void)state;
	if (!live_enter_ns()) {
		free(nl.v), free(pf.v), free(rn.v), free(rp.v);
		skip(); /* needs CAP_SYS_ADMIN */
	}
	live_sockets(fd);
	live_settle(&nl, &st);
	assert_int_equal(nl.n, LIVE_TW + 7);
	assert_int_equal(nl.per_state[TD_SS_LISTEN], 3);
	assert_int_equal(nl.per_state[TD_SS_ESTABLISHED], 4);
	assert_int_equal(nl.per_state[TD_SS_TIME_WAIT], LIVE_TW);
	assert_int_equal(st.sockets, LIVE_TW + 7);
	assert_int_equal(st.skipped, 0);
	live_dump(false, 0, 0, NULL, &pf, &st);
	live_compare(&nl, &pf);

	/* the kernel filters: nothing reaches the client-side filter */
	live_dump(true, B(TD_SS_LISTEN), 0, NULL, &nl, &st);
	assert_int_equal(st.sockets, 3);
	assert_int_equal(st.skipped, 0);
	live_dump(true, 0, TD_FAM_INET6, NULL, &nl, &st);
	assert_int_equal(st.sockets, 1);
	assert_int_equal(nl.v[0].family, AF_INET6);
	/* procfs filters client-side and counts what it dropped */
	live_dump(false, B(TD_SS_LISTEN), 0, NULL, &pf, &st);
	assert_int_equal(st.sockets, 3);
	assert_int_equal(st.skipped, LIVE_TW + 4);

	/* a record holds exactly what was read */
	int tmp = mkstemp(path);
	assert_true(tmp >= 0);
	close(tmp);
	assert_int_equal(record_create(path, &rec), 0);
	live_dump(true, 0, 0, rec, &nl, &st);
	live_dump(false, 0, 0, rec, &pf, &st);
	assert_int_equal(record_close(rec), 0);
	live_replay(path, &rn, &rp, &chunks);
	unlink(path);
	assert_true(chunks > 2); /* a dump this size spans several recv() buffers */
	live_compare(&nl, &rn);
	live_compare(&pf, &rp);
	live_compare(&rn, &rp);
	for (int i = 0; i < 6; i++)
		close(fd[i]);
	free(nl.v), free(pf.v), free(rn.v), free(rp.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
