/* SPDX-License-Identifier: MIT */
/*
 * The lab's sampler: a thread that takes the census of TIME_WAIT, CLOSE_WAIT and FIN_WAIT2 in
 * both lab namespaces every LAB_SAMPLE_MS (one inet_diag dump per namespace through
 * source_run, with the state filter run in the kernel) together with the client's failure
 * count, so that peaks and a time series for the chart come out of one run.
 *
 * Start, stop and the sample array belong to the controlling thread; the sampler thread only
 * appends while it runs.
 */
#ifndef TD_LAB_SAMPLER_H
#define TD_LAB_SAMPLER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "lab/client.h"
#include "lab/env.h"
#include "lab/scenario.h"

struct lab_sampler {
	const struct lab_env *env;
	const struct lab_client_stats *st;
	struct lab_sample *v;
	size_t n, cap;
	atomic_bool quit;
	pthread_t thread;
	bool running;
	int err;	  /* first source_run error, 0 if none */
	char errmsg[640]; /* room for source_run's message and a prefix */
};

/* Starts sampling. Returns 0 or -errno (thread creation). */
int lab_sampler_start(struct lab_sampler *s, const struct lab_env *env,
		      const struct lab_client_stats *st);

/* Takes one last sample, stops the thread, and hands the samples over to the caller (*out,
 * caller frees; *n). Returns the first census error (0 if none), message in s->errmsg. */
int lab_sampler_stop(struct lab_sampler *s, struct lab_sample **out, size_t *n);

#endif
