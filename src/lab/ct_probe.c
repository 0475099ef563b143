// SPDX-License-Identifier: MIT
/*
 * The conntrack-full probes. Each is one flow, tried once with a deadline under TCP's initial
 * retransmission timeout, so a probe that fails sent exactly one packet: in a full table that
 * is exactly one `drop` in the conntrack statistics, which is what the scenario checks. The
 * server side of every probe runs in the same thread through non-blocking sockets, so no
 * thread needs to be joined or stopped when a probe fails.
 */
#include "lab/ct_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/source/netns.h"
#include "core/util.h"

#define ICMP_ID 0x7464 /* "td" */

const char *lab_ct_probe_name(enum lab_ct_probe p)
{
	static const char *const names[LAB_CT_PROBES] = { "tcp_connect", "tcp_inbound", "icmp_echo",
							  "udp_dns", "tcp_established" };
	return (unsigned)p < LAB_CT_PROBES ? names[p] : "?";
}

/* A non-blocking socket made in one of env's namespaces. Returns the fd or -errno. */
static int sock_in(const struct lab_env *env, enum lab_side side, int type, int proto)
{
	int saved = netns_save(), fd, r;

	if (saved < 0)
		return saved;
	r = lab_env_enter(env, side);
	fd = r ? r : socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (!r && fd < 0)
		fd = -errno;
	r = netns_restore(saved);
	if (r && fd >= 0) {
		close(fd); /* never leave this thread in the lab's namespace */
		fd = r;
	}
	return fd;
}

static struct sockaddr_in addr(uint32_t host, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(host);
	return a;
}

/* A bound socket (and listening, for TCP) in one namespace. Returns the fd or -errno. */
static int bound(const struct lab_env *env, enum lab_side side, int type, uint16_t port)
{
	struct sockaddr_in a = addr(side == LAB_CLIENT ? LAB_CLIENT_ADDR : LAB_SERVER_ADDR, port);
	int one = 1, fd = sock_in(env, side, type, 0);

	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (type == SOCK_STREAM && listen(fd, 1024))) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static bool wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, ms) == 1 && (p.revents & ev);
}

int lab_ct_socks_open(struct lab_ct_socks *s, const struct lab_env *env)
{
	static const uint16_t tw[2] = { LAB_CT_PORT_TW_DEF, LAB_CT_PORT_TW_FAST };

	*s = (struct lab_ct_socks){ -1, -1, { -1, -1 }, -1, -1, -1, -1, -1, 0 };
	if ((s->srv_old = bound(env, LAB_SERVER, SOCK_STREAM, LAB_CT_PORT_OLD)) < 0)
		return s->srv_old;
	if ((s->srv_new = bound(env, LAB_SERVER, SOCK_STREAM, LAB_CT_PORT_NEW)) < 0)
		return s->srv_new;
	for (int i = 0; i < 2; i++)
		if ((s->srv_tw[i] = bound(env, LAB_SERVER, SOCK_STREAM, tw[i])) < 0)
			return s->srv_tw[i];
	if ((s->srv_dns = bound(env, LAB_SERVER, SOCK_DGRAM, LAB_CT_PORT_DNS)) < 0)
		return s->srv_dns;
	if ((s->cli_in = bound(env, LAB_CLIENT, SOCK_STREAM, LAB_CT_PORT_IN)) < 0)
		return s->cli_in;
	s->icmp = sock_in(env, LAB_CLIENT, SOCK_RAW, IPPROTO_ICMP);
	return s->icmp < 0 ? s->icmp : 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void lab_ct_old_close(struct lab_ct_socks *s)
{
	close_fd(&s->old_c);
	close_fd(&s->old_s);
}

void lab_ct_socks_close(struct lab_ct_socks *s)
{
	int *fds[] = { &s->srv_old, &s->srv_new, &s->srv_tw[0], &s->srv_tw[1],
		       &s->srv_dns, &s->cli_in,	 &s->icmp };

	lab_ct_old_close(s);
	for (size_t i = 0; i < TD_ARRAY_SIZE(fds); i++)
		close_fd(fds[i]);
}

/* Connects from side to the other side's port and accepts it on lfd. Returns the connected
 * fd (and the accepted one in *acc) or -errno (-ETIMEDOUT: no handshake within the probe
 * deadline, the SYN or its answer dropped). */
static int tcp_connect(const struct lab_env *env, enum lab_side side, int lfd, uint16_t port,
		       int *acc)
{
	struct sockaddr_in to = addr(side == LAB_CLIENT ? LAB_SERVER_ADDR : LAB_CLIENT_ADDR, port);
	int fd = sock_in(env, side, SOCK_STREAM, 0), e = 0;
	socklen_t el = sizeof(e);

	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS)
		e = errno;
	else if (!wait_fd(fd, POLLOUT, LAB_CT_PROBE_MS))
		e = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el))
		e = errno;
	if (!e && !wait_fd(lfd, POLLIN, LAB_CT_PROBE_MS))
		e = ETIMEDOUT;
	if (!e && (*acc = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		e = errno;
	if (e) {
		close(fd);
		return -e;
	}
	return fd;
}

/* One byte from a to b and one back. */
static bool ping_pong(int a, int b)
{
	char c = 'x';

	if (send(a, &c, 1, MSG_NOSIGNAL) != 1 || !wait_fd(b, POLLIN, LAB_CT_PROBE_MS) ||
	    recv(b, &c, 1, 0) != 1 || send(b, &c, 1, MSG_NOSIGNAL) != 1 ||
	    !wait_fd(a, POLLIN, LAB_CT_PROBE_MS))
		return false;
	return recv(a, &c, 1, 0) == 1;
}

int lab_ct_old_open(struct lab_ct_socks *s, const struct lab_env *env)
{
	int fd = tcp_connect(env, LAB_CLIENT, s->srv_old, LAB_CT_PORT_OLD, &s->old_s);

	if (fd < 0)
		return fd;
	s->old_c = fd;
	return ping_pong(s->old_c, s->old_s) ? 0 : -ETIMEDOUT;
}

/* Client closes first, the server reads the end and closes: TIME_WAIT on the client. */
static bool tcp_once(const struct lab_env *env, enum lab_side side, int lfd, uint16_t port)
{
	int acc = -1, fd = tcp_connect(env, side, lfd, port, &acc);
	char c;

	if (fd < 0)
		return false;
	close(fd);
	bool eof = wait_fd(acc, POLLIN, LAB_CT_PROBE_MS) && recv(acc, &c, 1, 0) == 0;
	close(acc);
	return eof;
}

static bool udp_dns(const struct lab_ct_socks *s, const struct lab_env *env)
{
	struct sockaddr_in to = addr(LAB_SERVER_ADDR, LAB_CT_PORT_DNS), from;
	socklen_t fl = sizeof(from);
	char q[] = "\x12\x34tdlab", buf[64];
	int fd = sock_in(env, LAB_CLIENT, SOCK_DGRAM, 0);
	bool ok = false;

	if (fd < 0)
		return false;
	if (sendto(fd, q, sizeof(q), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(q) &&
	    wait_fd(s->srv_dns, POLLIN, LAB_CT_PROBE_MS)) {
		ssize_t n =
			recvfrom(s->srv_dns, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		ok = n > 0 &&
		     sendto(s->srv_dns, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n &&
		     wait_fd(fd, POLLIN, LAB_CT_PROBE_MS) && recv(fd, buf, sizeof(buf), 0) == n;
	}
	close(fd);
	return ok;
}

static uint16_t csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* An echo request to the server and its reply (the raw socket sees every ICMP message of the
 * client namespace: only the reply with our id and sequence counts). */
static bool icmp_echo(struct lab_ct_socks *s)
{
	struct icmphdr h = { .type = ICMP_ECHO };
	struct sockaddr_in to = addr(LAB_SERVER_ADDR, 0);
	uint8_t buf[256];
	uint64_t end = util_now_ns() + LAB_CT_PROBE_MS * 1000000ull;

	while (recv(s->icmp, buf, sizeof(buf), 0) > 0)
		; /* drop what an earlier probe left */
	h.un.echo.id = htons(ICMP_ID);
	h.un.echo.sequence = htons(++s->echo_seq);
	h.checksum = csum(&h, sizeof(h));
	if (sendto(s->icmp, &h, sizeof(h), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(h))
		return false;
	for (uint64_t now; (now = util_now_ns()) < end;) {
		if (!wait_fd(s->icmp, POLLIN, (int)((end - now) / 1000000 + 1)))
			return false;
		ssize_t n = recv(s->icmp, buf, sizeof(buf), 0);
		size_t ihl = n > 0 ? (size_t)(buf[0] & 0xf) * 4 : 0;
		if (n <= 0 || (size_t)n < ihl + sizeof(h))
			continue;
		struct icmphdr r;
		memcpy(&r, buf + ihl, sizeof(r));
		if (r.type == ICMP_ECHOREPLY && r.un.echo.id == htons(ICMP_ID) &&
		    r.un.echo.sequence == htons(s->echo_seq))
			return true;
	}
	return false;
}

bool lab_ct_probe(struct lab_ct_socks *s, const struct lab_env *env, enum lab_ct_probe p)
{
	switch (p) {
	case LAB_CT_TCP_OUT:
		return tcp_once(env, LAB_CLIENT, s->srv_new, LAB_CT_PORT_NEW);
	case LAB_CT_TCP_IN:
		return tcp_once(env, LAB_SERVER, s->cli_in, LAB_CT_PORT_IN);
	case LAB_CT_ICMP:
		return icmp_echo(s);
	case LAB_CT_UDP_DNS:
		return udp_dns(s, env);
	case LAB_CT_TCP_OLD:
		return s->old_c >= 0 && ping_pong(s->old_c, s->old_s);
	case LAB_CT_PROBES:
		break;
	}
	return false;
}

unsigned lab_ct_short(struct lab_ct_socks *s, const struct lab_env *env, uint16_t port, unsigned n)
{
	int lfd = port == LAB_CT_PORT_TW_DEF	? s->srv_tw[0]
		  : port == LAB_CT_PORT_TW_FAST ? s->srv_tw[1]
						: s->srv_new;
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += tcp_once(env, LAB_CLIENT, lfd, port);
	return ok;
}
