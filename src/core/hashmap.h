/* SPDX-License-Identifier: MIT */
/*
 * A small insert-only hash table for fixed-size keys and values: open addressing with linear
 * probing over a power-of-two slot array, entries kept dense in insertion order so they can be
 * iterated, sorted and indexed without touching the slots. It backs every table that must stay
 * O(1) per socket: inode -> owner (owners.c), per-destination port usage (ports.c) and the
 * group-by tables of `top` (groups.c).
 *
 * Written here rather than taken from a Debian package, after looking at what Debian ships:
 * uthash-dev chains an intrusive 56-byte handle and a separate allocation per element (a pointer
 * chase per probe, ~3x the memory at a million inodes); GLib's GHashTable (libglib2.0-dev) keys
 * on pointers, so a 64-bit inode or a 40-byte destination key must be boxed in its own allocation,
 * and it would pull GLib into a tool that otherwise needs none; libck-dev's ck_ht is built for
 * concurrent readers and needs its own allocator glue. None of them stores small POD keys inline,
 * which is the one thing these tables need; this file is ~200 lines.
 *
 * Keys are hashed and compared as raw bytes: zero a key struct (memset or = { 0 }) before filling
 * it so that padding bytes are defined. Not thread-safe; no removal (streaming aggregation never
 * removes). Allocation failure aborts (util.h x-allocators).
 */
#ifndef TD_HASHMAP_H
#define TD_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct td_hashmap;

/* A table of key_size-byte keys (1..256) mapping to val_size-byte values (0..4096), both
 * stored inline. Never returns NULL. */
struct td_hashmap *hashmap_new(size_t key_size, size_t val_size);

/* Frees the table and every entry. NULL is fine. */
void hashmap_free(struct td_hashmap *m);

/* The value stored for key, or NULL. The pointer stays valid until the next hashmap_put. */
void *hashmap_get(const struct td_hashmap *m, const void *key);

/* The value for key, inserting a zero-filled one if key is new (*added, if non-NULL, tells).
 * The pointer stays valid until the next hashmap_put. Can't fail (aborts on OOM, or past
 * 2^32 - 2 entries). */
void *hashmap_put(struct td_hashmap *m, const void *key, bool *added);

/* Number of entries. */
size_t hashmap_count(const struct td_hashmap *m);

/* Entry i (0 <= i < count) in insertion order; pointers valid until the next hashmap_put. */
const void *hashmap_key_at(const struct td_hashmap *m, size_t i);
void *hashmap_val_at(const struct td_hashmap *m, size_t i);

/* The index in insertion order of key's entry, or -1. */
long hashmap_index(const struct td_hashmap *m, const void *key);

/* Number of slots (a power of two, kept at most 3/4 full). For tests and statistics. */
size_t hashmap_slots(const struct td_hashmap *m);

/* The hash functions the table uses, exposed for tests: a 64-bit integer mixer (the
 * MurmurHash3/SplitMix64 finaliser: every input bit affects every output bit) and a hash of n
 * bytes built on it. */
uint64_t hashmap_hash_u64(uint64_t x);
uint64_t hashmap_hash_bytes(const void *p, size_t n);

#endif
