/*
 * gosync/locker.h - gs_locker_t, Go's sync.Locker: anything that can be
 * locked and unlocked, as a pair of functions and the object they act
 * on. A gs_cond_t is bound to one.
 *
 * A locker is a plain value, three pointers, and can be written in a
 * static initializer:
 *
 *	static gs_mutex_t mu = GS_MUTEX_INIT;
 *	static gs_cond_t ready = GS_COND_INIT(GS_MUTEX_LOCKER(&mu));
 *
 * A user's own lock becomes a locker with GS_LOCKER(lock, unlock, self),
 * where lock and unlock take self as their only argument.
 */
#ifndef GOSYNC_LOCKER_H
#define GOSYNC_LOCKER_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_locker {
	void (*lock)(void *self);
	void (*unlock)(void *self);
	void *self;
} gs_locker_t;

#define GS_LOCKER(lock, unlock, self) {(lock), (unlock), (self)}

/* gs_locker_lock calls l's lock function on its object. */
static inline void gs_locker_lock(const gs_locker_t *l)
{
	l->lock(l->self);
}

/* gs_locker_unlock calls l's unlock function on its object. */
static inline void gs_locker_unlock(const gs_locker_t *l)
{
	l->unlock(l->self);
}

#ifdef __cplusplus
}
#endif

#endif
