// SPDX-License-Identifier: MIT
/*
 * Blocks for top_blocks.h: malloc for the first, then 2 MiB-aligned anonymous mappings marked
 * MADV_HUGEPAGE (where transparent huge pages are off, or the kernel has none to give, they are
 * ordinary pages and nothing else changes).
 */
#include "cmd/top_blocks.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "core/util.h"

#define FIRST_BYTES (64 * 1024)
#define HUGE_BYTES  (2 * 1024 * 1024)

/* A 2 MiB mapping aligned on 2 MiB (a huge page can back only an aligned one), or NULL. */
static void *map_huge(void)
{
	size_t len = 2 * HUGE_BYTES;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	char *a = (char *)(((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + HUGE_BYTES < p + len)
		munmap(a + HUGE_BYTES, (size_t)(p + len - (a + HUGE_BYTES)));
	(void)madvise(a, HUGE_BYTES, MADV_HUGEPAGE); /* a hint: fine if refused */
	return a;
}

static struct top_blk *blk_new(size_t size, bool first)
{
	struct top_blk *k = first ? NULL : map_huge();
	size_t bytes = HUGE_BYTES;

	if (!k) {
		bytes = first ? FIRST_BYTES : HUGE_BYTES;
		k = xmalloc(bytes);
		k->maplen = 0;
	} else {
		k->maplen = HUGE_BYTES;
	}
	k->next = NULL;
	k->cap = (bytes - sizeof(*k)) / size;
	return k;
}

void top_blocks_init(struct top_blocks *b, size_t size)
{
	if (!size || size > 4096)
		abort(); /* a programming error */
	*b = (struct top_blocks){ .size = size };
}

void *top_blocks_push(struct top_blocks *b)
{
	if (!b->last) {
		b->first = b->last = blk_new(b->size, true);
	} else if (b->off == b->last->cap) {
		b->last->next = blk_new(b->size, false);
		b->last = b->last->next;
		b->off = 0;
	}
	b->n++;
	return b->last->items + b->size * b->off++;
}

void top_blocks_free(struct top_blocks *b)
{
	for (struct top_blk *k = b->first, *next; k; k = next) {
		next = k->next;
		if (k->maplen)
			munmap(k, k->maplen);
		else
			free(k);
	}
	*b = (struct top_blocks){ .size = b->size };
}
