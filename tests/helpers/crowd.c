// SPDX-License-Identifier: MIT
/*
 * crowd: hostile HTTP clients for the exporter's tests, bounded in count (20000) and time
 * (600 s). `crowd ADDR:PORT SECONDS [--reconnect] GROUP...` opens every group's connections
 * to the IPv4 ADDR:PORT, prints "ready opened=N failed=N" once they are all connected, and
 * holds them for SECONDS (or until SIGTERM/SIGINT; without --reconnect, also until the server
 * has closed every idle and slow one). GROUP is KIND:COUNT@SRC, from the source address SRC,
 * or KIND:COUNT@SRC+ from COUNT consecutive addresses starting at SRC (skipping .0 and .255).
 *   idle    connects and sends nothing
 *   slow    sends a request line and a header name, then one byte a second, never finishing
 *   noread  sends a whole GET /metrics with a tiny receive buffer and never reads the answer
 * With --reconnect a connection the server closes is replaced at once (the same source), so
 * the crowd stays as large for the whole run. At the end, one line per kind:
 *   KIND opened=N failed=N closed=N open=N min=S max=S status=CODE:N,...
 * (closed: by the server; min/max: seconds from the connect call to that close; status: the answers
 * read before it, 0 for none), then "reason KIND CODE: first line of the body" once per code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 20000
#define MAX_SECS  600
#define MAX_CODES 8

enum kind { IDLE, SLOW, NOREAD, NKINDS };
static const char *const kind_names[NKINDS] = { "idle", "slow", "noread" };
static const char slow_head[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
static const char full_req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

struct conn {
	int fd;
	enum kind kind;
	bool connecting;
	struct in_addr src;
	double since;	/* connect called: the server's clock starts later */
	char head[512]; /* the first bytes of an answer */
	size_t headlen;
};

struct stats {
	unsigned opened, failed, closed;
	double min, max;
	unsigned codes[MAX_CODES], counts[MAX_CODES], ncodes;
	char reasons[MAX_CODES][100];
};

static struct conn conns[MAX_CONNS];
static size_t nconns;
static struct stats st[NKINDS];
static struct sockaddr_in dst;
static volatile sig_atomic_t stop;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

/* A non-blocking connect from c->src; c->fd -1 and failed counted if it cannot start. */
static void start(struct conn *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = c->src };
	int one = 1, small = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c->connecting = true;
	c->since = now();
	c->headlen = 0;
	if (c->fd < 0)
		goto fail;
	setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (c->kind == NOREAD)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) && errno != EINPROGRESS))
		goto fail;
	return;
fail:
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	st[c->kind].failed++;
}

static void connected(struct conn *c)
{
	int err = 0;
	socklen_t l = sizeof(err);

	c->connecting = false;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) || err) {
		close(c->fd);
		c->fd = -1;
		st[c->kind].failed++;
		return;
	}
	st[c->kind].opened++;
	if (c->kind == SLOW)
		(void)!send(c->fd, slow_head, strlen(slow_head), MSG_NOSIGNAL);
	else if (c->kind == NOREAD)
		(void)!send(c->fd, full_req, strlen(full_req), MSG_NOSIGNAL);
}

/* The server closed c: what it answered, and when. */
static void closed(struct conn *c, bool reconnect)
{
	struct stats *s = &st[c->kind];
	double life = now() - c->since;
	unsigned code = 0;
	size_t i;

	c->head[c->headlen] = '\0';
	if (sscanf(c->head, "HTTP/1.%*d %u", &code) != 1)
		code = 0;
	for (i = 0; i < s->ncodes && s->codes[i] != code; i++)
		;
	if (i == s->ncodes && i < MAX_CODES) {
		const char *body = strstr(c->head, "\r\n\r\n");
		s->codes[s->ncodes++] = code;
		snprintf(s->reasons[i], sizeof(s->reasons[i]), "%.*s",
			 body ? (int)strcspn(body + 4, "\n") : 0, body ? body + 4 : "");
	}
	if (i < MAX_CODES)
		s->counts[i]++;
	if (!s->closed || life < s->min)
		s->min = life;
	if (!s->closed || life > s->max)
		s->max = life;
	s->closed++;
	close(c->fd);
	c->fd = -1;
	if (reconnect)
		start(c);
}

static void readable(struct conn *c, bool reconnect)
{
	char buf[512];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	if (n > 0) {
		size_t room = sizeof(c->head) - 1 - c->headlen;
		size_t k = (size_t)n < room ? (size_t)n : room;
		memcpy(c->head + c->headlen, buf, k);
		c->headlen += k;
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	closed(c, reconnect);
}

/* KIND:COUNT@SRC[+] */
static int add_group(const char *spec)
{
	char kind[16], src[32];
	unsigned count, k;
	struct in_addr a;

	if (sscanf(spec, "%15[a-z]:%u@%31s", kind, &count, src) != 3)
		return -1;
	for (k = 0; k < NKINDS && strcmp(kind, kind_names[k]); k++)
		;
	bool seq = src[strlen(src) - 1] == '+';
	if (seq)
		src[strlen(src) - 1] = '\0';
	if (k == NKINDS || count > MAX_CONNS - nconns || inet_pton(AF_INET, src, &a) != 1)
		return -1;
	uint32_t h = ntohl(a.s_addr);
	for (unsigned i = 0; i < count; i++) {
		struct conn *c = &conns[nconns++];
		while (seq && ((h & 0xff) == 0 || (h & 0xff) == 255))
			h++;
		c->kind = (enum kind)k;
		c->src.s_addr = htonl(h);
		c->fd = -1;
		if (seq)
			h++;
	}
	return 0;
}

/* One round: poll everything for up to ms; returns how many idle/slow connections are open. */
static size_t round_once(int ms, bool reconnect, struct pollfd *p)
{
	size_t live = 0;

	for (size_t i = 0; i < nconns; i++) {
		const struct conn *c = &conns[i];
		p[i].fd = c->fd;
		p[i].events = c->connecting ? POLLOUT : c->kind == NOREAD ? 0 : POLLIN;
		p[i].revents = 0;
	}
	if (poll(p, nconns, ms) <= 0)
		goto count;
	for (size_t i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		if (c->fd < 0 || !p[i].revents)
			continue;
		if (c->connecting)
			connected(c);
		else if (c->kind != NOREAD)
			readable(c, reconnect);
	}
count:
	for (size_t i = 0; i < nconns; i++)
		live += conns[i].fd >= 0 && (conns[i].kind != NOREAD);
	return live;
}

static bool any_connecting(void)
{
	for (size_t i = 0; i < nconns; i++)
		if (conns[i].fd >= 0 && conns[i].connecting)
			return true;
	return false;
}

static void report(void)
{
	for (int k = 0; k < NKINDS; k++) {
		const struct stats *s = &st[k];
		unsigned open = 0, any = 0;
		for (size_t i = 0; i < nconns; i++) {
			any += conns[i].kind == (enum kind)k;
			open += conns[i].kind == (enum kind)k && conns[i].fd >= 0;
		}
		if (!any)
			continue;
		printf("%s opened=%u failed=%u closed=%u open=%u min=%.2f max=%.2f status=",
		       kind_names[k], s->opened, s->failed, s->closed, open, s->min, s->max);
		for (unsigned i = 0; i < s->ncodes; i++)
			printf("%s%u:%u", i ? "," : "", s->codes[i], s->counts[i]);
		printf("\n");
		for (unsigned i = 0; i < s->ncodes; i++)
			printf("reason %s %u: %s\n", kind_names[k], s->codes[i], s->reasons[i]);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	char host[32];
	unsigned port, secs;
	bool reconnect = false;
	int i = 3;

	if (argc < 4 || sscanf(argv[1], "%31[0-9.]:%u", host, &port) != 2 ||
	    sscanf(argv[2], "%u", &secs) != 1 || secs > MAX_SECS || port > 65535) {
		fprintf(stderr, "usage: crowd ADDR:PORT SECONDS [--reconnect] KIND:N@SRC[+]...\n");
		return 2;
	}
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1)
		return 2;
	if (!strcmp(argv[i], "--reconnect")) {
		reconnect = true;
		i++;
	}
	for (; i < argc; i++)
		if (add_group(argv[i])) {
			fprintf(stderr, "crowd: bad group '%s'\n", argv[i]);
			return 2;
		}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct pollfd *p = calloc(nconns ? nconns : 1, sizeof(*p));
	double t0 = now(), end = t0 + secs, tick = t0 + 1;
	/* in batches, so that the listen backlog takes them */
	for (size_t b = 0; b < nconns && !stop && now() < end; b += 100) {
		for (size_t j = b; j < nconns && j < b + 100; j++)
			start(&conns[j]);
		for (int w = 0; w < 50 && any_connecting() && !stop; w++)
			round_once(100, false, p);
	}
	unsigned opened = 0, failed = 0;
	for (int k = 0; k < NKINDS; k++) {
		opened += st[k].opened;
		failed += st[k].failed;
	}
	printf("ready opened=%u failed=%u\n", opened, failed);
	fflush(stdout);
	while (!stop && now() < end) {
		size_t live = round_once((int)((tick - now()) * 1000) + 1, reconnect, p);
		if (!reconnect && !live && !st[NOREAD].opened)
			break;
		if (now() >= tick) {
			tick += 1;
			for (size_t j = 0; j < nconns; j++)
				if (conns[j].kind == SLOW && conns[j].fd >= 0 &&
				    !conns[j].connecting)
					(void)!send(conns[j].fd, "a", 1, MSG_NOSIGNAL);
		}
	}
	report();
	free(p);
	return 0;
}
