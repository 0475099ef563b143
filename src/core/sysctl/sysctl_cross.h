/* SPDX-License-Identifier: MIT */
/*
 * Cross-key checks: what no single value shows but two values, or a value and the sockets of
 * the namespace, do. In the live audit: tcp_timestamps=0 with tcp_tw_reuse on; listening ports
 * inside ip_local_port_range that ip_local_reserved_ports does not protect; listeners whose
 * backlog equals somaxconn (capped); tcp_max_tw_buckets at or below the current timewait count.
 * In lint, the effective values of the files: tcp_tw_reuse left dead by tcp_timestamps=0.
 * Pure: the caller gathers the facts. Audit findings go to a set with file SYSCTL_NO_FILE,
 * line 0; lint findings to the line of the setting that has no effect.
 */
#ifndef TD_SYSCTL_CROSS_H
#define TD_SYSCTL_CROSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct td_sysctl_set;

struct td_cross_listener {
	uint16_t port;
	uint32_t backlog; /* inet_diag wqueue of a LISTEN socket (tcp-facts#listen-queues) */
};

/* Live values as /proc/sys prints them (tabs folded), NULL when absent or unread. */
struct td_cross_facts {
	const char *timestamps, *tw_reuse, *port_range, *reserved_ports, *somaxconn, *max_tw;
	const struct td_cross_listener *listeners;
	size_t nlisteners;
	uint64_t tw_count; /* sockstat tw: TIME_WAIT plus orphaned FIN_WAIT2 (tcp-facts#counters) */
	bool have_tw;
};

/* Appends the cross-key findings. Can't fail. */
void sysctl_cross_check(struct td_sysctl_set *s, const struct td_cross_facts *f);

/* Appends the cross-key findings of lint over s->eff (filled by sysctl_lint). Can't fail. */
void sysctl_cross_lint(struct td_sysctl_set *s);

/* True when port is in a port list such as "8080,9000-9010" (malformed parts never match). */
bool sysctl_cross_port_listed(const char *list, unsigned port);

#endif
