/* SPDX-License-Identifier: MIT */
/*
 * Cross-key checks of the live audit: what no single value shows but two values, or a value and
 * the sockets of the namespace, do. tcp_timestamps=0 with tcp_tw_reuse on; listening ports
 * inside ip_local_port_range that ip_local_reserved_ports does not protect; listeners whose
 * backlog equals somaxconn (capped); tcp_max_tw_buckets at or below the current timewait count.
 * Pure: the caller gathers the facts. Findings go to a set with file SYSCTL_NO_FILE, line 0.
 */
#ifndef TD_SYSCTL_CROSS_H
#define TD_SYSCTL_CROSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct td_sysctl_set;

struct td_cross_listener {
	uint16_t port;
	uint32_t backlog; /* inet_diag wqueue of a LISTEN socket (kernel-facts §7) */
};

/* Live values as /proc/sys prints them (tabs folded), NULL when absent or unread. */
struct td_cross_facts {
	const char *timestamps, *tw_reuse, *port_range, *reserved_ports, *somaxconn, *max_tw;
	const struct td_cross_listener *listeners;
	size_t nlisteners;
	uint64_t tw_count; /* sockstat tw: TIME_WAIT plus orphaned FIN_WAIT2 (kernel-facts §13) */
	bool have_tw;
};

/* Appends the cross-key findings. Can't fail. */
void sysctl_cross_check(struct td_sysctl_set *s, const struct td_cross_facts *f);

/* True when port is in a port list such as "8080,9000-9010" (malformed parts never match). */
bool sysctl_cross_port_listed(const char *list, unsigned port);

#endif
