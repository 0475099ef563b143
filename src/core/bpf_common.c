// SPDX-License-Identifier: MIT
/*
 * The pieces every BPF loader needs once (bpf_common.h).
 */
#include "core/bpf_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum td_bpf_mode bpf_mode(void)
{
	const char *v = getenv("TD_BPF");

	if (v && !strcmp(v, "0"))
		return TD_BPF_OFF;
	if (v && !strcmp(v, "1"))
		return TD_BPF_ALWAYS;
	return TD_BPF_AUTO;
}

#ifdef TD_HAVE_BPF
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!getenv("TD_BPF_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int bpf_prepare(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return errno == EACCES ? -EPERM : -ENOENT;
	libbpf_set_print(quiet);
	return 0;
}
#endif
