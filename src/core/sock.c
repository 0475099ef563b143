// SPDX-License-Identifier: MIT
/*
 * State names, the ss-style state groups, and address formatting/parsing for struct td_sock.
 */
#include "core/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/util.h"

static const char *const state_names[TD_SS_COUNT] = {
	[TD_SS_UNKNOWN] = "UNKNOWN",	   [TD_SS_ESTABLISHED] = "ESTABLISHED",
	[TD_SS_SYN_SENT] = "SYN_SENT",	   [TD_SS_SYN_RECV] = "SYN_RECV",
	[TD_SS_FIN_WAIT1] = "FIN_WAIT1",   [TD_SS_FIN_WAIT2] = "FIN_WAIT2",
	[TD_SS_TIME_WAIT] = "TIME_WAIT",   [TD_SS_CLOSE] = "CLOSE",
	[TD_SS_CLOSE_WAIT] = "CLOSE_WAIT", [TD_SS_LAST_ACK] = "LAST_ACK",
	[TD_SS_LISTEN] = "LISTEN",	   [TD_SS_CLOSING] = "CLOSING",
};

#define B(s) (1u << (s))
/* The groups as iproute2's ss defines them (ss.c: SS_CONN, "synchronized", "bucket", "big"). */
static const struct {
	const char *name;
	uint32_t mask;
} groups[] = {
	{ "all", TD_STATES_ALL },
	{ "connected", TD_STATES_ALL & ~(B(TD_SS_LISTEN) | B(TD_SS_CLOSE)) },
	{ "synchronized", TD_STATES_ALL & ~(B(TD_SS_LISTEN) | B(TD_SS_CLOSE) | B(TD_SS_SYN_SENT)) },
	{ "bucket", B(TD_SS_SYN_RECV) | B(TD_SS_TIME_WAIT) },
	{ "big", TD_STATES_ALL & ~(B(TD_SS_SYN_RECV) | B(TD_SS_TIME_WAIT)) },
};

const char *sock_state_name(unsigned state)
{
	if (state >= TD_SS_COUNT)
		return state_names[TD_SS_UNKNOWN];
	return state_names[state];
}

/* Compares a user's spelling with a kernel name: case-insensitive, '-' equals '_', and
 * "FIN_WAIT1" may be written "fin-wait-1". */
static bool name_eq(const char *user, size_t n, const char *kname)
{
	size_t i = 0;
	const char *k = kname;

	while (i < n && *k) {
		char u = user[i];
		if (u == '-')
			u = '_';
		if ((*k == '1' || *k == '2') && u == '_' && i + 1 < n && user[i + 1] == *k) {
			i++; /* "wait-1" */
			continue;
		}
		if (u >= 'a' && u <= 'z')
			u = (char)(u - 'a' + 'A');
		if (u != *k)
			return false;
		i++;
		k++;
	}
	return i == n && !*k;
}

static int parse_n(const char *name, size_t n, uint32_t *mask)
{
	for (unsigned s = 1; s < TD_SS_COUNT; s++) {
		if (name_eq(name, n, state_names[s])) {
			*mask |= B(s);
			return 0;
		}
	}
	for (size_t i = 0; i < TD_ARRAY_SIZE(groups); i++) {
		if (strlen(groups[i].name) == n && !strncasecmp(name, groups[i].name, n)) {
			*mask |= groups[i].mask;
			return 0;
		}
	}
	return -EINVAL;
}

int sock_state_parse(const char *name, uint32_t *mask)
{
	return parse_n(name, strlen(name), mask);
}

int sock_state_parse_list(const char *list, uint32_t *mask, const char **bad, size_t *bad_len)
{
	uint32_t m = 0;
	const char *p = list;

	for (;;) {
		size_t n = strcspn(p, ",");
		if (parse_n(p, n, &m)) {
			if (bad)
				*bad = p;
			if (bad_len)
				*bad_len = n;
			return -EINVAL;
		}
		if (!p[n])
			break;
		p += n + 1;
	}
	*mask = m;
	return 0;
}

const char *sock_state_names_help(void)
{
	return "established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, close, "
	       "close-wait, last-ack, listen, closing, and the groups all, connected, "
	       "synchronized, bucket, big";
}

char *sock_addr_str(unsigned family, const uint8_t addr[16], char *buf, size_t len)
{
	if (!inet_ntop(family == AF_INET ? AF_INET : AF_INET6, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

int sock_addr_parse(const char *s, unsigned *family, uint8_t addr[16], unsigned *prefix)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t pfx;

	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* accept [v6] as ss prints it */
	if (tmp[0] == '[' && n > 2 && tmp[n - 1] == ']') {
		memmove(tmp, tmp + 1, n - 2);
		tmp[n - 2] = '\0';
	}
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, tmp, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	unsigned max = *family == AF_INET ? 32 : 128;
	if (slash) {
		if (util_parse_u64(slash + 1, 0, max, &pfx))
			return -EINVAL;
		*prefix = (unsigned)pfx;
	} else {
		*prefix = max;
	}
	return 0;
}

bool sock_addr_match(const uint8_t a[16], const uint8_t b[16], unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (full > 16)
		return false;
	if (memcmp(a, b, full))
		return false;
	if (rest && full < 16) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));
		return (a[full] & m) == (b[full] & m);
	}
	return true;
}
