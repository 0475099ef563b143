// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for procfs_parse: the first byte picks the family (even: /proc/net/tcp,
 * odd: tcp6), the rest is the file text, not NUL-terminated. The parser must stay inside it,
 * name a line for every -EBADMSG, and deliver only sockets that honour sock.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/sock.h"
#include "core/source/source.h"
#include "core/source/source_procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_check(const struct td_sock *sk, void *arg)
{
	unsigned *n = arg;

	if (sk->state == 0 || sk->state >= TD_SS_COUNT || sk->timer > TD_TIMER_PROBE)
		abort();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned n = 0, bad = 0;
	struct td_dump_stats st = { 0 };
	struct td_sink sink = { fuzz_check, &n, 0, 0, 0 };
	int family;
	int r;

	if (size < 1)
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	r = procfs_parse((const char *)data + 1, size - 1, family, &sink, &st, &bad);
	if (r != 0 && r != -EBADMSG)
		abort();
	if (r == -EBADMSG && bad == 0)
		abort();
	if (st.sockets != n)
		abort();
	return 0;
}
