// SPDX-License-Identifier: MIT
/*
 * sockfarm: a test and benchmark fixture. Run inside a private network namespace
 * (`ip netns exec NS sockfarm ...`), it builds exact numbers of TCP sockets in known states over
 * loopback only, waits until an inet_diag dump of its ports shows exactly what it built, prints
 * "ready" and then the expected counts as one JSON line on stdout, and holds every socket until
 * SIGTERM/SIGINT/SIGHUP or --hold seconds (default 120, at most 3600). The integration tests
 * compare tcpdoctor and ss against those counts; `make bench` builds its large fixture with it.
 *
 * What each option yields, per family (with --family both, everything is built once per family,
 * on the same port numbers). IPv4 servers listen on 127.0.0.1 and clients bind 127.0.0.2 (more
 * source addresses, 127.0.0.3 ..., only when one is not enough for the count); IPv6 uses ::1.
 *   --listen N     N LISTEN sockets on ports BASE+64 .. BASE+64+N-1.
 *   --estab N      N connected pairs: 2N ESTABLISHED (server port BASE+0; more ports up to
 *                  BASE+15 for large N). The listeners are closed once all are accepted.
 *   --timewait N   N pairs (server port BASE+16..) where the client closes first, the server
 *                  reads EOF and closes: N TIME_WAIT on the client side, which last 60 s.
 *   --closewait N  N pairs (server port BASE+32..) where the client closes and the server never
 *                  does: N CLOSE_WAIT (server) and N FIN_WAIT2 (client). The FIN_WAIT2 ones are
 *                  orphans the kernel keeps as timewait sockets (kernel-facts §1): they vanish
 *                  after net.ipv4.tcp_fin_timeout (60 s) unless the namespace raises it.
 *   --synrecv N    one listener on BASE+48 with backlog N and TCP_DEFER_ACCEPT, then N clients
 *                  that complete the handshake and send nothing: DEFER_ACCEPT drops their bare
 *                  ACKs, so they stay N SYN_RECV request sockets (the clients are ESTABLISHED).
 *                  Then N+1 clients that handshake and send one byte each: N+1 children fill
 *                  the accept queue (backlog N holds N+1) and nobody accepts them. Yields
 *                  1 LISTEN (rqueue N+1, wqueue N), N SYN_RECV and 3N+2 ESTABLISHED. The
 *                  requests live as long as the deferral (an hour), not resending SYN-ACKs.
 *   --synsent N    (needs --synrecv) N clients connect to that full listener: the kernel drops
 *                  their SYNs (ListenOverflows), so they sit in SYN_SENT, retrying for ~127 s.
 * Counts are checked against the kernel, ports BASE .. BASE+64+listen only; run one sockfarm per
 * port base in a namespace. Large counts (bench) raise RLIMIT_NOFILE (or, when the hard limit
 * cannot rise, hold the sockets in worker processes) and, only in a namespace that is not PID 1's
 * and has no interface but lo, widen its own ip_local_port_range to 1024-65535.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROLE_SPAN	16 /* ports reserved per pair role */
#define OFF_ESTAB	0
#define OFF_TIMEWAIT	16
#define OFF_CLOSEWAIT	32
#define OFF_SYNRECV	48
#define OFF_LISTEN	64
#define MAX_COUNT	2000000u
#define MAX_SRC		250u /* 127.0.0.2 .. 127.0.0.251 */
#define BATCH		2048 /* connects in flight; below the per-listener backlog */
#define LISTEN_BACKLOG	4096 /* the namespace's default somaxconn caps it anyway */
#define STEP_TIMEOUT_MS 30000
#define NSTATES		12 /* kernel TCP states 1..11; 0 unused */
#define WIDE_RANGE	"1024 65535"
#define WIDE_ABOVE	5000 /* pairs in one role beyond which the port range is widened */
#define MAX_WORKERS	512  /* child processes holding sockets when fds are scarce */

static const char *const state_names[NSTATES] = {
	"",	     "ESTABLISHED", "SYN_SENT",	  "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE",	    "CLOSE_WAIT", "LAST_ACK", "LISTEN",	   "CLOSING",
};

/* Kernel TCP state numbers (include/net/tcp_states.h); NEW_SYN_RECV (12) counts as SYN_RECV. */
enum {
	ST_ESTABLISHED = 1,
	ST_SYN_SENT = 2,
	ST_SYN_RECV = 3,
	ST_FIN_WAIT2 = 5,
	ST_TIME_WAIT = 6,
	ST_CLOSE_WAIT = 8,
	ST_LISTEN = 10,
};

enum pair_kind { PAIR_ESTAB, PAIR_TIMEWAIT, PAIR_CLOSEWAIT };

struct fdvec {
	int *v;
	size_t n, cap;
};

struct farm {
	uint64_t listen, estab, timewait, closewait, synrecv, synsent;
	unsigned hold_s;
	uint16_t base;
	bool fam[2]; /* [0] IPv4, [1] IPv6 */
	bool verbose;
	unsigned ports_used[2][3]; /* per family and pair role: listener ports used */
	unsigned srcs_used[2][3];
	int lfd[2][3][ROLE_SPAN];
	int synrecv_lfd[2];
	uint64_t expect[2][NSTATES];
	struct fdvec keep; /* every socket held until exit */
	uint64_t fd_limit; /* RLIMIT_NOFILE in force */
	pid_t workers[MAX_WORKERS];
	unsigned nworkers;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sockfarm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void fdvec_push(struct fdvec *fv, int fd)
{
	if (fv->n == fv->cap) {
		fv->cap = fv->cap ? fv->cap * 2 : 1024;
		fv->v = realloc(fv->v, fv->cap * sizeof(*fv->v));
		if (!fv->v)
			fail("out of memory");
	}
	fv->v[fv->n++] = fd;
}

static uint64_t parse_num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || *s < '0' || *s > '9')
		fail("%s '%s': expected a number", opt, s ? s : "");
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		fail("%s '%s': expected a number in %llu..%llu", opt, s, (unsigned long long)min,
		     (unsigned long long)max);
	return v;
}

/* The address of the server (idx 0) or of client source idx (1..) in family f. */
static socklen_t make_addr(int f, unsigned idx, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (f == 0) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(0x7f000001u + idx);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	a->sin6_addr = in6addr_loopback;
	return sizeof(*a);
}

static int family_af(int f)
{
	return f == 0 ? AF_INET : AF_INET6;
}

static int make_listener(int f, uint16_t port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(f, 0, port, &ss);
	int one = 1;
	int fd = socket(family_af(f), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("socket: %s", strerror(errno));
	/* A previous run's sockets on these ports must not make bind() fail. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (f == 1)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len))
		fail("bind port %u (IPv%d): %s", port, f ? 6 : 4, strerror(errno));
	if (listen(fd, backlog))
		fail("listen port %u: %s", port, strerror(errno));
	return fd;
}

/* Starts a non-blocking connect from source src (IPv4 only; bound without taking a port, so the
 * ephemeral port search stays per 4-tuple, kernel-facts §5) to port. */
static int start_connect(int f, unsigned src, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	int fd = socket(family_af(f), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("socket: %s (raise the fd limit?)", strerror(errno));
	if (f == 0) {
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		len = make_addr(f, 1 + src, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len))
			fail("bind source 127.0.0.%u: %s", 2 + src, strerror(errno));
	}
	len = make_addr(f, 0, port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS)
		fail("connect to port %u (IPv%d): %s", port, f ? 6 : 4, strerror(errno));
	return fd;
}

/* Accepts until want sockets came in on the listeners, pushing them to out. Bounded in time. */
static void accept_n(const int *lfd, unsigned nl, size_t want, struct fdvec *out)
{
	struct pollfd pfd[ROLE_SPAN];
	uint64_t deadline = now_ms() + STEP_TIMEOUT_MS;
	size_t got = 0;

	for (unsigned i = 0; i < nl; i++)
		pfd[i] = (struct pollfd){ .fd = lfd[i], .events = POLLIN };
	while (got < want) {
		uint64_t t = now_ms();
		if (t >= deadline)
			fail("only %zu of %zu connections arrived within %d s", got, want,
			     STEP_TIMEOUT_MS / 1000);
		if (poll(pfd, nl, (int)(deadline - t)) < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		for (unsigned i = 0; i < nl && got < want; i++) {
			int c;
			while (got < want && (c = accept4(lfd[i], NULL, NULL,
							  SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				fdvec_push(out, c);
				got++;
			}
			if (got < want && errno != EAGAIN && errno != EINTR)
				fail("accept: %s", strerror(errno));
		}
	}
}

/* Waits until every socket in fds[0..n) has read EOF (the peer's FIN arrived). */
static void wait_eof(const int *fds, size_t n)
{
	struct pollfd *pfd = calloc(n ? n : 1, sizeof(*pfd));
	uint64_t deadline = now_ms() + STEP_TIMEOUT_MS;
	size_t left = n;

	if (!pfd)
		fail("out of memory");
	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN | POLLRDHUP };
	while (left) {
		uint64_t t = now_ms();
		if (t >= deadline)
			fail("%zu peers did not close within %d s", left, STEP_TIMEOUT_MS / 1000);
		if (poll(pfd, n, (int)(deadline - t)) < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		for (size_t i = 0; i < n; i++) {
			char c;
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			ssize_t r = read(pfd[i].fd, &c, 1);
			if (r == 0) {
				pfd[i].fd = -1; /* poll skips negative fds */
				left--;
			} else if (r > 0 || (errno != EAGAIN && errno != EINTR)) {
				fail("unexpected data or error on a server socket: %s",
				     r > 0 ? "data" : strerror(errno));
			}
		}
	}
	free(pfd);
}

static unsigned port_capacity(void)
{
	FILE *fp = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned lo = 32768, hi = 60999;

	if (fp) {
		if (fscanf(fp, "%u %u", &lo, &hi) != 2 || hi < lo)
			lo = 32768, hi = 60999;
		fclose(fp);
	}
	/* Stay within the half of the range connect() prefers (same parity as the low end,
	 * kernel-facts §5), minus a margin: the search stays short and never runs dry. */
	unsigned half = (hi - lo + 1) / 2;
	return half > 2000 ? half - 1000 : half / 2 + 1;
}

/* True unless this is plainly a private test namespace: not PID 1's (when that can be seen;
 * without ptrace access to PID 1 it cannot) and with no interface but lo. */
static bool in_host_netns(void)
{
	struct stat self, init;
	struct if_nameindex *ifs, *i;
	bool only_lo = true;

	if (!stat("/proc/self/ns/net", &self) && !stat("/proc/1/ns/net", &init) &&
	    self.st_dev == init.st_dev && self.st_ino == init.st_ino)
		return true;
	ifs = if_nameindex();
	if (!ifs)
		return true;
	for (i = ifs; i->if_index; i++)
		only_lo &= !strcmp(i->if_name, "lo");
	if_freenameindex(ifs);
	return !only_lo;
}

/* Widens this namespace's ephemeral port range; refuses in PID 1's namespace (the host). */
static void widen_port_range(void)
{
	if (in_host_netns())
		fail("large counts need a wide ip_local_port_range, which sockfarm sets only "
		     "inside "
		     "a private namespace: run it under 'ip netns exec NS'");
	int fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, WIDE_RANGE, strlen(WIDE_RANGE)) < 0)
		fail("setting ip_local_port_range: %s", strerror(errno));
	close(fd);
}

static const char *const pair_names[] = { "estab", "timewait", "closewait" };
static const uint16_t pair_off[] = { OFF_ESTAB, OFF_TIMEWAIT, OFF_CLOSEWAIT };

/* Decides how many listener ports and source addresses n pairs of kind k need in family f,
 * and opens those listeners on port0 ... */
static void plan_pairs(struct farm *fm, int f, enum pair_kind k, uint64_t n, uint16_t port0)
{
	unsigned cap = port_capacity();
	uint64_t combos = (n + cap - 1) / cap;
	unsigned np, ns;

	if (!n)
		return;
	/* IPv4 spreads over source addresses and ports, IPv6 (one loopback address) over ports */
	np = (unsigned)(combos < (f == 0 ? 4 : ROLE_SPAN) ? combos : (f == 0 ? 4 : ROLE_SPAN));
	ns = f == 0 ? (unsigned)((combos + np - 1) / np) : 1;
	if (ns > MAX_SRC || (uint64_t)np * ns * cap < n)
		fail("%s %llu (IPv%d) needs more ports than this namespace has", pair_names[k],
		     (unsigned long long)n, f ? 6 : 4);
	fm->ports_used[f][k] = np;
	fm->srcs_used[f][k] = ns;
	for (unsigned p = 0; p < np; p++)
		fm->lfd[f][k][p] = make_listener(f, (uint16_t)(port0 + p), LISTEN_BACKLOG);
}

/* Builds pairs [first, first + n) of kind k in family f on the listeners plan_pairs opened,
 * keeping in fm->keep the sockets that must stay open. The pair index picks the (source,
 * port) combination, so chunks built by different processes stay spread. */
static void build_pairs(struct farm *fm, int f, enum pair_kind k, uint64_t first, uint64_t n)
{
	unsigned np = fm->ports_used[f][k], ns = fm->srcs_used[f][k];
	uint16_t port0 = (uint16_t)(fm->base + pair_off[k]);
	const int *lfd = fm->lfd[f][k];
	struct fdvec cli = { 0 }, srv = { 0 };

	for (uint64_t done = 0; done < n;) {
		size_t b = n - done < BATCH ? (size_t)(n - done) : BATCH;
		cli.n = srv.n = 0;
		for (size_t i = 0; i < b; i++) {
			uint64_t c = (first + done + i) % ((uint64_t)np * ns);
			fdvec_push(&cli, start_connect(f, (unsigned)(c / np),
						       (uint16_t)(port0 + c % np)));
		}
		accept_n(lfd, np, b, &srv);
		if (k == PAIR_ESTAB) {
			for (size_t i = 0; i < b; i++) {
				fdvec_push(&fm->keep, cli.v[i]);
				fdvec_push(&fm->keep, srv.v[i]);
			}
		} else {
			/* the clients close first; the server sees EOF before anything else */
			for (size_t i = 0; i < b; i++)
				close(cli.v[i]);
			wait_eof(srv.v, srv.n);
			for (size_t i = 0; i < b; i++) {
				if (k == PAIR_TIMEWAIT)
					close(srv.v[i]);
				else
					fdvec_push(&fm->keep, srv.v[i]);
			}
		}
		done += b;
	}
	free(cli.v);
	free(srv.v);
}

static void close_listeners(struct farm *fm)
{
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 3; k++)
			for (unsigned p = 0; p < fm->ports_used[f][k]; p++)
				close(fm->lfd[f][k][p]);
}

/* Builds pairs [first, first + n) in a child process that then holds them until this process
 * exits (PR_SET_PDEATHSIG) or it is killed: the way past an RLIMIT_NOFILE that cannot be raised
 * (no CAP_SYS_RESOURCE). Returns once the child has built them; fails if it could not. */
static void build_pairs_worker(struct farm *fm, int f, enum pair_kind k, uint64_t first, uint64_t n)
{
	pid_t parent = getpid(), pid;
	int p[2];
	char c;

	if (fm->nworkers == MAX_WORKERS)
		fail("more than %d worker processes needed; raise the fd limit", MAX_WORKERS);
	if (pipe2(p, O_CLOEXEC))
		fail("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		sigset_t all;
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		/* the parent's sockets stay the parent's: free the descriptors for ours */
		for (size_t i = 0; i < fm->keep.n; i++)
			close(fm->keep.v[i]);
		fm->keep.n = 0;
		build_pairs(fm, f, k, first, n);
		/* no copy of a listener may outlive the parent's close */
		close_listeners(fm);
		if (write(p[1], "k", 1) != 1)
			_exit(1);
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		for (;;)
			pause();
	}
	close(p[1]);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	close(p[0]);
	fm->workers[fm->nworkers++] = pid;
	if (c != 'k')
		fail("a worker process failed building %s pairs", pair_names[k]);
}

/* Builds the n pairs of role k in family f, in this process when the descriptors allow, else
 * in chunks held by worker processes; then records what they yield. */
static void build_role(struct farm *fm, int f, enum pair_kind k, uint64_t n)
{
	unsigned per_pair = k == PAIR_ESTAB ? 2 : k == PAIR_CLOSEWAIT ? 1 : 0;
	/* a batch in flight holds two descriptors per pair whatever the kind */
	uint64_t room = fm->fd_limit - fm->keep.n - 256 - 2 * BATCH;
	uint64_t chunk = per_pair ? (fm->fd_limit - 256 - 2 * BATCH) / per_pair : n;

	if (!n)
		return;
	if ((uint64_t)per_pair * n <= room) {
		build_pairs(fm, f, k, 0, n);
	} else {
		if (fm->fd_limit < 256 + 4 * BATCH)
			fail("RLIMIT_NOFILE %llu is too low", (unsigned long long)fm->fd_limit);
		for (uint64_t first = 0; first < n; first += chunk) {
			build_pairs_worker(fm, f, k, first, n - first < chunk ? n - first : chunk);
			if (fm->verbose)
				fprintf(stderr, "sockfarm: %s IPv%d %llu/%llu (%u processes)\n",
					pair_names[k], f ? 6 : 4,
					(unsigned long long)(n - first < chunk ? n : first + chunk),
					(unsigned long long)n, fm->nworkers);
		}
	}
	if (k == PAIR_ESTAB) {
		fm->expect[f][ST_ESTABLISHED] += 2 * n;
	} else if (k == PAIR_TIMEWAIT) {
		fm->expect[f][ST_TIME_WAIT] += n;
	} else {
		fm->expect[f][ST_CLOSE_WAIT] += n;
		fm->expect[f][ST_FIN_WAIT2] += n;
	}
}

/* Waits until the listener's accept queue holds want children (TCP_INFO tcpi_unacked is the
 * accept-queue length for a listener). */
static void wait_acceptq(int lfd, unsigned want)
{
	uint64_t deadline = now_ms() + STEP_TIMEOUT_MS;

	for (;;) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			fail("TCP_INFO: %s", strerror(errno));
		if (ti.tcpi_unacked >= want)
			return;
		if (now_ms() >= deadline)
			fail("accept queue holds %u, not %u", ti.tcpi_unacked, want);
		usleep(2000);
	}
}

/* Waits for a non-blocking connect to finish (or fail). */
static void wait_connected(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (poll(&p, 1, STEP_TIMEOUT_MS) != 1)
		fail("connect did not complete");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		fail("connect: %s", strerror(err ? err : errno));
}

/* The SYN_RECV fixture's listener: backlog n, TCP_DEFER_ACCEPT for an hour (the kernel turns
 * the seconds into a number of SYN-ACK timeouts, ~37, and resends nothing before them). */
static void plan_synrecv(struct farm *fm, int f)
{
	int defer = 3600;
	int lfd;

	if (!fm->synrecv)
		return;
	lfd = make_listener(f, (uint16_t)(fm->base + OFF_SYNRECV), (int)fm->synrecv);
	if (setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)))
		fail("TCP_DEFER_ACCEPT: %s", strerror(errno));
	fdvec_push(&fm->keep, lfd);
	fm->synrecv_lfd[f] = lfd;
}

/* The SYN_RECV fixture: see the header comment for what it yields and why. */
static void build_synrecv(struct farm *fm, int f)
{
	uint16_t port = (uint16_t)(fm->base + OFF_SYNRECV);
	unsigned n = (unsigned)fm->synrecv;
	int lfd = fm->synrecv_lfd[f];

	if (!n)
		return;
	/* Parked first, while the accept queue is empty: the backlog (n) also bounds the SYN
	 * queue, and beyond it the kernel would answer with syncookies, not request sockets. */
	for (unsigned i = 0; i < n; i++) {
		int c = start_connect(f, 0, port);
		wait_connected(c);
		fdvec_push(&fm->keep, c);
	}
	/* Then fill the accept queue one child at a time: data turns a deferred request into a
	 * child; the queue is full at backlog + 1. */
	for (unsigned i = 0; i < n + 1; i++) {
		int c = start_connect(f, 0, port);
		wait_connected(c);
		if (send(c, "x", 1, MSG_NOSIGNAL) != 1)
			fail("send: %s", strerror(errno));
		fdvec_push(&fm->keep, c);
		wait_acceptq(lfd, i + 1);
	}
	/* Now SYNs to this listener are dropped: the clients stay in SYN_SENT. */
	for (uint64_t i = 0; i < fm->synsent; i++)
		fdvec_push(&fm->keep, start_connect(f, 0, port));
	fm->expect[f][ST_LISTEN] += 1;
	fm->expect[f][ST_SYN_RECV] += n;
	fm->expect[f][ST_ESTABLISHED] += 3ull * n + 2;
	fm->expect[f][ST_SYN_SENT] += fm->synsent;
}

static void build_listeners(struct farm *fm, int f)
{
	for (uint64_t i = 0; i < fm->listen; i++)
		fdvec_push(&fm->keep,
			   make_listener(f, (uint16_t)(fm->base + OFF_LISTEN + i), LISTEN_BACKLOG));
	fm->expect[f][ST_LISTEN] += fm->listen;
}

/* One inet_diag dump of every TCP state in one family; counts sockets touching our ports. The
 * state mask is 1..12 (NEW_SYN_RECV included), not 13 (TCP_BOUND_INACTIVE, bound and never
 * connected), which no tool here counts either. */
static int diag_count_family(int nl, int af, uint16_t lo, uint16_t hi, uint64_t cnt[NSTATES])
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = (uint32_t)af },
		.r = { .sdiag_family = (uint8_t)af,
		       .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = 0x1ffeu },
	};
	static char buf[1 << 16] __attribute__((aligned(NLMSG_ALIGNTO)));

	if (send(nl, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(nl, buf, sizeof(buf), 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EIO;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				continue;
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			uint16_t sp = ntohs(m->id.idiag_sport), dp = ntohs(m->id.idiag_dport);
			if (!((sp >= lo && sp <= hi) || (dp >= lo && dp <= hi)))
				continue;
			cnt[m->idiag_state < NSTATES ? m->idiag_state : ST_SYN_RECV]++;
		}
	}
}

static bool counts_match(const struct farm *fm, uint64_t got[2][NSTATES])
{
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	uint16_t hi = (uint16_t)(fm->base + OFF_LISTEN + fm->listen);

	if (nl < 0)
		fail("netlink: %s", strerror(errno));
	memset(got, 0, 2 * NSTATES * sizeof(uint64_t));
	for (int f = 0; f < 2; f++) {
		int r = diag_count_family(nl, family_af(f), fm->base, hi, got[f]);
		if (r)
			fail("inet_diag dump: %s", strerror(-r));
	}
	close(nl);
	return !memcmp(got, fm->expect, 2 * NSTATES * sizeof(uint64_t));
}

/* Polls the kernel until it reports exactly the expected counts; bounded in time. */
static void settle(const struct farm *fm, uint64_t total)
{
	uint64_t got[2][NSTATES];
	uint64_t deadline = now_ms() + 10000 + total / 20; /* large fixtures dump slower */

	while (!counts_match(fm, got)) {
		if (now_ms() < deadline) {
			usleep(total > 100000 ? 500000 : 20000);
			continue;
		}
		for (int f = 0; f < 2; f++)
			for (int s = 1; s < NSTATES; s++)
				if (got[f][s] != fm->expect[f][s])
					fprintf(stderr,
						"sockfarm: IPv%d %s: kernel %llu, built %llu\n",
						f ? 6 : 4, state_names[s],
						(unsigned long long)got[f][s],
						(unsigned long long)fm->expect[f][s]);
		fail("the kernel's counts did not settle to what was built");
	}
}

static void print_states(const uint64_t c[NSTATES])
{
	uint64_t t = 0;

	putchar('{');
	for (int s = 1; s < NSTATES; s++) {
		printf("%s\"%s\": %llu", s > 1 ? ", " : "", state_names[s],
		       (unsigned long long)c[s]);
		t += c[s];
	}
	printf("}, \"total\": %llu", (unsigned long long)t);
}

static void print_range(const char *name, bool *first, uint64_t lo, uint64_t n)
{
	if (!n)
		return;
	printf("%s\"%s\": [%llu, %llu]", *first ? "" : ", ", name, (unsigned long long)lo,
	       (unsigned long long)(lo + n - 1));
	*first = false;
}

static void print_ready(const struct farm *fm)
{
	uint64_t sum[NSTATES] = { 0 };
	bool first = true;

	for (int s = 1; s < NSTATES; s++)
		sum[s] = fm->expect[0][s] + fm->expect[1][s];
	printf("ready\n{\"states\": ");
	print_states(sum);
	printf(", \"ipv4\": {\"states\": ");
	print_states(fm->expect[0]);
	printf("}, \"ipv6\": {\"states\": ");
	print_states(fm->expect[1]);
	printf("}, \"ports\": {");
	for (int k = 0; k < 3; k++) {
		unsigned np = fm->ports_used[0][k] > fm->ports_used[1][k] ? fm->ports_used[0][k]
									  : fm->ports_used[1][k];
		print_range(pair_names[k], &first, fm->base + pair_off[k], np);
	}
	print_range("synrecv", &first, fm->base + OFF_SYNRECV, fm->synrecv ? 1 : 0);
	print_range("listen", &first, fm->base + OFF_LISTEN, fm->listen);
	printf("}, \"ipv4_sources\": %u, \"pid\": %d}\n",
	       fm->srcs_used[0][0] > 1 ? fm->srcs_used[0][0] : 1, (int)getpid());
	fflush(stdout);
}

/* Raises RLIMIT_NOFILE towards need (fs.nr_open at most) and returns the limit in force. The
 * hard limit only rises with CAP_SYS_RESOURCE; without it the soft one goes up to the hard one
 * and build_role spreads the sockets over worker processes. */
static uint64_t raise_nofile(uint64_t need)
{
	struct rlimit rl;
	unsigned long nr_open = 1048576;
	FILE *fp = fopen("/proc/sys/fs/nr_open", "r");

	if (fp) {
		if (fscanf(fp, "%lu", &nr_open) != 1)
			nr_open = 1048576;
		fclose(fp);
	}
	if (need > nr_open)
		need = nr_open;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		fail("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return rl.rlim_cur;
	struct rlimit want = { need, rl.rlim_max > need ? rl.rlim_max : need };
	if (!setrlimit(RLIMIT_NOFILE, &want))
		return need;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		fail("raising RLIMIT_NOFILE: %s", strerror(errno));
	return rl.rlim_cur;
}

static void usage(FILE *f)
{
	fputs("Usage: sockfarm [--listen N] [--estab N] [--timewait N] [--closewait N]\n"
	      "                [--synrecv N [--synsent N]] [--family 4|6|both] [--port BASE]\n"
	      "                [--hold SECONDS] [--verbose]\n"
	      "Builds exact TCP socket states over loopback in the current network namespace,\n"
	      "prints 'ready' and the expected counts (JSON), holds until killed or --hold.\n",
	      f);
}

static void parse_args(int argc, char **argv, struct farm *fm)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "estab", required_argument, NULL, 'e' },
		{ "timewait", required_argument, NULL, 't' },
		{ "closewait", required_argument, NULL, 'c' },
		{ "synrecv", required_argument, NULL, 'r' },
		{ "synsent", required_argument, NULL, 's' },
		{ "family", required_argument, NULL, 'f' },
		{ "port", required_argument, NULL, 'p' },
		{ "hold", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	fm->hold_s = 120;
	fm->base = 20000;
	fm->fam[0] = true;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			fm->listen = parse_num("--listen", optarg, 0, 16384);
			break;
		case 'e':
			fm->estab = parse_num("--estab", optarg, 0, MAX_COUNT);
			break;
		case 't':
			fm->timewait = parse_num("--timewait", optarg, 0, MAX_COUNT);
			break;
		case 'c':
			fm->closewait = parse_num("--closewait", optarg, 0, MAX_COUNT);
			break;
		/* the listen backlog is an int and somaxconn (4096 by default) caps it */
		case 'r':
			fm->synrecv = parse_num("--synrecv", optarg, 0, 4000);
			break;
		case 's':
			fm->synsent = parse_num("--synsent", optarg, 0, 10000);
			break;
		case 'p':
			fm->base = (uint16_t)parse_num("--port", optarg, 1024, 40000);
			break;
		case 'H':
			fm->hold_s = (unsigned)parse_num("--hold", optarg, 1, 3600);
			break;
		case 'v':
			fm->verbose = true;
			break;
		case 'f':
			if (!strcmp(optarg, "4") || !strcmp(optarg, "both"))
				fm->fam[0] = true;
			else if (!strcmp(optarg, "6"))
				fm->fam[0] = false;
			else
				fail("--family '%s': expected 4, 6 or both", optarg);
			fm->fam[1] = strcmp(optarg, "4") != 0;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		fail("unexpected argument '%s'", argv[optind]);
	if (fm->synsent && !fm->synrecv)
		fail("--synsent needs --synrecv: it connects to that full listener");
	if ((uint64_t)fm->base + OFF_LISTEN + fm->listen > 65535)
		fail("--port %u leaves no room for %llu listeners", fm->base,
		     (unsigned long long)fm->listen);
}

int main(int argc, char **argv)
{
	struct farm fm = { 0 };
	sigset_t sigs;
	struct timespec hold;
	int nfam;

	parse_args(argc, argv, &fm);
	/* Blocked from the start: a SIGTERM while building is handled after "ready", and the
	 * hold below waits for these signals synchronously. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	nfam = fm.fam[0] + fm.fam[1];
	uint64_t per_fam =
		fm.listen + 2 * fm.estab + fm.closewait + 3 * fm.synrecv + 1 + fm.synsent;
	fm.fd_limit = raise_nofile(nfam * per_fam + 2 * BATCH + 256);
	uint64_t biggest = fm.estab > fm.timewait ? fm.estab : fm.timewait;
	if (fm.closewait > biggest)
		biggest = fm.closewait;
	if (biggest > WIDE_ABOVE)
		widen_port_range();
	fm.verbose |= biggest > 20000;

	/* Every listener before any connect: an ephemeral port must not take a port that a
	 * listener needs later (the range covers BASE once widened). */
	for (int f = 0; f < 2; f++) {
		if (!fm.fam[f])
			continue;
		build_listeners(&fm, f);
		plan_synrecv(&fm, f);
		plan_pairs(&fm, f, PAIR_ESTAB, fm.estab, (uint16_t)(fm.base + OFF_ESTAB));
		plan_pairs(&fm, f, PAIR_TIMEWAIT, fm.timewait, (uint16_t)(fm.base + OFF_TIMEWAIT));
		plan_pairs(&fm, f, PAIR_CLOSEWAIT, fm.closewait,
			   (uint16_t)(fm.base + OFF_CLOSEWAIT));
	}
	for (int f = 0; f < 2; f++) {
		if (!fm.fam[f])
			continue;
		build_synrecv(&fm, f);
		build_role(&fm, f, PAIR_ESTAB, fm.estab);
		build_role(&fm, f, PAIR_TIMEWAIT, fm.timewait);
		build_role(&fm, f, PAIR_CLOSEWAIT, fm.closewait);
	}
	close_listeners(&fm);
	uint64_t total = 0;
	for (int f = 0; f < 2; f++)
		for (int s = 1; s < NSTATES; s++)
			total += fm.expect[f][s];
	settle(&fm, total);
	print_ready(&fm);
	if (fm.verbose)
		fprintf(stderr, "sockfarm: ready, %llu sockets, holding %u s\n",
			(unsigned long long)total, fm.hold_s);

	hold = (struct timespec){ .tv_sec = fm.hold_s };
	while (sigtimedwait(&sigs, NULL, &hold) < 0 && errno == EINTR)
		;
	for (unsigned i = 0; i < fm.nworkers; i++)
		kill(fm.workers[i], SIGKILL);
	for (unsigned i = 0; i < fm.nworkers; i++)
		waitpid(fm.workers[i], NULL, 0);
	return 0;
}
