/* SPDX-License-Identifier: MIT */
/*
 * Group-by tables for `top`: sockets counted per group (by peer, local port, process,
 * destination or namespace), each group with per-state counts, a server/client/neither split and
 * the number of sockets whose process was inferred. A hash table keeps adding O(1); top-N
 * selection is O(groups * log N). Nothing kept per socket. Not thread-safe; allocation failure
 * aborts.
 */
#ifndef TD_GROUPS_H
#define TD_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sock.h"

enum td_group_by {
	TD_BY_PEER = 0, /* netns, remote address */
	TD_BY_LPORT,	/* netns, local port */
	TD_BY_PROCESS,	/* pid (0: not attributed) */
	TD_BY_DEST,	/* netns, local address, remote address, remote port */
	TD_BY_NETNS,	/* netns */
	TD_BY_COUNT,
};

/* Which end of the connection this host is (see `top`): the local port listens (server), it
 * is an ephemeral port (client), or neither. */
enum td_side { TD_SIDE_NEITHER = 0, TD_SIDE_SERVER, TD_SIDE_CLIENT, TD_SIDE_COUNT };

/* A group's identity; fields the grouping does not use are zero. Zero it before filling. */
struct td_group_key {
	uint32_t netns;
	int32_t pid;
	uint16_t port;	/* LPORT: local port; DEST: remote port */
	uint8_t family; /* PEER, DEST: AF_INET or AF_INET6 */
	uint8_t pad;
	uint8_t src[16];  /* DEST: local address */
	uint8_t addr[16]; /* PEER, DEST: remote address */
};

struct td_group {
	struct td_group_key key;
	uint64_t n[TD_SS_COUNT]; /* by state */
	uint64_t total;
	uint64_t side[TD_SIDE_COUNT];
	uint64_t inferred; /* of total, sockets whose process was inferred, not read */
	uint64_t shared;   /* of total, sockets held by more than one process */
};

struct td_groups;

/* An empty table grouping by by. Never NULL. */
struct td_groups *groups_new(enum td_group_by by);
/* NULL is fine. */
void groups_free(struct td_groups *g);

enum td_group_by groups_by(const struct td_groups *g);

/* The key sk falls under (pid is used by TD_BY_PROCESS only). Can't fail. */
void groups_key_of(enum td_group_by by, const struct td_sock *sk, int pid, struct td_group_key *k);

/* Adds one socket: O(1). pid is the holder (0 unknown; used by TD_BY_PROCESS), inferred says
 * the pid was guessed, shared that several processes hold the socket. */
void groups_add(struct td_groups *g, const struct td_sock *sk, int pid, enum td_side side,
		bool inferred, bool shared);

/* Adds count sockets of one state under key k (for attribution resolved after the dump). */
void groups_add_key(struct td_groups *g, const struct td_group_key *k, unsigned state,
		    enum td_side side, uint64_t count, bool inferred);

/* Counts n of the sockets of group k as held by more than one process. */
void groups_add_shared(struct td_groups *g, const struct td_group_key *k, uint64_t n);

size_t groups_count(const struct td_groups *g);
/* Group i, 0 <= i < groups_count, in first-seen order. Valid until the next add. */
const struct td_group *groups_at(const struct td_groups *g, size_t i);

/*
 * Writes to out (room for limit pointers; limit 0 means all, out then needs groups_count) the
 * limit largest groups by n[state], or by total when state is TD_SS_COUNT, largest first; ties
 * by total, then by key, so the order is stable. Returns how many were written. Pointers valid
 * until the next add.
 */
size_t groups_top(const struct td_groups *g, unsigned state, size_t limit,
		  const struct td_group **out);

/* "peer", "lport", "process", "dest", "netns"; groups_by_parse returns 0 or -EINVAL. */
const char *groups_by_name(enum td_group_by by);
int groups_by_parse(const char *s, enum td_group_by *by);
/* "neither", "server", "client". */
const char *groups_side_name(enum td_side s);

#endif
