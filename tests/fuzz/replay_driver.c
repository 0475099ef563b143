// SPDX-License-Identifier: MIT
/*
 * Runs a libFuzzer harness over a seed corpus without libFuzzer, so `make check` replays every
 * kept input (seeds and past crashers) under ASan/UBSan on any compiler. Feeds each regular
 * file of the directory to LLVMFuzzerTestOneInput and prints one TAP line; a crash is caught
 * by the sanitizers and ends the run with a non-zero status.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs are small by design; a bigger file is a mistake in the corpus, not a test. */
#define REPLAY_MAX_INPUT (16u << 20)

static int replay_file(const char *path, unsigned *n)
{
	struct stat sb;
	char *buf;
	size_t len;
	int r;

	if (stat(path, &sb) || !S_ISREG(sb.st_mode))
		return 0;
	r = util_read_file(path, REPLAY_MAX_INPUT, &buf, &len);
	if (r)
		return r;
	/* An exact-size copy: the NUL util_read_file appends would hide over-reads. */
	uint8_t *exact = xmalloc(len ? len : 1);
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	(*n)++;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = 0;
	int r = 0;
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	printf("1..1\n");
	d = opendir(argv[1]);
	if (!d) {
		printf("not ok 1 - %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (struct dirent *e; (e = readdir(d)) && !r;) {
		char path[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		r = replay_file(path, &n);
		if (r)
			printf("# %s: %s\n", path, strerror(-r));
	}
	closedir(d);
	if (r || n == 0) {
		printf("not ok 1 - %u inputs from %s\n", n, argv[1]);
		return 1;
	}
	printf("ok 1 - %u inputs from %s\n", n, argv[1]);
	return 0;
}
