/*
 * mutex.c - gs_mutex_t: a 4-byte lock that sleeps in the wait layer.
 *
 * Promise: mutual exclusion; unlock n synchronises before the lock
 * n + 1 that follows it; an unlock of an unlocked mutex aborts.
 *
 * State word:
 *
 *	UNLOCKED   0  free
 *	LOCKED     1  held, and no thread sleeps on the word
 *	CONTENDED  2  held, and sleepers may exist: unlock must wake one
 *
 * Lock takes the word from UNLOCKED to LOCKED with one compare-and-swap.
 * Failing that it spins a little, where a second CPU can release the
 * lock meanwhile, then exchanges in CONTENDED and sleeps while the word
 * stays CONTENDED. A thread that wakes takes the lock by exchanging
 * CONTENDED in again, because it cannot know whether others still
 * sleep; the price is at most one needless wake per contended episode.
 * Unlock exchanges in UNLOCKED and wakes one sleeper when it took away
 * CONTENDED.
 *
 * Memory orders: the successful CAS or exchange of lock is an acquire
 * and the exchange of unlock a release, the pair that orders one
 * critical section before the next. Spinning loads are relaxed; only a
 * successful CAS publishes anything.
 *
 * Rejected: a ticket lock, which is fair but collapses when the next
 * ticket holder is descheduled, and a queue of waiters in the word,
 * which needs more than 4 bytes. Limits: this mutex lets arriving
 * threads barge past sleepers, so a sleeper can in principle wait while
 * others keep taking the lock; there is no hand-off mode yet.
 */
#include <stdatomic.h>

#include <gosync/mutex.h>
#include <gosync/runtime.h>

#include "runtime/platform.h"
#include "runtime/wait.h"

enum { UNLOCKED = 0, LOCKED = 1, CONTENDED = 2 };

/* Spins before sleeping: about a critical section's worth of pauses. */
#define SPIN_LIMIT 100

static void mutex_lock_slow(_Atomic uint32_t *w)
{
	uint32_t expect;

	if (gs__ncpu() > 1) {
		for (int i = 0; i < SPIN_LIMIT; i++) {
			expect = UNLOCKED;
			if (atomic_load_explicit(w, memory_order_relaxed) ==
				    UNLOCKED &&
			    atomic_compare_exchange_weak_explicit(
				    w, &expect, LOCKED, memory_order_acquire,
				    memory_order_relaxed))
				return;
			gs__spin_pause();
		}
	}
	/* Acquire: pairs with the release exchange in gs_mutex_unlock. */
	while (atomic_exchange_explicit(w, CONTENDED, memory_order_acquire) !=
	       UNLOCKED)
		gs__wait(w, CONTENDED, GS_NEVER);
}

void gs_mutex_lock(gs_mutex_t *m)
{
	_Atomic uint32_t *w = GS__ATOMIC32(&m->state_);
	uint32_t expect = UNLOCKED;

	if (!atomic_compare_exchange_strong_explicit(w, &expect, LOCKED,
						     memory_order_acquire,
						     memory_order_relaxed))
		mutex_lock_slow(w);
}

bool gs_mutex_trylock(gs_mutex_t *m)
{
	uint32_t expect = UNLOCKED;

	return atomic_compare_exchange_strong_explicit(
		GS__ATOMIC32(&m->state_), &expect, LOCKED,
		memory_order_acquire, memory_order_relaxed);
}

void gs_mutex_unlock(gs_mutex_t *m)
{
	_Atomic uint32_t *w = GS__ATOMIC32(&m->state_);
	/* Release: pairs with the acquire of the next lock. */
	uint32_t old = atomic_exchange_explicit(w, UNLOCKED,
						memory_order_release);

	if (old == CONTENDED)
		gs__wake(w, 1);
	else if (old != LOCKED)
		gs__misuse("mutex", "unlock of unlocked mutex");
}
