// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the conntrack parsers: the first byte picks one (0: a ctnetlink dump
 * buffer, 1: a per-CPU statistics buffer, 2: the text of /proc/net/stat/nf_conntrack), the rest
 * is its input. Netlink buffers are copied to an aligned allocation, as recv() hands them over.
 * Whatever the bytes, a parser must stay inside them, return a defined result, and deliver only
 * entries that honour conntrack.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/conntrack/conntrack.h"
#include "core/conntrack/ct_census.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(const struct td_ct *ct, void *arg)
{
	struct td_ct_census *c = arg;

	if (ct->family != AF_INET && ct->family != AF_INET6)
		abort();
	if (ct->tcp_state >= TD_CT_TCP_COUNT)
		abort();
	ct_census_add(c, ct);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_ct_census c = { 0 };
	struct td_ct_dump_stats st = { 0 };
	struct td_ct_stats s = { 0 };
	void *buf;
	int r;

	if (size == 0)
		return 0;
	buf = malloc(size); /* malloc's alignment satisfies netlink's 4 bytes */
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		r = conntrack_parse(buf, size - 1, check, &c, &st);
		if (st.entries != c.entries)
			abort();
		break;
	case 1:
		r = conntrack_stats_parse(buf, size - 1, &s);
		break;
	default:
		r = conntrack_stats_parse_proc(buf, size - 1, &s);
		break;
	}
	if (r > 1 || r < -4095)
		abort();
	free(buf);
	return 0;
}
