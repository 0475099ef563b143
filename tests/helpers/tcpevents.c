// SPDX-License-Identifier: MIT
/*
 * Test helper for tests/integration/counters.sh: makes a known number of TCP events on
 * 127.0.0.1 so the test can assert exact counter deltas. Run it inside a private namespace.
 * Every mode is bounded in count (at most 1000) and time (poll timeouts, a --hold limit), and
 * prints one line "MODE N" with how many events it made, so the test compares against what
 * really happened rather than what was asked.
 *
 *   tcpevents refused PORT N    N connect()s to a port nothing listens on (ECONNREFUSED)
 *   tcpevents linger0 N         N connections closed by the client with SO_LINGER {1, 0}
 *   tcpevents unread N          N connections the server closes with unread data
 *   tcpevents timewait N        N orderly closes, client first: N TIME_WAIT on the client
 *   tcpevents overflow N        a listen(fd, 0) listener never accepting, N connects to it:
 *                               the first fills the accept queue, the N-1 SYNs after it are
 *                               dropped (ListenOverflows)
 *   tcpevents closewait N SECS  N connections the client closes and the server keeps open
 *                               (CLOSE_WAIT; orphaned FIN_WAIT2 on the client); prints "ready"
 *                               and holds until stdin closes or SECS pass
 *
 * Every event is complete when the helper exits (or says "ready"): it waits for the kernel to
 * have made the state change it counts (the client's TIME_WAIT, its FIN_WAIT2, the dropped
 * SYNs), bounded by 2 s, instead of leaving a packet in flight for the test to race with.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

#define MAX_N 1000

/* A listener on 127.0.0.1 with an ephemeral port; *port gets it. */
static int listener(int backlog, unsigned *port)
{
	return loopback_listen(0, backlog, false, port);
}

/* A connected pair: *c the client, return value the accepted server side. */
static int pair(int lfd, unsigned port, int *c)
{
	*c = dial(port, 0);
	if (*c < 0)
		die("connect");
	int s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		die("accept");
	return s;
}

static int wait_for(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, 2000) == 1 ? 0 : -1;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits (at most 2 s) until fd's TCP state is want; 0 once it is, -1 if not. */
static int wait_state(int fd, unsigned want)
{
	for (int i = 0; i < 2000; i++) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			die("TCP_INFO");
		if (ti.tcpi_state == want)
			return 0;
		pause_ms(1);
	}
	return -1;
}

/* This namespace's TcpExt ListenOverflows (/proc/net/netstat), or -1. */
static long listen_overflows(void)
{
	FILE *f = fopen("/proc/net/netstat", "r");
	char hdr[8192], val[8192];
	long v = -1;

	if (!f)
		return -1;
	while (v < 0 && fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		if (strncmp(hdr, "TcpExt:", 7))
			continue;
		char *hs, *vs, *h = strtok_r(hdr, " \n", &hs), *x = strtok_r(val, " \n", &vs);
		while (h && x && strcmp(h, "ListenOverflows")) {
			h = strtok_r(NULL, " \n", &hs);
			x = strtok_r(NULL, " \n", &vs);
		}
		if (h && x)
			v = strtol(x, NULL, 10);
	}
	fclose(f);
	return v;
}

static int do_refused(unsigned port, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		int fd = dial(port, 0);
		if (fd >= 0) {
			close(fd);
			fprintf(stderr, "tcpevents: something listens on port %u\n", port);
			return 1;
		}
		k += errno == ECONNREFUSED;
	}
	printf("refused %d\n", k);
	return 0;
}

static int do_linger0(int n)
{
	unsigned port;
	int lfd = listener(16, &port), k = 0;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	for (int i = 0; i < n; i++) {
		int c, s = pair(lfd, port, &c);
		char b;
		if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			die("SO_LINGER");
		close(c);
		/* the server sees the RST: recv fails with ECONNRESET */
		if (!wait_for(s, POLLIN) && recv(s, &b, 1, 0) < 0 && errno == ECONNRESET)
			k++;
		close(s);
	}
	close(lfd);
	printf("linger0 %d\n", k);
	return 0;
}

static int do_unread(int n)
{
	unsigned port;
	int lfd = listener(16, &port), k = 0;

	for (int i = 0; i < n; i++) {
		int c, s = pair(lfd, port, &c);
		char b = 'x';
		if (send(c, &b, 1, 0) != 1)
			die("send");
		/* the byte must sit in the server's receive queue before close() */
		if (wait_for(s, POLLIN))
			die("poll");
		close(s);
		if (!wait_for(c, POLLIN) && recv(c, &b, 1, 0) < 0 && errno == ECONNRESET)
			k++;
		close(c);
	}
	close(lfd);
	printf("unread %d\n", k);
	return 0;
}

static int do_timewait(int n)
{
	unsigned port;
	int lfd = listener(16, &port), k = 0;

	for (int i = 0; i < n; i++) {
		int c, s = pair(lfd, port, &c), ok;
		char b;
		shutdown(c, SHUT_WR);
		/* EOF on the server, then its FIN moves the client to TIME_WAIT: the client reads
		 * EOF only once the kernel has done so (the TIME_WAIT is armed and counted) */
		ok = !wait_for(s, POLLIN) && recv(s, &b, 1, 0) == 0;
		close(s);
		if (ok && !wait_for(c, POLLIN) && recv(c, &b, 1, 0) == 0)
			k++;
		close(c);
	}
	close(lfd);
	printf("timewait %d\n", k);
	return 0;
}

static int do_overflow(int n)
{
	unsigned port;
	int lfd = listener(0, &port), fds[MAX_N], k = 0;

	/* the first connection fills the accept queue (backlog 0 holds one child) */
	fds[0] = dial(port, 0);
	if (fds[0] < 0 || wait_for(lfd, POLLIN))
		die("first connection to the listener");
	long base = listen_overflows();
	for (int i = 1; i < n; i++)
		fds[i] = dial(port, SOCK_NONBLOCK);
	/* each later SYN finds the queue full and is dropped: wait until the kernel counted them
	 * all (bounded), then close before a SYN is resent (1 s) and counted again */
	for (int i = 0; i < 2000 && listen_overflows() - base < n - 1; i++)
		pause_ms(1);
	if (base < 0 || listen_overflows() - base < n - 1)
		fprintf(stderr, "tcpevents: ListenOverflows rose by %ld, not %d\n",
			listen_overflows() - base, n - 1);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0) {
			k++;
			close(fds[i]);
		}
	close(lfd);
	printf("overflow %d\n", k);
	return 0;
}

static int do_closewait(int n, int secs)
{
	unsigned port;
	int lfd = listener(MAX_N, &port), srv[MAX_N], k = 0;
	char b;

	for (int i = 0; i < n; i++) {
		int c;
		srv[i] = pair(lfd, port, &c);
		/* FIN first, close once the server's ACK made it FIN_WAIT2: close() then turns it
		 * into the orphaned FIN_WAIT2 timewait socket at once, nothing left in flight */
		shutdown(c, SHUT_WR);
		if (!wait_for(srv[i], POLLIN) && recv(srv[i], &b, 1, MSG_PEEK) == 0 &&
		    !wait_state(c, TCP_FIN_WAIT2))
			k++;
		close(c);
	}
	printf("closewait %d\nready\n", k);
	fflush(stdout);
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	poll(&p, 1, secs * 1000);
	for (int i = 0; i < n; i++)
		close(srv[i]);
	close(lfd);
	return 0;
}

static int count(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > MAX_N) {
		fprintf(stderr, "tcpevents: count '%s' not in 1..%d\n", s, MAX_N);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(m, "refused") && argc == 4)
		return do_refused((unsigned)count(argv[2]), count(argv[3]));
	if (!strcmp(m, "linger0") && argc == 3)
		return do_linger0(count(argv[2]));
	if (!strcmp(m, "unread") && argc == 3)
		return do_unread(count(argv[2]));
	if (!strcmp(m, "timewait") && argc == 3)
		return do_timewait(count(argv[2]));
	if (!strcmp(m, "overflow") && argc == 3)
		return do_overflow(count(argv[2]));
	if (!strcmp(m, "closewait") && argc == 4)
		return do_closewait(count(argv[2]), count(argv[3]));
	fputs("usage: tcpevents refused PORT N | linger0 N | unread N | timewait N | overflow N |"
	      " closewait N SECS\n",
	      stderr);
	return 2;
}
