// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the /proc/net counter parsers. The first byte picks the file format
 * (snmp, netstat or sockstat); the rest is the text, handed over as an exact-size heap copy so
 * the sanitizers see any read past its end. A successful parse is then read back through the
 * look-ups and a delta against itself, which must be zero and never backwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/counters.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum counters_src src = (enum counters_src)(data[0] % COUNTERS_SRC_COUNT);
	size_t len = size - 1;
	char *text = malloc(len ? len : 1);
	struct td_counters *c = counters_new();
	struct td_counters_err err;

	memcpy(text, data + 1, len);
	if (counters_parse(c, src, text, len, &err) == 0) {
		for (size_t i = 0; i < c->n; i++) {
			const struct td_counters_entry *e = &c->v[i];
			struct td_counters_delta d;
			if (counters_get(c, e->src, e->section, e->name) != e)
				abort();
			counters_delta(c, c, e->src, e->section, e->name, &d);
			if (d.missing || d.backwards || d.delta)
				abort();
		}
		for (int i = 0; i < COUNTERS_ID_COUNT; i++) {
			uint64_t v;
			(void)counters_value(c, (enum counters_id)i, &v);
		}
	} else if (c->n != 0) {
		abort(); /* a failed parse must leave the snapshot as it was */
	}
	counters_free(c);
	free(text);
	return 0;
}
