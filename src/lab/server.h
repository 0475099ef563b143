/* SPDX-License-Identifier: MIT */
/*
 * The lab's server: listening sockets made inside the server namespace, one thread with an
 * epoll accept loop that answers each request with a short reply and then closes, waits for
 * the client to close, or (close-wait-leak) never closes at all.
 *
 * lab_server_start/stop are called from one controlling thread; the counters are atomics the
 * controller may read while the server runs.
 */
#ifndef TD_LAB_SERVER_H
#define TD_LAB_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lab/env.h"
#include "lab/scenario.h"

struct lab_server {
	enum lab_close close;
	unsigned nports;
	int lfd[LAB_MAX_DPORTS];
	int epfd, stopfd;
	uint8_t *open; /* open[fd] = 1 for every accepted socket still open (fd-indexed) */
	size_t open_cap;
	pthread_t thread;
	bool running;
	_Atomic uint64_t accepted, leaked, errors;
};

/*
 * Makes the listening sockets (198.18.0.2, ports LAB_PORT_BASE..+nports-1) inside the server
 * namespace and starts the thread. Returns 0 or -errno; on error nothing is left open.
 */
int lab_server_start(struct lab_server *s, const struct lab_env *env, enum lab_close close,
		     unsigned nports);

/* Stops the thread and closes every socket it has, leaked ones included. Safe to call on a
 * server that failed to start or was stopped already. */
void lab_server_stop(struct lab_server *s);

#endif
