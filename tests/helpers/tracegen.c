// SPDX-License-Identifier: MIT
/*
 * Test helper for tests/integration/trace.sh: makes a known number of connect() failures and
 * resets on loopback, inside the namespace it runs in, for `trace` to count. Every mode is
 * bounded (at most 1000 events, poll timeouts of 5 s) and prints "MODE N PID": how many of the
 * events it asked for really happened (so the test compares against what the kernel did) and
 * its pid (the one trace must name).
 *
 *   tracegen exhaust PORT N     holds connections to a listener it opens on 127.0.0.1:PORT
 *                               until connect() fails with EADDRNOTAVAIL (set a narrow
 *                               ip_local_port_range first), then N-1 more: N EADDRNOTAVAIL
 *   tracegen refused PORT N     N blocking connect()s to a port nothing listens on
 *                               (or one a firewall rejects): N ECONNREFUSED
 *   tracegen rejected PORT N    a listener on PORT, then N blocking connect()s to it that a
 *                               firewall rule answers with a reset: N ECONNREFUSED
 *   tracegen refused_nb PORT N  the same as refused with non-blocking sockets, the error read from
 *                               SO_ERROR after poll(): N ECONNREFUSED
 *   tracegen bindbusy PORT N    a listener on 127.0.0.1:PORT, then N sockets that bind() to it
 *                               without SO_REUSEADDR: N EADDRINUSE
 *   tracegen closes N K         N connections to a listener on 127.0.0.1:PORT (printed as
 *                               "port P"); the client closes each first, the server closes K of
 *                               them: N first FINs from each side's view, N CLOSE_WAIT entered,
 *                               K left. Prints the count line, then holds the N-K CLOSE_WAIT
 *                               until stdin closes (at most 60 s)
 *   tracegen unreach N          N blocking connect()s to 192.0.2.1:80 (TEST-NET-1) from a
 *                               namespace with no route there: N ENETUNREACH, no packet sent
 *   tracegen timeout PORT N     N non-blocking connect()s at once to a port whose SYNs a
 *                               firewall drops (lower tcp_syn_retries first), their errors read
 *                               from SO_ERROR: N ETIMEDOUT (waits at most 30 s)
 *   tracegen linger0 N          N connections the server closes with SO_LINGER {1, 0}: N
 *                               resets sent (server) and N received (client)
 *   tracegen unaccepted N       (N at most 100) N connections accepted and closed, their sockets freed; then N
 *                               to a second listener (printed as "port P") that the client
 *                               closes while they wait to be accepted: N first FINs from the
 *                               peer on sockets no one has accepted yet (their owner is not
 *                               known, whatever socket had their address before): the count is
 *                               of those in CLOSE_WAIT before the first accept()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"

#define MAX_N	 1000
#define MAX_HELD 4096

static int listener(unsigned port, unsigned *bound)
{
	return loopback_listen(port, 128, true, bound);
}

static int exhaust(unsigned port, int n)
{
	int lfd = listener(port, NULL), nheld = 0, failed = 0;

	while (failed < n && nheld + 2 <= MAX_HELD) {
		int fd = dial(port, 0);
		if (fd >= 0) {
			int afd = accept(lfd, NULL, NULL);
			if (afd < 0)
				die("accept");
			nheld += 2; /* both ends stay open until exit: the port stays taken */
			continue;
		}
		if (errno != EADDRNOTAVAIL)
			die("connect");
		failed++;
	}
	return failed;
}

static int refused(unsigned port, int n)
{
	int got = 0;

	for (int i = 0; i < n; i++) {
		int fd = dial(port, 0);
		if (fd >= 0)
			close(fd);
		else if (errno == ECONNREFUSED)
			got++;
		else
			die("connect");
	}
	return got;
}

static int refused_nb(unsigned port, int n)
{
	int got = 0;

	for (int i = 0; i < n; i++) {
		int fd = dial(port, SOCK_NONBLOCK), err = 0;
		socklen_t len = sizeof(err);
		struct pollfd p;

		if (fd < 0) { /* refused before connect() returned: not what this mode tests */
			if (errno != ECONNREFUSED)
				die("connect");
			continue;
		}
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, 5000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
			die("poll");
		if (err == ECONNREFUSED)
			got++;
		close(fd);
	}
	return got;
}

static int unreach(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	int got = 0;

	a.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno == ENETUNREACH)
			got++;
		close(fd);
	}
	return got;
}

static int timeout(unsigned port, int n)
{
	static struct pollfd p[MAX_N];
	int got = 0, left = n;

	for (int i = 0; i < n; i++) {
		p[i] = (struct pollfd){ .fd = dial(port, SOCK_NONBLOCK), .events = POLLOUT };
		if (p[i].fd < 0)
			die("connect");
	}
	for (int round = 0; left && round < 30; round++) {
		if (poll(p, (nfds_t)n, 1000) < 0)
			die("poll");
		for (int i = 0; i < n; i++) {
			int err = 0;
			socklen_t len = sizeof(err);
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &len))
				die("SO_ERROR");
			got += err == ETIMEDOUT;
			close(p[i].fd);
			p[i].fd = -1;
			left--;
		}
	}
	return got;
}

static int bindbusy(unsigned port, int n)
{
	struct sockaddr_in a = lo(port);
	int got = 0;

	listener(port, NULL);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket");
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) && errno == EADDRINUSE)
			got++;
		close(fd);
	}
	return got;
}

/* Waits until fd (the server's end) has seen the peer's FIN: it reads end of file */
static int wait_fin(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, 5000) == 1 && read(fd, &c, 1) == 0;
}

static int closes(int n, int k)
{
	static int srv[MAX_N];
	unsigned port;
	int lfd = listener(0, &port), got = 0;
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char c;

	for (int i = 0; i < n; i++) {
		int fd = dial(port, 0);
		if (fd < 0 || (srv[i] = accept(lfd, NULL, NULL)) < 0)
			die("connect/accept");
		close(fd); /* the client's FIN first */
		if (wait_fin(srv[i]))
			got++;
		if (i < k)
			close(srv[i]);
	}
	printf("closes %d %d port %u\n", got, (int)getpid(), port);
	fflush(stdout);
	/* hold the CLOSE_WAIT sockets until told (stdin closes) or 60 s */
	if (poll(&p, 1, 60000) == 1)
		while (read(0, &c, 1) > 0)
			;
	return 0;
}

/* The server closes each connection with linger 0 (an RST); the client waits to see it. */
static int linger0(int n)
{
	unsigned port;
	int lfd = listener(0, &port), got = 0;
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	for (int i = 0; i < n; i++) {
		int fd = dial(port, 0), afd;
		struct pollfd p;
		char c;

		if (fd < 0 || (afd = accept(lfd, NULL, NULL)) < 0)
			die("connect/accept");
		if (setsockopt(afd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)))
			die("SO_LINGER");
		close(afd);
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) == 1 && read(fd, &c, 1) < 0 && errno == ECONNRESET)
			got++;
		close(fd);
	}
	close(lfd);
	return got;
}

/* How many sockets on local port `port` are in CLOSE_WAIT (st 08 in /proc/net/tcp) */
static int close_wait_on(unsigned port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[256];
	unsigned lport, st;
	int n = 0;

	if (!f)
		die("/proc/net/tcp");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x", &lport, &st) == 2 && lport == port &&
		    st == 8)
			n++;
	fclose(f);
	return n;
}

/* Phase 1 leaves owner entries at the addresses of freed sockets, phase 2 makes sockets that
 * may take those addresses but that no one accepted when the peer's FIN came */
static int unaccepted(int n)
{
	static int cli[MAX_N];
	unsigned port;
	int lfd = listener(0, &port), got = 0;

	for (int i = 0; i < n; i++) {
		int fd = dial(port, 0), afd = accept(lfd, NULL, NULL);

		if (fd < 0 || afd < 0)
			die("connect/accept");
		close(afd);
		close(fd);
	}
	close(lfd);
	lfd = listener(0, &port);
	for (int i = 0; i < n; i++)
		if ((cli[i] = dial(port, 0)) < 0)
			die("connect");
	for (int i = 0; i < n; i++)
		close(cli[i]); /* the client's FIN, to a socket still in the accept queue */
	/* every FIN taken (the softirq may run late) before accept() gives the sockets an owner */
	for (int t = 0; t < 500 && close_wait_on(port) < n; t++)
		usleep(10000);
	got = close_wait_on(port);
	for (int i = 0; i < n; i++) {
		int afd = accept(lfd, NULL, NULL);

		if (afd < 0)
			die("accept");
		wait_fin(afd);
		close(afd);
	}
	close(lfd);
	printf("unaccepted %d %d port %u\n", got, (int)getpid(), port);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int n = atoi(argv[argc - 1]), port = argc > 3 ? atoi(argv[2]) : 0, got;

	if (!strcmp(mode, "closes") && argc == 4) {
		port = atoi(argv[2]); /* here: N */
		return port >= 1 && port <= MAX_N && n >= 0 && n <= port ? closes(port, n) : 2;
	}
	if (!strcmp(mode, "unaccepted") && argc == 3)
		return n >= 1 && n <= 100 ? unaccepted(n) : 2; /* the accept queue holds 128 */
	if (n < 1 || n > MAX_N || port < 0 || port > 65535) {
		fprintf(stderr,
			"usage: tracegen exhaust|refused|rejected|refused_nb|bindbusy PORT N | "
			"linger0 N | closes N K | unaccepted N "
			"(N 1..%d)\n",
			MAX_N);
		return 2;
	}
	if (!strcmp(mode, "exhaust") && argc == 4)
		got = exhaust((unsigned)port, n);
	else if (!strcmp(mode, "refused") && argc == 4)
		got = refused((unsigned)port, n);
	else if (!strcmp(mode, "rejected") && argc == 4)
		got = (listener((unsigned)port, NULL), refused((unsigned)port, n));
	else if (!strcmp(mode, "refused_nb") && argc == 4)
		got = refused_nb((unsigned)port, n);
	else if (!strcmp(mode, "unreach") && argc == 3)
		got = unreach(n);
	else if (!strcmp(mode, "timeout") && argc == 4)
		got = timeout((unsigned)port, n);
	else if (!strcmp(mode, "bindbusy") && argc == 4)
		got = bindbusy((unsigned)port, n);
	else if (!strcmp(mode, "linger0") && argc == 3)
		got = linger0(n);
	else {
		fprintf(stderr, "tracegen: unknown mode or arguments\n");
		return 2;
	}
	printf("%s %d %d\n", mode, got, (int)getpid());
	return 0;
}
