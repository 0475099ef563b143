// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the comparison apply uses to read a value back (sysctl_apply_same):
 * the input is two values separated by the first NUL byte (the whole input is both when there is
 * none). Whatever the bytes, the comparison must be reflexive and symmetric, and it must never
 * read past either string (port lists are parsed into a 65536-bit map).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sysctl/sysctl_apply.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t la = nul ? (size_t)(nul - data) : size;
	char *a = xmalloc(la + 1), *b;

	memcpy(a, data, la);
	a[la] = '\0';
	if (nul) {
		size_t lb = size - la - 1;
		b = xmalloc(lb + 1);
		memcpy(b, nul + 1, lb);
		b[lb] = '\0';
	} else {
		b = xstrdup(a);
	}
	if (!sysctl_apply_same(a, a) || !sysctl_apply_same(b, b) ||
	    sysctl_apply_same(a, b) != sysctl_apply_same(b, a))
		abort();
	free(a);
	free(b);
	return 0;
}
