/* SPDX-License-Identifier: MIT */
/*
 * What the two halves of `tcpdoctor serve` share: serve.c (options, collection, --textfile) and
 * serve_http.c (the libmicrohttpd server). The collector belongs to the main thread only.
 */
#ifndef TD_CMD_SERVE_H
#define TD_CMD_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cmd/cmd.h"
#include "core/export/exporter.h"
#include "core/export/exporter_trace.h"
#include "core/model/model.h"

/* 127.0.0.1 only by default. The exporter range 9100-9999 of the Prometheus wiki's default
 * port allocations is fully taken, so any port there clashes with some registered exporter;
 * 10073 is in no list we know of and below the default ephemeral range (32768-60999). */
#define SERVE_DEFAULT_LISTEN "127.0.0.1:10073"
/* Connections at once, by default: room for thousands of idle or slow clients and the
 * scrapers; fewer when the open-file limit (raised to its hard limit at start) is lower. */
#define SERVE_CONN_DEFAULT 4096
#define SERVE_CONN_MAX	   65536 /* --max-connections */
#define SERVE_FD_RESERVE   256	 /* descriptors kept for the collector (-N all, /proc scan) */
#define SERVE_DEADLINE_S   5	 /* a whole request: first byte slot to the end of the answer */
#define SERVE_CONN_MEMORY  16384 /* per connection: request line, headers, buffers */
#define SERVE_TOP_MAX	   1000

struct td_trace_bg;

struct serve_opts {
	const char *listen; /* as given, NULL for the default */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *textfile;
	unsigned interval_ms;	  /* --textfile: rewrite period, 0 write once */
	unsigned min_interval_ms; /* a page younger than this is served as is */
	size_t top;
	unsigned max_conn; /* --max-connections, 0 for the default */
	bool verbose;
	bool trace; /* --trace: keep a BPF trace running (tcpdoctor_trace_* families) */
	struct td_model_opts mo;
};

/* The main thread's collection state. */
struct serve_collector {
	struct td_global *g;
	const struct serve_opts *o;
	struct td_exporter_carry carry;
	uint64_t collections, errors;
	struct td_trace_bg *trace;	    /* --trace (cmd/trace_use.h), else NULL */
	struct td_exporter_trace_state tst; /* its destinations with their own series */
};

/* One collection rendered as a Prometheus page (caller frees; *len its length). A failed
 * collection prints why and still gives a page, with tcpdoctor_scrape_error 1. Main thread
 * only: it may enter other network namespaces. */
char *serve_collect_page(struct serve_collector *c, size_t *len);

/* Serves o (c->o; its max_conn settled here from the open-file limit) until sfd (a signalfd for SIGINT, SIGTERM and SIGHUP) gives SIGINT or SIGTERM; SIGHUP
 * collects a new page at once. Returns an exit code. */
int serve_http_run(struct serve_collector *c, struct serve_opts *o, int sfd);

#endif
