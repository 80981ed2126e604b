/*
 * introspect.h - read-only views into gosync's internals, for the test
 * suite (and, for the semaphore's held weight, for errgroup's limit
 * check). Not part of the public API.
 */
#ifndef GS_INTROSPECT_H
#define GS_INTROSPECT_H

#include <stddef.h>

#include <gosync/context.h>
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

#endif
