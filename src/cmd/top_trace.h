/* SPDX-License-Identifier: MIT */
/*
 * top --by process --trace S: a trace run first keeps who closed each connection first (the
 * process that called close(), from the BPF programs); a socket without an inode (TIME_WAIT,
 * an orphan) whose 4-tuple the trace saw closed here is then attributed exactly, the others
 * stay inferred. Counts the exact ones per process for the EXACT column.
 */
#ifndef TD_CMD_TOP_TRACE_H
#define TD_CMD_TOP_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/sock.h"

struct top_trace;

/* Traces for ms milliseconds. Returns 0 and *out, or prints why and returns TD_EXIT_FAIL. */
int top_trace_collect(const struct td_global *g, uint64_t ms, struct top_trace **out);
/* The process that closed sk first (sk from the namespace of inode ino), counted as exact for
 * it; false when the trace did not see it. */
bool top_trace_owner(struct top_trace *tt, uint32_t ino, const struct td_sock *sk, int *pid);
/* Sockets attributed exactly to pid, and its name as the trace saw it (NULL: none). */
uint64_t top_trace_exact(const struct top_trace *tt, int pid);
const char *top_trace_comm(const struct top_trace *tt, int pid);
/* {"duration_s", "connections_closed", "exact", "lost"} */
json_t *top_trace_json(const struct top_trace *tt);
uint64_t top_trace_total(const struct top_trace *tt);
void top_trace_free(struct top_trace *tt);

#endif
