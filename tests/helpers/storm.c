// SPDX-License-Identifier: MIT
/*
 * storm: short TCP connections for the doctor/check integration tests, bounded in count and
 * time. `storm server ADDR PORT MODE SECONDS` accepts and either waits for the client to close
 * first (MODE client-closes: the TIME_WAIT lands on the client) or closes first (server-closes:
 * the TIME_WAIT lands on the server); it exits after SECONDS. `storm client ADDR PORT COUNT
 * SECONDS MODE` connects up to COUNT times, closing first for client-closes or waiting for the
 * server's close for server-closes, stops at the first EADDRNOTAVAIL, and prints
 * "ok=N eaddrnotavail=0|1 other=N". With a last argument SPORT, connection i is bound to source
 * port SPORT+i first: every connection then has its own 4-tuple, so no SYN can take over the
 * server-side TIME_WAIT an earlier connection left (tcp-facts#time-wait), and the server keeps
 * exactly COUNT of them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(port));
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

static int server(struct sockaddr_in *sa, int client_closes, double secs)
{
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
	double end = now() + secs;
	char buf[64];

	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)sa, sizeof(*sa)) || listen(ls, 4096)) {
		perror("storm server");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (now() < end) {
		struct pollfd p = { ls, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			continue;
		if (client_closes) {
			/* wait (bounded) for the client's FIN, then close: TIME_WAIT is the client's.
			 * 10 s: on a loaded machine a shorter wait let the server close first */
			struct pollfd q = { c, POLLIN, 0 };
			if (poll(&q, 1, 10000) > 0)
				while (read(c, buf, sizeof(buf)) > 0)
					;
		}
		close(c);
	}
	close(ls);
	return 0;
}

static int client(struct sockaddr_in *sa, long count, double secs, int client_closes, long sport)
{
	long ok = 0, other = 0;
	int eaddr = 0;
	double end = now() + secs;
	char buf[64];

	if (sport < 0 || sport + count > 65536) {
		fprintf(stderr, "storm client: SPORT %ld + COUNT %ld runs past port 65535\n", sport,
			count);
		return 2;
	}
	for (long i = 0; i < count && now() < end; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (sport > 0) {
			struct sockaddr_in src = { .sin_family = AF_INET };
			src.sin_port = htons((uint16_t)(sport + i));
			if (bind(s, (struct sockaddr *)&src, sizeof(src))) {
				perror("storm client: bind");
				close(s);
				other++;
				continue;
			}
		}
		if (connect(s, (struct sockaddr *)sa, sizeof(*sa))) {
			int e = errno;
			close(s);
			if (e == EADDRNOTAVAIL) {
				eaddr = 1;
				break;
			}
			other++;
			continue;
		}
		ok++;
		if (!client_closes) {
			struct pollfd q = { s, POLLIN, 0 };
			if (poll(&q, 1, 2000) > 0)
				while (read(s, buf, sizeof(buf)) > 0)
					;
		}
		close(s);
	}
	printf("ok=%ld eaddrnotavail=%d other=%ld\n", ok, eaddr, other);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;

	if (argc >= 6 && !strcmp(argv[1], "server") && !addr(argv[2], argv[3], &sa))
		return server(&sa, !strcmp(argv[4], "client-closes"), atof(argv[5]));
	if (argc >= 7 && !strcmp(argv[1], "client") && !addr(argv[2], argv[3], &sa))
		return client(&sa, atol(argv[4]), atof(argv[5]), !strcmp(argv[6], "client-closes"),
			      argc >= 8 ? atol(argv[7]) : 0);
	fprintf(stderr, "usage: storm server ADDR PORT client-closes|server-closes SECONDS\n"
			"       storm client ADDR PORT COUNT SECONDS client-closes|server-closes "
			"[SPORT]\n");
	return 2;
}
