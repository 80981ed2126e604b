/*
 * stress_map THREADS ITERATIONS - every thread runs ITERATIONS random
 * operations on one map: on keys of its own, which it checks against
 * what it last did, and on shared counters, which it only increments
 * with compute; meanwhile the map grows, shrinks by deletes, is walked
 * by range and sometimes cleared of its scratch keys. At the end every
 * own key must hold its last value and the counters must sum to the
 * increments made.
 */
#include <stdint.h>
#include <string.h>

#include <gosync/map.h>

#include "stress.h"

#define OWN 4096 /* own keys per thread */

static gs_map_t map;
static atomic_long increments;

static void add_one(void **value, bool *present, void *arg)
{
	(void)arg;
	*value = (void *)((uintptr_t)(*present ? *value : NULL) + 1);
	*present = true;
}

static bool walk(const void *key, size_t len, void *value, void *arg)
{
	(void)key, (void)len, (void)value;
	++*(long *)arg;
	return true;
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned seed = (unsigned)id * 2654435761u + 1;
	uintptr_t *last = calloc(OWN, sizeof *last);
	uint64_t key[2];

	if (!last)
		stress_fail("stress_map", "calloc");
	key[0] = (uint64_t)id << 32;
	for (int i = 0; i < stress_iters; i++) {
		unsigned r = (unsigned)rand_r(&seed), k = r % OWN;
		void *v;

		key[1] = k;
		switch (r >> 16 & 7) {
		case 0:
		case 1:
			if (gs_map_load(&map, key, sizeof key, &v) !=
				    (last[k] != 0) ||
			    (last[k] && (uintptr_t)v != last[k]))
				stress_fail("stress_map", "own key changed");
			break;
		case 2:
		case 3:
			last[k] = (uintptr_t)i + 1;
			if (gs_map_store(&map, key, sizeof key,
					 (void *)last[k]) != 0)
				stress_fail("stress_map", "store");
			break;
		case 4:
			if (gs_map_load_and_delete(&map, key, sizeof key, &v) !=
			    (last[k] != 0))
				stress_fail("stress_map", "delete");
			last[k] = 0;
			break;
		case 5: {
			uint64_t c = r % 16;

			if (gs_map_compute(&map, &c, sizeof c, add_one,
					   NULL) != 0)
				stress_fail("stress_map", "compute");
			atomic_fetch_add(&increments, 1);
			break;
		}
		case 6: {
			long n = 0;

			if (r % 64 == 0)
				gs_map_range(&map, walk, &n);
			break;
		}
		default:
			/* Scratch keys, stored and dropped, drive growth. */
			key[1] = (uint64_t)r << 20;
			if (gs_map_store(&map, key, sizeof key, NULL) != 0)
				stress_fail("stress_map", "store");
			gs_map_delete(&map, key, sizeof key);
			break;
		}
	}
	for (unsigned k = 0; k < OWN; k++) {
		void *v;

		key[1] = k;
		if (gs_map_load(&map, key, sizeof key, &v) != (last[k] != 0) ||
		    (last[k] && (uintptr_t)v != last[k]))
			stress_fail("stress_map", "own key lost at the end");
	}
	free(last);
	return NULL;
}

int main(int argc, char **argv)
{
	uintptr_t sum = 0;

	stress_args(argc, argv, "stress_map");
	stress_run(worker, stress_threads);
	for (uint64_t c = 0; c < 16; c++) {
		void *v;

		if (gs_map_load(&map, &c, sizeof c, &v))
			sum += (uintptr_t)v;
	}
	if (sum != (uintptr_t)atomic_load(&increments))
		stress_fail("stress_map", "compute increments lost");
	printf("stress_map: %d threads x %d operations, %zu entries: ok\n",
	       stress_threads, stress_iters, gs_map_len(&map));
	gs_map_destroy(&map);
	return 0;
}
