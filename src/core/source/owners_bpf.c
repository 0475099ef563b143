// SPDX-License-Identifier: MIT
/*
 * The owners table from the BPF task_file iterator (src/bpf/owners.bpf.c): load the program,
 * read the iterator to its end in large blocks, and feed its records (bpf/owners.h) to the same
 * builder the /proc scan uses, so both give the same table. Built for real only with the BPF
 * toolchain (TD_HAVE_BPF); otherwise it says -ENOTSUP and owners_scan() scans /proc.
 *
 * The program comes as a light skeleton (bpftool gen skeleton -L): a loader program run in the
 * kernel creates its map, finds the BTF ids and applies the CO-RE relocations there, in about
 * 2 ms. libbpf's skeleton reads and parses the kernel's BTF (5 MiB) in user space first, 60 ms
 * here, most of it page faults. The light loader needs Linux 5.17 (CO-RE in the kernel); where
 * it fails, the libbpf skeleton of the same object loads it.
 */
#include "core/source/owners.h"

#include <errno.h>

#ifdef TD_HAVE_BPF
#include <linux/types.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/bpf_common.h"
#include "core/source/owners_build.h"
#include "core/util.h"
#include "owners.lskel.h"
#include "owners.skel.h"

#define READ_BUF (256 * 1024)

/* Reads the iterator behind fd to its end into rd. */
static int drain(int fd, struct td_owners_reader *rd)
{
	char *buf = xmalloc(READ_BUF);
	size_t have = 0;
	int r = 0;

	for (;;) {
		ssize_t n = read(fd, buf + have, READ_BUF - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0) {
			r = have ? -EPROTO : 0; /* a truncated record at the end */
			break;
		}
		have += (size_t)n;
		long used = owners_reader_feed(rd, buf, have);
		if (used < 0) {
			r = (int)used;
			break;
		}
		memmove(buf, buf + used, have - (size_t)used);
		have -= (size_t)used;
	}
	free(buf);
	return r;
}

/* What keeps the iterator's program alive: one of the two skeletons. */
struct loaded {
	struct td_owners_lbpf *light;
	struct td_owners_bpf *skel;
	struct bpf_link *link;
};

/* An iterator fd from the light skeleton, or -errno. */
static int iter_light(struct loaded *l)
{
	int r;

	if (!(l->light = td_owners_lbpf__open()))
		return -ENOMEM;
	if ((r = td_owners_lbpf__load(l->light)) < 0 || (r = td_owners_lbpf__attach(l->light)) < 0)
		return r;
	r = bpf_iter_create(l->light->links.td_owners_fd);
	return r < 0 ? -errno : r;
}

/* The same from libbpf's skeleton. */
static int iter_libbpf(struct loaded *l)
{
	int r;

	if (!(l->skel = td_owners_bpf__open_and_load()))
		return errno ? -errno : -EINVAL;
	if (!(l->link = bpf_program__attach_iter(l->skel->progs.td_owners, NULL)))
		return errno ? -errno : -EINVAL;
	r = bpf_iter_create(bpf_link__fd(l->link));
	return r < 0 ? -errno : r;
}

static void loaded_free(struct loaded *l)
{
	td_owners_lbpf__destroy(l->light);
	bpf_link__destroy(l->link);
	td_owners_bpf__destroy(l->skel);
	*l = (struct loaded){ 0 };
}

int owners_scan_bpf(struct td_owners **out, struct td_owners_stats *st_out)
{
	struct td_owners_stats st = { .via = TD_OWNERS_VIA_BPF };
	struct td_owners_reader rd;
	struct loaded l = { 0 };
	int r, fd;

	*out = NULL;
	if ((r = bpf_prepare()))
		return r;
	if ((fd = iter_light(&l)) < 0) {
		loaded_free(&l);
		fd = iter_libbpf(&l);
	}
	if (fd < 0) {
		loaded_free(&l);
		return fd;
	}
	owners_reader_init(&rd, &st, getpid());
	owners_build_presize(&rd.b);
	r = drain(fd, &rd);
	close(fd);
	loaded_free(&l);
	struct td_owners *o = owners_build_finish(&rd.b);
	/* The iterator names processes by their pids in the kernel's first pid namespace; from
	 * inside another one (a container) those are not the pids /proc and the user see. */
	if (!r && !rd.self_seen)
		r = -EXDEV;
	if (r) {
		owners_free(o);
		return r;
	}
	if (st_out)
		*st_out = st;
	*out = o;
	return 0;
}

#else /* !TD_HAVE_BPF */

int owners_scan_bpf(struct td_owners **out, struct td_owners_stats *st)
{
	(void)st;
	*out = NULL;
	return -ENOTSUP;
}

#endif
