/* SPDX-License-Identifier: MIT */
/*
 * The lab's scenarios and what one run of a scenario measures. A scenario is a row of a const
 * table: who closes first, how the client binds, how many server ports it spreads over, and
 * which sysctls it sets inside the lab's namespaces. lab_scenario_run() drives one scenario in
 * an env made by lab_env_create(): server, client and sampler threads, counter snapshots before
 * and after, and a one-line verdict worded after kernel-facts.md.
 *
 * lab_scenario_run() is not thread-safe with itself (one run at a time per env); it starts and
 * joins its own threads before it returns.
 */
#ifndef TD_LAB_SCENARIO_H
#define TD_LAB_SCENARIO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/env.h"

enum lab_close {
	LAB_CLOSE_CLIENT = 0, /* client closes first: TIME_WAIT on the client */
	LAB_CLOSE_SERVER,     /* server closes right after its reply (HTTP/1.0) */
	LAB_CLOSE_KEEPALIVE,  /* a few long connections carry every request */
	LAB_CLOSE_LINGER0,    /* client closes with SO_LINGER {1, 0}: RST */
	LAB_CLOSE_LEAK,	      /* server never closes: CLOSE_WAIT piles up */
};

enum lab_bind {
	LAB_BIND_NONE = 0, /* connect() picks the port */
	LAB_BIND_PORT,	   /* bind(client addr, 0) before connect() */
	LAB_BIND_NO_PORT,  /* the same with IP_BIND_ADDRESS_NO_PORT */
};

#define LAB_PORT_BASE	   8000 /* server ports 8000, 8001, ... */
#define LAB_MAX_DPORTS	   4
#define LAB_TW_BUCKETS_LOW 100

struct lab_scenario {
	const char *name;
	const char *summary;
	enum lab_close close;
	enum lab_bind bind;
	unsigned dports;    /* server ports the client spreads over, 1..LAB_MAX_DPORTS */
	bool wide_range;    /* keep the kernel's default ip_local_port_range */
	int tw_reuse;	    /* client tcp_tw_reuse, -1 = namespace default (2) */
	int timestamps;	    /* client tcp_timestamps, -1 = default (1) */
	int max_tw_buckets; /* client tcp_max_tw_buckets, -1 = default */
};

extern const struct lab_scenario lab_scenarios[];
extern const size_t lab_scenarios_count;

/* Looks a scenario up by name. NULL when there is none. */
const struct lab_scenario *lab_scenario_find(const char *name);

/* One census sample of both namespaces, taken every LAB_SAMPLE_MS. */
#define LAB_SAMPLE_MS 100
struct lab_sample {
	uint32_t t_ms;		 /* since the client started */
	uint32_t tw[LAB_SIDES];	 /* TIME_WAIT */
	uint32_t cw[LAB_SIDES];	 /* CLOSE_WAIT */
	uint32_t fw2[LAB_SIDES]; /* FIN_WAIT2, including timewait FIN_WAIT2 orphans */
	uint64_t failures;	 /* client failures so far */
	uint64_t succeeded;
};

/* The kernel counters a run reports, per side (kernel-facts §13). */
enum lab_ctr {
	LAB_CTR_TW_RECYCLED = 0,
	LAB_CTR_TW_OVERFLOW,
	LAB_CTR_ACTIVE_OPENS,
	LAB_CTR_PASSIVE_OPENS,
	LAB_CTR_ESTAB_RESETS,
	LAB_CTR_ABORT_ON_DATA,
	LAB_CTR_LISTEN_OVERFLOWS,
	LAB_CTR_COUNT,
};
/* Kernel name of a lab counter ("TWRecycled"). */
const char *lab_ctr_name(enum lab_ctr c);

struct lab_config {
	unsigned ports;	      /* client ip_local_port_range size (not for wide-range) */
	double rate;	      /* connections (requests) per second; 0 = as fast as possible */
	uint64_t duration_ms; /* load time per scenario */
	uint64_t max_conns;   /* cap on attempts per scenario */
	const volatile sig_atomic_t *stop; /* set by a signal handler: end early */
	/* Called once per scenario after the load stopped, while both namespaces and their
	 * sockets still exist: TIME_WAIT lasts 60 s, so the client namespace is at (or within a
	 * sample of) its worst moment. This is where `doctor` findings for the client namespace
	 * will be collected. May be NULL. Return <0 to abort the run. */
	int (*worst_hook)(const struct lab_env *env, const struct lab_scenario *sc, void *arg);
	void *hook_arg;
};

struct lab_result {
	const struct lab_scenario *sc;
	uint64_t attempted, succeeded;
	uint64_t eaddrnotavail; /* connect(): no free local port for this destination */
	uint64_t eaddrinuse;	/* bind(addr, 0): no free local port at all */
	uint64_t other_errors;
	int first_other_errno; /* errno of the first other error, 0 if none */
	double elapsed_s;
	double rate;		/* succeeded per second */
	double first_failure_s; /* < 0: none */
	uint32_t peak_tw[LAB_SIDES], peak_cw[LAB_SIDES], peak_fw2[LAB_SIDES];
	bool have_ctr[LAB_SIDES];
	uint64_t ctr[LAB_SIDES][LAB_CTR_COUNT]; /* deltas over the run */
	unsigned ports;				/* local ports the client had */
	unsigned reuse_delay_ms;		/* tcp_tw_reuse_delay, 0 if the kernel has none */
	struct lab_sample *samples;
	size_t nsamples;
	char verdict[320];
};

/*
 * Runs one scenario in env (fresh, from lab_env_create). Returns 0 with res filled (free with
 * lab_result_clear), or -errno with a message in err: a sysctl that could not be set, a thread
 * or socket that could not be made, or the hook's error. An interrupted run (cfg->stop) still
 * returns 0 with what was measured so far.
 */
int lab_scenario_run(const struct lab_config *cfg, const struct lab_scenario *sc,
		     const struct lab_env *env, struct lab_result *res, char *err, size_t errlen);

/* Frees the samples; accepts a zeroed result. */
void lab_result_clear(struct lab_result *res);

#endif
