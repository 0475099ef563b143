// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the record reader and replay (record.c, source_replay.c): the input is a
 * whole record file, handed over as a memfd so the real open/fstat/read path runs. Replay must
 * return 0 or a negative errno with a message, never allocate more than the file holds for a
 * chunk (a lying length is refused first), and hand every callback a namespace name that is
 * valid UTF-8 without control characters (names.h), whatever bytes the file held.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/names.h"
#include "core/sock.h"
#include "core/source/source.h"
#include "core/source/source_replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t len = names_utf8_char(u + i, n - i);
		if (!len || (len == 1 && (u[i] < 0x20 || u[i] == 0x7f)) ||
		    (len == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0))
			abort();
		i += len;
	}
}

static int on_begin(const struct td_ns_info *ns, void *arg)
{
	(void)arg;
	check_name(ns->name);
	return 0;
}

static int on_sock(const struct td_sock *sk, void *arg)
{
	unsigned *n = arg;

	if (sk->state == 0 || sk->state >= TD_SS_COUNT)
		abort();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_source_cbs cbs = { on_begin, on_sock, NULL };
	struct td_source_opts o = { 0 };
	char path[64], err[TD_ERRMSG_LEN] = "";
	unsigned n = 0;
	int fd = memfd_create("fuzz-record", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	o.replay = path;
	int r = replay_run(&o, &cbs, &n, err);
	if (r > 0 || (r < 0 && !err[0]))
		abort();
	close(fd);
	return 0;
}
