// SPDX-License-Identifier: MIT
/*
 * ctfill: fills the conntrack table of the network namespace it runs in with N UDP flows, fast,
 * for the conntrack lab test and `make bench`. It writes UDP packets through a raw socket
 * (IP_HDRINCL, batches of sendmmsg) from 127.0.0.1 to 127.0.0.2-127.0.0.x, one port pair per
 * flow, so each packet is a new tuple for the OUTPUT hook. With --assured it also sends each
 * flow's reply (swapped tuple) and, after UDP's 2-second stream delay, a third packet: the
 * entries become ASSURED, which early_drop() never evicts, so a table full of them drops new
 * flows instead of making room. The namespace's ruleset should drop these packets at input
 * (127.0.0.2-127.0.0.254 as source or destination), or the kernel answers each with an ICMP
 * port unreachable. Bounded: at most 2,000,000 flows and 60 s; it stops on the first error.
 *   usage: ctfill N [--assured]   (prints "flows N sent P ms T")
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS   2000000u
#define PORTS	    60000u /* destination ports 1024.. per destination address */
#define BATCH	    512u
#define DEADLINE_MS 60000.0

struct pkt {
	struct iphdr ip;
	struct udphdr udp;
	char payload[4];
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Flow i: 127.0.0.1:40000 -> 127.0.0.(2 + i / PORTS):(1024 + i % PORTS). */
static void flow(unsigned i, int reply, struct pkt *p, struct sockaddr_in *to)
{
	uint32_t a = htonl(0x7f000001u), b = htonl(0x7f000002u + i / PORTS);
	uint16_t sp = htons(40000), dp = htons((uint16_t)(1024 + i % PORTS));

	memset(p, 0, sizeof(*p));
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_UDP;
	p->ip.tot_len = htons(sizeof(*p));
	p->ip.saddr = reply ? b : a;
	p->ip.daddr = reply ? a : b;
	p->udp.source = reply ? dp : sp;
	p->udp.dest = reply ? sp : dp;
	p->udp.len = htons(sizeof(p->udp) + sizeof(p->payload));
	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_addr.s_addr = p->ip.daddr;
}

/* Sends one packet of every flow (the reply direction when reply). Returns packets sent. */
static long pass(int fd, unsigned n, int reply, double t0)
{
	static struct pkt pk[BATCH];
	static struct sockaddr_in to[BATCH];
	static struct iovec iov[BATCH];
	static struct mmsghdr m[BATCH];
	long sent = 0;

	for (unsigned i = 0; i < n;) {
		unsigned k = 0;
		for (; k < BATCH && i + k < n; k++) {
			flow(i + k, reply, &pk[k], &to[k]);
			iov[k] = (struct iovec){ &pk[k], sizeof(pk[k]) };
			m[k].msg_hdr = (struct msghdr){ .msg_name = &to[k],
							.msg_namelen = sizeof(to[k]),
							.msg_iov = &iov[k],
							.msg_iovlen = 1 };
		}
		int r = sendmmsg(fd, m, k, 0);
		if (r < 0) {
			/* a full table drops the packet at OUTPUT: EPERM from the hook */
			if (errno == EPERM) {
				i++;
				continue;
			}
			perror("ctfill: sendmmsg");
			return -1;
		}
		if (r == 0)
			i++;
		i += (unsigned)r;
		sent += r;
		if (now_ms() - t0 > DEADLINE_MS) {
			fprintf(stderr, "ctfill: over %.0f s, stopping\n", DEADLINE_MS / 1e3);
			return -1;
		}
	}
	return sent;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long n;
	int assured = argc == 3 && !strcmp(argv[2], "--assured");
	double t0 = now_ms();
	long s1, s2 = 0, s3 = 0;
	int fd, one = 1;

	if (argc < 2 || argc > 3 || (argc == 3 && !assured)) {
		fprintf(stderr, "usage: ctfill N [--assured]\n");
		return 2;
	}
	errno = 0;
	n = strtoul(argv[1], &end, 10);
	if (errno || *end || n == 0 || n > MAX_FLOWS) {
		fprintf(stderr, "ctfill: N must be 1..%u\n", MAX_FLOWS);
		return 2;
	}
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		perror("ctfill: raw socket");
		return 1;
	}
	s1 = pass(fd, (unsigned)n, 0, t0);
	if (s1 >= 0 && assured) {
		/* UDP entries become ASSURED only for packets 2 s after their first (stream_ts):
		 * the last flow was made now, so the third pass starts 2.1 s from here */
		double wait_until = now_ms() + 2100.0;
		s2 = pass(fd, (unsigned)n, 1, t0);
		while (s2 >= 0 && now_ms() < wait_until)
			usleep(20000);
		if (s2 >= 0)
			s3 = pass(fd, (unsigned)n, 0, t0);
	}
	close(fd);
	if (s1 < 0 || s2 < 0 || s3 < 0)
		return 1;
	printf("flows %lu sent %ld ms %.0f\n", n, s1 + s2 + s3, now_ms() - t0);
	return 0;
}
