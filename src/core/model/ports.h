/* SPDX-License-Identifier: MIT */
/*
 * The ephemeral-port model (kernel-facts §5): how many local ports connect() can hand out to one
 * destination (netns, source IP, destination IP, destination port), how many are held now, how
 * fast connections to it close, and when connect() would start failing with EADDRNOTAVAIL.
 *
 * Capacity. connect() searches [low, low + span) where span is the range size rounded down to
 * an even number (net/ipv4/inet_hashtables.c __inet_hash_connect: `remaining &= ~1U`), skipping
 * ip_local_reserved_ports. So a range whose ends have the same parity (odd size, the case the
 * kernel warns about) loses its top port for connect(): 40000-40002 gives 2 ports, not 3.
 * Parity: connect() first scans the ports with the parity of `low`, then the others; bind(0)
 * does the opposite. Capacity is still the whole span; `preferred` is the size of connect()'s
 * first half. Past it, connect() takes ports bind(0) prefers and each search walks further.
 *
 * Usage. A socket uses a port of a destination when its local port is ephemeral (inside the
 * span, not reserved), it has a peer, and it is on the client side: sockets whose local port is
 * a listening port are server side (accepted connections, and the server's own TIME_WAIT, which
 * costs clients no port) and are not counted. States: anything but LISTEN and SYN_RECV.
 *
 * Close rate. A TIME_WAIT lasts TCP_TIMEWAIT_LEN = 60 s, so one whose timer has expires_ms left
 * closed at now - (60 s - expires). Counting TIME_WAIT by expires gives the closes of the last 60 s
 * (and of the last 10 s, to catch a ramp) without sampling. Caveats kept in the doc: a TIME_WAIT
 * taken over by tcp_tw_reuse or killed early (RST, overflow) is not seen, so rates are lower
 * bounds; a FIN retransmission re-arms the timer (the close looks younger).
 *
 * Not thread-safe. Allocation failure aborts. Nothing here reads /proc or prints.
 */
#ifndef TD_PORTS_H
#define TD_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fields.h"
#include "core/sock.h"

#define TD_TIMEWAIT_LEN_S 60 /* TCP_TIMEWAIT_LEN, a kernel constant (kernel-facts §1) */
#define TD_RECENT_S	  10 /* the short window of the close rate */

/* One namespace's settings. */
struct td_port_cfg {
	uint16_t low, high;	     /* ip_local_port_range, inclusive */
	int tw_reuse;		     /* net.ipv4.tcp_tw_reuse 0/1/2, -1 unknown */
	int timestamps;		     /* net.ipv4.tcp_timestamps 0/1/2, -1 unknown */
	uint32_t tw_reuse_delay_ms;  /* net.ipv4.tcp_tw_reuse_delay (6.14+); 1000 if absent */
	uint8_t reserved[65536 / 8]; /* ip_local_reserved_ports, bit p = port p */
};

/* Kernel defaults of a fresh namespace: 32768-60999, nothing reserved, tw_reuse 2,
 * timestamps 1, reuse delay 1000 ms. Can't fail. */
void ports_cfg_default(struct td_port_cfg *c);

/*
 * Parses ip_local_port_range as the kernel prints it ("32768\t60999", spaces or tabs between,
 * one optional trailing newline). Strict: two decimals 1..65535, low <= high, nothing else.
 * Returns 0, or -EINVAL (malformed) / -ERANGE (out of range, high < low); outputs untouched on
 * error.
 */
int ports_parse_range(const char *s, uint16_t *low, uint16_t *high);

/*
 * Parses ip_local_reserved_ports ("1000-1010,2000", "" or "\n" for none) into bitmap (8192
 * bytes, fully rewritten on success). Strict: items N or A-B (A <= B), 0..65535, separated by
 * single commas, no spaces, one optional trailing newline. Returns 0, -EINVAL or -ERANGE; bitmap
 * untouched on error.
 */
int ports_parse_reserved(const char *s, uint8_t bitmap[65536 / 8]);

/* Fills c from a source meta text ("key=value\n", see source_meta_get): defaults first, then
 * every key present. Returns 0, or -EINVAL naming nothing (the caller reports the key via
 * *bad_key, if non-NULL) when a present value is malformed. */
int ports_cfg_from_meta(struct td_port_cfg *c, const char *meta, const char **bad_key);

/* Ports connect() can use per destination (see the capacity note). */
unsigned ports_capacity(const struct td_port_cfg *c);
/* Of those, the ones with the parity of low: what connect() tries first. */
unsigned ports_preferred(const struct td_port_cfg *c);
/* True when connect() could have picked this local port. */
bool ports_is_ephemeral(const struct td_port_cfg *c, uint16_t port);

/* The kernel's loopback test for tcp_tw_reuse=2 (tcp_twsk_unique, 6.x): bound to the loopback
 * device (ifindex 1), or source or destination in 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104.
 * Traffic to the host's own non-loopback address goes over lo but does not count. */
bool ports_is_loopback(unsigned family, const uint8_t src[16], const uint8_t dst[16],
		       uint32_t ifindex);

enum td_reuse {
	TD_REUSE_UNKNOWN = 0,	/* sysctls not known */
	TD_REUSE_ACTIVE,	/* connect() already takes over TIME_WAIT older than the delay */
	TD_REUSE_OFF,		/* tcp_tw_reuse=0: setting 1 would help */
	TD_REUSE_LOOPBACK_ONLY, /* =2 and this destination is not loopback: only 1 would help */
	TD_REUSE_NO_TIMESTAMPS, /* tcp_timestamps=0: tw_reuse cannot work whatever its value */
};

enum td_reuse ports_reuse(const struct td_port_cfg *c, bool loopback);
/* "active", "off", "loopback-only", "no-timestamps", "unknown". Static. */
const char *ports_reuse_name(enum td_reuse r);

/* One destination's result. */
struct td_port_dest {
	unsigned netns;
	uint8_t family; /* AF_INET (also for IPv4-mapped IPv6 pairs) or AF_INET6 */
	uint8_t src[16], dst[16];
	uint16_t dport;
	bool loopback;
	uint32_t in_use;	 /* sockets holding an ephemeral port to it, any state */
	uint32_t capacity;	 /* ports_capacity of its namespace */
	uint32_t preferred;	 /* ports_preferred of its namespace */
	uint32_t n[TD_SS_COUNT]; /* in_use by state */
	uint32_t closed_60s;	 /* TIME_WAIT with expires > 0: closed in the last 60 s */
	uint32_t closed_recent;	 /* closed in the last TD_RECENT_S s */
	uint32_t reusable;	 /* TIME_WAIT older than the reuse delay, when reuse is active */
	double rate_60s;	 /* closes per second over 60 s */
	double rate_recent;	 /* over TD_RECENT_S s */
	double rate;		 /* the larger: what exhaustion assumes */
	double exhaust_s;	 /* seconds until connect() fails at that rate: 0 = exhausted now,
				< 0 = not at this rate */
	enum td_reuse reuse;
	uint16_t tw_by_exp[TD_TIMEWAIT_LEN_S]; /* TIME_WAIT by whole seconds of expires left */
};

struct td_ports;

/* An empty table. Never NULL. */
struct td_ports *ports_new(void);
void ports_free(struct td_ports *t);

/* Settings of namespace idx (td_sock.netns, < 65536); call before its sockets. A namespace
 * without settings uses ports_cfg_default. Returns 0 or -ERANGE. */
int ports_set_cfg(struct td_ports *t, unsigned netns, const struct td_port_cfg *c);

/* Feeds one socket, any state and order (listeners may come after their connections: server
 * sides are dropped in ports_result). O(1). Can't fail. */
void ports_add(struct td_ports *t, const struct td_sock *sk);

/* The destinations, sorted by risk (ports_cmp_risk). *out is an array the caller frees with
 * free(); *n its length. The table is not changed and can take more sockets afterwards. */
void ports_result(const struct td_ports *t, struct td_port_dest **out, size_t *n);

/* Risk order: exhausted or exhausting soonest first, then by in_use / capacity, then by close
 * rate, then by key (stable output). qsort-compatible on struct td_port_dest. */
int ports_cmp_risk(const void *a, const void *b);

/* The fields of a destination (fields.h), for every renderer. The context of the getters is a
 * struct td_port_names (NULL: every namespace is ""). */
extern const struct td_field ports_dest_fields[];
extern const size_t ports_dest_nfields;

struct td_port_names {
	const char *const *names; /* by td_port_dest.netns */
	size_t n;
};

/* Usage: in_use as a percentage of capacity; TD_FV_NULL when the capacity is 0 (a share of
 * nothing is undefined). The one definition for ports, doctor, watch and the exporter. */
void ports_dest_usage(const struct td_port_dest *d, struct td_fval *v);

/*
 * Seconds until in_use reaches capacity if connections keep closing at rate per second, each
 * holding its port for hold_s seconds (60, or the reuse delay when reuse is active), given the
 * ports held now by sockets not in TIME_WAIT (held) and the TIME_WAIT sockets by whole seconds of
 * expires left (tw_by_exp; one in slot k is freed by k + 1 - (60 - hold_s) seconds from now).
 * Returns 0 when already full, a negative value when the steady state (held + rate * hold_s)
 * stays below capacity. Pure arithmetic; exposed for tests.
 */
double ports_exhaustion_s(uint32_t capacity, uint32_t held, const uint16_t tw_by_exp[60],
			  double rate, unsigned hold_s);

#endif
