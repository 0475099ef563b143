/* SPDX-License-Identifier: MIT */
/*
 * The census of one namespace's TCP sockets counted in the kernel by a BPF iter/tcp program
 * (src/bpf/census.bpf.c): the same numbers as a census of the inet_diag dump (census_add over
 * every socket), without a message per socket. Load once, count in as many namespaces as needed
 * (each count is of the namespace the calling thread is in).
 */
#ifndef TD_CENSUS_BPF_H
#define TD_CENSUS_BPF_H

#include "core/model/census.h"

struct td_bpf_census;

/* Loads the program. Returns 0, -ENOTSUP in a build without BPF, -ENOENT without kernel BTF,
 * -EPERM without the privileges, or another -errno from libbpf. */
int census_bpf_open(struct td_bpf_census **out);
/* Counts the current network namespace into *c (zeroed first). Returns 0 or -errno. */
int census_bpf_count(struct td_bpf_census *h, struct td_census *c);
/* NULL is fine. */
void census_bpf_close(struct td_bpf_census *h);

#endif
