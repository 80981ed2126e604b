/*
 * gosync/semaphore.h - gs_semaphore_t, golang.org/x/sync's
 * semaphore.Weighted: a weighted counting semaphore, served in order.
 *
 * Waiters are served first come, first served: a waiter at the front
 * whose weight does not fit yet holds back the smaller ones behind it
 * (so a large request is never starved), and try_acquire fails while
 * anyone waits. A waiter whose context ends leaves with nothing, and
 * those it held back are served if they now fit.
 *
 *	static gs_semaphore_t slots = GS_SEMAPHORE_INIT(4);
 *
 *	if (gs_semaphore_acquire(&slots, ctx, 1) == 0) {
 *		work();
 *		gs_semaphore_release(&slots, 1);
 *	}
 */
#ifndef GOSYNC_SEMAPHORE_H
#define GOSYNC_SEMAPHORE_H

#include <stdbool.h>
#include <stdint.h>

#include "context.h"
#include "mutex.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_semaphore {
	/* Private: every field belongs to src/xsync/semaphore.c. */
	int64_t size_;
	int64_t cur_;
	gs_mutex_t mu_;
	struct gs__sem_waiter *head_, *tail_;
} gs_semaphore_t;

/* A semaphore of total weight n, all of it free. */
#define GS_SEMAPHORE_INIT(n) {(n), 0, GS_MUTEX_INIT, 0, 0}

/*
 * gs_semaphore_acquire takes weight n, blocking until it is free and
 * every earlier waiter has been served, or until ctx is done. Returns 0
 * with the weight held, or the context's error (ECANCELED, ETIMEDOUT)
 * holding nothing. A done context fails at once even when the weight is
 * free. A request larger than the whole size waits only for ctx (for
 * ever with a NULL ctx) and never holds anyone back. A release
 * synchronises before the acquire it lets through.
 */
int gs_semaphore_acquire(gs_semaphore_t *s, gs_ctx_t *ctx, int64_t n);

/*
 * gs_semaphore_try_acquire takes weight n if it is free and nobody
 * waits, and returns true; false otherwise, at once.
 */
bool gs_semaphore_try_acquire(gs_semaphore_t *s, int64_t n);

/*
 * gs_semaphore_release gives back weight n and serves the waiters that
 * now fit, in order. Never blocks. Releasing more than is held aborts
 * with "gs: semaphore: released more than held".
 */
void gs_semaphore_release(gs_semaphore_t *s, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
