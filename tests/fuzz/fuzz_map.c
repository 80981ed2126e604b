/*
 * fuzz_map.c - a libFuzzer target: the input is decoded into a sequence
 * of map operations (two bytes each: the operation and a key, then a
 * value byte where one is needed), run on a gs_map_t and on a plain
 * array holding the same entries; any difference aborts. Some steps
 * make the next operation's allocations fail, and then the map must
 * either have done the operation or be exactly as it was.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gosync/map.h>

#include "introspect.h"

#define NKEYS 40

struct entry {
	bool present;
	void *value;
};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_map: %s\n", what);
	abort();
}

/* Key i: i % 23 bytes (0 included), some past 16, all distinct. */
static size_t key_of(unsigned i, unsigned char *key)
{
	size_t len = i % 23 + (i >= 23 ? 17 : 0);

	for (size_t j = 0; j < len; j++)
		key[j] = (unsigned char)(i * 7 + j);
	return len;
}

struct walk {
	struct entry *ref;
	int seen;
};

static bool visit(const void *key, size_t len, void *value, void *arg)
{
	struct walk *w = arg;
	unsigned char k[64];

	for (unsigned i = 0; i < NKEYS; i++) {
		size_t l = key_of(i, k);

		if (l == len && memcmp(k, key, len) == 0) {
			if (!w->ref[i].present || w->ref[i].value != value)
				fail("range saw an entry the reference lacks");
			w->seen++;
			return true;
		}
	}
	fail("range saw an unknown key");
	return false;
}

static void check_all(gs_map_t *m, struct entry *ref)
{
	struct walk w = {ref, 0};
	int n = 0;

	for (unsigned i = 0; i < NKEYS; i++) {
		unsigned char k[64];
		size_t len = key_of(i, k);
		void *v;
		bool had = gs_map_load(m, k, len, &v);

		if (had != ref[i].present || (had && v != ref[i].value))
			fail("load differs from the reference");
		n += ref[i].present;
	}
	gs_map_range(m, visit, &w);
	if (w.seen != n || gs_map_len(m) != (size_t)n)
		fail("range or len differs from the reference");
}

static void bump(void **value, bool *present, void *arg)
{
	uintptr_t v = (uintptr_t)(*present ? *value : NULL) + 1;

	*value = (void *)v;
	*present = v % 5 != 0 && arg != NULL; /* sometimes it deletes */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entry ref[NKEYS] = {{0}};
	gs_map_t m = GS_MAP_INIT;
	long fail_next = -1;

	for (size_t p = 0; p + 2 <= size; p += 3) {
		unsigned op = data[p] % 12, i = data[p + 1] % NKEYS;
		void *v = (void *)(uintptr_t)(p + 2 < size ? data[p + 2] : 1);
		unsigned char k[64];
		size_t len = key_of(i, k);
		struct entry *e = &ref[i], before = *e;
		void *got = NULL;
		bool loaded = false;
		int err = 0;

		gs__map_fail_allocs(fail_next);
		switch (op) {
		case 0:
			if (gs_map_load(&m, k, len, &got) != e->present ||
			    (e->present && got != e->value))
				fail("load");
			break;
		case 1:
			if ((err = gs_map_store(&m, k, len, v)) == 0)
				*e = (struct entry){true, v};
			break;
		case 2:
			err = gs_map_load_or_store(&m, k, len, v, &got,
						   &loaded);
			if (!err && (loaded != before.present ||
				     got != (loaded ? before.value : v)))
				fail("load_or_store");
			if (!err && !loaded)
				*e = (struct entry){true, v};
			break;
		case 3:
			if (gs_map_load_and_delete(&m, k, len, &got) !=
				    e->present ||
			    (e->present && got != e->value))
				fail("load_and_delete");
			e->present = false;
			break;
		case 4:
			gs_map_delete(&m, k, len);
			e->present = false;
			break;
		case 5:
			err = gs_map_swap(&m, k, len, v, &got, &loaded);
			if (!err && (loaded != before.present ||
				     got != (loaded ? before.value : NULL)))
				fail("swap");
			if (!err)
				*e = (struct entry){true, v};
			break;
		case 6: {
			void *old = data[p] & 0x80 ? e->value : v;
			bool ok = e->present && e->value == old;

			if (gs_map_compare_and_swap(&m, k, len, old, v) != ok)
				fail("compare_and_swap");
			if (ok)
				e->value = v;
			break;
		}
		case 7: {
			void *old = data[p] & 0x80 ? e->value : v;
			bool ok = e->present && e->value == old;

			if (gs_map_compare_and_delete(&m, k, len, old) != ok)
				fail("compare_and_delete");
			if (ok)
				e->present = false;
			break;
		}
		case 8:
			if (data[p] & 0x10) {
				gs_map_clear(&m);
				memset(ref, 0, sizeof ref);
			}
			break;
		case 9:
			err = gs_map_compute(&m, k, len, bump, v);
			if (!err) {
				uintptr_t n = (uintptr_t)(e->present ? e->value
								     : NULL) +
					      1;
				*e = (struct entry){n % 5 != 0 && v != NULL,
						    (void *)n};
			}
			break;
		case 10:
			check_all(&m, ref);
			break;
		default:
			/* The next operation may allocate this many times. */
			fail_next = data[p + 1] % 4;
			continue;
		}
		gs__map_fail_allocs(-1);
		fail_next = -1;
		if (err != 0 && err != ENOMEM)
			fail("an error other than ENOMEM");
		if (err != 0) {
			*e = before; /* unchanged: the check below proves it */
			check_all(&m, ref);
		}
	}
	gs__map_fail_allocs(-1);
	check_all(&m, ref);
	gs_map_destroy(&m);
	return 0;
}
