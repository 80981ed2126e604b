/*
 * sema.h - a counting semaphore of wake permits on one 32-bit word, for
 * the sleepers of the mutex and the rwmutex. A permit, once posted, is
 * taken by exactly one thread; who takes it is the wait layer's order.
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
#include "runtime/wait.h"

/* gs__sema_try takes a permit if one is there. */
static inline bool gs__sema_try(_Atomic uint32_t *sema)
{
	uint32_t s = atomic_load_explicit(sema, memory_order_relaxed);

	while (s > 0)
		if (atomic_compare_exchange_weak_explicit(
			    sema, &s, s - 1, memory_order_acquire,
			    memory_order_relaxed))
			return true;
	return false;
}

/*
 * Pauses spent watching for a permit before sleeping, where another CPU
 * can post one meanwhile: the critical sections these semaphores wait
 * out are usually shorter than a sleep and a wake, which cost tens of
 * microseconds on a virtual machine.
 */
#define GS__SEMA_SPIN 200

/* gs__sema_take sleeps for a permit until deadline: 0 or ETIMEDOUT. */
static inline int gs__sema_take(_Atomic uint32_t *sema, int64_t deadline)
{
	if (gs__ncpu() > 1)
		for (int i = 0; i < GS__SEMA_SPIN; i++) {
			if (atomic_load_explicit(sema, memory_order_relaxed) &&
			    gs__sema_try(sema))
				return 0;
			gs__spin_pause();
		}
	while (!gs__sema_try(sema))
		if (gs__wait(sema, 0, deadline) == ETIMEDOUT)
			return gs__sema_try(sema) ? 0 : ETIMEDOUT;
	return 0;
}

/* gs__sema_post posts n permits and wakes as many sleepers. */
static inline void gs__sema_post(_Atomic uint32_t *sema, uint32_t n)
{
	atomic_fetch_add_explicit(sema, n, memory_order_release);
	gs__wake(sema, n > (uint32_t)GS__WAKE_ALL ? GS__WAKE_ALL : (int)n);
}

#endif
