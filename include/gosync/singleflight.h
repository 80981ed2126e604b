/*
 * gosync/singleflight.h - gs_singleflight_t, golang.org/x/sync's
 * singleflight: concurrent calls for one key share one execution.
 *
 * The first caller for a key (the leader) runs the function on its own
 * thread; callers that arrive while it runs wait and receive the same
 * value and error, with shared set. Once the function returns the key is
 * free again, and the next caller starts a new execution. A call of do
 * for the same key of the same group from inside the function aborts
 * with "gs: singleflight: recursive call for the same key".
 *
 * Ownership of the shared value: every caller receives a reference to
 * the result and gives it back with gs_singleflight_release. After the
 * last reference, the group's free_value (if set) runs once on the value
 * that fn produced. A group without free_value never frees values.
 *
 *	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(free_page, NULL);
 *	gs_singleflight_result_t r;
 *	if (gs_singleflight_do(&g, key, len, render, key, &r) == 0)
 *		send(r.value);
 *	gs_singleflight_release(&r);
 */
#ifndef GOSYNC_SINGLEFLIGHT_H
#define GOSYNC_SINGLEFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "context.h"
#include "mutex.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The function of a flight: stores its value in *value and returns 0, or
 * returns a positive errno (a value stored with an error is still given
 * to free_value). It runs on the leader's thread and may block and use
 * gosync, but must not call do on the same key of the same group.
 */
typedef int (*gs_singleflight_fn)(void *arg, void **value);

typedef struct gs_singleflight {
	/* Public, set before first use: frees a value after its last user. */
	void (*free_value)(void *value, void *free_arg);
	void *free_arg;
	/* Private: the table of running calls, under mu_. */
	gs_mutex_t mu_;
	size_t count_;
	size_t nbuckets_;
	struct gs__sf_call **buckets_;
} gs_singleflight_t;

#define GS_SINGLEFLIGHT_INIT(free_value, free_arg)                          \
	{(free_value), (free_arg), GS_MUTEX_INIT, 0, 0, 0}

/* What one caller received: read value, err and shared; release it. */
typedef struct gs_singleflight_result {
	void *value;
	int err;
	bool shared;
	struct gs__sf_call *call_; /* private */
} gs_singleflight_result_t;

/*
 * gs_singleflight_do runs fn(arg) for key (len bytes, copied), or joins
 * the execution already running for it, and fills *res. res->shared is
 * true when the result went to more than one caller, the leader
 * included. Blocks while the execution runs; its end synchronises before
 * every caller's return.
 *
 * Returns res->err: fn's error; EOWNERDEAD to the waiters when fn ended
 * its thread without returning (with res->value NULL; a value fn stored
 * before that still reaches free_value); ENOMEM, without running fn,
 * when the call cannot be recorded. res must be released whatever was
 * returned.
 */
int gs_singleflight_do(gs_singleflight_t *g, const void *key, size_t len,
		       gs_singleflight_fn fn, void *arg,
		       gs_singleflight_result_t *res);

/* A handle on one execution, from gs_singleflight_do_async. */
typedef struct gs__sf_call gs_singleflight_call_t;

/*
 * gs_singleflight_do_async is do that does not wait (Go's DoChan): it
 * joins the execution running for key, or starts one with fn running
 * on a pool thread (gs_go), and returns a handle in *call. The handle
 * must be given to gs_singleflight_call_wait or
 * gs_singleflight_call_release exactly once. Returns 0, ENOMEM, or
 * EAGAIN when no thread can be had (then any caller that joined in the
 * meantime gets EAGAIN as the result).
 */
int gs_singleflight_do_async(gs_singleflight_t *g, const void *key,
			     size_t len, gs_singleflight_fn fn, void *arg,
			     gs_singleflight_call_t **call);

/*
 * gs_singleflight_call_wait waits for the execution behind call, or
 * until ctx is done, and uses up the handle. On completion it fills res
 * as do does (res->shared is true when the result went to more than one
 * caller) and returns res->err; res must then be released. If ctx ends
 * first it returns ctx's error with nothing to release, and the
 * execution goes on for the others.
 */
int gs_singleflight_call_wait(gs_singleflight_call_t *call, gs_ctx_t *ctx,
			      gs_singleflight_result_t *res);

/* gs_singleflight_call_release gives up the handle without waiting. */
void gs_singleflight_call_release(gs_singleflight_call_t *call);

/*
 * gs_singleflight_release gives back the reference in res; the last one
 * runs free_value. Releasing twice is caught: res is cleared.
 */
void gs_singleflight_release(gs_singleflight_result_t *res);

/*
 * gs_singleflight_forget makes the next call for key start a new
 * execution instead of joining the running one. The running execution
 * still finishes for those already waiting, and it never removes the
 * newer entry.
 */
void gs_singleflight_forget(gs_singleflight_t *g, const void *key,
			    size_t len);

/*
 * gs_singleflight_destroy frees the group's table. Call it when no call
 * is running (every caller has returned); results already handed out
 * stay valid until released. Once it returns, the group's memory may be
 * freed: a finished leader no longer touches it.
 */
void gs_singleflight_destroy(gs_singleflight_t *g);

#ifdef __cplusplus
}
#endif

#endif
