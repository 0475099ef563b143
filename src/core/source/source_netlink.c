// SPDX-License-Identifier: MIT
/*
 * inet_diag over NETLINK_SOCK_DIAG: one SOCK_DIAG_BY_FAMILY dump per address family, the state
 * filter applied by the kernel, no extensions (we need nothing beyond struct inet_diag_msg, and
 * every extension costs the kernel work per socket). Each recv() buffer is recorded when asked
 * and parsed at once, so memory stays flat whatever the socket count. The parser treats its
 * input as hostile because it also runs on recorded files and under the fuzzer.
 */
#include "core/source/source_netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "core/source/record.h"
#include "core/util.h"

/* The kernel fills one skb per recvmsg() and sizes it from the largest buffer we ever passed,
 * capped at 32 KiB (net/netlink/af_netlink.c, max_recvmsg_len). 64 KiB always holds a whole
 * skb with room if that cap grows, so recvmsg never truncates. Measured on 6.18 with 100k
 * sockets: 8 KiB buffers take 1179 recv() calls, 32 KiB and more take 298 (32448 bytes each);
 * the dump takes ~13.5 ms either way, as the kernel's walk dominates. */
#define NETLINK_RECV_LEN (64u << 10)

/* A dump keeps one skb queued at a time, so the socket buffer barely matters (no measurable
 * change at 100k sockets); a large one is cheap insurance against a host with a tiny
 * rmem_default. SO_RCVBUFFORCE (CAP_NET_ADMIN) bypasses net.core.rmem_max; without it
 * SO_RCVBUF is silently capped, which is still correct. */
#define NETLINK_RCVBUF (4 << 20)

/* Every TCP state plus NEW_SYN_RECV, but not bit 13 (TCP_BOUND_INACTIVE, Linux 6.9+): asking
 * for it adds bound-but-unconnected sockets as CLOSE, which /proc/net/tcp never lists, and the
 * two sources must agree. A request with 0xffffffff would include it. */
#define NETLINK_STATES_ALL (TD_STATES_ALL | 1u << TD_SS_KERNEL_NEW_SYN_RECV)

/* Largest errno a kernel NLMSG_ERROR can carry (MAX_ERRNO): bounds hostile values so that
 * -err can never overflow. */
#define NETLINK_MAX_ERRNO 4095

/* An error code from the wire: negative errno in range, 0 for success, else corrupt. */
static int netlink_errno(int32_t err)
{
	if (err < 0 && err >= -NETLINK_MAX_ERRNO)
		return err;
	return err == 0 ? 0 : -EBADMSG;
}

/* The attributes after inet_diag_msg are not used, but a truncated one means a corrupt
 * message, which must not pass as a good socket. */
static int netlink_attrs_check(const unsigned char *p, size_t len)
{
	while (len > 0) {
		struct nlattr a;
		size_t step;

		if (len < sizeof(a))
			return -EBADMSG;
		memcpy(&a, p, sizeof(a));
		if (a.nla_len < sizeof(a) || a.nla_len > len)
			return -EBADMSG;
		step = NLA_ALIGN((size_t)a.nla_len);
		if (step > len)
			step = len; /* the last attribute may end without padding */
		p += step;
		len -= step;
	}
	return 0;
}

/* Fills sk from one SOCK_DIAG_BY_FAMILY payload. memcpy, not a cast: replayed and fuzzed
 * buffers carry no alignment promise. */
static int netlink_msg_sock(const unsigned char *p, size_t len, struct td_sock *sk)
{
	struct inet_diag_msg m;
	size_t alen = sizeof(m.id.idiag_src);

	if (len < sizeof(m))
		return -EBADMSG;
	memcpy(&m, p, sizeof(m));
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
		return -EBADMSG;
	if (m.idiag_state == 0 || m.idiag_state > TD_SS_KERNEL_NEW_SYN_RECV)
		return -EBADMSG;
	if (len > NLMSG_ALIGN(sizeof(m)) &&
	    netlink_attrs_check(p + NLMSG_ALIGN(sizeof(m)), len - NLMSG_ALIGN(sizeof(m))))
		return -EBADMSG;
	sk->family = m.idiag_family;
	/* Request sockets are SYN_RECV to every user; keep TIME_WAIT vs FIN_WAIT2 apart. */
	sk->state = m.idiag_state == TD_SS_KERNEL_NEW_SYN_RECV ? TD_SS_SYN_RECV : m.idiag_state;
	sk->timer = m.idiag_timer;
	sk->retrans = m.idiag_retrans;
	sk->sport = ntohs(m.id.idiag_sport);
	sk->dport = ntohs(m.id.idiag_dport);
	if (m.idiag_family == AF_INET)
		alen = 4;
	memset(sk->src, 0, sizeof(sk->src));
	memset(sk->dst, 0, sizeof(sk->dst));
	memcpy(sk->src, m.id.idiag_src, alen);
	memcpy(sk->dst, m.id.idiag_dst, alen);
	sk->uid = m.idiag_uid;
	sk->inode = m.idiag_inode;
	sk->rqueue = m.idiag_rqueue;
	sk->wqueue = m.idiag_wqueue;
	sk->expires_ms = m.idiag_expires;
	sk->ifindex = m.id.idiag_if;
	sk->cookie = (uint64_t)m.id.idiag_cookie[1] << 32 | m.id.idiag_cookie[0];
	return 0;
}

/* Filters, counts and delivers one socket. Returns 0 or the callback's negative value. */
static int netlink_deliver(const struct td_sink *sink, struct td_dump_stats *st, struct td_sock *sk)
{
	int r;

	sk->netns = sink->netns;
	if (!source_sink_wants(sink, sk)) {
		st->skipped++;
		return 0;
	}
	st->sockets++;
	r = sink->fn ? sink->fn(sk, sink->arg) : 0;
	return r < 0 ? r : 0;
}

/* One message. Returns 1 for NLMSG_DONE, 0 to go on, or a negative errno. */
static int netlink_msg(const struct nlmsghdr *h, const unsigned char *payload, size_t plen,
		       const struct td_sink *sink, struct td_dump_stats *st)
{
	struct td_sock sk;
	int32_t err;
	int r;

	switch (h->nlmsg_type) {
	case NLMSG_DONE:
		/* A dump that failed midway ends with DONE carrying the negative errno. */
		if (plen < sizeof(err))
			return 1;
		memcpy(&err, payload, sizeof(err));
		return err >= 0 ? 1 : netlink_errno(err);
	case NLMSG_ERROR:
		if (plen < sizeof(err))
			return -EBADMSG;
		memcpy(&err, payload, sizeof(err));
		return netlink_errno(err); /* 0 is an ACK: nothing to report */
	case SOCK_DIAG_BY_FAMILY:
		memset(&sk, 0, sizeof(sk));
		r = netlink_msg_sock(payload, plen, &sk);
		return r ? r : netlink_deliver(sink, st, &sk);
	default:
		return 0; /* NLMSG_NOOP, or a type we do not know: skip it whole */
	}
}

int netlink_parse(const void *buf, size_t len, const struct td_sink *sink, struct td_dump_stats *st)
{
	const unsigned char *p = buf;
	size_t off = 0;

	while (off < len) {
		struct nlmsghdr h;
		size_t step;
		int r;

		if (len - off < sizeof(h))
			return -EBADMSG;
		memcpy(&h, p + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
			return -EBADMSG;
		if (h.nlmsg_flags & NLM_F_DUMP_INTR)
			st->interrupted = true;
		r = netlink_msg(&h, p + off + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN, sink, st);
		if (r)
			return r;
		step = ((size_t)h.nlmsg_len + NLMSG_ALIGNTO - 1) & ~(size_t)(NLMSG_ALIGNTO - 1);
		off += step < len - off ? step : len - off;
	}
	return 0;
}

/* The request's state mask: the sink's states, NEW_SYN_RECV along with SYN_RECV. */
static uint32_t netlink_req_states(uint32_t want)
{
	uint32_t s = want ? want & TD_STATES_ALL : NETLINK_STATES_ALL;

	if (s & 1u << TD_SS_SYN_RECV)
		s |= 1u << TD_SS_KERNEL_NEW_SYN_RECV;
	return s;
}

static int netlink_send_req(struct mnl_socket *nl, uint8_t family, uint32_t states, uint32_t seq)
{
	/* Aligned for the header libmnl builds in it. */
	union {
		struct nlmsghdr h;
		unsigned char b[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_req_v2))];
	} msg;
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *req;

	memset(&msg, 0, sizeof(msg));
	nlh = mnl_nlmsg_put_header(msg.b);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_ext = 0;
	req->idiag_states = states;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

/* Receives one family's dump until NLMSG_DONE, recording and parsing each buffer. */
static int netlink_recv_dump(struct mnl_socket *nl, unsigned char *buf, const struct td_sink *sink,
			     struct td_record *rec, struct td_dump_stats *st)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, NETLINK_RECV_LEN);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ENOSPC ? -EBADMSG : -errno; /* ENOSPC: MSG_TRUNC */
		if (n == 0)
			return -EBADMSG; /* the kernel never ends a dump without DONE */
		if (rec && (r = record_write(rec, TD_CHUNK_NETLINK, buf, (size_t)n)))
			return r;
		r = netlink_parse(buf, (size_t)n, sink, st);
		if (r)
			return r < 0 ? r : 0;
	}
}

static struct mnl_socket *netlink_open(int *err)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	int fd, sz = NETLINK_RCVBUF;

	if (!nl) {
		/* No netlink at all (some sandboxes) means no inet_diag either. */
		*err = errno == EAFNOSUPPORT ? -EPROTONOSUPPORT : -errno;
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		*err = -errno;
		mnl_socket_close(nl);
		return NULL;
	}
	/* Not fatal: a small buffer only means more round trips. */
	fd = mnl_socket_get_fd(nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return nl;
}

int netlink_dump(const struct td_sink *sink, struct td_record *rec, struct td_dump_stats *st)
{
	static const struct {
		unsigned fam;
		uint8_t af;
	} fams[] = { { TD_FAM_INET, AF_INET }, { TD_FAM_INET6, AF_INET6 } };
	uint32_t states = netlink_req_states(sink->states);
	unsigned char *buf;
	struct mnl_socket *nl;
	int r = 0;

	nl = netlink_open(&r);
	if (!nl)
		return r;
	buf = xmalloc(NETLINK_RECV_LEN);
	for (size_t i = 0; i < TD_ARRAY_SIZE(fams) && !r; i++) {
		if (sink->families && !(sink->families & fams[i].fam))
			continue;
		r = netlink_send_req(nl, fams[i].af, states, (uint32_t)i + 1);
		if (!r)
			r = netlink_recv_dump(nl, buf, sink, rec, st);
	}
	free(buf);
	mnl_socket_close(nl);
	return r;
}
