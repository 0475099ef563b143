// SPDX-License-Identifier: MIT
/*
 * The exporter's connection guard (serve_conn.h). libmicrohttpd alone cannot keep a scraper
 * in: its idle timeout restarts on every byte, so a client sending one byte a second holds a
 * slot for hours, and at its connection limit it closes newcomers without a word. So this loop
 * accepts every connection itself and hands it to libmicrohttpd (MHD_add_connection), keeping
 * the live ones in a list ordered by deadline:
 *  - a request must be complete and answered within the deadline, counted from accept (or from
 *    the end of the previous response on a kept-alive connection); time spent suspended for the
 *    collector does not count. Past it, a connection still reading its request gets a 408 and
 *    is shut down; one still being answered (a client that does not read) is shut down.
 *  - at the limit, a newcomer takes the slot of the oldest connection that has not completed a
 *    request (it gets a 503 saying why): an honest scraper sends its request at once, so it is
 *    never the oldest for long, and idle or slow clients cannot lock it out.
 *  - only when every slot is busy answering is the newcomer refused, with a 503 and a reason.
 * A connection is closed by shutdown(2) on its socket, which libmicrohttpd then sees as closed
 * by the peer and cleans up in this same thread; the socket is never closed under it.
 */
#include "cmd/serve_conn.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"

#define GUARD_NOFD_PAUSE_MS 100 /* out of descriptors and no spare: stop accepting this long */

enum guard_phase { PH_READING, PH_WAITING, PH_ANSWERING, PH_CLOSING };

struct guard_conn {
	struct guard_conn *prev, *next; /* in the deadline list while reading or answering */
	uint64_t deadline_ms, wait_start_ms;
	int fd;
	enum guard_phase phase;
	bool refused;
};

struct serve_guard {
	struct guard_conn *head, *tail; /* by deadline, earliest first */
	unsigned live;			/* connections not being closed (waiting ones too) */
	unsigned closing;		/* shut down, not yet cleaned up by libmicrohttpd */
	unsigned max_conn, deadline_ms;
	bool next_refused; /* for the connection being added */
	atomic_bool stopping;
	int wakefd, spare_fd;
	char timeout_msg[384], evicted_msg[384], nofd_msg[384];
};

static uint64_t now_ms(void)
{
	return util_now_ns() / 1000000u;
}

/* A whole small HTTP answer written straight to a socket that is then shut down. */
static void canned(char *buf, size_t size, const char *status, const char *extra, const char *body)
{
	snprintf(buf, size,
		 "HTTP/1.1 %s\r\nConnection: close\r\n%sContent-Type: text/plain; "
		 "charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s",
		 status, extra, strlen(body), body);
}

struct serve_guard *serve_guard_new(unsigned max_conn, unsigned deadline_ms)
{
	struct serve_guard *g = xcalloc(1, sizeof(*g));
	char body[160];

	g->max_conn = max_conn;
	g->deadline_ms = deadline_ms;
	atomic_init(&g->stopping, false);
	g->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->wakefd < 0) {
		free(g);
		return NULL;
	}
	g->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	snprintf(body, sizeof(body), "The request was not complete within %u s.\n",
		 deadline_ms / 1000);
	canned(g->timeout_msg, sizeof(g->timeout_msg), "408 Request Timeout", "", body);
	snprintf(body, sizeof(body),
		 "All %u connections are taken: the oldest one without a complete request "
		 "is closed.\n",
		 max_conn);
	canned(g->evicted_msg, sizeof(g->evicted_msg), "503 Service Unavailable",
	       "Retry-After: 1\r\n", body);
	canned(g->nofd_msg, sizeof(g->nofd_msg), "503 Service Unavailable", "Retry-After: 1\r\n",
	       "The exporter is out of file descriptors.\n");
	return g;
}

void serve_guard_free(struct serve_guard *g)
{
	if (!g)
		return;
	close(g->wakefd);
	if (g->spare_fd >= 0)
		close(g->spare_fd);
	free(g);
}

void serve_guard_wake(struct serve_guard *g)
{
	uint64_t one = 1;

	if (write(g->wakefd, &one, sizeof(one)) < 0) {
		/* full only after 2^64-2 wakes: it is readable anyway */
	}
}

void serve_guard_stop(struct serve_guard *g)
{
	atomic_store(&g->stopping, true);
	serve_guard_wake(g);
}

static void list_unlink(struct serve_guard *g, struct guard_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (g->head == c)
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else if (g->tail == c)
		g->tail = c->prev;
	c->prev = c->next = NULL;
}

/* Sorted insertion from the tail, where nearly every connection goes. */
static void list_insert(struct serve_guard *g, struct guard_conn *c)
{
	struct guard_conn *after = g->tail;

	while (after && after->deadline_ms > c->deadline_ms)
		after = after->prev;
	c->prev = after;
	c->next = after ? after->next : g->head;
	if (c->next)
		c->next->prev = c;
	else
		g->tail = c;
	if (after)
		after->next = c;
	else
		g->head = c;
}

/* Ends a connection: a last word if it is still reading its request, then shutdown(2);
 * libmicrohttpd closes the socket when it next looks at it. */
static void guard_close(struct serve_guard *g, struct guard_conn *c, const char *msg)
{
	if (msg && c->phase == PH_READING)
		(void)!send(c->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(c->fd, SHUT_RDWR);
	list_unlink(g, c);
	c->phase = PH_CLOSING;
	g->live--;
	g->closing++;
}

static struct guard_conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return i ? i->socket_context : NULL;
}

void serve_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	struct serve_guard *g = cls;
	struct guard_conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *i =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = xcalloc(1, sizeof(*c));
		c->fd = i ? i->connect_fd : -1;
		c->phase = PH_READING;
		c->refused = g->next_refused;
		c->deadline_ms = now_ms() + g->deadline_ms;
		list_insert(g, c);
		g->live++;
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	if (c->phase == PH_CLOSING) {
		g->closing--;
	} else {
		list_unlink(g, c);
		g->live--;
	}
	free(c);
	*socket_context = NULL;
}

void serve_guard_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct serve_guard *g = cls;
	struct guard_conn *c = conn_of(conn);

	(void)req_cls;
	(void)toe;
	if (!c || c->phase == PH_CLOSING)
		return;
	/* the next request on a kept-alive connection starts its own clock */
	if (c->phase != PH_WAITING)
		list_unlink(g, c);
	c->phase = PH_READING;
	c->deadline_ms = now_ms() + g->deadline_ms;
	list_insert(g, c);
}

bool serve_guard_refused(struct MHD_Connection *conn)
{
	const struct guard_conn *c = conn_of(conn);

	return c && c->refused;
}

void serve_guard_answering(struct serve_guard *g, struct MHD_Connection *conn)
{
	struct guard_conn *c = conn_of(conn);

	if (!c || c->phase == PH_CLOSING)
		return;
	if (c->phase == PH_WAITING) {
		c->deadline_ms += now_ms() - c->wait_start_ms;
		list_insert(g, c);
	}
	c->phase = PH_ANSWERING;
}

void serve_guard_waiting(struct serve_guard *g, struct MHD_Connection *conn)
{
	struct guard_conn *c = conn_of(conn);

	if (!c || c->phase == PH_CLOSING)
		return;
	if (c->phase != PH_WAITING)
		list_unlink(g, c);
	c->phase = PH_WAITING;
	c->wait_start_ms = now_ms();
}

/* Closes every connection past its deadline. */
static void guard_sweep(struct serve_guard *g)
{
	uint64_t now = now_ms();

	while (g->head && g->head->deadline_ms <= now)
		guard_close(g, g->head, g->timeout_msg);
}

/* The oldest connection that has not completed a request, NULL if all are being answered. */
static struct guard_conn *guard_victim(struct serve_guard *g)
{
	struct guard_conn *c = g->head;

	while (c && c->phase != PH_READING)
		c = c->next;
	return c;
}

/* The last descriptor is kept spare so that a client is told why rather than left hanging in
 * the listen queue. Returns false if there is no spare either (stop accepting for a while). */
static bool guard_nofd(struct serve_guard *g, int lfd)
{
	if (g->spare_fd < 0)
		return false;
	close(g->spare_fd);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		(void)!send(fd, g->nofd_msg, strlen(g->nofd_msg), MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
	}
	g->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

/* Accepts up to a batch. Returns false when out of descriptors with no spare. */
static bool guard_accept(struct serve_guard *g, struct MHD_Daemon *d, int lfd)
{
	for (int n = 0; n < SERVE_GUARD_BATCH; n++) {
		struct sockaddr_storage ss;

		/* the rest waits in the backlog until closed connections are cleaned up */
		if (g->live + g->closing >= g->max_conn + SERVE_GUARD_BATCH)
			return true;
		socklen_t len = sizeof(ss);

		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				if (!guard_nofd(g, lfd))
					return false;
				continue;
			}
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return true; /* EAGAIN, or an error the next round retries */
		}
		if (g->live >= g->max_conn) {
			struct guard_conn *v = guard_victim(g);
			if (v)
				guard_close(g, v, g->evicted_msg);
		}
		g->next_refused = g->live >= g->max_conn;
		/* on failure libmicrohttpd has closed fd and never notified */
		MHD_add_connection(d, fd, (const struct sockaddr *)&ss, len);
		g->next_refused = false;
	}
	return true;
}

static int epoll_add(int ep, int fd, uint32_t what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = what };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

enum { EV_LISTEN, EV_MHD, EV_WAKE };

static int ms_until(uint64_t when, uint64_t now)
{
	return when <= now ? 0 : when - now > INT32_MAX ? INT32_MAX : (int)(when - now);
}

/* The wait before the next round: the earliest of the next deadline, libmicrohttpd's own
 * timeout and the end of an accept pause; -1 for none. */
static int guard_wait_ms(const struct serve_guard *g, struct MHD_Daemon *d, uint64_t paused_until)
{
	MHD_UNSIGNED_LONG_LONG mt;
	uint64_t now = now_ms();
	int t = g->head ? ms_until(g->head->deadline_ms, now) : -1;

	if (MHD_get_timeout(d, &mt) == MHD_YES && (t < 0 || mt < (MHD_UNSIGNED_LONG_LONG)t))
		t = mt > INT32_MAX ? INT32_MAX : (int)mt;
	if (paused_until) {
		int p = ms_until(paused_until, now);
		if (t < 0 || p < t)
			t = p;
	}
	return t;
}

int serve_guard_run(struct serve_guard *g, struct MHD_Daemon *d, int lfd)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	int ep = epoll_create1(EPOLL_CLOEXEC), r = 0;
	uint64_t paused_until = 0;

	if (ep < 0)
		return -errno;
	if (!di || epoll_add(ep, di->epoll_fd, EV_MHD) || epoll_add(ep, lfd, EV_LISTEN) ||
	    epoll_add(ep, g->wakefd, EV_WAKE)) {
		r = di ? -errno : -EINVAL;
		close(ep);
		return r;
	}
	for (;;) {
		struct epoll_event ev[3];

		guard_sweep(g);
		MHD_run(d);
		int n = epoll_wait(ep, ev, 3, guard_wait_ms(g, d, paused_until));
		if (paused_until && now_ms() >= paused_until) {
			paused_until = 0;
			epoll_add(ep, lfd, EV_LISTEN);
		}
		for (int i = 0; i < n; i++) {
			uint64_t v;
			if (ev[i].data.u32 == EV_WAKE) {
				/* resumed connections: the next MHD_run serves them */
				(void)!read(g->wakefd, &v, sizeof(v));
				if (atomic_load(&g->stopping))
					goto out;
			}
			if (ev[i].data.u32 == EV_LISTEN && !paused_until &&
			    !guard_accept(g, d, lfd)) {
				/* level-triggered: out of the set until descriptors free up */
				epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL);
				paused_until = now_ms() + GUARD_NOFD_PAUSE_MS;
			}
		}
	}
out:
	/* connections the collector just resumed get their handler called once more */
	MHD_run(d);
	close(ep);
	return r;
}
