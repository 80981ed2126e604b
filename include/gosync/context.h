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
