/* SPDX-License-Identifier: MIT */
/*
 * The exporter's connection guard: the HTTP thread's event loop around libmicrohttpd (external
 * epoll mode, no listening socket of its own). It accepts connections itself, gives each a
 * whole-request deadline and keeps room for honest scrapers when idle or slow clients crowd in.
 * Every function here, and every libmicrohttpd callback, runs in the one HTTP thread, except
 * serve_guard_new/free (before and after it) and serve_guard_wake/stop (any thread).
 */
#ifndef TD_CMD_SERVE_CONN_H
#define TD_CMD_SERVE_CONN_H

#include <stdbool.h>

#include <microhttpd.h>

struct serve_guard;

/* Accepts per round (then the connections are served), and the descriptors beyond max_conn the
 * guard may hold at once: connections it closed that libmicrohttpd has not yet cleaned up, and
 * one newcomer being refused. */
#define SERVE_GUARD_BATCH 64
#define SERVE_GUARD_SLACK (SERVE_GUARD_BATCH + 2)

/* max_conn connections at once; a request has deadline_ms from its first byte slot (accept, or
 * the end of the previous response) to the end of its response, time spent waiting for the
 * collector excepted. NULL only if an eventfd cannot be made (errno set). */
struct serve_guard *serve_guard_new(unsigned max_conn, unsigned deadline_ms);
/* After the daemon is stopped (its CLOSED notifications free the connections). Accepts NULL. */
void serve_guard_free(struct serve_guard *g);

/* libmicrohttpd callbacks (MHD_OPTION_NOTIFY_CONNECTION, MHD_OPTION_NOTIFY_COMPLETED), cls g. */
void serve_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode toe);
void serve_guard_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			   enum MHD_RequestTerminationCode toe);

/* For the request handler: the connection was accepted over the limit with no room to make
 * (every slot busy answering) and must get a 503. */
bool serve_guard_refused(struct MHD_Connection *conn);
/* The request is complete and a response is queued: it keeps its deadline. */
void serve_guard_answering(struct serve_guard *g, struct MHD_Connection *conn);
/* The request waits (suspended) for the collector: its clock stops until answering. */
void serve_guard_waiting(struct serve_guard *g, struct MHD_Connection *conn);

/* The loop: accepts on lfd (non-blocking), enforces the limits and deadlines, runs d, until
 * serve_guard_stop. Returns 0 or -errno if the loop itself cannot run (epoll). */
int serve_guard_run(struct serve_guard *g, struct MHD_Daemon *d, int lfd);
/* In external mode libmicrohttpd does not wake its loop when a connection is resumed from
 * another thread: whoever resumes calls this. Async-signal-safe. */
void serve_guard_wake(struct serve_guard *g);
/* Makes serve_guard_run return after its current round. Async-signal-safe. */
void serve_guard_stop(struct serve_guard *g);

#endif
