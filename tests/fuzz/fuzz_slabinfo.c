// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for model_ct_slab_parse (src/core/model/model_ct.c), the reader of /proc/slabinfo
 * that finds the nf_conntrack slab's object size. The input is not NUL-terminated; whatever the
 * bytes, the parser must stay inside them and return 0 with a size from 1 to 1 MiB, -ENOENT or
 * -EBADMSG.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	uint64_t b = 0;
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = model_ct_slab_parse(buf, size, &b);
	if (r != 0 && r != -ENOENT && r != -EBADMSG)
		abort();
	if (r == 0 && (b < 1 || b > (1u << 20)))
		abort();
	free(buf);
	return 0;
}
