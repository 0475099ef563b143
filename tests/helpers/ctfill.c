// SPDX-License-Identifier: MIT
/*
 * ctfill: fills the conntrack table of the network namespace it runs in with N UDP flows, fast,
 * for the conntrack lab test and `make bench`; the work is lab_ctfill_run() (src/lab/ctfill.c),
 * which `tcpdoctor lab conntrack-full` uses too. With --assured the entries become ASSURED,
 * which early_drop() never evicts. The namespace's ruleset should drop these packets at input
 * (LAB_CTFILL_NFT_DROP). Bounded: at most 2,000,000 flows and 60 s; it stops on the first error.
 *   usage: ctfill N [--assured]   (prints "flows N sent P ms T")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "lab/ctfill.h"

int main(int argc, char **argv)
{
	uint64_t n;
	bool assured = argc == 3 && !strcmp(argv[2], "--assured");
	struct lab_ctfill res;
	int r;

	if (argc < 2 || argc > 3 || (argc == 3 && !assured)) {
		fprintf(stderr, "usage: ctfill N [--assured]\n");
		return 2;
	}
	if (util_parse_u64(argv[1], 1, LAB_CTFILL_MAX, &n)) {
		fprintf(stderr, "ctfill: N must be 1..%u\n", LAB_CTFILL_MAX);
		return 2;
	}
	r = lab_ctfill_run((unsigned)n, assured, NULL, &res);
	if (r) {
		fprintf(stderr, "ctfill: %s\n", strerror(-r));
		return 1;
	}
	printf("flows %llu sent %llu ms %.0f\n", (unsigned long long)n,
	       (unsigned long long)res.sent, res.ms);
	return 0;
}
