/*
 * gosync/once.h - gs_once_t, Go's sync.Once, with OnceValue and a once
 * that may fail and be tried again.
 *
 * An all-zero once (or GS_ONCE_INIT) has not run. It must not be copied
 * once used.
 */
#ifndef GOSYNC_ONCE_H
#define GOSYNC_ONCE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_once {
	/* Private: the state word, running thread and last error. */
	uint32_t state_;
	uint32_t owner_;
	int err_;
} gs_once_t;

#define GS_ONCE_INIT {0, 0, 0}

/* Private: the state of a once whose function has completed. */
#define GS__ONCE_DONE 3u

/* Private: the slow paths behind the inline fast paths below. */
void gs__once_do_slow(gs_once_t *o, void (*fn)(void *), void *arg);
int gs__once_try_slow(gs_once_t *o, int (*fn)(void *), void *arg);

/*
 * gs_once_do calls fn(arg) if and only if no call of gs_once_do on o has
 * called its function before. Every caller, the concurrent ones
 * included, returns only after that one call of fn has returned, and the
 * return of fn synchronises before the return of every gs_once_do on o.
 *
 * A caller that arrives while fn runs blocks until it ends. If fn ends
 * its thread without returning (pthread_exit), o counts as done and
 * nobody is left waiting. A call on o from inside fn, on fn's own
 * thread, would wait for itself: it aborts with
 * "gs: once: recursive call". Once done, a call is one acquire load,
 * inline.
 */
static inline void gs_once_do(gs_once_t *o, void (*fn)(void *arg), void *arg)
{
	if (__atomic_load_n(&o->state_, __ATOMIC_ACQUIRE) != GS__ONCE_DONE)
		gs__once_do_slow(o, fn, arg);
}

/*
 * gs_once_try is a once that is done only when its function succeeds.
 * The first caller runs fn(arg); if fn returns 0, o is done and every
 * later call returns 0 at once. If fn returns an error, o is not done:
 * that caller and every caller that waited for that attempt return the
 * error (a waiter that wakes only after a later attempt also failed
 * gets the later error), and the next caller tries again. The same
 * recursion and thread-exit rules as gs_once_do apply; a thread exit
 * counts as the error EOWNERDEAD. gs_once_do and gs_once_try must not be
 * mixed on one once.
 */
static inline int gs_once_try(gs_once_t *o, int (*fn)(void *arg), void *arg)
{
	if (__atomic_load_n(&o->state_, __ATOMIC_ACQUIRE) == GS__ONCE_DONE)
		return 0;
	return gs__once_try_slow(o, fn, arg);
}

/* Go's OnceValue: a once that keeps what its function returned. */
typedef struct gs_once_value {
	gs_once_t once_;
	void *value_;
} gs_once_value_t;

#define GS_ONCE_VALUE_INIT {GS_ONCE_INIT, 0}

/*
 * gs_once_value calls fn(arg) on the first call, as gs_once_do does, and
 * returns the pointer fn returned, on that call and on every later one.
 * The rules of gs_once_do apply; if fn ends its thread, the value is
 * NULL.
 */
void *gs_once_value(gs_once_value_t *ov, void *(*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif
