/* SPDX-License-Identifier: MIT */
/*
 * The conntrack-full scenario's probes: the flows the seed incident saw fail, each tried once
 * from (or into) the client namespace with a short deadline, and the short connections the
 * TIME_WAIT remedy counts. Every socket is made in the namespace it belongs to by the calling
 * thread (a socket keeps its namespace) and the thread returns to its own namespace before
 * each function returns. One thread at a time.
 */
#ifndef TD_LAB_CT_PROBE_H
#define TD_LAB_CT_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "lab/env.h"

enum lab_ct_probe {
	LAB_CT_TCP_OUT = 0, /* a new TCP connect from the client namespace */
	LAB_CT_TCP_IN,	    /* a new TCP connect into it (the seed's "inbound ssh") */
	LAB_CT_ICMP,	    /* an ICMP echo from it */
	LAB_CT_UDP_DNS,	    /* a UDP request to port 53 and its answer */
	LAB_CT_TCP_OLD,	    /* a byte each way on a connection established before the fill */
	LAB_CT_PROBES,
};

#define LAB_CT_PORT_OLD	    8000 /* the established connection's server port */
#define LAB_CT_PORT_NEW	    8080 /* new connects (the port the notrack remedy exempts) */
#define LAB_CT_PORT_TW_DEF  8081 /* short connections under the default TIME_WAIT timeout */
#define LAB_CT_PORT_TW_FAST 8082 /* short connections under the shortened one */
#define LAB_CT_PORT_IN	    22	 /* the client namespace's listener for inbound connects */
#define LAB_CT_PORT_DNS	    53
#define LAB_CT_PROBE_MS	    500 /* per probe: under the 1 s initial RTO, so a SYN goes once */

struct lab_ct_socks {
	int srv_old, srv_new, srv_tw[2], srv_dns; /* server namespace */
	int cli_in, icmp;			  /* client namespace */
	int old_c, old_s;			  /* the established connection, both ends */
	uint16_t echo_seq;
};

/* "tcp_connect", "tcp_inbound", "icmp_echo", "udp_dns", "tcp_established". */
const char *lab_ct_probe_name(enum lab_ct_probe p);

/* Makes the listeners, the DNS socket and the raw ICMP socket in env's namespaces. Returns 0 or
 * -errno; whatever was opened is closed by lab_ct_socks_close (call it on error too). */
int lab_ct_socks_open(struct lab_ct_socks *s, const struct lab_env *env);
void lab_ct_socks_close(struct lab_ct_socks *s);

/* Opens the established connection (client to LAB_CT_PORT_OLD) and sends a byte each way.
 * Returns 0 or -errno. */
int lab_ct_old_open(struct lab_ct_socks *s, const struct lab_env *env);
void lab_ct_old_close(struct lab_ct_socks *s);

/* Tries one probe: true when the flow worked within LAB_CT_PROBE_MS. */
bool lab_ct_probe(struct lab_ct_socks *s, const struct lab_env *env, enum lab_ct_probe p);

/* Makes n short connections to port (LAB_CT_PORT_NEW or a srv_tw port), the client closing
 * first; returns how many completed. */
unsigned lab_ct_short(struct lab_ct_socks *s, const struct lab_env *env, uint16_t port, unsigned n);

#endif
