/*
 * gosync/rwmutex.h - gs_rwmutex_t, Go's sync.RWMutex: many readers or
 * one writer.
 *
 * The all-zero rwmutex (GS_RWMUTEX_INIT) is unlocked. It has no owner,
 * is not recursive, and must not be copied once used.
 *
 * Writers come first: once a writer waits in lock, new readers wait
 * too, so a stream of readers cannot starve a writer. The consequence,
 * as in Go: a thread that takes a read lock it already holds deadlocks
 * if a writer arrived in between. When a writer unlocks, every reader
 * that was waiting is admitted at once.
 *
 * Memory model, as Go's: unlock n synchronises before lock n + 1; for
 * every rlock there is an n such that unlock n synchronises before it
 * and its runlock synchronises before lock n + 1.
 */
#ifndef GOSYNC_RWMUTEX_H
#define GOSYNC_RWMUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "locker.h"
#include "mutex.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_rwmutex {
	/* Private: every field belongs to src/sync/rwmutex.c. */
	gs_mutex_t w_;
	int32_t readers_;
	int32_t departing_;
	uint32_t writer_sem_;
	uint32_t reader_sem_;
	uint32_t grant_;
	uint32_t unlocks_;
	uint32_t timed_readers_;
} gs_rwmutex_t;

#define GS_RWMUTEX_INIT {GS_MUTEX_INIT, 0, 0, 0, 0, 0, 0, 0}

/*
 * gs_rwmutex_rlock takes a read lock, blocking while a writer holds the
 * lock or waits for it. gs_rwmutex_rlock_until gives up at deadline:
 * 0 with the read lock held, or ETIMEDOUT without it.
 */
void gs_rwmutex_rlock(gs_rwmutex_t *rw);
int gs_rwmutex_rlock_until(gs_rwmutex_t *rw, int64_t deadline);

/*
 * gs_rwmutex_tryrlock takes a read lock and returns true unless a writer
 * holds the lock or waits for it; other readers never make it fail.
 */
bool gs_rwmutex_tryrlock(gs_rwmutex_t *rw);

/*
 * gs_rwmutex_runlock gives back one read lock; the last reader to leave
 * lets a waiting writer in. Never blocks. Without a read lock held it
 * aborts with "gs: rwmutex: runlock of unlocked rwmutex".
 */
void gs_rwmutex_runlock(gs_rwmutex_t *rw);

/*
 * gs_rwmutex_lock takes the write lock: it waits for other writers,
 * then keeps new readers out and waits for the readers inside to leave.
 * gs_rwmutex_lock_until gives up at deadline: 0 with the lock held, or
 * ETIMEDOUT. A writer that gives up while readers are still inside has
 * already shut new readers out; they stay out until those readers
 * leave, as if the writer had locked and unlocked at once.
 */
void gs_rwmutex_lock(gs_rwmutex_t *rw);
int gs_rwmutex_lock_until(gs_rwmutex_t *rw, int64_t deadline);

/* gs_rwmutex_trylock takes the write lock only if nobody holds rw. */
bool gs_rwmutex_trylock(gs_rwmutex_t *rw);

/*
 * gs_rwmutex_unlock gives back the write lock and admits every waiting
 * reader. Never blocks. Without the write lock held it aborts with
 * "gs: rwmutex: unlock of unlocked rwmutex".
 */
void gs_rwmutex_unlock(gs_rwmutex_t *rw);

/*
 * The two sides as gs_locker_t: GS_RWMUTEX_LOCKER(rw) locks for writing,
 * GS_RWMUTEX_RLOCKER(rw) (Go's RLocker) for reading; the _any functions
 * are the lock functions taking a void pointer.
 */
void gs_rwmutex_lock_any(void *rw);
void gs_rwmutex_unlock_any(void *rw);
void gs_rwmutex_rlock_any(void *rw);
void gs_rwmutex_runlock_any(void *rw);
#define GS_RWMUTEX_LOCKER(rw)                                               \
	GS_LOCKER(gs_rwmutex_lock_any, gs_rwmutex_unlock_any, (rw))
#define GS_RWMUTEX_RLOCKER(rw)                                              \
	GS_LOCKER(gs_rwmutex_rlock_any, gs_rwmutex_runlock_any, (rw))

static inline gs_locker_t gs_rwmutex_rlocker(gs_rwmutex_t *rw)
{
	gs_locker_t l = GS_RWMUTEX_RLOCKER(rw);
	return l;
}

#ifdef __cplusplus
}
#endif

#endif
