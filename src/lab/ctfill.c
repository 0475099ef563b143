// SPDX-License-Identifier: MIT
/*
 * Fills the current namespace's conntrack table with UDP flows through a raw socket, and
 * flushes it over ctnetlink. The raw socket (not one UDP socket per flow) is what makes a
 * quarter of a million flows take about a second: 512 packets per sendmmsg, no socket, no
 * port binding, no receive path. Moved here from the test helper so `tcpdoctor lab
 * conntrack-full`, tests/integration/lab_conntrack.sh and `make bench` fill the same way.
 */
#include "lab/ctfill.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#define PORTS 60000u /* destination ports 1024.. per destination address */
#define BATCH 512u

enum pass { PASS_NEW, PASS_REPLY, PASS_THIRD };

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
static struct lab_ctfill_flow flow_at(unsigned i)
{
	return (struct lab_ctfill_flow){ htonl(0x7f000001u), htonl(0x7f000002u + i / PORTS),
					 htons(40000), htons((uint16_t)(1024 + i % PORTS)) };
}

static void packet(const struct lab_ctfill_flow *f, bool reply, struct pkt *p,
		   struct sockaddr_in *to)
{
	memset(p, 0, sizeof(*p));
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_UDP;
	p->ip.tot_len = htons(sizeof(*p));
	p->ip.saddr = reply ? f->dst : f->src;
	p->ip.daddr = reply ? f->src : f->dst;
	p->udp.source = reply ? f->dport : f->sport;
	p->udp.dest = reply ? f->sport : f->dport;
	p->udp.len = htons(sizeof(p->udp) + sizeof(p->payload));
	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_addr.s_addr = p->ip.daddr;
}

/* Packet i of a pass: flow i of the fill, or (touch) both directions of the listed flows. */
struct gen {
	enum pass which;
	const struct lab_ctfill_flow *list;
};

static void gen_packet(const struct gen *g, unsigned i, struct pkt *p, struct sockaddr_in *to)
{
	struct lab_ctfill_flow f;

	if (g->list) {
		packet(&g->list[i / 2], i % 2, p, to);
		return;
	}
	f = flow_at(i);
	packet(&f, g->which == PASS_REPLY, p, to);
}

static bool stopped(const volatile sig_atomic_t *stop)
{
	return stop && *stop;
}

/* Sends one packet of every flow 0..n-1 (the reply direction for PASS_REPLY). */
static int pass(int fd, unsigned n, const struct gen *g, double t0,
		const volatile sig_atomic_t *stop, struct lab_ctfill *res)
{
	static struct pkt pk[BATCH];
	static struct sockaddr_in to[BATCH];
	static struct iovec iov[BATCH];
	static struct mmsghdr m[BATCH];

	for (unsigned i = 0; i < n;) {
		unsigned k = 0;
		for (; k < BATCH && i + k < n; k++) {
			gen_packet(g, i + k, &pk[k], &to[k]);
			iov[k] = (struct iovec){ &pk[k], sizeof(pk[k]) };
			m[k].msg_hdr = (struct msghdr){ .msg_name = &to[k],
							.msg_namelen = sizeof(to[k]),
							.msg_iov = &iov[k],
							.msg_iovlen = 1 };
		}
		int r = sendmmsg(fd, m, k, 0);
		if (r < 0 && errno != EPERM)
			return -errno;
		if (r <= 0) {
			/* a full table drops the packet at OUTPUT: EPERM from the hook */
			res->eperm++;
			i++;
		} else {
			i += (unsigned)r;
			res->sent += (uint64_t)r;
		}
		if (stopped(stop))
			return -EINTR;
		if (now_ms() - t0 > LAB_CTFILL_DEADLINE_MS)
			return -ETIMEDOUT;
	}
	return 0;
}

static int raw_socket(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int lab_ctfill_run(unsigned n, bool assured, const volatile sig_atomic_t *stop,
		   struct lab_ctfill *res)
{
	double t0 = now_ms();
	int fd, r;

	memset(res, 0, sizeof(*res));
	res->flows = n;
	if (n == 0 || n > LAB_CTFILL_MAX)
		return -EINVAL;
	fd = raw_socket();
	if (fd < 0)
		return fd;
	r = pass(fd, n, &(struct gen){ PASS_NEW, NULL }, t0, stop, res);
	if (!r && assured) {
		/* UDP entries become ASSURED only for packets 2 s after their first (stream_ts):
		 * the last flow was made now, so the third pass starts 2.1 s from here */
		double wait_until = now_ms() + 2100.0;
		r = pass(fd, n, &(struct gen){ PASS_REPLY, NULL }, t0, stop, res);
		while (!r && now_ms() < wait_until && !stopped(stop))
			usleep(20000);
		if (!r)
			r = stopped(stop)
				    ? -EINTR
				    : pass(fd, n, &(struct gen){ PASS_THIRD, NULL }, t0, stop, res);
	}
	close(fd);
	res->ms = now_ms() - t0;
	return r;
}

int lab_ctfill_touch(const struct lab_ctfill_flow *v, size_t n, struct lab_ctfill *res)
{
	double t0 = now_ms();
	int fd, r;

	if (n == 0)
		return 0;
	if (n > LAB_CTFILL_MAX)
		return -EINVAL;
	fd = raw_socket();
	if (fd < 0)
		return fd;
	r = pass(fd, (unsigned)(2 * n), &(struct gen){ PASS_THIRD, v }, t0, NULL, res);
	close(fd);
	res->ms += now_ms() - t0;
	return r;
}

int lab_ct_flush(void)
{
	char buf[256];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned seq = (unsigned)time(NULL);
	int r = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC; /* every family */
	nfg->version = NFNETLINK_V0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		r = -errno;
	else if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		r = -errno;
out:
	mnl_socket_close(nl);
	return r;
}
