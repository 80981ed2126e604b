/*
 * gosync/context.h - gs_ctx_t, Go's context: cancellation that flows
 * from a parent to all its descendants, with deadlines.
 *
 * A context is done once it is cancelled, once its deadline passes, or
 * once its parent is done. Contexts are reference counted and may be
 * used from any number of threads at once; every function here is safe
 * to call concurrently with every other. A NULL gs_ctx_t * stands for a
 * context that is never done, as gs_ctx_background() does.
 *
 * Lifetime: a with_ function returns a context holding one reference,
 * the caller's. A child holds a reference to its parent, and a pending
 * deadline holds one to its context until it fires or the context is
 * cancelled. gs_ctx_unref drops a reference; a context that is
 * cancelled and then released leaves nothing behind in its parent.
 *
 *	gs_ctx_t *ctx;
 *	if (gs_ctx_with_timeout(parent, 2 * GS_SECOND, &ctx) == 0) {
 *		work(ctx);
 *		gs_ctx_cancel(ctx);
 *		gs_ctx_unref(ctx);
 *	}
 */
#ifndef GOSYNC_CONTEXT_H
#define GOSYNC_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_ctx gs_ctx_t;

/* A registered after function; see gs_ctx_after_func. */
typedef struct gs_ctx_after gs_ctx_after_t;

/*
 * gs_ctx_background returns the root context: never done, no deadline,
 * not reference counted (ref and unref do nothing to it).
 */
gs_ctx_t *gs_ctx_background(void);

/*
 * gs_ctx_with_cancel makes *out a child of parent that gs_ctx_cancel can
 * cancel. If parent is done already, so is the child, with the parent's
 * error and cause. Returns 0, or ENOMEM with *out untouched.
 */
int gs_ctx_with_cancel(gs_ctx_t *parent, gs_ctx_t **out);

/*
 * gs_ctx_with_deadline is gs_ctx_with_cancel with a deadline, a value of
 * gs_now(): once it passes the child is done with ETIMEDOUT. A deadline
 * in the past is done at once; a parent's earlier deadline still ends
 * the child first. Returns 0, ENOMEM, or EAGAIN when the timer thread
 * cannot be started; *out is untouched on an error.
 */
int gs_ctx_with_deadline(gs_ctx_t *parent, int64_t deadline, gs_ctx_t **out);

/* gs_ctx_with_timeout is gs_ctx_with_deadline(parent, gs_now() + t). */
int gs_ctx_with_timeout(gs_ctx_t *parent, int64_t timeout, gs_ctx_t **out);

/*
 * The _cause forms (Go's WithDeadlineCause, WithTimeoutCause) make a
 * passed deadline give cause as the context's cause; err is still
 * ETIMEDOUT. A cause of 0 means ETIMEDOUT.
 */
int gs_ctx_with_deadline_cause(gs_ctx_t *parent, int64_t deadline,
			       int cause, gs_ctx_t **out);
int gs_ctx_with_timeout_cause(gs_ctx_t *parent, int64_t timeout, int cause,
			      gs_ctx_t **out);

/*
 * gs_ctx_with_value makes *out a child of parent that carries value
 * under key; gs_ctx_value looks a key up from ctx towards the root and
 * returns the innermost value, or NULL. Keys are compared as pointers
 * (the address of a static object makes a key no other code can
 * collide with). A value context is done exactly when its parent is and
 * cannot be cancelled itself. A NULL key aborts with
 * "gs: context: nil key". Returns 0 or ENOMEM.
 */
int gs_ctx_with_value(gs_ctx_t *parent, const void *key, void *value,
		      gs_ctx_t **out);
void *gs_ctx_value(gs_ctx_t *ctx, const void *key);

/*
 * gs_ctx_without_cancel makes *out a child of parent that keeps its
 * values but is never done, has no deadline and no cause, whatever
 * happens to parent. Returns 0 or ENOMEM.
 */
int gs_ctx_without_cancel(gs_ctx_t *parent, gs_ctx_t **out);

/*
 * gs_ctx_after_func arranges for fn(arg) to run on a thread of its own
 * (through gs_go; on the cancelling thread if none can be had) once ctx
 * is done, or at once if it is done already; the cancel does not wait
 * for fn. If stop is not NULL, *stop receives a handle that must be
 * given to gs_ctx_stop exactly once, before or after fn runs; with stop
 * NULL the registration cleans up after itself. Returns 0 or ENOMEM.
 *
 * gs_ctx_stop stops the registration and releases the handle: true if
 * fn had not started and now never will, false if it has started or
 * run (it does not wait for fn to finish).
 */
int gs_ctx_after_func(gs_ctx_t *ctx, void (*fn)(void *arg), void *arg,
		      gs_ctx_after_t **stop);
bool gs_ctx_stop(gs_ctx_after_t *stop);

/*
 * gs_ctx_fd returns a file descriptor that turns readable once ctx is
 * done and stays readable, for poll, epoll and event loops; -1 with
 * errno set if none can be opened. The descriptor belongs to the
 * context (or to the nearest ancestor that decides when it is done):
 * do not read from it or close it; it is closed when that context is
 * freed. A context that is never done gives one that never turns
 * readable.
 */
int gs_ctx_fd(gs_ctx_t *ctx);

/*
 * gs_ctx_cancel cancels ctx with ECANCELED; gs_ctx_cancel_cause cancels
 * it with cause as its cause (0 means ECANCELED). The first cancellation
 * wins and later ones do nothing. When it returns, ctx and every
 * descendant are done; the cancel synchronises before every wait it
 * ends. Never blocks on waiters. Cancelling the background context (or
 * NULL) aborts with "gs: context: cancel of a context that cannot be
 * cancelled".
 */
void gs_ctx_cancel(gs_ctx_t *ctx);
void gs_ctx_cancel_cause(gs_ctx_t *ctx, int cause);

/*
 * gs_ctx_err returns 0 while ctx is not done, then ECANCELED or
 * ETIMEDOUT forever after.
 */
int gs_ctx_err(gs_ctx_t *ctx);

/*
 * gs_ctx_cause returns why ctx is done: the cause given to the
 * cancellation that ended it (or its ancestor), ETIMEDOUT for a
 * deadline, 0 while not done.
 */
int gs_ctx_cause(gs_ctx_t *ctx);

/*
 * gs_ctx_deadline stores the deadline of ctx (the earliest along its
 * ancestry) in *deadline and returns true, or returns false if it has
 * none.
 */
bool gs_ctx_deadline(gs_ctx_t *ctx, int64_t *deadline);

/* gs_ctx_done reports, without waiting, whether ctx is done. */
bool gs_ctx_done(gs_ctx_t *ctx);

/*
 * gs_ctx_wait blocks until ctx is done (forever for a context that can
 * never be done). gs_ctx_wait_until gives up at deadline: true if ctx is
 * done, false on the deadline.
 */
void gs_ctx_wait(gs_ctx_t *ctx);
bool gs_ctx_wait_until(gs_ctx_t *ctx, int64_t deadline);

/* gs_ctx_ref adds a reference and returns ctx. */
gs_ctx_t *gs_ctx_ref(gs_ctx_t *ctx);

/*
 * gs_ctx_unref drops a reference; the last one frees ctx. Releasing a
 * context does not cancel it: its children stay as they were. Dropping
 * more references than were taken is undefined.
 */
void gs_ctx_unref(gs_ctx_t *ctx);

#ifdef __cplusplus
}
#endif

#endif
