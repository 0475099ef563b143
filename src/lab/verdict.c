// SPDX-License-Identifier: MIT
/*
 * Verdicts, one function per scenario. Each states the mechanism only when the measurement
 * shows it, and otherwise reports what was measured: a lab that contradicts the knowledge base
 * must say so rather than print the expected sentence.
 */
#include "lab/verdict.h"

#include <stdio.h>
#include <string.h>

#include "lab/scenario.h"

#define TW_SECONDS 60.0 /* TCP_TIMEWAIT_LEN, kernel-facts §1 */

typedef unsigned long long ull;

static ull fails(const struct lab_result *r)
{
	return r->eaddrnotavail + r->eaddrinuse + r->other_errors;
}

static ull cli(const struct lab_result *r, enum lab_ctr c)
{
	return r->have_ctr[LAB_CLIENT] ? r->ctr[LAB_CLIENT][c] : 0;
}

/* "ran out after 2.0 s" or "no failure in 3.0 s". */
static void v_exhaust(const struct lab_result *r, char *b, size_t n, const char *why)
{
	if (r->eaddrnotavail)
		snprintf(b, n,
			 "%s: %u ports to one destination ran out after %.1f s (EADDRNOTAVAIL); "
			 "sustainable: %u / 60 s = %.0f connections/s",
			 why, r->ports, r->first_failure_s, r->ports, r->ports / TW_SECONDS);
	else if (!fails(r))
		snprintf(b, n,
			 "%s, yet no failure in %.1f s (%llu connections, %u ports): exhaustion "
			 "comes at %u / 60 s = %.0f connections/s",
			 why, r->elapsed_s, (ull)r->succeeded, r->ports, r->ports,
			 r->ports / TW_SECONDS);
	else
		snprintf(b, n, "%s: %llu failures, none of them EADDRNOTAVAIL", why, (ull)fails(r));
}

static void v_baseline(const struct lab_result *r, char *b, size_t n)
{
	v_exhaust(r, b, n, "client closes first, each port sits 60 s in TIME_WAIT on the client");
}

static void v_server_close(const struct lab_result *r, char *b, size_t n)
{
	snprintf(b, n,
		 "server closes first: TIME_WAIT on the server (peak %u), %u on the client, which "
		 "%s",
		 r->peak_tw[LAB_SERVER], r->peak_tw[LAB_CLIENT],
		 r->eaddrnotavail ? "still ran out of ports" : "never ran short of ports");
}

static void v_keepalive(const struct lab_result *r, char *b, size_t n)
{
	snprintf(b, n,
		 "%llu requests over a few long connections: TIME_WAIT peak %u/%u, %llu failures: "
		 "reusing connections is the fix",
		 (ull)r->succeeded, r->peak_tw[LAB_CLIENT], r->peak_tw[LAB_SERVER], (ull)fails(r));
}

static void v_linger0(const struct lab_result *r, char *b, size_t n)
{
	if (!r->peak_tw[LAB_CLIENT] && !fails(r))
		snprintf(
			b, n,
			"close() sent RST (TCPAbortOnData +%llu): no TIME_WAIT, no failures, but "
			"unsent data is lost and old duplicates are unprotected: a workaround, not "
			"a fix",
			cli(r, LAB_CTR_ABORT_ON_DATA));
	else
		snprintf(b, n, "SO_LINGER {1,0}: client TIME_WAIT peak %u, %llu failures",
			 r->peak_tw[LAB_CLIENT], (ull)fails(r));
}

static void v_reuse(const struct lab_result *r, char *b, size_t n)
{
	ull rec = cli(r, LAB_CTR_TW_RECYCLED);
	double delay = r->reuse_delay_ms ? r->reuse_delay_ms / 1000.0 : 1.0;

	if (!fails(r) && rec)
		snprintf(b, n,
			 "connect() took over %llu TIME_WAITs older than %.1f s (TWRecycled): no "
			 "failure at %.0f/s; the ceiling is ~%u ports / %.1f s = %.0f/s",
			 rec, delay, r->rate, r->ports, delay, r->ports / delay);
	else if (!fails(r))
		snprintf(b, n,
			 "no failure, but no TIME_WAIT was reused either: the load never ran out "
			 "of free ports (%llu connections, %u ports)",
			 (ull)r->succeeded, r->ports);
	else
		snprintf(b, n,
			 "%llu TIME_WAITs reused, yet %llu EADDRNOTAVAIL from %.1f s: %.0f/s is "
			 "above what %u ports / %.1f s reuse delay can carry (~%.0f/s)",
			 rec, (ull)r->eaddrnotavail, r->first_failure_s,
			 r->attempted / (r->elapsed_s > 0 ? r->elapsed_s : 1), r->ports, delay,
			 r->ports / delay);
}

static void v_reuse_no_ts(const struct lab_result *r, char *b, size_t n)
{
	if (!cli(r, LAB_CTR_TW_RECYCLED) && r->eaddrnotavail)
		snprintf(
			b, n,
			"tcp_timestamps=0 disables tcp_tw_reuse: TWRecycled 0, EADDRNOTAVAIL after "
			"%.1f s like baseline; harmful advice",
			r->first_failure_s);
	else
		snprintf(b, n, "tcp_timestamps=0: TWRecycled %llu, %llu EADDRNOTAVAIL",
			 cli(r, LAB_CTR_TW_RECYCLED), (ull)r->eaddrnotavail);
}

static void v_wide(const struct lab_result *r, char *b, size_t n)
{
	v_exhaust(r, b, n, "a wider range only postpones exhaustion");
}

static void v_per_dest(const struct lab_result *r, char *b, size_t n, const char *how)
{
	unsigned d = r->sc->dports;

	if (!fails(r))
		snprintf(b, n,
			 "%s: %u destinations share the %u ports, no failure in %.1f s (%llu "
			 "connections)",
			 how, d, r->ports, r->elapsed_s, (ull)r->succeeded);
	else
		snprintf(b, n,
			 "%s: %u destinations, %u ports, first failure after %.1f s (%llu "
			 "connections succeeded)",
			 how, d, r->ports, r->first_failure_s, (ull)r->succeeded);
}

static void v_two_ports(const struct lab_result *r, char *b, size_t n)
{
	v_per_dest(r, b, n, "ports run out per destination");
}

static void v_bind(const struct lab_result *r, char *b, size_t n)
{
	if (r->eaddrinuse)
		snprintf(b, n,
			 "bind(addr, 0) takes a port for every destination at once: %u ports for "
			 "%u destinations ran out after %.1f s (bind: EADDRINUSE)",
			 r->ports, r->sc->dports, r->first_failure_s);
	else
		v_per_dest(r, b, n, "bind before connect");
}

static void v_bind_no_port(const struct lab_result *r, char *b, size_t n)
{
	v_per_dest(r, b, n, "IP_BIND_ADDRESS_NO_PORT lets connect() pick per destination");
}

static void v_buckets(const struct lab_result *r, char *b, size_t n)
{
	ull o = cli(r, LAB_CTR_TW_OVERFLOW);

	if (o)
		snprintf(b, n,
			 "%llu closes skipped TIME_WAIT (TCPTimeWaitOverflow), TIME_WAIT capped at "
			 "%u, %llu failures: ports saved by losing TIME_WAIT's protection: harmful",
			 o, r->peak_tw[LAB_CLIENT], (ull)fails(r));
	else
		snprintf(b, n, "tcp_max_tw_buckets=%d: no overflow, TIME_WAIT peak %u",
			 r->sc->max_tw_buckets, r->peak_tw[LAB_CLIENT]);
}

static void v_leak(const struct lab_result *r, char *b, size_t n)
{
	snprintf(b, n,
		 "the server never close()s: %u in CLOSE_WAIT on the server, an application bug no "
		 "sysctl fixes; the client's FIN_WAIT2 (peak %u) holds ports too%s",
		 r->peak_cw[LAB_SERVER], r->peak_fw2[LAB_CLIENT],
		 r->eaddrnotavail ? " and ran out" : "");
}

static const struct {
	const char *name;
	void (*fn)(const struct lab_result *r, char *b, size_t n);
} verdicts[] = {
	{ "baseline", v_baseline },	   { "server-close", v_server_close },
	{ "keepalive", v_keepalive },	   { "linger0", v_linger0 },
	{ "tw-reuse", v_reuse },	   { "tw-reuse-no-ts", v_reuse_no_ts },
	{ "wide-range", v_wide },	   { "two-ports", v_two_ports },
	{ "bind-before-connect", v_bind }, { "bind-no-port", v_bind_no_port },
	{ "tw-buckets-low", v_buckets },   { "close-wait-leak", v_leak },
};

void lab_verdict(const struct lab_result *res, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		if (!strcmp(verdicts[i].name, res->sc->name)) {
			verdicts[i].fn(res, buf, len);
			return;
		}
	}
	snprintf(buf, len, "%llu of %llu succeeded", (ull)res->succeeded, (ull)res->attempted);
}
