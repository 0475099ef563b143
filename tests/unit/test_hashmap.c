// SPDX-License-Identifier: MIT
/* Unit tests for src/core/hashmap.c: exact lookups across many growths, insertion order,
 * composite keys, zeroed values, the load-factor bound and the mixer's avalanche. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/hashmap.h"
#include "core/util.h"

static void test_u64_keys(void **state)
{
	struct td_hashmap *m = hashmap_new(sizeof(uint64_t), sizeof(uint64_t));
	const uint64_t n = 200000;
	bool added;

	(void)state;
	/* Sequential and strided keys: the patterns inode numbers follow. */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = 1000000 + i * 4096;
		uint64_t *v = hashmap_put(m, &k, &added);
		assert_true(added);
		assert_int_equal(*v, 0);
		*v = i + 1;
		assert_true(hashmap_count(m) * 4 <= hashmap_slots(m) * 3);
	}
	assert_int_equal(hashmap_count(m), n);
	size_t slots = hashmap_slots(m);
	assert_int_equal(slots & (slots - 1), 0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = 1000000 + i * 4096;
		uint64_t *v = hashmap_get(m, &k);
		assert_non_null(v);
		assert_int_equal(*v, i + 1);
		assert_int_equal(hashmap_index(m, &k), (long)i);
		assert_int_equal(*(const uint64_t *)hashmap_key_at(m, i), k);
		assert_int_equal(*(uint64_t *)hashmap_val_at(m, i), i + 1);
	}
	uint64_t k = 1000001;
	assert_null(hashmap_get(m, &k));
	assert_int_equal(hashmap_index(m, &k), -1);
	/* put on an existing key returns the same value and adds nothing */
	k = 1000000;
	assert_int_equal(*(uint64_t *)hashmap_put(m, &k, &added), 1);
	assert_false(added);
	assert_int_equal(hashmap_count(m), n);
	hashmap_free(m);
	hashmap_free(NULL);
}

struct key40 {
	uint32_t netns;
	uint16_t port;
	uint8_t family, pad;
	uint8_t a[16], b[16];
};

static void test_composite_keys(void **state)
{
	struct td_hashmap *m = hashmap_new(sizeof(struct key40), 3); /* odd value size */
	struct key40 k;

	(void)state;
	for (unsigned i = 0; i < 5000; i++) {
		memset(&k, 0, sizeof(k));
		k.netns = i % 7;
		k.port = (uint16_t)i;
		k.b[15] = (uint8_t)(i >> 8);
		unsigned char *v = hashmap_put(m, &k, NULL);
		assert_int_equal(v[0] | v[1] | v[2], 0);
		memcpy(v, "xyz", 3);
	}
	assert_int_equal(hashmap_count(m), 5000);
	memset(&k, 0, sizeof(k));
	k.netns = 4999 % 7;
	k.port = 4999;
	k.b[15] = 4999 >> 8;
	assert_memory_equal(hashmap_get(m, &k), "xyz", 3);
	k.b[14] = 1; /* one byte off: a different key */
	assert_null(hashmap_get(m, &k));
	hashmap_free(m);
}

static void test_set(void **state)
{
	struct td_hashmap *m = hashmap_new(2, 0);
	bool added;

	(void)state;
	for (unsigned i = 0; i < 65536; i++) {
		uint16_t k = (uint16_t)(i * 40503u);
		hashmap_put(m, &k, &added);
		assert_true(added); /* 40503 is odd: a bijection on 16 bits */
	}
	assert_int_equal(hashmap_count(m), 65536);
	hashmap_free(m);
}

static int popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

static void test_mixer(void **state)
{
	uint64_t flips = 0, samples = 0;

	(void)state;
	/* Flipping any input bit flips close to half the output bits on average. */
	for (uint64_t x = 1; x < 2000; x++) {
		for (int b = 0; b < 64; b++) {
			flips += (uint64_t)popcount64(hashmap_hash_u64(x) ^
						      hashmap_hash_u64(x ^ (1ULL << b)));
			samples++;
		}
	}
	double avg = (double)flips / (double)samples;
	assert_true(avg > 31.0 && avg < 33.0);
	/* equal bytes hash equal; a byte more or less does not */
	assert_true(hashmap_hash_bytes("abcdefghij", 10) == hashmap_hash_bytes("abcdefghij", 10));
	assert_true(hashmap_hash_bytes("abcdefghij", 10) != hashmap_hash_bytes("abcdefghij", 9));
	assert_true(hashmap_hash_bytes("\0\0\0\0\0\0\0\0", 8) != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_keys),
		cmocka_unit_test(test_composite_keys),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_mixer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
