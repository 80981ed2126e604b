/*
 * sema.h - a counting semaphore of wake permits on one 32-bit word, for
 * the sleepers of the rwmutex, which need no order among themselves
 * (the mutex's are ordered: runtime/semqueue.h). A permit, once posted,
 * is taken by exactly one thread; who takes it is the wait layer's
 * order. Taking a permit is gs__semq_try, shared with the ordered one.
 *
 * Memory orders: a post is a release add, a take an acquire
 * compare-and-swap, so a thread that takes a permit sees everything the
 * poster did before posting it.
 */
#ifndef GS_SYNC_SEMA_H
#define GS_SYNC_SEMA_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <gosync/runtime.h>

#include "runtime/platform.h"
#include "runtime/semqueue.h"
#include "runtime/wait.h"

/* gs__sema_take sleeps for a permit until deadline: 0 or ETIMEDOUT. */
static inline int gs__sema_take(_Atomic uint32_t *sema, int64_t deadline)
{
	if (gs__semq_spin(sema))
		return 0;
	while (!gs__semq_try(sema))
		if (gs__wait(sema, 0, deadline) == ETIMEDOUT)
			return gs__semq_try(sema) ? 0 : ETIMEDOUT;
	return 0;
}

/* gs__sema_post posts n permits and wakes as many sleepers. */
static inline void gs__sema_post(_Atomic uint32_t *sema, uint32_t n)
{
	atomic_fetch_add_explicit(sema, n, memory_order_release);
	gs__wake(sema, n > (uint32_t)GS__WAKE_ALL ? GS__WAKE_ALL : (int)n);
}

#endif
