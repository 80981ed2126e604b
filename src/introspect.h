/*
 * introspect.h - read-only views into gosync's internals, for the test
 * suite (and, for the semaphore's held weight, for errgroup's limit
 * check). Not part of the public API.
 */
#ifndef GS_INTROSPECT_H
#define GS_INTROSPECT_H

#include <stddef.h>
#include <stdint.h>

#include <gosync/context.h>
#include <gosync/map.h>
#include <gosync/semaphore.h>
#include <gosync/singleflight.h>

/* How many children are linked under ctx right now. */
size_t gs__ctx_nchildren(gs_ctx_t *ctx);

/* How many references ctx has right now. */
unsigned gs__ctx_refs(gs_ctx_t *ctx);

/* How many callers have joined the running call for key (0 if none). */
size_t gs__singleflight_dups(gs_singleflight_t *g, const void *key,
			     size_t len);

/* How many waiters are queued on s right now. */
int gs__semaphore_waiters(gs_semaphore_t *s);

/* How much weight of s is held right now. */
int64_t gs__semaphore_held(gs_semaphore_t *s);

/*
 * Lets the next n allocations of every map succeed and fails the rest
 * (ENOMEM), until called again; -1 lets all succeed.
 */
void gs__map_fail_allocs(long n);

/* How many allocations the maps asked for on the calling thread. */
size_t gs__map_allocs(void);

/* How many entries m's table holds in its buckets' slots (0: none). */
size_t gs__map_capacity(gs_map_t *m);

/* The seed of m's hash (0 before its first insertion). */
uint64_t gs__map_seed(gs_map_t *m);

#endif
