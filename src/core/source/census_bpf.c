// SPDX-License-Identifier: MIT
/*
 * The loader of the census iterator (src/bpf/census.bpf.c): attach it, create one iterator per
 * count (in the namespace the thread is in then), read it to its end, take the counters from the
 * program's global data. Built for real only with the BPF toolchain (TD_HAVE_BPF); otherwise
 * census_bpf_open() says -ENOTSUP and callers dump over netlink.
 */
#include "core/source/census_bpf.h"

#include <errno.h>
#include <stdlib.h>

#ifdef TD_HAVE_BPF
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/census.h"
#include "census.skel.h"
#include "core/bpf_common.h"
#include "core/sock.h"
#include "core/util.h"

struct td_bpf_census {
	struct td_census_bpf *skel;
	struct bpf_link *link;
};

int census_bpf_open(struct td_bpf_census **out)
{
	struct td_bpf_census *h;

	*out = NULL;
	if (bpf_mode() == TD_BPF_OFF)
		return -ENOTSUP; /* the user turned BPF sources off */
	int r = bpf_prepare();
	if (r)
		return r;
	h = xcalloc(1, sizeof(*h));
	h->skel = td_census_bpf__open_and_load();
	if (!h->skel) {
		r = errno ? -errno : -EINVAL;
		free(h);
		return r;
	}
	h->link = bpf_program__attach_iter(h->skel->progs.td_census, NULL);
	if (!h->link) {
		r = errno ? -errno : -EINVAL;
		census_bpf_close(h);
		return r;
	}
	*out = h;
	return 0;
}

int census_bpf_count(struct td_bpf_census *h, struct td_census *c)
{
	char buf[4096];
	ssize_t n;
	int fd;

	memset(h->skel->bss->counts, 0, sizeof(h->skel->bss->counts));
	h->skel->bss->other_family = 0;
	fd = bpf_iter_create(bpf_link__fd(h->link)); /* walks this thread's namespace */
	if (fd < 0)
		return fd;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
	int r = n < 0 ? -errno : 0;
	close(fd);
	if (r)
		return r;
	memset(c, 0, sizeof(*c));
	for (int f = 0; f < TD_FI_COUNT; f++)
		for (unsigned s = 0; s < TD_CENSUS_STATES; s++)
			c->n[f][s < TD_SS_COUNT ? s : TD_SS_UNKNOWN] += h->skel->bss->counts[f][s];
	return 0;
}

void census_bpf_close(struct td_bpf_census *h)
{
	if (!h)
		return;
	bpf_link__destroy(h->link);
	td_census_bpf__destroy(h->skel);
	free(h);
}

#else /* !TD_HAVE_BPF */

int census_bpf_open(struct td_bpf_census **out)
{
	*out = NULL;
	return -ENOTSUP;
}

int census_bpf_count(struct td_bpf_census *h, struct td_census *c)
{
	(void)h;
	(void)c;
	return -ENOTSUP;
}

void census_bpf_close(struct td_bpf_census *h)
{
	(void)h;
}

#endif
