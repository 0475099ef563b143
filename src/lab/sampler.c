// SPDX-License-Identifier: MIT
/*
 * Samples the lab's two namespaces while a scenario runs. Each sample is two source_run calls
 * (one per namespace, by its /run/netns path) asking the kernel only for TIME_WAIT, CLOSE_WAIT
 * and FIN_WAIT2 sockets; source_run enters and leaves the namespace in this thread only. The
 * schedule is absolute (start + k * period) so slow dumps do not stretch the time axis.
 */
#include "lab/sampler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/source/source.h"
#include "core/util.h"

struct tally {
	uint32_t tw, cw, fw2;
};

static int on_sock(const struct td_sock *sk, void *arg)
{
	struct tally *t = arg;

	if (sk->state == TD_SS_TIME_WAIT)
		t->tw++;
	else if (sk->state == TD_SS_CLOSE_WAIT)
		t->cw++;
	else if (sk->state == TD_SS_FIN_WAIT2)
		t->fw2++;
	return 0;
}

static int census(struct lab_sampler *s, enum lab_side side, struct tally *t)
{
	struct td_source_cbs cbs = { .sock = on_sock };
	struct td_source_opts o = {
		.kind = TD_SRC_AUTO,
		.netns = s->env->path[side],
		.states = (1u << TD_SS_TIME_WAIT) | (1u << TD_SS_CLOSE_WAIT) |
			  (1u << TD_SS_FIN_WAIT2),
		.families = TD_FAM_INET,
	};
	char err[TD_ERRMSG_LEN];

	memset(t, 0, sizeof(*t));
	int r = source_run(&o, &cbs, t, err);
	if (r && !s->err) {
		s->err = r;
		snprintf(s->errmsg, sizeof(s->errmsg), "census of %s: %s", s->env->name[side],
			 *err ? err : strerror(-r));
	}
	return r;
}

static void take(struct lab_sampler *s)
{
	struct lab_sample x = { 0 };
	struct tally t[LAB_SIDES];
	uint64_t now;

	for (int side = 0; side < LAB_SIDES; side++)
		if (census(s, (enum lab_side)side, &t[side]))
			return;
	now = util_now_ns();
	x.t_ms = (uint32_t)((now - s->st->start_ns) / 1000000ull);
	for (int side = 0; side < LAB_SIDES; side++) {
		x.tw[side] = t[side].tw;
		x.cw[side] = t[side].cw;
		x.fw2[side] = t[side].fw2;
	}
	x.failures = lab_client_failures(s->st);
	x.succeeded = s->st->succeeded;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 128;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = x;
}

static void *sampler_main(void *arg)
{
	struct lab_sampler *s = arg;
	uint64_t start = util_now_ns();

	for (uint64_t k = 1; !atomic_load(&s->quit); k++) {
		take(s);
		uint64_t due = start + k * LAB_SAMPLE_MS * 1000000ull, now = util_now_ns();
		while (now < due && !atomic_load(&s->quit)) {
			util_sleep_until(due - now > 20000000ull ? now + 20000000ull : due);
			now = util_now_ns();
		}
	}
	return NULL;
}

int lab_sampler_start(struct lab_sampler *s, const struct lab_env *env,
		      const struct lab_client_stats *st)
{
	memset(s, 0, sizeof(*s));
	s->env = env;
	s->st = st;
	atomic_init(&s->quit, false);
	int r = -pthread_create(&s->thread, NULL, sampler_main, s);
	s->running = !r;
	return r;
}

int lab_sampler_stop(struct lab_sampler *s, struct lab_sample **out, size_t *n)
{
	if (s->running) {
		atomic_store(&s->quit, true);
		pthread_join(s->thread, NULL);
		s->running = false;
		take(s); /* the state after the load, in this (controlling) thread */
	}
	*out = s->v;
	*n = s->n;
	s->v = NULL;
	s->n = s->cap = 0;
	return s->err;
}
