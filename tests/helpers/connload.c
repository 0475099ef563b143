// SPDX-License-Identifier: MIT
/*
 * connload: a loopback connection load for the tracing-overhead benchmark (bench/trace). Opens N
 * connections to its own listener on 127.0.0.1, one after another, at most RATE a second
 * (0: as fast as it can): connect, accept, the server closes first, the client reads the end and
 * closes. Run it inside a private namespace. Prints "conns N wall_s W cpu_s C": C is its user +
 * system CPU time, which includes the kernel's loopback work done on its behalf (and any BPF
 * program that runs there).
 *   usage: connload N RATE      (N 1..10000000, RATE 0..1000000)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "connload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long arg(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max) {
		fprintf(stderr, "connload: '%s': expected 0..%ld\n", s, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct rusage ru;
	long n, rate;
	double t0, t1;
	int lfd;

	if (argc != 3) {
		fputs("usage: connload N RATE\n", stderr);
		return 2;
	}
	n = arg(argv[1], 10000000);
	rate = arg(argv[2], 1000000);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 128) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len))
		die("listener");
	t0 = now();
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;
		char b;

		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
			die("connect");
		if ((s = accept(lfd, NULL, NULL)) < 0)
			die("accept");
		close(s);
		if (read(c, &b, 1) < 0)
			die("read");
		close(c);
		if (rate) { /* pace: connection i starts no earlier than i / rate */
			double ahead = t0 + (double)(i + 1) / (double)rate - now();
			if (ahead > 0) {
				struct timespec ts = {
					(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)
				};
				nanosleep(&ts, NULL);
			}
		}
	}
	t1 = now();
	getrusage(RUSAGE_SELF, &ru);
	printf("conns %ld wall_s %.3f cpu_s %.3f\n", n, t1 - t0,
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	return 0;
}
