// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for `conntrack --replay` (ct_record.c over record.c): the input is a whole
 * record file, handed over as a memfd so the real open/fstat/read path runs. Replay must return
 * 0 or a negative errno with a message naming the file, hand the callbacks namespace names that
 * are valid UTF-8 without control characters, begin and end namespaces in pairs, and deliver
 * only entries whose TCP state is in range.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/conntrack/conntrack.h"
#include "core/conntrack/ct_record.h"
#include "core/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	int open;
	uint64_t entries;
};

static int on_begin(void *arg, const char *name)
{
	struct seen *s = arg;
	const unsigned char *u = (const unsigned char *)name;
	size_t n = strlen(name);

	for (size_t i = 0; i < n;) {
		size_t len = names_utf8_char(u + i, n - i);
		if (!len || (len == 1 && (u[i] < 0x20 || u[i] == 0x7f)))
			abort();
		i += len;
	}
	if (s->open)
		abort();
	s->open = 1;
	return 0;
}

static int on_sysctls(void *arg, const struct td_ct_io *io)
{
	struct td_ct_table t;
	struct td_ct_timeout to[TD_CT_TIMEOUTS];

	(void)arg;
	conntrack_table_read_io(&t, io);
	conntrack_timeouts_read_io(to, io);
	return 0;
}

static int on_entry(const struct td_ct *ct, void *arg)
{
	struct seen *s = arg;

	if (ct->tcp_state >= TD_CT_TCP_COUNT || !s->open)
		abort();
	s->entries++;
	return 0;
}

static int on_stats(void *arg, unsigned pass, const struct td_ct_stats *st)
{
	(void)arg;
	(void)st;
	if (pass > 1)
		abort();
	return 0;
}

static int on_end(void *arg, int dump_err, const struct td_ct_dump_stats *st)
{
	struct seen *s = arg;

	(void)st;
	if (!s->open || dump_err > 0 || dump_err < -4095)
		abort();
	s->open = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct td_ct_replay_cbs cbs = { on_begin, on_sysctls, on_entry, on_stats,
						     on_end };
	struct seen s = { 0 };
	char path[64], err[512];
	bool netns, interval;
	int fd = memfd_create("fuzz-ct-record", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int r = ct_record_replay(path, &cbs, &s, &netns, &interval, err, sizeof(err));
	if (r > 0 || (r < 0 && (!err[0] || !strstr(err, path))))
		abort();
	if (r == 0 && s.open)
		abort();
	close(fd);
	return 0;
}
