// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Socket owners in one pass: an iter/task_file program that walks every process's open files
 * in the kernel (threads sharing a file table are visited once) and writes, per process, who it
 * is, the inode of each socket it holds and how many fds it has (records in owners.h). It
 * replaces a readlink() per fd under /proc/PID/fd with one read() of the iterator for all of
 * them. The program runs once per (process, file) and once more at the end with no task.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "bpf/owners.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define S_IFMT_	  0170000
#define S_IFSOCK_ 0140000

/* The process being walked: the iterator runs the program for one reader at a time. */
__u32 cur_pid;
__u32 cur_fds;
__u64 records;

static void end_task(struct seq_file *seq)
{
	struct td_orec r = { TD_OREC_END, cur_pid, cur_fds };

	if (cur_pid)
		bpf_seq_write(seq, &r, sizeof(r));
	cur_pid = 0;
	cur_fds = 0;
}

SEC("iter/task_file")
int td_owners(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;

	if (!task || !file) {
		end_task(seq); /* the last call */
		return 0;
	}
	__u32 pid = task->tgid;
	if (pid != cur_pid) {
		struct td_orec_task t = { .kind = TD_OREC_TASK, .pid = pid };

		end_task(seq);
		cur_pid = pid;
		t.uid = BPF_CORE_READ(task, cred, euid.val);
		BPF_CORE_READ_STR_INTO(&t.comm, task, group_leader, comm);
		bpf_seq_write(seq, &t, sizeof(t));
	}
	cur_fds++;
	struct inode *inode = file->f_inode;
	if (inode && (inode->i_mode & S_IFMT_) == S_IFSOCK_) {
		struct td_orec r = { TD_OREC_SOCK, ctx->fd, inode->i_ino };

		bpf_seq_write(seq, &r, sizeof(r));
	}
	return 0;
}
