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
#include "core/exporter.h"
#include "core/model.h"

/* 127.0.0.1 only by default. The exporter range 9100-9999 of the Prometheus wiki's default
 * port allocations is fully taken, so any port there clashes with some registered exporter;
 * 10073 is in no list we know of and below the default ephemeral range (32768-60999). */
#define SERVE_DEFAULT_LISTEN "127.0.0.1:10073"
#define SERVE_CONN_LIMIT     64	   /* connections at once, all clients */
#define SERVE_PER_IP_LIMIT   8	   /* from one address: one client cannot take every slot */
#define SERVE_TIMEOUT_S	     10	   /* idle seconds before a connection is closed */
#define SERVE_CONN_MEMORY    16384 /* per connection: request line, headers, buffers */
#define SERVE_TOP_MAX	     1000

struct serve_opts {
	const char *listen; /* as given, NULL for the default */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *textfile;
	unsigned interval_ms;	  /* --textfile: rewrite period, 0 write once */
	unsigned min_interval_ms; /* a page younger than this is served as is */
	size_t top;
	bool verbose;
	struct td_model_opts mo;
};

/* The main thread's collection state. */
struct serve_collector {
	struct td_global *g;
	const struct serve_opts *o;
	struct exporter_carry carry;
	uint64_t collections, errors;
};

/* One collection rendered as a Prometheus page (caller frees; *len its length). A failed
 * collection prints why and still gives a page, with tcpdoctor_scrape_error 1. Main thread
 * only: it may enter other network namespaces. */
char *serve_collect_page(struct serve_collector *c, size_t *len);

/* Serves until sfd (a signalfd for SIGINT/SIGTERM) is readable. Returns an exit code. */
int serve_http_run(struct serve_collector *c, int sfd);

#endif
