/* SPDX-License-Identifier: MIT */
/*
 * What the loopback test helpers (tcpevents, tracegen) share: dying with the errno, the address
 * 127.0.0.1:port, a listener, and a connect() that leaves the failure to the caller. Header-only
 * (static inline), as each helper is built from its one .c file.
 */
#ifndef TD_TESTS_LOOPBACK_H
#define TD_TESTS_LOOPBACK_H

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* "PROGRAM: what: strerror(errno)" and exit 1. */
static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	exit(1);
}

static inline struct sockaddr_in lo(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A listener on 127.0.0.1:port (0: an ephemeral one), SO_REUSEADDR when reuse; *bound (may be
 * NULL) gets its port. Dies on failure. */
static inline int loopback_listen(unsigned port, int backlog, bool reuse, unsigned *bound)
{
	struct sockaddr_in a = lo(port);
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		die("listener");
	if (bound)
		*bound = ntohs(a.sin_port);
	return fd;
}

/* connect() to 127.0.0.1:port (flags: SOCK_NONBLOCK or 0); the socket, or -1 with errno (a
 * non-blocking connect in progress is a socket). Dies when no socket can be made. */
static inline int dial(unsigned port, int flags)
{
	struct sockaddr_in a = lo(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

#endif
