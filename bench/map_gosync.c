/*
 * map_gosync.c - gosync's gs_map_t behind bench_map's map_impl.h
 * interface: a 64-bit key is passed as its 8 bytes, in host order.
 * Built only when the tree has src/sync/map.c.
 */
#include "map_impl.h"

#include <gosync/map.h>

#include <stdlib.h>
#include <string.h>

static void *gs_create(void)
{
	gs_map_t *m = malloc(sizeof(*m));

	if (m == NULL)
		map_impl_oom("gs_map");
	*m = (gs_map_t)GS_MAP_INIT;
	return m;
}

static void gs_destroy(void *m)
{
	gs_map_destroy(m);
	free(m);
}

static bool gs_load(void *m, uint64_t key, void **value)
{
	return gs_map_load(m, &key, sizeof(key), value);
}

static void gs_store(void *m, uint64_t key, void *value)
{
	if (gs_map_store(m, &key, sizeof(key), value) != 0)
		map_impl_oom("gs_map_store");
}

static void gs_del(void *m, uint64_t key)
{
	gs_map_delete(m, &key, sizeof(key));
}

static bool gs_load_or_store(void *m, uint64_t key, void *value,
                             void **actual)
{
	bool loaded;

	if (gs_map_load_or_store(m, &key, sizeof(key), value, actual,
	                         &loaded) != 0)
		map_impl_oom("gs_map_load_or_store");
	return loaded;
}

static bool gs_load_and_delete(void *m, uint64_t key, void **value)
{
	return gs_map_load_and_delete(m, &key, sizeof(key), value);
}

struct gs_range_arg {
	map_range_fn fn;
	void *arg;
};

static bool gs_range_one(const void *key, size_t len, void *value, void *arg)
{
	const struct gs_range_arg *a = arg;
	uint64_t k = 0;

	if (len == sizeof(k))
		memcpy(&k, key, sizeof(k));
	return a->fn(k, value, a->arg);
}

static void gs_range(void *m, map_range_fn fn, void *arg)
{
	struct gs_range_arg a = {fn, arg};

	gs_map_range(m, gs_range_one, &a);
}

const struct map_impl map_impl_gosync = {
        .name = "gosync gs_map",
        .create = gs_create,
        .destroy = gs_destroy,
        .load = gs_load,
        .store = gs_store,
        .del = gs_del,
        .load_or_store = gs_load_or_store,
        .load_and_delete = gs_load_and_delete,
        .range = gs_range,
};
