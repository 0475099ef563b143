// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the two port sysctl parsers of src/core/model/ports.c. The input, as a
 * NUL-terminated heap copy, goes to both ip_local_port_range and ip_local_reserved_ports
 * parsing. Whatever parses must hold the invariants (1 <= low <= high; capacity within the
 * range) and survive a round trip: printed back in the kernel's format, it parses to the same
 * value. Failures abort.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The kernel's format: ascending, ranges as a-b, comma-separated. */
static char *print_reserved(const uint8_t *bm)
{
	char *out = malloc(65536 * 7 + 1), *p = out;

	*p = '\0';
	for (unsigned i = 0; i < 65536;) {
		if (!(bm[i / 8] & (1u << (i % 8)))) {
			i++;
			continue;
		}
		unsigned j = i;
		while (j + 1 < 65536 && (bm[(j + 1) / 8] & (1u << ((j + 1) % 8))))
			j++;
		p += sprintf(p, p == out ? "%u" : ",%u", i);
		if (j > i)
			p += sprintf(p, "-%u", j);
		i = j + 1;
	}
	return out;
}

static void check_range(const char *s)
{
	uint16_t lo, hi, lo2, hi2;
	char buf[32];
	struct td_port_cfg c;

	if (ports_parse_range(s, &lo, &hi))
		return;
	if (lo < 1 || hi < lo)
		abort();
	snprintf(buf, sizeof(buf), "%u\t%u\n", lo, hi);
	if (ports_parse_range(buf, &lo2, &hi2) || lo2 != lo || hi2 != hi)
		abort();
	ports_cfg_default(&c);
	c.low = lo;
	c.high = hi;
	unsigned cap = ports_capacity(&c), pref = ports_preferred(&c);
	if (cap > (unsigned)(hi - lo) + 1 || pref > cap || cap - pref > pref)
		abort();
}

static void check_reserved(const char *s)
{
	static uint8_t bm[65536 / 8], bm2[65536 / 8];

	if (ports_parse_reserved(s, bm))
		return;
	char *txt = print_reserved(bm);
	if (ports_parse_reserved(txt, bm2) || memcmp(bm, bm2, sizeof(bm)))
		abort();
	free(txt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	check_range(s);
	check_reserved(s);
	free(s);
	return 0;
}
