/*
 * gosync/waitgroup.h - gs_waitgroup_t, Go's sync.WaitGroup.
 *
 * A counter of outstanding tasks that threads can wait on reaching zero.
 * The all-zero group (GS_WAITGROUP_INIT) counts zero. It must not be
 * copied once used.
 */
#ifndef GOSYNC_WAITGROUP_H
#define GOSYNC_WAITGROUP_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
#define GS__ALIGN8 alignas(8)
#else
#define GS__ALIGN8 _Alignas(8)
#endif

typedef struct gs_waitgroup {
	/* Private: counter (high half) and waiters (low half). */
	GS__ALIGN8 uint64_t state_;
	/* Private: the word waiters sleep on, bumped at each release. */
	uint32_t gen_;
} gs_waitgroup_t;

#define GS_WAITGROUP_INIT {0, 0}

/*
 * gs_waitgroup_add adds delta, which may be negative, to the counter.
 * When the counter reaches zero every waiter is released. An add that
 * takes the counter up from zero must happen before the wait it is meant
 * for; a group is reused only after every wait of the previous round
 * has returned.
 *
 * Misuse aborts: a counter below zero with
 * "gs: waitgroup: negative counter"; a counter raised from zero while a
 * wait is releasing with "gs: waitgroup: add called concurrently with
 * wait".
 */
void gs_waitgroup_add(gs_waitgroup_t *wg, int delta);

/*
 * gs_waitgroup_done is gs_waitgroup_add(wg, -1). It synchronises before
 * the return of every wait that it releases.
 */
void gs_waitgroup_done(gs_waitgroup_t *wg);

/*
 * gs_waitgroup_wait blocks until the counter is zero; returns at once if
 * it is. If the group is raised again before a released wait returns,
 * that wait aborts with "gs: waitgroup: reused before previous wait has
 * returned".
 */
void gs_waitgroup_wait(gs_waitgroup_t *wg);

/*
 * gs_waitgroup_wait_until is gs_waitgroup_wait giving up at deadline:
 * true when the counter reached zero, false on the deadline.
 */
bool gs_waitgroup_wait_until(gs_waitgroup_t *wg, int64_t deadline);

/*
 * gs_waitgroup_go adds one to the counter, runs fn(arg) with gs_go, and
 * calls done when fn returns, or when fn ends its thread without
 * returning. The count is taken before gs_waitgroup_go returns, so a
 * wait that follows cannot miss the task; fn may itself call
 * gs_waitgroup_go on the same group.
 *
 * Returns 0, or the error of gs_go (EAGAIN, ENOMEM), in which case the
 * count is given back and fn will not run.
 */
int gs_waitgroup_go(gs_waitgroup_t *wg, void (*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif
