/*
 * gosync/cond.h - gs_cond_t, Go's sync.Cond: a place where threads wait
 * for an event, bound to a gs_locker_t that guards the condition.
 *
 * Waiters are woken in the order they began to wait. There are no
 * spurious wakeups: a wait returns only after a signal or broadcast
 * chose it (or its deadline passed). The condition may still be false
 * again when it returns, so callers loop:
 *
 *	gs_mutex_lock(&mu);
 *	while (!ready)
 *		gs_cond_wait(&c);
 *	gs_mutex_unlock(&mu);
 *
 * The zero value has no locker; give it one with GS_COND_INIT or
 * gs_cond_init before first use. A cond must not be copied once used:
 * any call on a copy aborts with "gs: cond: copied after first use".
 */
#ifndef GOSYNC_COND_H
#define GOSYNC_COND_H

#include <stdbool.h>
#include <stdint.h>

#include "locker.h"
#include "mutex.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_cond {
	/* Public: the lock guarding the condition; set before first use. */
	gs_locker_t l;
	/* Private: the waiters, under mu_, and the copy check. */
	gs_mutex_t mu_;
	uint32_t nwaiters_;
	struct gs__cond_waiter *head_, *tail_;
	void *self_;
} gs_cond_t;

#define GS_COND_INIT(locker) {locker, GS_MUTEX_INIT, 0, 0, 0, 0}

/* gs_cond_init makes c an unused cond bound to l. */
void gs_cond_init(gs_cond_t *c, gs_locker_t l);

/*
 * gs_cond_wait unlocks c->l, sleeps until a signal or broadcast wakes
 * this waiter, and locks c->l again before returning. The caller must
 * hold c->l. Joining the waiters and releasing the lock are one step: a
 * signal issued after another thread has taken the lock following this
 * release always finds this waiter.
 */
void gs_cond_wait(gs_cond_t *c);

/*
 * gs_cond_wait_until is gs_cond_wait giving up at deadline: true if
 * signalled, false on the deadline. c->l is held again either way.
 */
bool gs_cond_wait_until(gs_cond_t *c, int64_t deadline);

/*
 * gs_cond_signal wakes the longest-waiting thread, if any; never one
 * that began to wait after this call. gs_cond_broadcast wakes every
 * thread waiting when it is called, and none that comes later. Neither
 * blocks, and neither needs c->l to be held. Each synchronises before
 * the return of the waits it ends.
 */
void gs_cond_signal(gs_cond_t *c);
void gs_cond_broadcast(gs_cond_t *c);

#ifdef __cplusplus
}
#endif

#endif
