/*
 * event.h - layer 1: a one-shot event on a 32-bit word. It starts
 * unset, is set once and stays set; threads can wait for it, with a
 * deadline. The context's done word and a singleflight call's end are
 * such events.
 *
 * Word values:
 *
 *	0          not set, nobody sleeps
 *	SLEEPERS   not set, a waiter may sleep on the word
 *	SET        set (SLEEPERS cleared); final
 *
 * A waiter announces itself (0 -> SLEEPERS) before it sleeps, so a set
 * that nobody waits for is one exchange and no system call; a set that
 * took away SLEEPERS wakes every sleeper. The exchange is a release and
 * the waiters' loads acquires, so whatever the setter wrote before the
 * set is visible to a thread that sees it set.
 */
#ifndef GS_RUNTIME_EVENT_H
#define GS_RUNTIME_EVENT_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "runtime/wait.h"

enum { GS__EVENT_SET = 1, GS__EVENT_SLEEPERS = 2 };

/* gs__event_is_set reports, without waiting, whether e is set. */
static inline bool gs__event_is_set(_Atomic uint32_t *e)
{
	return atomic_load_explicit(e, memory_order_acquire) & GS__EVENT_SET;
}

/* gs__event_set sets e and wakes its sleepers, if any. */
static inline void gs__event_set(_Atomic uint32_t *e)
{
	/* Release: pairs with the acquire loads of the waiters. */
	if (atomic_exchange_explicit(e, GS__EVENT_SET, memory_order_release) &
	    GS__EVENT_SLEEPERS)
		gs__wake(e, GS__WAKE_ALL);
}

/*
 * gs__event_wait waits until e is set or deadline passes (GS_NEVER for
 * none): true when set.
 */
static inline bool gs__event_wait(_Atomic uint32_t *e, int64_t deadline)
{
	uint32_t v;

	while (!((v = atomic_load_explicit(e, memory_order_acquire)) &
		 GS__EVENT_SET)) {
		if (v == 0 && !atomic_compare_exchange_weak_explicit(
				      e, &v, GS__EVENT_SLEEPERS,
				      memory_order_relaxed,
				      memory_order_relaxed))
			continue;
		if (gs__wait(e, GS__EVENT_SLEEPERS, deadline) == ETIMEDOUT)
			return gs__event_is_set(e);
	}
	return true;
}

#endif
