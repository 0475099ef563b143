// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the sysctl file parser and lint: the input is one file fed line by line
 * through sysctl_parser_new/line/finish, then linted without /proc/sys (so the run is
 * deterministic and touches nothing; inline '#', duplicates grouped by key in a hash table and
 * the cross-key check all run) and every parsed value judged against the knowledge table by
 * params_judge. A second pass splits the same bytes with sysctl_parse_buf.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/sysctl/params.h"
#include "core/sysctl/sysctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct td_kenv env = { PARAMS_KV(6, 18), 262144, 1048576, 1024 };
	/* the low bit of the size picks per-line or per-file reports of keys outside the table */
	struct td_lint_opts o = { .env = &env, .procroot = NULL, .verbose = size & 1 };
	struct td_sysctl_set *s = td_sysctl_set_new();
	struct td_sysctl_parser *p = sysctl_parser_new(s, "fuzz.conf");
	const char *b = (const char *)data;
	size_t i = 0;

	while (i < size) {
		const char *nl = memchr(b + i, '\n', size - i);
		size_t l = nl ? (size_t)(nl - (b + i)) : size - i;
		sysctl_parser_line(p, b + i, l);
		i += l + 1;
	}
	sysctl_parser_finish(p);
	sysctl_lint(s, &o);
	/* every value against every key: the value parsers see all shapes */
	for (size_t e = 0; e < s->nent && e < 8; e++)
		for (size_t k = 0; k < params_count; k++) {
			struct td_verdict v[PARAMS_VERDICTS_MAX];
			size_t n;
			params_judge(&params_table[k], &env, s->ent[e].value, v, &n);
		}
	sysctl_parse_buf(s, "again.conf", b, size);
	td_sysctl_set_free(s);
	return 0;
}
