// SPDX-License-Identifier: MIT
/*
 * Insert-only open-addressing hash table (see hashmap.h for why it is written here). Slots hold
 * the entry's index plus 32 high bits of its hash, so a probe touches only the 8-byte slot array
 * until a tag matches; entries live in a dense array in insertion order, which makes iteration,
 * sorting and top-N selection cache-friendly and keeps the slot array small enough (8 bytes per
 * slot) that a 3/4 load factor with linear probing stays within one or two cache lines per
 * lookup.
 */
#include "core/hashmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct td_slot {
	uint32_t idx1; /* entry index + 1; 0 = empty */
	uint32_t tag;  /* high 32 bits of the hash */
};

struct td_hashmap {
	struct td_slot *slots;
	size_t mask; /* slots - 1 */
	unsigned char *ents;
	size_t n, cap; /* entries used, allocated */
	size_t key_size, val_off, stride;
};

#define HASHMAP_MIN_SLOTS   16u
#define HASHMAP_MAX_ENTRIES 0xfffffffeu

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

uint64_t hashmap_hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t hashmap_hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	/* The golden-ratio seed keeps an all-zero key away from the mixer's fixed point at 0. */
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	uint64_t w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = hashmap_hash_u64(h ^ w);
	}
	if (n) {
		w = 0;
		memcpy(&w, b, n);
		h = hashmap_hash_u64(h ^ w);
	}
	return h;
}

struct td_hashmap *hashmap_new(size_t key_size, size_t val_size)
{
	struct td_hashmap *m;

	if (key_size == 0 || key_size > 256 || val_size > 4096)
		abort(); /* a programming error, not input */
	m = xcalloc(1, sizeof(*m));
	m->key_size = key_size;
	m->val_off = round8(key_size);
	m->stride = round8(m->val_off + val_size);
	m->slots = xcalloc(HASHMAP_MIN_SLOTS, sizeof(*m->slots));
	m->mask = HASHMAP_MIN_SLOTS - 1;
	return m;
}

void hashmap_free(struct td_hashmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m->ents);
	free(m);
}

static unsigned char *ent(const struct td_hashmap *m, size_t i)
{
	return m->ents + i * m->stride;
}

/* The slot holding key, or the empty slot where it would go. */
static struct td_slot *probe(const struct td_hashmap *m, const void *key, uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);

	for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
		struct td_slot *s = &m->slots[i];
		if (!s->idx1)
			return s;
		if (s->tag == tag && !memcmp(ent(m, s->idx1 - 1), key, m->key_size))
			return s;
	}
}

static void grow_slots(struct td_hashmap *m)
{
	size_t nslots = (m->mask + 1) * 2;

	free(m->slots);
	m->slots = xcalloc(nslots, sizeof(*m->slots));
	m->mask = nslots - 1;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t h = hashmap_hash_bytes(ent(m, i), m->key_size);
		size_t j = (size_t)h & m->mask;
		while (m->slots[j].idx1)
			j = (j + 1) & m->mask;
		m->slots[j] =
			(struct td_slot){ .idx1 = (uint32_t)(i + 1), .tag = (uint32_t)(h >> 32) };
	}
}

void *hashmap_get(const struct td_hashmap *m, const void *key)
{
	struct td_slot *s = probe(m, key, hashmap_hash_bytes(key, m->key_size));

	return s->idx1 ? ent(m, s->idx1 - 1) + m->val_off : NULL;
}

long hashmap_index(const struct td_hashmap *m, const void *key)
{
	struct td_slot *s = probe(m, key, hashmap_hash_bytes(key, m->key_size));

	return s->idx1 ? (long)s->idx1 - 1 : -1;
}

void *hashmap_put(struct td_hashmap *m, const void *key, bool *added)
{
	uint64_t h = hashmap_hash_bytes(key, m->key_size);
	struct td_slot *s = probe(m, key, h);

	if (added)
		*added = !s->idx1;
	if (s->idx1)
		return ent(m, s->idx1 - 1) + m->val_off;
	if (m->n >= HASHMAP_MAX_ENTRIES)
		abort();
	/* Grow at 3/4 load: linear probing degrades quickly beyond that. */
	if ((m->n + 1) * 4 > (m->mask + 1) * 3) {
		grow_slots(m);
		s = probe(m, key, h);
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->ents = xrealloc(m->ents, m->cap * m->stride);
	}
	unsigned char *e = ent(m, m->n);
	memset(e, 0, m->stride);
	memcpy(e, key, m->key_size);
	m->n++;
	*s = (struct td_slot){ .idx1 = (uint32_t)m->n, .tag = (uint32_t)(h >> 32) };
	return e + m->val_off;
}

size_t hashmap_count(const struct td_hashmap *m)
{
	return m->n;
}

size_t hashmap_slots(const struct td_hashmap *m)
{
	return m->mask + 1;
}

const void *hashmap_key_at(const struct td_hashmap *m, size_t i)
{
	return ent(m, i);
}

void *hashmap_val_at(const struct td_hashmap *m, size_t i)
{
	return ent(m, i) + m->val_off;
}
