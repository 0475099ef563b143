/* SPDX-License-Identifier: MIT */
/*
 * The lab's sandbox: two fresh network namespaces (client and server), named
 * td-lab-c-PID / td-lab-s-PID under /run/netns so `ip netns` and `tcpdoctor -N` can look in
 * while the lab runs, joined by a veth pair that never exists in the caller's namespace
 * (198.18.0.1/30 client, 198.18.0.2/30 server: RFC 2544 benchmarking space, lo up, no other
 * route), and the per-namespace sysctls a scenario sets. Destroying it unmounts and unlinks both
 * names and closes the last references, which deletes the namespaces and the veth with them.
 *
 * Functions that enter a namespace do it in the calling thread only and restore it before they
 * return. A struct lab_env belongs to one thread at a time.
 */
#ifndef TD_LAB_ENV_H
#define TD_LAB_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lab_side { LAB_CLIENT = 0, LAB_SERVER = 1, LAB_SIDES = 2 };

/* Host byte order: 198.18.0.1 and 198.18.0.2. */
#define LAB_CLIENT_ADDR 0xc6120001u
#define LAB_SERVER_ADDR 0xc6120002u

struct lab_env {
	char name[LAB_SIDES][32]; /* "td-lab-c-1234" */
	char path[LAB_SIDES][64]; /* "/run/netns/td-lab-c-1234" */
	int fd[LAB_SIDES];	  /* nsfs fds, -1 when not made */
	bool mounted[LAB_SIDES];
};

/* Marks e empty (fds -1, nothing mounted) so lab_env_destroy() is safe on it. Can't fail. */
void lab_env_init(struct lab_env *e);

/*
 * Creates both namespaces, the veth pair, addresses and links up. Needs CAP_SYS_ADMIN and
 * CAP_NET_ADMIN. Returns 0, or -errno with a message in err (errlen bytes); on error whatever was
 * made is still recorded in e, so the caller's lab_env_destroy() removes it.
 */
int lab_env_create(struct lab_env *e, char *err, size_t errlen);

/* Writes value to /proc/sys/KEY (KEY like "net/ipv4/tcp_tw_reuse") inside one namespace, never
 * the caller's. Returns 0 or -errno (-ENOENT: this kernel has no such key). */
int lab_env_sysctl_write(const struct lab_env *e, enum lab_side side, const char *key,
			 const char *value);

/* Reads /proc/sys/KEY inside one namespace into buf (trailing newline removed; tabs become
 * spaces). Returns 0 or -errno. */
int lab_env_sysctl_read(const struct lab_env *e, enum lab_side side, const char *key, char *buf,
			size_t len);

/* Moves the calling thread into one namespace for good (worker threads). 0 or -errno. */
int lab_env_enter(const struct lab_env *e, enum lab_side side);

/* Removes what lab_env_create made: unmounts and unlinks the names, closes the fds. Safe to call
 * twice and on a half-made env; errors are ignored because there is nothing better to do
 * with them on the way out. Not async-signal-safe: call it from the main flow or atexit. */
void lab_env_destroy(struct lab_env *e);

#endif
