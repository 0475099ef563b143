// SPDX-License-Identifier: MIT
/*
 * Cross-key checks of the live audit and of lint (see sysctl_cross.h). Each finding restates
 * doc/tcp-facts.md with the numbers found on this host or the lines found in the files.
 */
#include "core/sysctl/sysctl_cross.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/ports.h"
#include "core/sysctl/sysctl.h"
#include "core/util.h"

bool sysctl_cross_port_listed(const char *list, unsigned port)
{
	const char *s = list;

	while (s && *s) {
		char tok[32];
		size_t l = strcspn(s, ",");
		uint64_t a, b;
		char *dash;

		if (l < sizeof(tok)) {
			memcpy(tok, s, l);
			tok[l] = '\0';
			dash = strchr(tok, '-');
			if (dash)
				*dash = '\0';
			if (!util_parse_u64(tok, 0, 65535, &a)) {
				b = a;
				if (dash && util_parse_u64(dash + 1, 0, 65535, &b))
					b = 0;
				if (port >= a && port <= b)
					return true;
			}
		}
		s += l;
		if (*s == ',')
			s++;
	}
	return false;
}

#define REUSE_DEAD_WHY                                                                             \
	"tcp_tw_reuse needs the peer's timestamp in the TIME_WAIT socket; with "                   \
	"tcp_timestamps=0 no connection has one, so no TIME_WAIT is ever reused."
#define REF_TW_REUSE "tcp-facts#tw-reuse"

static bool num(const char *v, int64_t *out)
{
	return v && !util_parse_i64(v, INT64_MIN, INT64_MAX, out);
}

/* The leading integer of a value as written in a file ("1 # comment" gives 1). */
static bool lead_num(const char *v, int64_t *out)
{
	char tok[24];
	size_t l;

	if (!v)
		return false;
	v += strspn(v, " \t");
	l = strcspn(v, " \t#");
	if (!l || l >= sizeof(tok))
		return false;
	memcpy(tok, v, l);
	tok[l] = '\0';
	return num(tok, out);
}

static const struct td_sysctl_effective *eff_find(const struct td_sysctl_set *s, const char *key)
{
	for (size_t i = 0; i < s->neff; i++)
		if (!strcmp(s->eff[i].key, key))
			return &s->eff[i];
	return NULL;
}

void sysctl_cross_lint(struct td_sysctl_set *s)
{
	const struct td_sysctl_effective *ts = eff_find(s, "net.ipv4.tcp_timestamps");
	const struct td_sysctl_effective *ru = eff_find(s, "net.ipv4.tcp_tw_reuse");
	int64_t t, r;

	if (ts && ru && lead_num(ts->value, &t) && lead_num(ru->value, &r) && t == 0 && r != 0)
		sysctl_finding_add(s, ru->file, ru->line, ru->key, ru->value, TD_SEV_WARN,
				   REUSE_DEAD_WHY, REF_TW_REUSE,
				   "dead: tcp_timestamps = 0 at %s:%u disables tcp_tw_reuse",
				   ts->file < s->nfiles ? s->files[ts->file] : "-", ts->line);
}

static void check_ports(struct td_sysctl_set *s, const struct td_cross_facts *f)
{
	uint16_t lo, hi;
	char list[200] = "";
	size_t n = 0, o = 0;

	if (!f->port_range || ports_parse_range(f->port_range, &lo, &hi))
		return;
	for (size_t i = 0; i < f->nlisteners; i++) {
		unsigned p = f->listeners[i].port;
		if (p < lo || p > hi || sysctl_cross_port_listed(f->reserved_ports, p))
			continue;
		if (n++ < 10 && o < sizeof(list) - 8)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%u", o ? "," : "", p);
	}
	if (n)
		sysctl_finding_add(
			s, SYSCTL_NO_FILE, 0, "net.ipv4.ip_local_port_range", f->port_range,
			TD_SEV_WARN,
			"connect() may hand such a port to an outgoing connection while the "
			"service is down or restarting; list them in "
			"ip_local_reserved_ports.",
			"tcp-facts#ephemeral-ports",
			"%zu listening port%s inside the ephemeral range not reserved: %s%s", n,
			n > 1 ? "s" : "", list, n > 10 ? ",..." : "");
}

static void check_backlog(struct td_sysctl_set *s, const struct td_cross_facts *f)
{
	int64_t max;
	char list[200] = "";
	size_t n = 0, o = 0;

	if (!num(f->somaxconn, &max))
		return;
	for (size_t i = 0; i < f->nlisteners; i++) {
		if ((int64_t)f->listeners[i].backlog != max)
			continue;
		if (n++ < 10 && o < sizeof(list) - 8)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%u", o ? "," : "",
					      f->listeners[i].port);
	}
	if (n)
		sysctl_finding_add(
			s, SYSCTL_NO_FILE, 0, "net.core.somaxconn", f->somaxconn, TD_SEV_NOTE,
			"listen() silently cuts a larger backlog to somaxconn; a listener at "
			"exactly that value probably asked for more.",
			"tcp-facts#listen-queues",
			"%zu listener%s with backlog = somaxconn (%" PRId64
			"), probably capped: port%s %s%s",
			n, n > 1 ? "s" : "", max, n > 1 ? "s" : "", list, n > 10 ? ",..." : "");
}

void sysctl_cross_check(struct td_sysctl_set *s, const struct td_cross_facts *f)
{
	int64_t ts, reuse, max;

	if (num(f->timestamps, &ts) && num(f->tw_reuse, &reuse) && ts == 0 && reuse != 0)
		sysctl_finding_add(s, SYSCTL_NO_FILE, 0, "net.ipv4.tcp_tw_reuse", f->tw_reuse,
				   TD_SEV_WARN, REUSE_DEAD_WHY, REF_TW_REUSE,
				   "dead: tcp_tw_reuse=%" PRId64 " has no effect while "
				   "tcp_timestamps=0",
				   reuse);
	check_ports(s, f);
	check_backlog(s, f);
	if (f->have_tw && num(f->max_tw, &max) && max >= 0) {
		if (f->tw_count >= (uint64_t)max)
			sysctl_finding_add(s, SYSCTL_NO_FILE, 0, "net.ipv4.tcp_max_tw_buckets",
					   f->max_tw, TD_SEV_HARMFUL,
					   "Past the limit closing sockets skip TIME_WAIT "
					   "(TCPTimeWaitOverflow) and "
					   "lose its protection.",
					   "tcp-facts#tw-buckets",
					   "timewait sockets (%" PRIu64
					   ", TIME_WAIT + FIN_WAIT2) have reached "
					   "tcp_max_tw_buckets (%" PRId64 ")",
					   f->tw_count, max);
		else if (f->tw_count * 5 >= (uint64_t)max * 4)
			sysctl_finding_add(
				s, SYSCTL_NO_FILE, 0, "net.ipv4.tcp_max_tw_buckets", f->max_tw,
				TD_SEV_WARN,
				"Near the limit, closing sockets will soon skip TIME_WAIT.",
				"tcp-facts#tw-buckets",
				"timewait sockets (%" PRIu64 ") above 80%% of tcp_max_tw_buckets "
				"(%" PRId64 ")",
				f->tw_count, max);
	}
}
