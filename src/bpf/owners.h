/* SPDX-License-Identifier: MIT */
/*
 * The records the owners iterator (owners.bpf.c) writes to user space (core/source/owners_bpf.c), in
 * the order of a /proc scan: for each process with open files, a TASK record, one SOCK record per
 * socket fd, then an END record with its number of fds. Fixed sizes, native byte order. Included
 * after vmlinux.h on the BPF side and after <linux/types.h> in user space.
 */
#ifndef TD_BPF_OWNERS_H
#define TD_BPF_OWNERS_H

enum td_owners_rec_kind {
	TD_OREC_TASK = 1, /* struct td_orec_task: a process (thread group) starts */
	TD_OREC_SOCK,	  /* struct td_orec: a = fd, b = socket inode */
	TD_OREC_END,	  /* struct td_orec: a = pid, b = fds seen */
};

struct td_orec {
	__u32 kind;
	__u32 a;
	__u64 b;
};

struct td_orec_task {
	__u32 kind;
	__u32 pid; /* thread group id, in the initial pid namespace */
	__u32 uid; /* effective uid */
	__u32 pad;
	char comm[16]; /* the thread group leader's */
};

#endif
