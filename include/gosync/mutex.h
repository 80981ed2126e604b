/*
 * gosync/mutex.h - gs_mutex_t, Go's sync.Mutex.
 *
 * A mutual exclusion lock of 8 bytes. The all-zero mutex is unlocked and
 * ready; GS_MUTEX_INIT says so in an initializer. It is not recursive,
 * and it has no owner: any thread may unlock a mutex that another thread
 * locked. A mutex must not be moved or copied while anyone uses it.
 *
 * Fairness, as in Go: normally a thread that arrives while the mutex is
 * contended may take it before threads already asleep, which keeps it
 * fast. A waiter that has waited more than 1 ms switches the mutex to
 * hand-off mode, where unlock passes ownership to the waiters in the
 * order they queued and newcomers queue behind them; the mutex returns
 * to normal mode once the waiters are served quickly again.
 */
#ifndef GOSYNC_MUTEX_H
#define GOSYNC_MUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "locker.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_mutex {
	/* Private: the state word and semaphore of src/sync/mutex.c. */
	uint32_t state_;
	uint32_t sema_;
} gs_mutex_t;

#define GS_MUTEX_INIT {0, 0}

/*
 * gs_mutex_lock locks m, blocking until it is free. Unlock number n
 * synchronises before the return of lock number n + 1. Locking a mutex
 * the caller already holds deadlocks, as in Go.
 */
void gs_mutex_lock(gs_mutex_t *m);

/*
 * gs_mutex_lock_until is gs_mutex_lock that gives up at deadline (a
 * gs_now() value): returns 0 with m locked, or ETIMEDOUT without it.
 * A past deadline still takes a free mutex.
 */
int gs_mutex_lock_until(gs_mutex_t *m, int64_t deadline);

/*
 * gs_mutex_trylock locks m if it is free and returns true; returns false
 * at once otherwise, and always in hand-off mode, where the mutex
 * belongs to the threads already waiting. A false return synchronises
 * with nothing.
 */
bool gs_mutex_trylock(gs_mutex_t *m);

/*
 * gs_mutex_unlock unlocks m and wakes one waiter if there is one. Never
 * blocks. Unlocking a mutex that is not locked aborts with
 * "gs: mutex: unlock of unlocked mutex". As with a pthread mutex, the
 * thread that locks m next may free it once it has unlocked it and no
 * one else uses it, even while this unlock has not yet returned.
 */
void gs_mutex_unlock(gs_mutex_t *m);

/*
 * The mutex as a gs_locker_t: GS_MUTEX_LOCKER(m) in an initializer,
 * gs_mutex_locker(m) in code. gs_mutex_lock_any and gs_mutex_unlock_any
 * are gs_mutex_lock and gs_mutex_unlock taking a void pointer.
 */
void gs_mutex_lock_any(void *m);
void gs_mutex_unlock_any(void *m);
#define GS_MUTEX_LOCKER(m)                                                  \
	GS_LOCKER(gs_mutex_lock_any, gs_mutex_unlock_any, (m))

static inline gs_locker_t gs_mutex_locker(gs_mutex_t *m)
{
	gs_locker_t l = GS_MUTEX_LOCKER(m);
	return l;
}

#ifdef __cplusplus
}
#endif

#endif
