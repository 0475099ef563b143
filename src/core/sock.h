/* SPDX-License-Identifier: MIT */
/*
 * struct td_sock: one TCP socket as every source (inet_diag, /proc/net/tcp, a recorded dump)
 * delivers it, plus the kernel state names and the ss-style state groups. Sources stream
 * sockets to a callback one at a time; nobody keeps the whole list.
 */
#ifndef TD_SOCK_H
#define TD_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kernel TCP state numbers (include/net/tcp_states.h). NEW_SYN_RECV request sockets are
 * reported as SYN_RECV; the FIN_WAIT2 substate of a timewait socket stays FIN_WAIT2,
 * exactly as inet_diag reports it (kernel-facts §1, §14). */
enum td_state {
	TD_SS_UNKNOWN = 0,
	TD_SS_ESTABLISHED = 1,
	TD_SS_SYN_SENT = 2,
	TD_SS_SYN_RECV = 3,
	TD_SS_FIN_WAIT1 = 4,
	TD_SS_FIN_WAIT2 = 5,
	TD_SS_TIME_WAIT = 6,
	TD_SS_CLOSE = 7,
	TD_SS_CLOSE_WAIT = 8,
	TD_SS_LAST_ACK = 9,
	TD_SS_LISTEN = 10,
	TD_SS_CLOSING = 11,
	TD_SS_COUNT = 12, /* array size for per-state counters; slot 0 unused */
};

/* The kernel's NEW_SYN_RECV: request sockets are reported as SYN_RECV (3); 12 is the bit to ask
 * inet_diag for them, and the state a parser maps to SYN_RECV if it ever sees it. */
#define TD_SS_KERNEL_NEW_SYN_RECV 12

#define TD_STATES_ALL 0x0ffeu /* bits 1..11 */

/* inet_diag timer kinds (idiag_timer) */
enum td_timer {
	TD_TIMER_NONE = 0,
	TD_TIMER_RETRANS = 1,
	TD_TIMER_KEEPALIVE = 2,
	TD_TIMER_TIMEWAIT = 3,
	TD_TIMER_PROBE = 4,
};

struct td_sock {
	uint8_t family;	 /* AF_INET or AF_INET6 */
	uint8_t state;	 /* enum td_state, never 0 or 12 once delivered */
	uint8_t timer;	 /* enum td_timer */
	uint8_t retrans; /* retransmits of the running timer */
	uint16_t sport;	 /* host byte order */
	uint16_t dport;	 /* host byte order */
	uint8_t src[16]; /* network order; IPv4 uses the first 4 bytes, rest zero */
	uint8_t dst[16];
	uint32_t uid;	     /* 0 for timewait and request sockets (kernel-facts §14) */
	uint32_t rqueue;     /* LISTEN: accept-queue length; else bytes unread */
	uint32_t wqueue;     /* LISTEN: backlog; else bytes unacked/unsent */
	uint32_t expires_ms; /* time left on the running timer, 0 if none */
	uint32_t ifindex;    /* bound device, 0 if none */
	uint64_t inode;	     /* 0 for timewait and request sockets */
	uint64_t cookie;     /* inet_diag socket cookie; 0 from procfs */
	unsigned netns;	     /* index of the namespace this came from (source_run numbering) */
	uint8_t flags;	     /* TD_SK_* */
};

/* td_sock.flags */
enum {
	/* LISTEN read from /proc/net/tcp*: the kernel prints no backlog there (wqueue is 0), so
	 * the accept queue's size is not known */
	TD_SK_NO_BACKLOG = 1u << 0,
};

/* Returns the kernel name ("ESTABLISHED", "TIME_WAIT", ...) or "UNKNOWN". Can't fail. */
const char *sock_state_name(unsigned state);

/* Parses one state name (case-insensitive, '-' or '_' accepted, "SYN-RECV", "time-wait") or a
 * group as ss defines them: "all", "connected" (all but LISTEN and CLOSE), "synchronized"
 * (connected minus SYN_SENT), "bucket" (SYN_RECV, TIME_WAIT: the kernel's minisockets) and
 * "big" (all but bucket). ORs the state bits (1u << state) into *mask.
 * Returns 0, or -EINVAL for an unknown name. */
int sock_state_parse(const char *name, uint32_t *mask);

/* Parses a comma-separated list of names as above into *mask (which it sets, not ORs).
 * On -EINVAL, *bad (if non-NULL) points at the offending item inside list, length *bad_len. */
int sock_state_parse_list(const char *list, uint32_t *mask, const char **bad, size_t *bad_len);

/* The valid names for error messages: "established, syn-sent, ..., connected, synchronized,
 * bucket, big, all". Static string, can't fail. */
const char *sock_state_names_help(void);

/* Formats an address of family AF_INET/AF_INET6 into buf (>= 46 bytes). Returns buf. */
char *sock_addr_str(unsigned family, const uint8_t addr[16], char *buf, size_t len);

/* Parses an IPv4 or IPv6 literal, optionally with /prefix. Sets *family, addr (16 bytes),
 * *prefix (32 or 128 if absent). Returns 0 or -EINVAL. */
int sock_addr_parse(const char *s, unsigned *family, uint8_t addr[16], unsigned *prefix);

/* True when the first prefix bits of a and b agree. */
bool sock_addr_match(const uint8_t a[16], const uint8_t b[16], unsigned prefix);

#endif
