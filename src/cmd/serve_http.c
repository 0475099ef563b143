// SPDX-License-Identifier: MIT
/*
 * The HTTP half of `tcpdoctor serve`: GET (or HEAD) /metrics, a small / page, 404 elsewhere,
 * 405 (Allow: GET, HEAD) for other methods, 413 for any request body. libmicrohttpd parses the
 * requests in one HTTP thread of ours whose loop (serve_conn.c) accepts the connections and
 * bounds their number and each request's time; request memory is bounded by the library. The
 * thread never collects: a /metrics request finding the cached page older than --min-interval
 * suspends its connection, wakes the collector (the main thread) through an eventfd, and is
 * resumed with the new page; requests arriving meanwhile join the same wait, so concurrent
 * scrapes share one collection. The open-file limit is raised to its hard limit at start and
 * sizes the connection limit.
 */
#include "cmd/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cmd/serve_conn.h"
#include "core/util.h"
#include "render/prom.h"

/* Shared by the HTTP thread and the collector; every field under mu. */
struct shared {
	pthread_mutex_t mu;
	struct MHD_Response *page; /* the latest metrics page, NULL before the first */
	uint64_t page_ns;	   /* util_now_ns() when it was made */
	bool pending;		   /* a collection is asked for or running */
	bool stopping;
	struct MHD_Connection **waiting; /* suspended for the next page */
	size_t nwaiting, cap;
	int efd; /* eventfd the HTTP thread writes to wake the collector */
	unsigned min_interval_ms;
	struct serve_guard *guard; /* HTTP thread only */
	struct MHD_Response *index, *not_found, *not_allowed, *no_body, *unavailable, *busy;
};

/* *req_cls of a connection suspended for a page: the resumed call only queues the page. */
static const char resumed_marker;

static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><title>tcpdoctor exporter</title></head><body>\n"
	"<h1>tcpdoctor exporter</h1>\n<p><a href=\"/metrics\">Metrics</a></p>\n</body></html>\n";

/* A request that announces a body: this exporter takes none, and answering before reading it
 * makes libmicrohttpd close the connection instead of draining the body. */
static bool has_body(struct MHD_Connection *conn)
{
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return (cl && strcmp(cl, "0")) ||
	       MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Every response goes through here: the guard then knows the request is complete. */
static enum MHD_Result answer(struct shared *sh, struct MHD_Connection *conn, unsigned status,
			      struct MHD_Response *resp)
{
	serve_guard_answering(sh->guard, conn);
	return MHD_queue_response(conn, status, resp);
}

/* GET /metrics: the cached page if young enough, else wait for the collector. */
static enum MHD_Result serve_metrics(struct shared *sh, struct MHD_Connection *conn, void **req_cls)
{
	enum MHD_Result r = MHD_YES;

	pthread_mutex_lock(&sh->mu);
	if (sh->page && util_now_ns() - sh->page_ns < (uint64_t)sh->min_interval_ms * 1000000u) {
		r = answer(sh, conn, MHD_HTTP_OK, sh->page);
	} else if (sh->stopping || sh->nwaiting == sh->cap) {
		r = answer(sh, conn, MHD_HTTP_SERVICE_UNAVAILABLE, sh->unavailable);
	} else {
		if (!sh->pending) {
			uint64_t one = 1;
			sh->pending = true;
			if (write(sh->efd, &one, sizeof(one)) != sizeof(one))
				abort(); /* an eventfd write fails only past 2^64-2 */
		}
		sh->waiting[sh->nwaiting++] = conn;
		*req_cls = (void *)&resumed_marker;
		serve_guard_waiting(sh->guard, conn);
		/* under mu: the collector cannot resume it before it is suspended */
		MHD_suspend_connection(conn);
	}
	pthread_mutex_unlock(&sh->mu);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **req_cls)
{
	struct shared *sh = cls;
	enum MHD_Result r;

	(void)version;
	(void)upload_data;
	if (*req_cls == &resumed_marker) {
		pthread_mutex_lock(&sh->mu);
		r = answer(sh, conn, sh->page ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			   sh->page ? sh->page : sh->unavailable);
		pthread_mutex_unlock(&sh->mu);
		return r;
	}
	if (serve_guard_refused(conn))
		return answer(sh, conn, MHD_HTTP_SERVICE_UNAVAILABLE, sh->busy);
	/* HEAD: the same status and headers, libmicrohttpd leaves the body out */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return answer(sh, conn, MHD_HTTP_METHOD_NOT_ALLOWED, sh->not_allowed);
	if (*upload_size || has_body(conn))
		return answer(sh, conn, MHD_HTTP_CONTENT_TOO_LARGE, sh->no_body);
	if (!strcmp(url, "/"))
		return answer(sh, conn, MHD_HTTP_OK, sh->index);
	if (strcmp(url, "/metrics"))
		return answer(sh, conn, MHD_HTTP_NOT_FOUND, sh->not_found);
	return serve_metrics(sh, conn, req_cls);
}

static struct MHD_Response *fixed(const char *body, const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);

	if (!r)
		abort();
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return r;
}

/* The 503 for a connection accepted while every slot is busy answering (serve_conn.c). */
static struct MHD_Response *busy_response(unsigned max_conn)
{
	char *body = xasprintf("All %u connections are busy answering; retry in a few seconds.\n",
			       max_conn);
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);

	if (!r)
		abort();
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	return r;
}

static void shared_init(struct shared *sh, const struct serve_opts *o, int efd, unsigned cap)
{
	memset(sh, 0, sizeof(*sh));
	pthread_mutex_init(&sh->mu, NULL);
	sh->efd = efd;
	sh->cap = cap;
	sh->waiting = xcalloc(cap, sizeof(*sh->waiting));
	sh->min_interval_ms = o->min_interval_ms;
	sh->index = fixed(index_html, "text/html; charset=utf-8");
	sh->not_found = fixed("Not found: try /metrics\n", "text/plain; charset=utf-8");
	sh->not_allowed = fixed("Only GET and HEAD are allowed\n", "text/plain; charset=utf-8");
	MHD_add_response_header(sh->not_allowed, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	sh->no_body = fixed("Request bodies are not accepted\n", "text/plain; charset=utf-8");
	sh->unavailable = fixed("No metrics yet, or shutting down\n", "text/plain; charset=utf-8");
	sh->busy = busy_response(o->max_conn);
}

static void shared_destroy(struct shared *sh)
{
	struct MHD_Response *all[] = { sh->page,    sh->index,	     sh->not_found, sh->not_allowed,
				       sh->no_body, sh->unavailable, sh->busy };

	for (size_t i = 0; i < TD_ARRAY_SIZE(all); i++)
		if (all[i])
			MHD_destroy_response(all[i]);
	free(sh->waiting);
	pthread_mutex_destroy(&sh->mu);
}

/* Publishes a new page (or only stops, page NULL) and resumes every waiting connection. */
static void publish(struct shared *sh, char *page, size_t len, bool stopping)
{
	struct MHD_Response *resp = NULL;

	if (page) {
		resp = MHD_create_response_from_buffer(len, page, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			abort();
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					RENDER_PROM_CONTENT_TYPE);
	}
	pthread_mutex_lock(&sh->mu);
	if (resp) {
		/* connections still sending the old page hold their own reference */
		if (sh->page)
			MHD_destroy_response(sh->page);
		sh->page = resp;
		sh->page_ns = util_now_ns();
	}
	sh->pending = false;
	sh->stopping |= stopping;
	for (size_t i = 0; i < sh->nwaiting; i++)
		MHD_resume_connection(sh->waiting[i]);
	if (sh->nwaiting && sh->guard)
		serve_guard_wake(sh->guard); /* the HTTP loop runs the resumed ones */
	sh->nwaiting = 0;
	pthread_mutex_unlock(&sh->mu);
}

/* A listening socket made here rather than by libmicrohttpd, which only says NULL on failure:
 * this way "address in use" reaches the user. Returns the fd or -errno. */
static int listen_socket(const struct serve_opts *o)
{
	int one = 1, fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* the backlog absorbs bursts between two accept rounds (the kernel caps it at somaxconn) */
	if (bind(fd, (const struct sockaddr *)&o->addr, o->addrlen) ||
	    listen(fd, (int)(o->max_conn < 4096 ? 4096 : o->max_conn))) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void print_address(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &l))
		return;
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
		printf("listening on http://[%s]:%u/metrics\n", a, port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
		printf("listening on http://%s:%u/metrics\n", a, port);
	}
	fflush(stdout);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct td_global *g = cls;

	fprintf(stderr, "tcpdoctor: %s: ", g->cmd ? g->cmd : "serve");
	vfprintf(stderr, fmt, ap);
}

/* External epoll mode: the guard's loop drives the daemon and hands it every connection. */
static struct MHD_Daemon *start_daemon(struct serve_collector *c, struct shared *sh)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME;

	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES)
		return NULL;
	if (c->o->verbose)
		flags |= MHD_USE_ERROR_LOG;
	/* its own limit never bites: the guard keeps to max_conn, plus those it is closing */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, sh, MHD_OPTION_EXTERNAL_LOGGER,
				mhd_log, c->g, MHD_OPTION_CONNECTION_LIMIT, (unsigned)sh->cap,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_CONN_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, serve_guard_notify, sh->guard,
				MHD_OPTION_NOTIFY_COMPLETED, serve_guard_completed, sh->guard,
				MHD_OPTION_END);
}

/* Raises the open-file soft limit to the hard one and settles the connection limit within it:
 * every connection is a descriptor, and the collector needs some of its own. Returns 0 or the
 * exit code after saying why. */
static int size_connections(struct serve_collector *c, struct serve_opts *o)
{
	struct rlimit rl;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		rl.rlim_cur = rl.rlim_max = 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	room = rl.rlim_cur > SERVE_FD_RESERVE + SERVE_GUARD_SLACK
		       ? rl.rlim_cur - SERVE_FD_RESERVE - SERVE_GUARD_SLACK
		       : 0;
	if (!o->max_conn) {
		o->max_conn = room < SERVE_CONN_DEFAULT ? (unsigned)room : SERVE_CONN_DEFAULT;
		if (o->max_conn >= 16)
			return 0;
		cmd_err(c->g,
			"the open-file limit (%llu) leaves room for %u connections, fewer "
			"than 16: raise it (ulimit -n)",
			(unsigned long long)rl.rlim_cur, o->max_conn);
		return TD_EXIT_FAIL;
	}
	if (o->max_conn <= room)
		return 0;
	cmd_err(c->g, "--max-connections %u: the open-file limit (%llu) allows at most %llu",
		o->max_conn, (unsigned long long)rl.rlim_cur, (unsigned long long)room);
	return TD_EXIT_FAIL;
}

/* The collector loop: a collection each time the HTTP thread asks, or at SIGHUP, until
 * SIGINT or SIGTERM. */
static void collect_loop(struct serve_collector *c, struct shared *sh, int sfd, int efd)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = efd, .events = POLLIN } };
		struct signalfd_siginfo si;
		uint64_t n;
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents) {
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
				return;
		} else if (!p[1].revents || read(efd, &n, sizeof(n)) != sizeof(n)) {
			continue;
		}
		size_t len;
		char *page = serve_collect_page(c, &len);
		publish(sh, page, len, false);
	}
}

struct http_thread {
	struct serve_guard *guard;
	struct MHD_Daemon *d;
	int lfd, err;
};

static void *http_main(void *arg)
{
	struct http_thread *t = arg;

	t->err = serve_guard_run(t->guard, t->d, t->lfd);
	return NULL;
}

/* Serves from a second thread while this one collects. */
static int serve_with(struct serve_collector *c, struct shared *sh, int sfd, int lfd)
{
	struct http_thread t = { .guard = sh->guard, .lfd = lfd };
	pthread_t th;

	if (!(t.d = start_daemon(c, sh))) {
		cmd_err(c->g, "cannot start the HTTP server (libmicrohttpd, epoll)");
		return TD_EXIT_FAIL;
	}
	if (pthread_create(&th, NULL, http_main, &t)) {
		cmd_err(c->g, "cannot start the HTTP thread");
		MHD_stop_daemon(t.d);
		return TD_EXIT_FAIL;
	}
	print_address(lfd);
	if (c->o->verbose)
		fprintf(stderr, "tcpdoctor: serve: at most %u connections, %d s for each request\n",
			c->o->max_conn, SERVE_DEADLINE_S);
	collect_loop(c, sh, sfd, sh->efd);
	/* waiting connections are resumed before the daemon stops; they get the last page */
	publish(sh, NULL, 0, true);
	serve_guard_stop(sh->guard);
	pthread_join(th, NULL);
	MHD_stop_daemon(t.d);
	if (t.err) {
		cmd_err(c->g, "HTTP loop: %s", strerror(-t.err));
		return TD_EXIT_FAIL;
	}
	return TD_EXIT_OK;
}

int serve_http_run(struct serve_collector *c, struct serve_opts *o, int sfd)
{
	struct shared sh;
	int r, lfd, efd;
	size_t len;
	char *page;

	if ((r = size_connections(c, o)))
		return r;
	if ((lfd = listen_socket(o)) < 0) {
		cmd_err(c->g, "cannot listen on %s: %s",
			o->listen ? o->listen : SERVE_DEFAULT_LISTEN, strerror(-lfd));
		return TD_EXIT_FAIL;
	}
	efd = eventfd(0, EFD_CLOEXEC);
	shared_init(&sh, o, efd, o->max_conn + SERVE_GUARD_SLACK);
	sh.guard = serve_guard_new(o->max_conn, SERVE_DEADLINE_S * 1000u);
	r = TD_EXIT_FAIL;
	if (efd < 0 || !sh.guard) {
		cmd_err(c->g, "eventfd: %s", strerror(errno));
		goto out;
	}
	/* the first collection before serving: a bad -N or missing permission fails the start */
	page = serve_collect_page(c, &len);
	if (c->errors) {
		free(page);
		goto out;
	}
	publish(&sh, page, len, false);
	r = serve_with(c, &sh, sfd, lfd);
out:
	shared_destroy(&sh);
	serve_guard_free(sh.guard);
	close(lfd);
	if (efd >= 0)
		close(efd);
	return r;
}
