/* SPDX-License-Identifier: MIT */
/*
 * /proc/net/tcp and /proc/net/tcp6: the fallback when inet_diag is missing (or with
 * --source procfs). Gives the same numbers as netlink: TIME_WAIT and timewait FIN_WAIT2 rows,
 * request sockets as SYN_RECV, LISTEN queues as inet_diag reports them.
 */
#ifndef TD_SOURCE_PROCFS_H
#define TD_SOURCE_PROCFS_H

#include <stddef.h>

#include "core/source/source.h"

struct td_record;

/* Reads /proc/net/tcp and/or /proc/net/tcp6 (per sink->families) of the calling thread's
 * namespace. A missing tcp6 file (IPv6 disabled) is not an error. When rec is non-NULL each
 * file's text is appended as a PROC_TCP/PROC_TCP6 chunk. Returns 0, -errno, -EBADMSG for a
 * malformed line, or the callback's negative value. */
int procfs_dump(const struct td_sink *sink, struct td_record *rec, struct td_dump_stats *st);

/*
 * Parses the text of one /proc/net/tcp (family AF_INET) or tcp6 (AF_INET6) file: a header
 * line then one socket a line. Accepts LF or CRLF line ends. Returns 0, or -EBADMSG for a
 * malformed or truncated line (then *bad_line, if non-NULL, gets its 1-based number), or the
 * callback's negative value. Never reads outside text[0..len); text need not be NUL-terminated.
 */
int procfs_parse(const char *text, size_t len, int family, const struct td_sink *sink,
		 struct td_dump_stats *st, unsigned *bad_line);

#endif
