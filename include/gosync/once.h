/*
 * gosync/once.h - gs_once_t, Go's sync.Once.
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
	/* Private: the state word and the running thread of once.c. */
	uint32_t state_;
	uint32_t owner_;
} gs_once_t;

#define GS_ONCE_INIT {0, 0}

/*
 * gs_once_do calls fn(arg) if and only if no call of gs_once_do on o has
 * called its function before. Every caller, the concurrent ones
 * included, returns only after that one call of fn has returned, and the
 * return of fn synchronises before the return of every gs_once_do on o.
 *
 * A caller that arrives while fn runs blocks until it ends. If fn ends
 * its thread without returning (pthread_exit), o counts as done and
 * nobody is left waiting. A call of gs_once_do on o from inside fn, on
 * fn's own thread, would wait for itself: it aborts with
 * "gs: once: recursive call". The done path is one acquire load.
 */
void gs_once_do(gs_once_t *o, void (*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif
