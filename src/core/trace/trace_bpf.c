// SPDX-License-Identifier: MIT
/*
 * The loader of `trace`: opens the libbpf skeleton generated from src/bpf/trace.bpf.c, narrows it
 * to one namespace if asked, loads and attaches it, and moves the ring buffer's records into an
 * aggregate (trace.c). Built for real only with the BPF toolchain (TD_HAVE_BPF, see the
 * Makefile); otherwise every entry point says -ENOTSUP, so the rest of tcpdoctor never needs
 * libbpf. connect(), bind() and accept() are watched from their own syscall tracepoints, attached
 * through perf_event_open by the ids tracefs gives (tracefs.h), so that the system's other
 * syscalls run no program; without tracefs (or with TD_TRACE_SYSEXIT=raw, for tests) from the
 * raw sys_exit tracepoint, which they all pass. Never prints: libbpf's own messages are dropped
 * unless TD_BPF_DEBUG is set.
 */
#include "core/trace/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef TD_HAVE_BPF
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include <bpf/libbpf.h>

#include "core/bpf_common.h"
#include "core/trace/tracefs.h"
#include "core/util.h"
#include "trace.skel.h"

/* The syscall tracepoints and the program each runs */
#define SYSCALL_TPS 4
static const char *const tp_names[SYSCALL_TPS] = {
	"syscalls/sys_exit_connect",
	"syscalls/sys_exit_bind",
	"syscalls/sys_exit_accept",
	"syscalls/sys_exit_accept4",
};

struct td_trace {
	struct td_trace_bpf *skel;
	struct bpf_link *tp_links[SYSCALL_TPS];
	struct ring_buffer *rb;
	struct td_trace_agg *agg; /* where the records of the current poll go */
	int n;			  /* records read in the current poll */
};

bool trace_supported(void)
{
	return true;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct td_trace *t = ctx;

	if (size < sizeof(struct td_trace_event))
		return 0; /* not ours: the BPF side writes only whole records */
	trace_agg_add(t->agg, data);
	t->n++;
	return 0;
}

static struct bpf_program *tp_prog(struct td_trace_bpf *skel, int i)
{
	struct bpf_program *p[SYSCALL_TPS] = { skel->progs.td_exit_connect,
					       skel->progs.td_exit_bind, skel->progs.td_exit_accept,
					       skel->progs.td_exit_accept };
	return p[i];
}

/* Which way the syscalls are watched, before loading: 1 by their own tracepoints (ids filled),
 * 0 by the raw sys_exit */
static int choose_exits(struct td_trace_bpf *skel, int ids[SYSCALL_TPS])
{
	const char *v = getenv("TD_TRACE_SYSEXIT");
	bool own = !(v && !strcmp(v, "raw")) && !tracefs_event_ids(tp_names, ids, SYSCALL_TPS);

	bpf_program__set_autoload(skel->progs.td_sys_exit, !own);
	for (int i = 0; i < SYSCALL_TPS; i++) {
		bpf_program__set_autoload(tp_prog(skel, i), own);
		bpf_program__set_autoattach(tp_prog(skel, i), false);
	}
	return own;
}

static int attach_exits(struct td_trace *t, const int ids[SYSCALL_TPS])
{
	for (int i = 0; i < SYSCALL_TPS; i++) {
		struct perf_event_attr a = { .type = PERF_TYPE_TRACEPOINT,
					     .size = sizeof(a),
					     .config = (uint64_t)ids[i],
					     .sample_period = 1,
					     .wakeup_events = 1 };
		/* one event on CPU 0 is enough: the program runs wherever the tracepoint fires */
		int fd = (int)syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0)
			return -errno;
		t->tp_links[i] = bpf_program__attach_perf_event(tp_prog(t->skel, i), fd);
		if (!t->tp_links[i]) {
			int err = -errno;
			close(fd);
			return err;
		}
	}
	return 0;
}

int trace_open(const struct td_trace_opts *o, struct td_trace **out, const char **why)
{
	int ids[SYSCALL_TPS], own;
	struct td_trace *t;
	const char *dummy;
	int err;

	why = why ? why : &dummy;
	*out = NULL;
	if ((err = bpf_prepare())) {
		*why = "the kernel has no BTF (/sys/kernel/btf/vmlinux: CONFIG_DEBUG_INFO_BTF)";
		return err;
	}
	t = xcalloc(1, sizeof(*t));
	*why = "opening the BPF object";
	t->skel = td_trace_bpf__open();
	if (!t->skel) {
		err = -errno;
		goto fail;
	}
	t->skel->rodata->filter_netns = o ? o->netns : 0;
	own = choose_exits(t->skel, ids);
	*why = "loading the BPF programs";
	if ((err = td_trace_bpf__load(t->skel)))
		goto fail;
	*why = "attaching the BPF programs";
	if ((err = td_trace_bpf__attach(t->skel)))
		goto fail;
	*why = "attaching to the syscall tracepoints";
	if (own && (err = attach_exits(t, ids)))
		goto fail;
	*why = "creating the ring buffer";
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_record, t, NULL);
	if (!t->rb) {
		err = -errno;
		goto fail;
	}
	*why = NULL;
	*out = t;
	return 0;
fail:
	trace_close(t);
	return err < 0 ? err : -EINVAL;
}

int trace_poll(struct td_trace *t, struct td_trace_agg *agg, int timeout_ms)
{
	int r;

	t->agg = agg;
	t->n = 0;
	/* the programs wake us only when the ring fills up (a wakeup per event would cost more
	 * than the event): what came meanwhile is read once the wait is over */
	r = timeout_ms > 0 ? ring_buffer__poll(t->rb, timeout_ms) : 0;
	if (r >= 0 || r == -EINTR) {
		int c = ring_buffer__consume(t->rb);
		r = c < 0 ? c : r;
	}
	if (r < 0)
		return r;
	return t->n;
}

uint64_t trace_lost(const struct td_trace *t)
{
	return __atomic_load_n(&t->skel->bss->lost, __ATOMIC_RELAXED);
}

void trace_close(struct td_trace *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	for (int i = 0; i < SYSCALL_TPS; i++)
		bpf_link__destroy(t->tp_links[i]);
	td_trace_bpf__destroy(t->skel);
	free(t);
}

#else /* no BPF in this build */

struct td_trace {
	int unused;
};

bool trace_supported(void)
{
	return false;
}

int trace_open(const struct td_trace_opts *o, struct td_trace **out, const char **why)
{
	(void)o;
	*out = NULL;
	if (why)
		*why = "this build has no BPF support";
	return -ENOTSUP;
}

int trace_poll(struct td_trace *t, struct td_trace_agg *agg, int timeout_ms)
{
	(void)t;
	(void)agg;
	(void)timeout_ms;
	return -ENOTSUP;
}

uint64_t trace_lost(const struct td_trace *t)
{
	(void)t;
	return 0;
}

void trace_close(struct td_trace *t)
{
	(void)t;
}

#endif
