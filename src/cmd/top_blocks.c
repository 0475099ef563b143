// SPDX-License-Identifier: MIT
/*
 * Blocks for top_blocks.h: 64 KiB for the first, then 2 MiB from util_big_zalloc (aligned,
 * marked MADV_HUGEPAGE; where transparent huge pages are off they are ordinary pages).
 */
#include "cmd/top_blocks.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/util.h"

#define FIRST_BYTES (64 * 1024)
#define NEXT_BYTES  (2 * 1024 * 1024) /* util_big_zalloc maps it for huge pages */

static struct top_blk *blk_new(size_t size, bool first)
{
	size_t bytes = first ? FIRST_BYTES : NEXT_BYTES;
	struct top_blk *k = util_big_zalloc(bytes);

	k->bytes = bytes;
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
		util_big_free(k, k->bytes);
	}
	*b = (struct top_blocks){ .size = b->size };
}
