// SPDX-License-Identifier: MIT
/*
 * The loader of `trace`: opens the libbpf skeleton generated from src/bpf/trace.bpf.c, narrows it
 * to one namespace if asked, loads and attaches it, and moves the ring buffer's records into an
 * aggregate (trace.c). Built for real only with the BPF toolchain (TD_HAVE_BPF, see the
 * Makefile); otherwise every entry point says -ENOTSUP, so the rest of tcpdoctor never needs
 * libbpf. Never prints: libbpf's own messages are dropped unless TD_BPF_DEBUG is set.
 */
#include "core/trace/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef TD_HAVE_BPF
#include <stdio.h>

#include <bpf/libbpf.h>

#include "core/bpf_common.h"
#include "core/util.h"
#include "trace.skel.h"

struct td_trace {
	struct td_trace_bpf *skel;
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

int trace_open(const struct td_trace_opts *o, struct td_trace **out, const char **why)
{
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
	*why = "loading the BPF programs";
	if ((err = td_trace_bpf__load(t->skel)))
		goto fail;
	*why = "attaching the BPF programs";
	if ((err = td_trace_bpf__attach(t->skel)))
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
	r = timeout_ms > 0 ? ring_buffer__poll(t->rb, timeout_ms) : ring_buffer__consume(t->rb);
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
