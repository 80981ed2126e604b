/*
 * gosync/pool.h - gs_pool_t, Go's sync.Pool: a cache of objects for
 * reuse, kept per thread so that a get and a put touch no shared line.
 *
 * A pool holds objects the caller put and may hand any of them to a
 * later gs_pool_get, on any thread; it makes new ones with new_fn when
 * it has none, and frees those it drops with free_fn. Which object a
 * get returns is unspecified: never rely on getting back the one that
 * was put. There is no garbage collector in C, so gs_pool_trim plays
 * its part: an object that stayed in the pool across two trims is
 * freed. The fields are Go's New with two additions, and are named
 * new_fn and free_fn because new is a keyword in C++.
 *
 *	static gs_pool_t buffers = GS_POOL_INIT(buf_new, buf_free, NULL);
 *
 *	struct buf *b = gs_pool_get(&buffers);
 *	...
 *	gs_pool_put(&buffers, b);
 */
#ifndef GOSYNC_POOL_H
#define GOSYNC_POOL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_pool {
	/* Makes an object when the pool has none; may be NULL. */
	void *(*new_fn)(void *arg);
	/* Frees an object the pool drops; NULL means free(). */
	void (*free_fn)(void *obj, void *arg);
	/* Passed to both. */
	void *arg;
	/* Private: belongs to src/sync/pool.c; NULL until the first put. */
	void *impl_;
} gs_pool_t;

#define GS_POOL_INIT(new_fn, free_fn, arg) {(new_fn), (free_fn), (arg), 0}

/*
 * gs_pool_get removes and returns an object from the pool, or, if it
 * has none, returns new_fn(arg), or NULL when there is no new_fn (or it
 * returned NULL).
 */
void *gs_pool_get(gs_pool_t *p);

/*
 * gs_pool_put gives obj to the pool; NULL is ignored. It never fails: if
 * the pool cannot keep obj, it frees it with free_fn.
 */
void gs_pool_put(gs_pool_t *p, void *obj);

/*
 * gs_pool_trim is one garbage collection for the pool: objects cached
 * since the previous trim become its victims, and the previous victims
 * are freed with free_fn.
 */
void gs_pool_trim(gs_pool_t *p);

/*
 * gs_pool_destroy frees every object the pool holds, each once, and
 * leaves the pool empty with its fields kept; objects the caller still
 * holds are the caller's. Nothing may use p concurrently.
 */
void gs_pool_destroy(gs_pool_t *p);

#ifdef __cplusplus
}
#endif

#endif
