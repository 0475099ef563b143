/* SPDX-License-Identifier: MIT */
/*
 * Receiving a netlink dump while parsing it. The kernel builds each reply buffer of a dump
 * inside the recvmsg() that takes the previous one, so a single thread alternates between
 * waiting for the kernel and parsing. ct_recv_dump() receives in a reader thread into a small
 * ring of buffers and hands them, in order, to a consumer in the calling thread, so parsing
 * one buffer overlaps the kernel building the next. Memory is the ring, whatever the size of
 * the dump.
 */
#ifndef TD_CT_RECV_H
#define TD_CT_RECV_H

#include <stddef.h>

/* Returns 0 for more, >0 when the dump is complete (NLMSG_DONE), <0 to stop with that error. */
typedef int (*ct_recv_fn)(const void *buf, size_t len, void *ctx);

/*
 * Receives the replies of the dump requested on fd (a netlink socket) in buffers of buflen
 * bytes and calls consume for each, in the calling thread, until it returns non-zero or the
 * socket fails. Returns 0 when consume returned >0, consume's negative value, -errno of recv
 * (-EBADMSG when the socket returned no bytes). Falls back to receiving in the calling thread
 * when no thread can be made. The reader stops at the buffer that holds NLMSG_DONE or
 * NLMSG_ERROR (or one it cannot walk), so it never waits on a finished dump.
 */
int ct_recv_dump(int fd, size_t buflen, ct_recv_fn consume, void *ctx);

#endif
