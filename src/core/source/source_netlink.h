/* SPDX-License-Identifier: MIT */
/*
 * inet_diag over netlink (libmnl): TCP sockets of the current network namespace with the state
 * filter applied in the kernel, no extensions, a large receive buffer, and replies parsed as
 * they arrive. The parser also serves replay and the fuzz harness.
 */
#ifndef TD_SOURCE_NETLINK_H
#define TD_SOURCE_NETLINK_H

#include <stddef.h>

#include "core/source/source.h"

struct td_record;

/*
 * Dumps TCP sockets of the families in sink->families (0 = both) with the states in
 * sink->states (0 = all; SYN_RECV also asks for NEW_SYN_RECV) from the calling thread's
 * network namespace. When rec is non-NULL every recv() buffer is appended as a NETLINK chunk.
 * Returns 0, -EPROTONOSUPPORT/-ENOENT/-EOPNOTSUPP when inet_diag is unavailable (callers fall
 * back to procfs), -EBADMSG on a malformed reply, another -errno, or the callback's value.
 */
int netlink_dump(const struct td_sink *sink, struct td_record *rec, struct td_dump_stats *st);

/*
 * Parses one buffer of netlink messages as received from an inet_diag dump. Calls sink->fn
 * for each wanted socket. Returns 1 when NLMSG_DONE was seen, 0 when more messages are to
 * come, -EBADMSG when a message or attribute is truncated or malformed, the -errno carried by
 * an NLMSG_ERROR, or the callback's negative value. Sets st->interrupted on NLM_F_DUMP_INTR.
 * Never reads outside buf[0..len).
 */
int netlink_parse(const void *buf, size_t len, const struct td_sink *sink,
		  struct td_dump_stats *st);

#endif
