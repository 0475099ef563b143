/* SPDX-License-Identifier: MIT */
/*
 * What the BPF loaders (census_bpf.c, owners_bpf.c, trace_bpf.c) share: the user's choice in
 * TD_BPF, and the checks and libbpf settings made before a skeleton is opened.
 */
#ifndef TD_BPF_COMMON_H
#define TD_BPF_COMMON_H

enum td_bpf_mode {
	TD_BPF_AUTO = 0, /* TD_BPF unset (or another value): where it pays */
	TD_BPF_OFF,	 /* TD_BPF=0: no BPF source for reading (trace still needs BPF) */
	TD_BPF_ALWAYS,	 /* TD_BPF=1: BPF sources whatever the size */
};

enum td_bpf_mode bpf_mode(void);

/* Before opening a skeleton: -ENOENT without kernel BTF (-EPERM when it is unreadable);
 * otherwise libbpf is told to keep quiet unless TD_BPF_DEBUG is set, and 0. Only in a build
 * with BPF (TD_HAVE_BPF). */
int bpf_prepare(void);

#endif
