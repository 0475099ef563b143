// SPDX-License-Identifier: MIT
/*
 * Unit tests for ct_recv_dump (src/core/conntrack/ct_recv.c) over a SOCK_SEQPACKET pair, which keeps
 * message boundaries as a netlink socket does: buffers reach the consumer whole and in order,
 * more of them than the ring holds; NLMSG_DONE and NLMSG_ERROR end the reading; the consumer's
 * error stops it (and the reader does not hang); a closed peer is -EBADMSG.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/netlink.h>

#include "core/conntrack/ct_recv.h"

#define BUFS 40

/* Sends one buffer: a message of type type carrying seq. */
static void put(int fd, uint16_t type, uint32_t seq)
{
	struct nlmsghdr h = { .nlmsg_len = sizeof(h), .nlmsg_type = type, .nlmsg_seq = seq };

	assert_int_equal(send(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
}

struct seen {
	uint32_t next; /* the seq expected next */
	int fail_at;   /* return -EIO at this seq (-1: never) */
	uint32_t calls;
};

static int consume(const void *buf, size_t len, void *ctx)
{
	struct seen *s = ctx;
	struct nlmsghdr h;

	assert_int_equal(len, sizeof(h));
	memcpy(&h, buf, sizeof(h));
	s->calls++;
	if (h.nlmsg_type == NLMSG_DONE)
		return 1;
	if (h.nlmsg_type == NLMSG_ERROR)
		return -EPERM;
	assert_int_equal(h.nlmsg_seq, s->next);
	s->next++;
	return (int)h.nlmsg_seq == s->fail_at ? -EIO : 0;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	int big = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
}

static void test_order_and_done(void **state)
{
	struct seen s = { 0, -1, 0 };
	int sv[2];

	(void)state;
	pair(sv);
	for (uint32_t i = 0; i < BUFS; i++)
		put(sv[0], 0x100, i);
	put(sv[0], NLMSG_DONE, 0);
	put(sv[0], 0x100, 999); /* after the end: never read */
	assert_int_equal(ct_recv_dump(sv[1], 4096, consume, &s), 0);
	assert_int_equal(s.next, BUFS);
	assert_int_equal(s.calls, BUFS + 1);
	close(sv[0]);
	close(sv[1]);
}

static void test_error_message(void **state)
{
	struct seen s = { 0, -1, 0 };
	int sv[2];

	(void)state;
	pair(sv);
	put(sv[0], 0x100, 0);
	put(sv[0], NLMSG_ERROR, 0);
	assert_int_equal(ct_recv_dump(sv[1], 4096, consume, &s), -EPERM);
	assert_int_equal(s.calls, 2);
	close(sv[0]);
	close(sv[1]);
}

static void test_consumer_stops(void **state)
{
	struct seen s = { 0, 5, 0 };
	int sv[2];

	(void)state;
	pair(sv);
	for (uint32_t i = 0; i < BUFS; i++)
		put(sv[0], 0x100, i);
	put(sv[0], NLMSG_DONE, 0);
	assert_int_equal(ct_recv_dump(sv[1], 4096, consume, &s), -EIO);
	assert_int_equal(s.next, 6);
	close(sv[0]);
	close(sv[1]);
}

static void test_peer_closed(void **state)
{
	struct seen s = { 0, -1, 0 };
	int sv[2];

	(void)state;
	pair(sv);
	put(sv[0], 0x100, 0);
	close(sv[0]);
	assert_int_equal(ct_recv_dump(sv[1], 4096, consume, &s), -EBADMSG);
	assert_int_equal(s.next, 1);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_done),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_consumer_stops),
		cmocka_unit_test(test_peer_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
