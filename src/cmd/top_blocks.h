/* SPDX-License-Identifier: MIT */
/*
 * Append-only lists of fixed-size items in blocks that never move, for the records `top --by
 * process` keeps until the owners table exists (top_owners.c): a reader in another thread may
 * walk the items already handed to it while more are appended. The first block is 64 KiB, so a
 * small host costs nothing more; the next ones are 2 MiB that the kernel may back with one huge
 * page each (util_big_zalloc): in a VM where a page fault costs 10-20 us, 100,000 records in
 * 4 KiB pages cost more in page faults than in everything else done with them.
 *
 * Not thread-safe by itself: the appending thread must publish a count to readers (a mutex) after
 * writing the items; a block's next pointer is set before any item of the next block is written.
 * Allocation failure aborts.
 */
#ifndef TD_CMD_TOP_BLOCKS_H
#define TD_CMD_TOP_BLOCKS_H

#include <stddef.h>

struct top_blk {
	struct top_blk *next;
	size_t cap;   /* items */
	size_t bytes; /* of the block, for util_big_free */
	_Alignas(16) unsigned char items[];
};

struct top_blocks {
	struct top_blk *first, *last;
	size_t size; /* of an item */
	size_t n;    /* items appended */
	size_t off;  /* items in last */
};

/* Empty, for items of size bytes (at most 4 KiB). */
void top_blocks_init(struct top_blocks *b, size_t size);
/* Room for one more item, uninitialised; the list now counts it. */
void *top_blocks_push(struct top_blocks *b);
/* Frees every block; b is empty again. */
void top_blocks_free(struct top_blocks *b);

/* Walks items in order from the first. */
struct top_blocks_cur {
	const struct top_blk *blk;
	size_t off;
};

static inline struct top_blocks_cur top_blocks_begin(const struct top_blocks *b)
{
	return (struct top_blocks_cur){ b->first, 0 };
}

/* The next item; the caller knows there is one. */
static inline void *top_blocks_next(struct top_blocks_cur *c, size_t size)
{
	if (c->off == c->blk->cap)
		c->blk = c->blk->next, c->off = 0;
	return (void *)(c->blk->items + size * c->off++);
}

#endif
