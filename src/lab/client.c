// SPDX-License-Identifier: MIT
/*
 * The lab's client. One thread, setns() into the client namespace for good (setns only moves
 * the calling thread), then a paced loop: attempt i is due at start + i / rate, so a rate holds
 * whatever the failures do and an exhausted client keeps trying at the same pace, as a real one
 * would. Each short connection is a full exchange (connect, "GET\n", read "OK\n", close in the
 * scenario's way), blocking with 1 s timeouts so nothing can hang longer than that. Keep-alive
 * spreads the same requests over a small pool of long connections.
 */
#include "lab/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define POOL	      4
#define IO_TIMEOUT_MS 1000
#define MAX_SLEEP_NS  50000000ull /* wake at least every 50 ms to notice the stop flag */

enum outcome { OUT_OK = 0, OUT_EADDRNOTAVAIL, OUT_EADDRINUSE, OUT_OTHER };

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000, .tv_usec = 0 };

	/* SO_SNDTIMEO also bounds a blocking connect() */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static enum outcome fail_with(struct lab_client *c, int e, int fd)
{
	if (fd >= 0)
		close(fd);
	if (e == EADDRNOTAVAIL)
		return OUT_EADDRNOTAVAIL;
	int zero = 0;
	atomic_compare_exchange_strong(&c->st.first_errno, &zero, e);
	return OUT_OTHER;
}

/* Opens and connects one socket to server port LAB_PORT_BASE + dport. *fd gets it on OUT_OK. */
static enum outcome open_conn(struct lab_client *c, unsigned dport, int *fd)
{
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(LAB_PORT_BASE + dport) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return fail_with(c, errno, -1);
	set_timeouts(s);
	if (c->sc->bind != LAB_BIND_NONE) {
		struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = 0 };
		int one = 1;
		src.sin_addr.s_addr = htonl(LAB_CLIENT_ADDR);
		if (c->sc->bind == LAB_BIND_NO_PORT &&
		    setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)))
			return fail_with(c, errno, s);
		if (bind(s, (struct sockaddr *)&src, sizeof(src))) {
			if (errno == EADDRINUSE) {
				close(s);
				return OUT_EADDRINUSE;
			}
			return fail_with(c, errno, s);
		}
	}
	dst.sin_addr.s_addr = htonl(LAB_SERVER_ADDR);
	if (connect(s, (struct sockaddr *)&dst, sizeof(dst)))
		return fail_with(c, errno, s);
	*fd = s;
	return OUT_OK;
}

/* One request and its reply on a connected socket. 0 or an errno value. */
static int exchange(int fd)
{
	char buf[16];
	ssize_t n;

	if (send(fd, "GET\n", 4, MSG_NOSIGNAL) != 4)
		return errno ? errno : EIO;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return n == 0 ? ECONNRESET : errno;
	return 0;
}

static enum outcome short_conn(struct lab_client *c, uint64_t i)
{
	int fd = -1, e;
	enum outcome o = open_conn(c, (unsigned)(i % c->sc->dports), &fd);

	if (o != OUT_OK)
		return o;
	e = exchange(fd);
	if (e)
		return fail_with(c, e, fd);
	if (c->sc->close == LAB_CLOSE_SERVER) {
		/* wait for the server's FIN so that the server is the side that closed first */
		char b[16];
		if (recv(fd, b, sizeof(b), 0) != 0)
			return fail_with(c, errno ? errno : EPROTO, fd);
	} else if (c->sc->close == LAB_CLOSE_LINGER0) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(fd);
	return OUT_OK;
}

static enum outcome pooled(struct lab_client *c, int pool[POOL], uint64_t i)
{
	int *fd = &pool[i % POOL], e;

	if (*fd < 0) {
		enum outcome o = open_conn(c, (unsigned)(i % c->sc->dports), fd);
		if (o != OUT_OK)
			return o;
	}
	e = exchange(*fd);
	if (e) {
		enum outcome o = fail_with(c, e, *fd);
		*fd = -1;
		return o;
	}
	return OUT_OK;
}

static void count(struct lab_client *c, enum outcome o)
{
	c->st.attempted++;
	if (o == OUT_OK) {
		c->st.succeeded++;
		return;
	}
	if (o == OUT_EADDRNOTAVAIL)
		c->st.eaddrnotavail++;
	else if (o == OUT_EADDRINUSE)
		c->st.eaddrinuse++;
	else
		c->st.other++;
	uint64_t zero = 0, t = util_now_ns() - c->st.start_ns;
	atomic_compare_exchange_strong(&c->st.first_fail_ns, &zero, t ? t : 1);
}

/* Sleeps until the attempt's due time, in slices short enough to see the stop flag. */
static void pace(const struct lab_client *c, uint64_t due)
{
	for (;;) {
		uint64_t now = util_now_ns();
		if (now >= due || *c->stop)
			return;
		util_sleep_until(due - now > MAX_SLEEP_NS ? now + MAX_SLEEP_NS : due);
	}
}

static void *client_main(void *arg)
{
	struct lab_client *c = arg;
	int pool[POOL] = { -1, -1, -1, -1 };
	uint64_t start, end;

	c->setns_err = lab_env_enter(c->env, LAB_CLIENT);
	if (c->setns_err)
		return NULL;
	start = util_now_ns();
	end = start + c->duration_ns;
	c->st.start_ns = start;
	for (uint64_t i = 0; i < c->max_conns && !*c->stop; i++) {
		if (c->rate > 0)
			pace(c, start + (uint64_t)((double)i * 1e9 / c->rate));
		if (util_now_ns() >= end || *c->stop)
			break;
		if (c->sc->close == LAB_CLOSE_KEEPALIVE)
			count(c, pooled(c, pool, i));
		else
			count(c, short_conn(c, i));
	}
	for (int k = 0; k < POOL; k++)
		if (pool[k] >= 0)
			close(pool[k]);
	return NULL;
}

int lab_client_start(struct lab_client *c, const struct lab_env *env, const struct lab_scenario *sc,
		     const struct lab_config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->env = env;
	c->sc = sc;
	c->rate = cfg->rate;
	c->duration_ns = cfg->duration_ms * 1000000ull;
	c->max_conns = cfg->max_conns;
	c->stop = cfg->stop;
	c->st.start_ns = util_now_ns();
	int r = -pthread_create(&c->thread, NULL, client_main, c);
	c->running = !r;
	return r;
}

int lab_client_join(struct lab_client *c)
{
	if (!c->running)
		return 0;
	pthread_join(c->thread, NULL);
	c->running = false;
	return c->setns_err;
}

uint64_t lab_client_failures(const struct lab_client_stats *st)
{
	return st->eaddrnotavail + st->eaddrinuse + st->other;
}
