/* SPDX-License-Identifier: MIT */
/*
 * The lab's conntrack-full scenario (tcp-facts.md#conntrack): the client namespace tracks
 * connections (an nftables ruleset with a ct rule), its table is filled with ASSURED UDP flows
 * up to nf_conntrack_max (the host's limit, which a child namespace's own count may reach),
 * and the seed incident's symptoms are measured: new TCP connects out and in, an ICMP echo and
 * a UDP DNS request fail while a connection established before keeps working, with the
 * conntrack statistics before and after. Then the remedies, measured side by side: a notrack
 * rule for the new connections' port, and a shorter nf_conntrack_tcp_timeout_time_wait in the
 * namespace beside the default. Nothing outside env's namespaces is read or written except
 * the host's nf_conntrack_max, read from inside the client namespace.
 *
 * lab_ct_full_run() runs in the calling thread (it forks nft, so call it with no other
 * threads running) and returns to the caller's namespace before it returns.
 */
#ifndef TD_LAB_CT_FULL_H
#define TD_LAB_CT_FULL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conntrack/conntrack.h"
#include "lab/ct_probe.h"
#include "lab/ctfill.h"
#include "lab/env.h"

#define LAB_CT_FULL_NAME "conntrack-full"
#define LAB_CT_FULL_SUMMARY                                                                        \
	"a full conntrack table: new TCP, ICMP and UDP fail, old flows work; notrack and a "       \
	"shorter conntrack TIME_WAIT (run only when named)"
#define LAB_CT_MAX_LIMIT     1048576 /* refuse a host limit that would take too long to fill */
#define LAB_CT_NOTRACK_CONNS 100
#define LAB_CT_TW_CONNS	     100
#define LAB_CT_TW_SHORT_S    2

enum lab_ct_phase { LAB_CT_BEFORE = 0, LAB_CT_FULL, LAB_CT_NOTRACK, LAB_CT_PHASES };

struct lab_ct_config {
	const volatile sig_atomic_t *stop;
	/* Called once with the table full, before the probes (doctor's findings for the client
	 * namespace). May be NULL. Return <0 to abort the run. */
	int (*full_hook)(const struct lab_env *env, void *arg);
	void *hook_arg;
};

struct lab_ct_result {
	uint64_t max, buckets;
	uint64_t count_before; /* entries before the fill: the established connection's */
	uint64_t count_full, count_notrack;
	struct lab_ctfill fill;
	uint64_t dumped, assured; /* tcpdoctor's dump of the full table */
	uint64_t touched; /* entries that needed packets to become ASSURED (sum of rounds) */
	/* statistics before and after the probes of the full table, and after the notrack ones */
	struct td_ct_stats st[LAB_CT_PHASES];
	int8_t probe[LAB_CT_PHASES][LAB_CT_PROBES]; /* 1 worked, 0 failed, -1 not tried */
	unsigned nt_conns, nt_ok; /* short connections to the notrack port in the full table */
	/* TIME_WAIT remedy: [0] default timeout, [1] shortened */
	unsigned tw_timeout_s[2], tw_conns, tw_ok[2];
	uint64_t tw_now[2], tw_later[2]; /* TIME_WAIT entries right after and tw_wait_s later */
	double tw_wait_s;
	double elapsed_s;
	bool interrupted;
	char verdict[480];
};

/*
 * Runs the scenario in env (fresh, from lab_env_create). Returns 0 with res filled (an
 * interrupted run returns 0 with res->interrupted and what was measured), or -errno with a
 * message in err: no nft, a table that could not be read or filled, a socket that could not be
 * made, or the hook's error.
 */
int lab_ct_full_run(const struct lab_ct_config *cfg, const struct lab_env *env,
		    struct lab_ct_result *res, char *err, size_t errlen);

#endif
