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

#include <bpf/bpf.h>
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
	struct td_trace_agg *agg;	 /* where the records of the current poll go */
	int n;				 /* records read in the current poll */
	int ncpus;			 /* the per-CPU map's values */
	struct td_trace_close_val *vals; /* ncpus of them: one row's reading */
	uint64_t stays_ns;		 /* when the open stays were last read */
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

/* For tests: TD_TRACE_CLOSE_ROWS=N makes the kernel's map of close rows that small, so that the
 * closes past it come as records (and must count the same). For bench/trace: TD_TRACE_NOOP=1
 * makes every program return at once, to measure what attaching them costs by itself. */
static void test_knobs(struct td_trace_bpf *skel)
{
	const char *v = getenv("TD_TRACE_CLOSE_ROWS"), *noop = getenv("TD_TRACE_NOOP");
	uint64_t n;

	if (v && !util_parse_u64(v, 1, TD_TRACE_CLOSE_ROWS, &n))
		bpf_map__set_max_entries(skel->maps.closes, (uint32_t)n);
	skel->rodata->noop = noop && !strcmp(noop, "1");
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
	test_knobs(t->skel);
	*why = "loading the BPF programs";
	if ((err = td_trace_bpf__load(t->skel)))
		goto fail;
	*why = "attaching the BPF programs";
	if ((err = td_trace_bpf__attach(t->skel)))
		goto fail;
	*why = "attaching to the syscall tracepoints";
	if (own && (err = attach_exits(t, ids)))
		goto fail;
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = t->ncpus ? t->ncpus : -EINVAL;
		*why = "counting the CPUs";
		goto fail;
	}
	t->vals = xcalloc((size_t)t->ncpus, sizeof(*t->vals));
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

/* The kernel's row k as an event standing for its key (trace_agg_kernel_row) */
static void close_event(const struct td_trace_close_key *k, struct td_trace_event *e)
{
	memset(e, 0, sizeof(*e));
	e->kind = k->kind;
	e->netns = k->netns;
	e->pid = k->pid;
	e->family = k->family;
	e->sport = k->sport;
	e->dport = k->dport;
	e->role = k->sport ? TD_ROLE_ACCEPTED : TD_ROLE_CONNECTED;
	memcpy(e->saddr, k->saddr, sizeof(e->saddr));
	memcpy(e->daddr, k->daddr, sizeof(e->daddr));
	memcpy(e->comm, k->comm, sizeof(e->comm));
}

/* Reads the kernel's rows of closes, summing the CPUs' counts; *open: some stay is open */
static int read_closes(struct td_trace *t, struct td_trace_agg *agg, bool *open)
{
	int fd = bpf_map__fd(t->skel->maps.closes);
	struct td_trace_close_key k, next, *prev = NULL;
	struct td_trace_event e;
	int r;

	trace_agg_kernel_begin(agg);
	while (!(r = bpf_map_get_next_key(fd, prev, &next))) {
		uint64_t count = 0, left = 0, longest = 0;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, t->vals))
			continue; /* rows are never deleted: cannot happen */
		for (int c = 0; c < t->ncpus; c++) {
			count += t->vals[c].count;
			left += t->vals[c].left;
			if (t->vals[c].longest_ns > longest)
				longest = t->vals[c].longest_ns;
		}
		close_event(&k, &e);
		trace_agg_kernel_row(agg, &e, count, left, longest);
		*open = *open || count > left;
	}
	return r == -ENOENT ? 0 : r;
}

/* The CLOSE_WAIT stays still open in the kernel's rows, from the sockets' entries, read in
 * batches */
#define STAY_BATCH 1024
static int read_stays(struct td_trace *t, struct td_trace_agg *agg)
{
	int fd = bpf_map__fd(t->skel->maps.owners);
	uint64_t *keys = xcalloc(STAY_BATCH, sizeof(*keys)), in = 0, out = 0;
	struct td_trace_owner *o = xcalloc(STAY_BATCH, sizeof(*o));
	struct td_trace_event e;
	bool first = true, done = false;
	int r = 0;

	trace_agg_kernel_stays_begin(agg);
	while (!done) {
		__u32 n = STAY_BATCH;

		r = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, o, &n, NULL);
		if (r == -ENOENT) { /* the last batch */
			done = true;
			r = 0;
		} else if (r) {
			break;
		}
		for (__u32 i = 0; i < n; i++) {
			if (!o[i].cw_since)
				continue;
			close_event(&o[i].cw, &e);
			trace_agg_kernel_stay(agg, &e, o[i].cw_since);
		}
		in = out;
		first = false;
	}
	free(keys);
	free(o);
	return r;
}

int trace_sync(struct td_trace *t, struct td_trace_agg *agg, bool stays)
{
	bool open = false;
	int r = read_closes(t, agg, &open);

	if (!r && stays && open && (r = read_stays(t, agg)) == 0)
		t->stays_ns = util_now_ns();
	return r;
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
	/* the rows' counts at every poll; the open stays' ages once a second at most */
	if ((r = trace_sync(t, agg, util_now_ns() - t->stays_ns >= 1000000000ull)))
		return r;
	return t->n;
}

void trace_keep_closers(struct td_trace *t)
{
	__atomic_store_n(&t->skel->bss->closer_records, 1, __ATOMIC_RELAXED);
}

/* Runs of our programs the kernel skipped: a tracepoint hit on a CPU where one of them was
 * running already (an interrupt in the middle of one), counted per program by the kernel */
static uint64_t skipped_runs(const struct td_trace *t)
{
	struct bpf_program *p;
	uint64_t n = 0;

	bpf_object__for_each_program(p, t->skel->obj)
	{
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		memset(&info, 0, sizeof(info));
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			n += info.recursion_misses;
	}
	return n;
}

uint64_t trace_lost(const struct td_trace *t)
{
	return __atomic_load_n(&t->skel->bss->lost, __ATOMIC_RELAXED) + skipped_runs(t);
}

void trace_close(struct td_trace *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	for (int i = 0; i < SYSCALL_TPS; i++)
		bpf_link__destroy(t->tp_links[i]);
	td_trace_bpf__destroy(t->skel);
	free(t->vals);
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

int trace_sync(struct td_trace *t, struct td_trace_agg *agg, bool stays)
{
	(void)t;
	(void)agg;
	(void)stays;
	return -ENOTSUP;
}

void trace_keep_closers(struct td_trace *t)
{
	(void)t;
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
