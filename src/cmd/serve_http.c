// SPDX-License-Identifier: MIT
/*
 * The HTTP half of `tcpdoctor serve`, on libmicrohttpd's internal epoll thread: GET /metrics,
 * a small / page, 404 elsewhere, 405 (Allow: GET) for other methods, 413 for any request body.
 * Connections, connections per address, idle time and request memory are bounded by the
 * library's options. The thread never collects: a /metrics request finding the cached page
 * older than --min-interval suspends its connection, wakes the collector (the main thread)
 * through an eventfd, and is resumed with the new page; requests arriving meanwhile join the
 * same wait, so concurrent scrapes share one collection.
 */
#include "cmd/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/util.h"
#include "render/prom.h"

/* Shared by the HTTP thread and the collector; every field under mu. */
struct shared {
	pthread_mutex_t mu;
	struct MHD_Response *page; /* the latest metrics page, NULL before the first */
	uint64_t page_ns;	   /* util_now_ns() when it was made */
	bool pending;		   /* a collection is asked for or running */
	bool stopping;
	struct MHD_Connection *waiting[SERVE_CONN_LIMIT]; /* suspended for the next page */
	size_t nwaiting;
	int efd; /* eventfd the HTTP thread writes to wake the collector */
	unsigned min_interval_ms;
	struct MHD_Response *index, *not_found, *not_allowed, *no_body, *unavailable;
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

/* GET /metrics: the cached page if young enough, else wait for the collector. */
static enum MHD_Result serve_metrics(struct shared *sh, struct MHD_Connection *conn, void **req_cls)
{
	enum MHD_Result r = MHD_YES;

	pthread_mutex_lock(&sh->mu);
	if (sh->page && util_now_ns() - sh->page_ns < (uint64_t)sh->min_interval_ms * 1000000u) {
		r = MHD_queue_response(conn, MHD_HTTP_OK, sh->page);
	} else if (sh->stopping || sh->nwaiting == SERVE_CONN_LIMIT) {
		r = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, sh->unavailable);
	} else {
		if (!sh->pending) {
			uint64_t one = 1;
			sh->pending = true;
			if (write(sh->efd, &one, sizeof(one)) != sizeof(one))
				abort(); /* an eventfd write fails only past 2^64-2 */
		}
		sh->waiting[sh->nwaiting++] = conn;
		*req_cls = (void *)&resumed_marker;
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
		r = MHD_queue_response(conn, sh->page ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
				       sh->page ? sh->page : sh->unavailable);
		pthread_mutex_unlock(&sh->mu);
		return r;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET))
		return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, sh->not_allowed);
	if (*upload_size || has_body(conn))
		return MHD_queue_response(conn, MHD_HTTP_CONTENT_TOO_LARGE, sh->no_body);
	if (!strcmp(url, "/"))
		return MHD_queue_response(conn, MHD_HTTP_OK, sh->index);
	if (strcmp(url, "/metrics"))
		return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, sh->not_found);
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

static void shared_init(struct shared *sh, const struct serve_opts *o, int efd)
{
	memset(sh, 0, sizeof(*sh));
	pthread_mutex_init(&sh->mu, NULL);
	sh->efd = efd;
	sh->min_interval_ms = o->min_interval_ms;
	sh->index = fixed(index_html, "text/html; charset=utf-8");
	sh->not_found = fixed("Not found: try /metrics\n", "text/plain; charset=utf-8");
	sh->not_allowed = fixed("Only GET is allowed\n", "text/plain; charset=utf-8");
	MHD_add_response_header(sh->not_allowed, MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_GET);
	sh->no_body = fixed("Request bodies are not accepted\n", "text/plain; charset=utf-8");
	sh->unavailable = fixed("No metrics yet, or shutting down\n", "text/plain; charset=utf-8");
}

static void shared_destroy(struct shared *sh)
{
	struct MHD_Response *all[] = { sh->page,	sh->index,   sh->not_found,
				       sh->not_allowed, sh->no_body, sh->unavailable };

	for (size_t i = 0; i < TD_ARRAY_SIZE(all); i++)
		if (all[i])
			MHD_destroy_response(all[i]);
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
	if (bind(fd, (const struct sockaddr *)&o->addr, o->addrlen) ||
	    listen(fd, SERVE_CONN_LIMIT)) {
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

static struct MHD_Daemon *start_daemon(struct serve_collector *c, struct shared *sh, int lfd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME;

	/* epoll: no FD_SETSIZE ceiling however many clients knock */
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL
									: MHD_USE_POLL;
	if (c->o->verbose)
		flags |= MHD_USE_ERROR_LOG;
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, sh, MHD_OPTION_LISTEN_SOCKET, lfd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_CONN_LIMIT,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)SERVE_PER_IP_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_CONN_MEMORY,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, c->g, MHD_OPTION_END);
}

/* The collector loop: a collection each time the HTTP thread asks, until a signal. */
static void collect_loop(struct serve_collector *c, struct shared *sh, int sfd, int efd)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = efd, .events = POLLIN } };
		uint64_t n;
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents)
			return;
		if (!p[1].revents || read(efd, &n, sizeof(n)) != sizeof(n))
			continue;
		size_t len;
		char *page = serve_collect_page(c, &len);
		publish(sh, page, len, false);
	}
}

int serve_http_run(struct serve_collector *c, int sfd)
{
	struct shared sh;
	struct MHD_Daemon *d = NULL;
	int r = TD_EXIT_FAIL, lfd = listen_socket(c->o);
	int efd = eventfd(0, EFD_CLOEXEC);
	size_t len;
	char *page;

	if (lfd < 0) {
		cmd_err(c->g, "cannot listen on %s: %s",
			c->o->listen ? c->o->listen : SERVE_DEFAULT_LISTEN, strerror(-lfd));
		if (efd >= 0)
			close(efd);
		return TD_EXIT_FAIL;
	}
	shared_init(&sh, c->o, efd);
	/* the first collection before serving: a bad -N or missing permission fails the start */
	page = serve_collect_page(c, &len);
	if (c->errors) {
		free(page);
		goto out;
	}
	publish(&sh, page, len, false);
	if (!(d = start_daemon(c, &sh, lfd))) {
		cmd_err(c->g, "cannot start the HTTP server (libmicrohttpd)");
		goto out;
	}
	print_address(lfd);
	collect_loop(c, &sh, sfd, efd);
	/* waiting connections must be resumed before the daemon stops; they get the last page */
	publish(&sh, NULL, 0, true);
	MHD_stop_daemon(d);
	r = TD_EXIT_OK;
out:
	shared_destroy(&sh);
	close(lfd);
	close(efd);
	return r;
}
