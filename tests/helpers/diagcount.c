// SPDX-License-Identifier: MIT
/*
 * diagcount: the floor for `make bench`. It does the least any census can do: one inet_diag dump
 * per family of every TCP state (request sockets included) with no extensions, read through a
 * 4 MiB socket receive buffer into a 64 KiB user buffer (the kernel fills at most 32 KiB per
 * recv), counting messages and nothing else. Prints the count. Raw netlink with no library, so
 * the figure is the kernel's cost plus a read loop.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STATES_1_TO_12 0x1ffeu

/* Returns the number of sockets in family af, or -errno. */
static long long dump_family(int nl, int af)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = (uint32_t)af },
		/* states 1..12: every TCP state and NEW_SYN_RECV (request sockets), but
		 * not 13, TCP_BOUND_INACTIVE (6.9+), which makes the kernel also walk the
		 * bind hash (every connected socket again) to report bound, unconnected ones */
		.r = { .sdiag_family = (uint8_t)af,
		       .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = STATES_1_TO_12 },
	};
	static char buf[1 << 16] __attribute__((aligned(NLMSG_ALIGNTO)));
	long long n = 0;

	if (send(nl, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(nl, buf, sizeof(buf), 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return n;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error ? e->error : -EIO;
			}
			n++;
		}
	}
}

int main(void)
{
	int rcvbuf = 4 << 20;
	long long total = 0;
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (nl < 0) {
		perror("diagcount: netlink");
		return 1;
	}
	/* As big a socket buffer as tcpdoctor asks for, so the floor is not handicapped:
	 * SO_RCVBUFFORCE passes net.core.rmem_max with CAP_NET_ADMIN, SO_RCVBUF is capped by it. */
	if (setsockopt(nl, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(nl, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	for (int i = 0; i < 2; i++) {
		long long n = dump_family(nl, i ? AF_INET6 : AF_INET);
		if (n < 0) {
			fprintf(stderr, "diagcount: dump: %s\n", strerror((int)-n));
			close(nl);
			return 1;
		}
		total += n;
	}
	close(nl);
	printf("%lld\n", total);
	return 0;
}
