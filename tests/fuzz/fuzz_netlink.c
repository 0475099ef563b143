// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for netlink_parse: the bytes are one recv() buffer of an inet_diag dump
 * (as a live dump or a replayed record hands it over). Whatever they hold, the parser must
 * stay inside them, return a defined result, and deliver only sockets that honour sock.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/sock.h"
#include "core/source/source.h"
#include "core/source/source_netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_check(const struct td_sock *sk, void *arg)
{
	unsigned *n = arg;

	/* The contract the rest of the program relies on. */
	if (sk->state == 0 || sk->state >= TD_SS_COUNT)
		abort();
	if (sk->family != AF_INET && sk->family != AF_INET6)
		abort();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned n = 0;
	struct td_dump_stats st = { 0 };
	/* the first byte picks a filter, so filtered paths are fuzzed too */
	uint32_t states = size && (data[0] & 1) ? 1u << (data[0] % 12) : 0;
	struct td_sink sink = { fuzz_check, &n, states, 0, 0 };
	int r = netlink_parse(data, size, &sink, &st);

	if (r > 1 || (r < 0 && r < -4095))
		abort();
	if (st.sockets != n)
		abort();
	return 0;
}
