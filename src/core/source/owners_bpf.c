// SPDX-License-Identifier: MIT
/*
 * The owners table from the BPF task_file iterator (src/bpf/owners.bpf.c): load the program,
 * read the iterator to its end in large blocks, and feed its records (bpf/owners.h) to the same
 * builder the /proc scan uses, so both give the same table. Built for real only with the BPF
 * toolchain (TD_HAVE_BPF); otherwise it says -ENOTSUP and owners_scan() scans /proc.
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

int owners_scan_bpf(struct td_owners **out, struct td_owners_stats *st_out)
{
	struct td_owners_stats st = { .via = TD_OWNERS_VIA_BPF };
	struct td_owners_reader rd;
	struct td_owners_bpf *skel;
	struct bpf_link *link = NULL;
	int r, fd = -1;

	*out = NULL;
	if ((r = bpf_prepare()))
		return r;
	skel = td_owners_bpf__open_and_load();
	if (!skel)
		return errno ? -errno : -EINVAL;
	link = bpf_program__attach_iter(skel->progs.td_owners, NULL);
	if (!link) {
		r = errno ? -errno : -EINVAL;
		goto done;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		r = fd;
		goto done;
	}
	owners_reader_init(&rd, &st, getpid());
	r = drain(fd, &rd);
	struct td_owners *o = owners_build_finish(&rd.b);
	/* The iterator names processes by their pids in the kernel's first pid namespace; from
	 * inside another one (a container) those are not the pids /proc and the user see. */
	if (!r && !rd.self_seen)
		r = -EXDEV;
	if (r) {
		owners_free(o);
		goto done;
	}
	if (st_out)
		*st_out = st;
	*out = o;
done:
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	td_owners_bpf__destroy(skel);
	return r;
}

#else /* !TD_HAVE_BPF */

int owners_scan_bpf(struct td_owners **out, struct td_owners_stats *st)
{
	(void)st;
	*out = NULL;
	return -ENOTSUP;
}

#endif
