/* SPDX-License-Identifier: MIT */
/*
 * The lab's client load generator: one thread in the client namespace opening short
 * connections (or reusing a few long ones) at a target rate or as fast as it can, bounded by a
 * duration and a cap on attempts, and classifying what fails (EADDRNOTAVAIL from connect(),
 * EADDRINUSE from bind(addr, 0), anything else).
 *
 * The controller starts and joins the thread; the statistics are atomics it may read while the
 * client runs (the sampler does, every 100 ms).
 */
#ifndef TD_LAB_CLIENT_H
#define TD_LAB_CLIENT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lab/env.h"
#include "lab/scenario.h"

struct lab_client_stats {
	_Atomic uint64_t attempted, succeeded, eaddrnotavail, eaddrinuse, other;
	_Atomic uint64_t first_fail_ns; /* since start, 0 = none yet */
	_Atomic uint64_t start_ns;	/* util_now_ns() when the load began */
	_Atomic int first_errno;	/* of the first "other" failure, for the report */
};

struct lab_client {
	const struct lab_env *env;
	const struct lab_scenario *sc;
	double rate;
	uint64_t duration_ns, max_conns;
	const volatile sig_atomic_t *stop;
	struct lab_client_stats st;
	pthread_t thread;
	bool running;
	int setns_err;
};

/* Starts the load in its own thread. Returns 0 or -errno (thread creation). */
int lab_client_start(struct lab_client *c, const struct lab_env *env, const struct lab_scenario *sc,
		     const struct lab_config *cfg);

/* Waits for the load to end (duration, cap or stop flag). Returns 0, or -errno when the thread
 * could not enter the client namespace. Safe on a client that never started. */
int lab_client_join(struct lab_client *c);

/* Failures so far (every kind). */
uint64_t lab_client_failures(const struct lab_client_stats *st);

#endif
