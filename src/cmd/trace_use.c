// SPDX-License-Identifier: MIT
/*
 * A trace inside doctor, top, watch and serve (--trace): the namespace filter from -N, the
 * messages `trace` gives when BPF, BTF or the privilege is missing, a timed run that Ctrl-C ends
 * early (the command then reports what it saw), and a background thread that keeps counting
 * while watch refreshes or serve answers scrapes, its aggregate behind a lock.
 */
#include "cmd/trace_use.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/model/model.h"
#include "core/source/netns.h"
#include "core/util.h"

#define TRACE_MAX_S (7 * 86400)

int trace_use_parse(const struct td_global *g, const char *arg, uint64_t *ms, int bad_exit)
{
	if (util_parse_seconds(arg, TRACE_MAX_S, ms) || !*ms) {
		cmd_usage_err(g, "--trace '%s': expected seconds, more than 0 and at most %d", arg,
			      TRACE_MAX_S);
		return bad_exit;
	}
	return 0;
}

/* -N NS: its inode; -N all: 0 (every namespace); none: the current namespace's */
static int filter_ino(const struct td_global *g, uint32_t *ino)
{
	struct td_netns n;
	struct stat st;
	int r;

	*ino = 0;
	if (g->netns && !strcmp(g->netns, "all"))
		return 0;
	if (!g->netns) {
		if (stat("/proc/self/ns/net", &st))
			return -errno;
		*ino = (uint32_t)st.st_ino;
		return 0;
	}
	if ((r = netns_open(g->netns, &n)))
		return r;
	r = fstat(n.fd, &st) ? -errno : 0;
	if (!r)
		*ino = (uint32_t)st.st_ino;
	netns_free_one(&n);
	return r;
}

int trace_use_open(const struct td_global *g, struct td_trace **t, int fail_exit)
{
	struct td_trace_opts o = { 0 };
	const char *why = NULL;
	int r;

	*t = NULL;
	if (g->replay) {
		cmd_usage_err(g,
			      "--trace watches the live kernel; a recorded dump holds no events");
		return fail_exit;
	}
	if ((r = filter_ino(g, &o.netns))) {
		cmd_err(g, "namespace '%s': %s", g->netns ? g->netns : "", strerror(-r));
		return fail_exit;
	}
	if (!(r = trace_open(&o, t, &why)))
		return 0;
	if (r == -ENOTSUP)
		cmd_err(g, "--trace: this build has no BPF support: install clang, bpftool and "
			   "libbpf-dev (scripts/install-deps bpf, as root) and rebuild tcpdoctor");
	else if (r == -EPERM || r == -EACCES)
		cmd_err(g, "--trace: %s: %s: needs root (or CAP_BPF and CAP_PERFMON)", why,
			strerror(-r));
	else if (r == -ENOENT && why && strstr(why, "BTF"))
		cmd_err(g, "--trace: %s: trace needs it to load its programs", why);
	else
		cmd_err(g, "--trace: %s: %s", why ? why : "BPF", strerror(-r));
	return fail_exit;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int trace_use_run(const struct td_global *g, struct td_trace *t, struct td_trace_agg *agg,
		  uint64_t ms, double *secs, int fail_exit)
{
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	uint64_t start = util_now_ns(), end = start + ms * 1000000ull, now;
	int r = 0;

	stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	cmd_err(g, "tracing for %.1f s (Ctrl-C ends it early)", (double)ms / 1000);
	while (!stop && (now = util_now_ns()) < end) {
		int wait = (end - now) / 1000000 < 200 ? (int)((end - now) / 1000000) + 1 : 200;
		r = trace_poll(t, agg, wait);
		if (r < 0 && r != -EINTR)
			break;
		r = 0;
	}
	while (!r && trace_poll(t, agg, 0) > 0) /* what was queued before we stopped */
		;
	if (!r)
		r = trace_sync(t, agg, true); /* the open CLOSE_WAIT stays as of now */
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	*secs = (double)(util_now_ns() - start) / 1e9;
	if (r) {
		cmd_err(g, "--trace: reading events: %s", strerror(-r));
		return fail_exit;
	}
	return 0;
}

struct td_trace_bg {
	struct td_trace *t;
	struct td_trace_agg *agg;
	pthread_t thread;
	pthread_mutex_t lock;
	volatile sig_atomic_t stop;
	int err;
	uint64_t start_ns;
};

static void *bg_main(void *arg)
{
	struct td_trace_bg *b = arg;
	struct timespec pause = { 0, 50 * 1000000L };

	while (!b->stop) {
		int r;
		pthread_mutex_lock(&b->lock);
		r = trace_poll(b->t, b->agg, 0);
		pthread_mutex_unlock(&b->lock);
		if (r < 0 && r != -EINTR) {
			b->err = r;
			break;
		}
		if (r == 0)
			nanosleep(&pause, NULL);
	}
	return NULL;
}

int trace_bg_start(const struct td_global *g, struct td_trace_bg **out, int fail_exit)
{
	struct td_trace_bg *b = xcalloc(1, sizeof(*b));
	int r;

	*out = NULL;
	if ((r = trace_use_open(g, &b->t, fail_exit))) {
		free(b);
		return r;
	}
	b->agg = trace_agg_new();
	b->start_ns = util_now_ns();
	pthread_mutex_init(&b->lock, NULL);
	if ((r = pthread_create(&b->thread, NULL, bg_main, b))) {
		cmd_err(g, "--trace: %s", strerror(r));
		trace_close(b->t);
		trace_agg_free(b->agg);
		free(b);
		return fail_exit;
	}
	cmd_err(g, "tracing in the background");
	*out = b;
	return 0;
}

struct td_trace_row *trace_bg_rows(struct td_trace_bg *b, enum td_trace_section s, size_t *n,
				   uint64_t *events, uint64_t *lost)
{
	struct td_trace_row *rows;

	pthread_mutex_lock(&b->lock);
	while (trace_poll(b->t, b->agg, 0) > 0) /* up to now */
		;
	trace_sync(b->t, b->agg, true); /* a failure leaves the last reading */
	rows = trace_agg_rows(b->agg, s, util_now_ns(), n);
	if (lost)
		*lost = trace_lost(b->t);
	if (events)
		*events = trace_agg_events(b->agg);
	pthread_mutex_unlock(&b->lock);
	return rows;
}

void trace_bg_attach(struct td_trace_bg *b, struct td_model *m)
{
	pthread_mutex_lock(&b->lock);
	while (trace_poll(b->t, b->agg, 0) > 0)
		;
	trace_sync(b->t, b->agg, true);
	model_trace_attach(m, b->agg, (double)(util_now_ns() - b->start_ns) / 1e9,
			   trace_lost(b->t));
	pthread_mutex_unlock(&b->lock);
}

void trace_bg_stop(struct td_trace_bg *b)
{
	if (!b)
		return;
	b->stop = 1;
	pthread_join(b->thread, NULL);
	pthread_mutex_destroy(&b->lock);
	trace_close(b->t);
	trace_agg_free(b->agg);
	free(b);
}
