// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor serve`: the Prometheus exporter. Serves GET /metrics (and a small / page) over
 * libmicrohttpd, or with --textfile writes the same page atomically for node_exporter's
 * textfile collector. A page is the doctor's model (census, port destinations, counters) and
 * findings rendered by render/prom.c; it is cached for --min-interval so that many scrapes
 * cannot load the host, and scrapes arriving together share one collection.
 *
 * Threads. libmicrohttpd runs one internal epoll thread that parses requests and never
 * collects. Collection runs only in the main thread, because with -N it enters other network
 * namespaces, which changes the calling thread's namespace (netns.h): one collector means
 * collections never overlap and the HTTP thread and its listening socket stay in the original
 * namespace. The HTTP side is serve_http.c, its connection handling serve_conn.c. SIGINT,
 * SIGTERM and SIGHUP are blocked in every thread and read through a signalfd in the main
 * thread, so there is no signal flag at all. SIGHUP never stops the exporter: it collects at
 * once (the server's cached page, or the textfile, is replaced); nothing else is re-read.
 */
#include "cmd/serve.h"
#include "cmd/trace_use.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/rules/rules.h"
#include "core/util.h"
#include "render/prom.h"

#ifndef TD_VERSION
#define TD_VERSION "0.1.0"
#endif

enum {
	OPT_LISTEN = TD_OPT_CMD_BASE,
	OPT_TEXTFILE,
	OPT_INTERVAL,
	OPT_MIN_INTERVAL,
	OPT_TOP,
	OPT_NO_OWNERS,
	OPT_MAX_CONN,
	OPT_TRACE,
};

/* "A.B.C.D:PORT" or "[V6]:PORT", numeric only, port 0..65535. Returns 0 or -EINVAL. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = s;
	size_t hl;
	uint64_t port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':')) /* an IPv6 address needs brackets */
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host) || util_parse_u64(colon + 1, 0, 65535, &port))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (*s == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	}
	return 0;
}

/* Seconds with "0" allowed, up to max. Returns 0 or the usage error's exit code. */
static int parse_seconds0(struct td_global *g, const char *opt, const char *arg, unsigned max,
			  unsigned *ms)
{
	uint64_t v;

	if (!strcmp(arg, "0")) {
		*ms = 0;
		return 0;
	}
	if (util_parse_seconds(arg, max, &v))
		return cmd_usage_err(g, "%s '%s': expected seconds, 0 to %u (e.g. 5 or 0.5)", opt,
				     arg, max);
	*ms = (unsigned)v;
	return 0;
}

static int parse_opt(struct td_global *g, struct serve_opts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case OPT_LISTEN:
		o->listen = arg;
		if (parse_listen(arg, &o->addr, &o->addrlen))
			return cmd_usage_err(g,
					     "--listen '%s': expected ADDR:PORT with a numeric "
					     "address, [ADDR]:PORT for IPv6, port 0 to 65535",
					     arg);
		return 0;
	case OPT_TEXTFILE:
		if (!*arg)
			return cmd_usage_err(g, "--textfile needs a file name");
		o->textfile = arg;
		return 0;
	case OPT_INTERVAL:
		return parse_seconds0(g, "--interval", arg, 86400, &o->interval_ms);
	case OPT_MIN_INTERVAL:
		return parse_seconds0(g, "--min-interval", arg, 3600, &o->min_interval_ms);
	case OPT_TOP:
		if (util_parse_u64(arg, 0, SERVE_TOP_MAX, &v))
			return cmd_usage_err(g, "--top '%s': expected 0 to %d", arg, SERVE_TOP_MAX);
		o->top = (size_t)v;
		return 0;
	case OPT_NO_OWNERS:
		o->mo.no_owners = true;
		return 0;
	case OPT_MAX_CONN:
		if (util_parse_u64(arg, 1, SERVE_CONN_MAX, &v))
			return cmd_usage_err(g, "--max-connections '%s': expected 1 to %d", arg,
					     SERVE_CONN_MAX);
		o->max_conn = (unsigned)v;
		return 0;
	case 'v':
		o->verbose = true;
		return 0;
	case OPT_TRACE:
		o->trace = true;
		return 0;
	}
	return cmd_getopt_err(g);
}

struct serve_args {
	struct serve_opts *o;
	bool interval_set;
};

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct serve_args *a = ctx;

	a->interval_set |= c == OPT_INTERVAL;
	return parse_opt(g, a->o, c, arg);
}

static int parse_args(int argc, char **argv, struct td_global *g, struct serve_opts *o)
{
	struct serve_args a = { o, false };
	int r = cmd_parse(&cmd_serve, argc, argv, g, &a);
	bool interval_set = a.interval_set;

	if (r)
		return r;
	if (interval_set && !o->textfile)
		return cmd_usage_err(g, "--interval goes with --textfile (the server collects "
					"when scraped)");
	if (o->textfile && o->listen)
		return cmd_usage_err(g, "--textfile and --listen exclude each other");
	if (o->textfile && o->max_conn)
		return cmd_usage_err(g, "--textfile and --max-connections exclude each other");
	if (!o->listen)
		parse_listen(SERVE_DEFAULT_LISTEN, &o->addr, &o->addrlen);
	return 0;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* serve --trace: what the trace counted since the start, as tcpdoctor_trace_* counters; the
 * rows the rules saw when the collection worked (one snapshot of the trace for the findings and
 * the counters), else the trace's own. */
static void add_trace(struct serve_collector *c, const struct td_model *m, struct td_metrics *mx)
{
	struct td_exporter_trace_input ti = { 0 };
	struct td_trace_row *fail = NULL, *rst = NULL;

	c->tst.top = c->o->top < EXPORTER_TRACE_TOP_MAX ? c->o->top : EXPORTER_TRACE_TOP_MAX;
	if (m && m->trace) {
		ti.fail = m->trace->fail;
		ti.nfail = m->trace->nfail;
		ti.rst = m->trace->rst;
		ti.nrst = m->trace->nrst;
		ti.events = m->trace->events;
		ti.lost = m->trace->lost;
	} else {
		fail = trace_bg_rows(c->trace, TD_TRACE_FAILURES, &ti.nfail, NULL, NULL);
		rst = trace_bg_rows(c->trace, TD_TRACE_RESETS, &ti.nrst, &ti.events, &ti.lost);
		ti.fail = fail;
		ti.rst = rst;
	}
	exporter_trace_build(&c->tst, &ti, mx);
	free(fail);
	free(rst);
}

/* The model with a single counter snapshot per namespace (the previous collection's snapshot
 * is the other end of the counters' interval), the rules, the metrics. A failed collection
 * still gives a page, as Prometheus exporters do, so that the failure can be alerted on. */
char *serve_collect_page(struct serve_collector *c, size_t *len)
{
	char err[TD_ERRMSG_LEN] = "";
	struct td_model *m = NULL;
	struct td_findings fs = { 0 };
	struct td_limits lim;
	struct td_metrics mx = { 0 };
	uint64_t t0 = util_now_ns();
	int r = model_collect(&c->o->mo, &m, err);

	c->collections++;
	if (r) {
		c->errors++;
		cmd_err(c->g, "collection failed: %s", *err ? err : strerror(-r));
	} else {
		exporter_carry_apply(&c->carry, m);
		if (c->trace) /* the trace is evidence for the findings, as in watch */
			trace_bg_attach(c->trace, m);
		rules_limits_default(&lim);
		rules_evaluate(m, &lim, &fs);
	}
	struct td_exporter_input in = {
		.m = m,
		.fs = m ? &fs : NULL,
		.top = c->o->top,
		.duration_s = (double)(util_now_ns() - t0) / 1e9,
		.timestamp_s = wall_s(),
		.collections = c->collections,
		.errors = c->errors,
		.version = TD_VERSION,
	};
	exporter_build(&in, &mx);
	if (c->trace)
		add_trace(c, m, &mx);
	char *page = render_prom(&mx, len);
	exporter_metrics_free(&mx);
	if (m) {
		exporter_carry_keep(&c->carry, m);
		rules_findings_free(&fs);
		model_free(m);
	}
	return page;
}

/* Writes the page next to path under a hidden temporary name (the textfile collector reads only
 * *.prom), fsyncs it, renames it over path and fsyncs the directory: readers see the old file
 * or the new one, never a part. Returns 0 or -errno. */
static int write_atomic(const char *path, const char *data, size_t len)
{
	char *dup = xstrdup(path), *base = xstrdup(path);
	char *dir = dirname(dup);
	char *tmp = xasprintf("%s/.%s.XXXXXX", dir, basename(base));
	int fd = mkostemp(tmp, O_CLOEXEC), r = 0;

	if (fd < 0) {
		r = -errno;
		goto out;
	}
	for (size_t off = 0; off < len && !r;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno != EINTR)
			r = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (!r && (fchmod(fd, 0644) || fsync(fd)))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		goto out;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* the rename is durable; failing here leaves a correct file */
		close(dfd);
	}
out:
	free(tmp);
	free(base);
	free(dup);
	return r;
}

static int run_textfile(struct serve_collector *c, int sfd)
{
	for (;;) {
		size_t len;
		char *page = serve_collect_page(c, &len);
		int r = write_atomic(c->o->textfile, page, len);
		free(page);
		if (r) {
			cmd_err(c->g, "cannot write '%s': %s", c->o->textfile, strerror(-r));
			return TD_EXIT_FAIL;
		}
		if (!c->o->interval_ms)
			return c->errors ? TD_EXIT_FAIL : TD_EXIT_OK;
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;
		/* SIGHUP: rewrite now; SIGINT/SIGTERM: stop */
		if (poll(&p, 1, (int)c->o->interval_ms) > 0 &&
		    read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
			return TD_EXIT_OK;
	}
}

static int serve_main(int argc, char **argv, struct td_global *g)
{
	struct serve_opts o = { .min_interval_ms = 5000, .top = 10 };
	struct serve_collector c = { .g = g, .o = &o };
	int r = parse_args(argc, argv, g, &o), sfd;

	if (r)
		return r;
	cmd_source_opts(g, &o.mo.src);
	o.mo.interval_ms = 0; /* one snapshot per collection; the previous one is the other end */
	/* SIGINT, SIGTERM and SIGHUP as a file descriptor, blocked first so that the HTTP thread
	 * started afterwards inherits the mask and the main thread alone reads them */
	if ((sfd = cmd_signals_fd(SIGHUP)) < 0) {
		cmd_err(g, "signalfd: %s", strerror(errno));
		return TD_EXIT_FAIL;
	}
	/* after signals_fd: the thread inherits the blocked signals */
	if (o.trace && (r = trace_bg_start(g, &c.trace, TD_EXIT_FAIL))) {
		close(sfd);
		return r;
	}
	r = o.textfile ? run_textfile(&c, sfd) : serve_http_run(&c, &o, sfd);
	trace_bg_stop(c.trace);
	exporter_carry_free(&c.carry);
	close(sfd);
	return r;
}

#define STR_(x)		     #x
#define STR(x)		     STR_(x)
#define SERVE_TOP_MAX_S	     STR(SERVE_TOP_MAX)
#define SERVE_CONN_DEFAULT_S STR(SERVE_CONN_DEFAULT)

static void serve_help(void)
{
	printf("\nLimits: a request must be complete and answered within %d s of its connection\n"
	       "(408 otherwise); at the connection limit a newcomer takes the slot of the oldest\n"
	       "connection without a complete request, and gets a 503 only if every slot is busy\n"
	       "answering; %d bytes of request headers; request bodies are refused.\n"
	       "SIGHUP collects at once (a new page, or a new textfile); SIGINT/SIGTERM stop.\n",
	       SERVE_DEADLINE_S, SERVE_CONN_MEMORY);
}

static const struct td_cmd_opt serve_opts[] = {
	{ "listen", 0, "ADDR:PORT",
	  "address to serve on (default " SERVE_DEFAULT_LISTEN "; [::1]:PORT for IPv6,\n"
	  "port 0 picks a free one; the address is printed)",
	  OPT_LISTEN },
	{ "min-interval", 0, "S",
	  "serve a page younger than S seconds as is (default 5, 0 to\n"
	  "collect on every scrape; concurrent scrapes share one)",
	  OPT_MIN_INTERVAL },
	{ "top", 0, "N",
	  "per-destination series for the N riskiest destinations\n"
	  "(default 10, at most " SERVE_TOP_MAX_S ", 0 for none)",
	  OPT_TOP },
	{ "textfile", 0, "FILE",
	  "write the page to FILE atomically (for node_exporter's\n"
	  "textfile collector) and exit",
	  OPT_TEXTFILE },
	{ "interval", 0, "S", "with --textfile: rewrite FILE every S seconds until SIGTERM",
	  OPT_INTERVAL },
	{ "no-owners", 0, NULL, "skip the /proc scan that finds which process holds a socket",
	  OPT_NO_OWNERS },
	{ "max-connections", 0, "N",
	  "connections at once (default " SERVE_CONN_DEFAULT_S
	  ", fewer if the open-file\nlimit is lower; it is raised to its hard limit at start)",
	  OPT_MAX_CONN },
	{ "trace", 0, NULL,
	  "keep a BPF trace running (root): failed connect()/bind()\nby errno and destination, "
	  "resets, as counters\ntcpdoctor_trace_* (the --top first destinations, then\n"
	  "dst=\"other\"; at most 100), and as evidence for the\nfindings (peer-rejects, "
	  "port-exhaustion)",
	  OPT_TRACE },
	{ "verbose", 'v', NULL, "log libmicrohttpd's messages to stderr", 'v' },
	{ 0 },
};

const struct td_cmd_entry cmd_serve = {
	.name = "serve",
	.summary = "Prometheus exporter: /metrics over HTTP, or --textfile",
	.usage = "tcpdoctor [-N NS|all] serve [--listen ADDR:PORT] [--top N] [--min-interval S]\n"
		 "                           [--max-connections N] [--trace]\n"
		 "tcpdoctor [-N NS|all] serve --textfile FILE [--interval S]",
	.about =
		"Prometheus exporter: GET /metrics gives the census by namespace, family and state,\n"
		"ephemeral-port usage of the riskiest destinations, the doctor's findings, the kernel\n"
		"counters and sockstat. Only GET and HEAD of / and /metrics are answered.",
	.opts = serve_opts,
	.help = serve_help,
	.on_opt = on_opt,
	.run = serve_main,
};
