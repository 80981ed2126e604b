/*
 * mutex.c - gs_mutex_t: Go's two-mode mutex in 8 bytes, sleeping in the
 * wait layer.
 *
 * Promise: mutual exclusion; unlock n synchronises before the lock
 * n + 1 that follows it; an unlock of an unlocked mutex aborts; once a
 * waiter has waited over 1 ms the mutex hands itself to its sleepers in
 * the order they queued, and no newcomer takes it ahead of them.
 *
 * State word (state_):
 *
 *	LOCKED    bit 0   held
 *	WOKEN     bit 1   one waiter is awake and contending (woken from
 *	                  the semaphore, or spinning), so unlock need not
 *	                  wake another
 *	STARVING  bit 2   hand-off mode
 *	waiters   bits 3+ threads counted as waiting on the semaphore
 *
 * sema_ is a counting semaphore of wake permits whose sleepers queue in
 * order (runtime/semqueue.h): a permit goes straight to the oldest
 * sleeper, and to the count only when nobody sleeps. An unlock that
 * wakes a waiter removes one from the waiter count and releases one
 * permit, so at every moment
 *
 *	waiters + unconsumed permits = threads in the waiting phase.
 *
 * Normal mode: arriving threads compete with the woken waiter and
 * usually win, being already on a CPU; that is what makes the mutex
 * fast under contention. A thread spins a few rounds first when another
 * CPU may release the lock soon. A woken waiter that loses goes back to
 * sleep, and once it has waited more than 1 ms it sets STARVING.
 *
 * Hand-off mode: unlock leaves LOCKED clear but releases a permit, and
 * the thread that gets the permit owns the mutex; arriving threads see
 * STARVING, do not take the lock, and queue at the back. As the permit
 * is given to the oldest sleeper itself, not left for whoever looks
 * first, the mutex passes down the queue in order. A waiter that was
 * woken in normal mode and lost the race goes back to the front of the
 * queue, not the back. The new owner sets LOCKED and leaves hand-off
 * mode if it is the last waiter or waited under 1 ms, as Go does.
 *
 * A waiter with a deadline (lock_until) that times out must leave the
 * count without breaking the invariant. If a permit is there it takes
 * it, as if woken. If the count is zero, an unlocker has just taken its
 * entry and a permit is on its way, so it waits for that permit; if the
 * mutex is mid hand-off (STARVING, not LOCKED), the permit in flight may
 * be the one it must take, so it waits too. Otherwise it removes one
 * waiter by compare-and-swap (entries are anonymous, so any one will do)
 * and clears STARVING if it was the last. A permit taken after the
 * deadline is honoured: the caller gets the mutex and 0. A woken waiter
 * that gives up owns WOKEN, which told unlockers not to wake anyone, so
 * it wakes a sleeper in its place (the model in models/mutex.pml found
 * the deadlock that leaving without doing so causes).
 *
 * Memory orders: the CAS that sets LOCKED, and the add that takes the
 * mutex over in hand-off, are acquires; the CAS that clears LOCKED in
 * unlock is a release, and the permit release is paired with the
 * acquire of the permit's taker, which orders a hand-off. Loads that
 * only feed a later CAS are relaxed.
 *
 * Unlock decides whom to wake in the one CAS that clears LOCKED (see
 * mutex_unlock_slow), so that a thread that locks and frees the mutex
 * right after never races with the end of that unlock.
 *
 * Limits: a thread that arrives in hand-off mode counts itself as a
 * waiter and then queues; if an unlock comes between the two while
 * nobody sleeps, the permit goes to the count and the first of the
 * threads on their way to the queue takes it. Those are newcomers in
 * arrival order; a waiter that lost a race, the one hand-off mode is
 * for, joins the queue before it counts itself, and is never among
 * them.
 *
 * Rejected: a 4-byte word with the waiters sleeping on the state word
 * itself. The word changes on every arrival, so sleeps keep failing
 * with EAGAIN, and a wake cannot be given to one thread; hand-off needs
 * a permit that exactly one thread consumes. Also rejected: leaving the
 * hand-off permit in the count for the woken sleeper to collect. A
 * newcomer relocking in a loop collected it first most of the time (66
 * to 99% of hand-offs in one measurement), and waiters waited up to
 * 1.4 s.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>

#include <gosync/mutex.h>
#include <gosync/runtime.h>

#include "runtime/platform.h"
#include "runtime/semqueue.h"
#include "runtime/wait.h"

enum {
	LOCKED = 1,
	WOKEN = 2,
	STARVING = 4,
	WAITER_SHIFT = 3,
	WAITER = 1 << WAITER_SHIFT,
};

#define STARVATION_NS GS_MILLISECOND
#define SPIN_ROUNDS 4
#define SPIN_PAUSES 30

_Static_assert(sizeof(gs_mutex_t) == 8, "gs_mutex_t is 8 bytes");

static bool can_spin(int round)
{
	return round < SPIN_ROUNDS && gs__ncpu() > 1;
}

static void inconsistent(void)
{
	gs__misuse("mutex", "inconsistent mutex state");
}

/*
 * A waiter whose deadline passed leaves the count. Returns true when it
 * took a permit instead, and so must go on as a woken waiter.
 */
static bool leave_queue(_Atomic uint32_t *st, _Atomic uint32_t *sema)
{
	uint32_t old, new;

	for (;;) {
		if (gs__semq_try(sema))
			return true;
		old = atomic_load_explicit(st, memory_order_relaxed);
		if ((old >> WAITER_SHIFT) == 0 ||
		    (old & (STARVING | LOCKED)) == STARVING) {
			/* A permit is in flight; it is near, so yield. */
			sched_yield();
			continue;
		}
		new = old - WAITER;
		if ((new >> WAITER_SHIFT) == 0)
			new &= ~(uint32_t)STARVING;
		if (atomic_compare_exchange_weak_explicit(
			    st, &old, new, memory_order_relaxed,
			    memory_order_relaxed))
			return false;
	}
}

/* Wakes one sleeper if nobody awake or holding will; for unlock. */
static void wake_one(gs_mutex_t *m, uint32_t old)
{
	_Atomic uint32_t *st = GS__ATOMIC32(&m->state_);

	for (;;) {
		/* Nobody to wake, or someone awake already or owning it. */
		if ((old >> WAITER_SHIFT) == 0 ||
		    (old & (LOCKED | WOKEN | STARVING)))
			return;
		if (atomic_compare_exchange_weak_explicit(
			    st, &old, (old - WAITER) | WOKEN,
			    memory_order_relaxed, memory_order_relaxed)) {
			gs__semq_release(GS__ATOMIC32(&m->sema_));
			return;
		}
	}
}

/*
 * Gives up before queuing. An awake waiter owns WOKEN, and an unlock
 * that saw WOKEN left the waking to it; so it drops WOKEN and wakes one
 * sleeper in its place, or a sleeper could wait for ever.
 */
static int give_up(gs_mutex_t *m, bool awoke)
{
	_Atomic uint32_t *st = GS__ATOMIC32(&m->state_);
	uint32_t old = atomic_load_explicit(st, memory_order_relaxed);

	if (!awoke)
		return ETIMEDOUT;
	while (!atomic_compare_exchange_weak_explicit(
		st, &old, old & ~(uint32_t)WOKEN, memory_order_relaxed,
		memory_order_relaxed))
		;
	wake_one(m, old & ~(uint32_t)WOKEN);
	return ETIMEDOUT;
}

/* Takes over from a hand-off; returns 0 (the mutex is held). */
static int take_handoff(_Atomic uint32_t *st, uint32_t old, bool starving)
{
	uint32_t delta = LOCKED - WAITER;

	if ((old & (LOCKED | WOKEN)) || (old >> WAITER_SHIFT) == 0)
		inconsistent();
	if (!starving || (old >> WAITER_SHIFT) == 1)
		delta -= STARVING;
	/* Acquire: pairs with the release of the unlock that handed off. */
	atomic_fetch_add_explicit(st, delta, memory_order_acquire);
	return 0;
}

static int mutex_lock_slow(gs_mutex_t *m, int64_t deadline)
{
	_Atomic uint32_t *st = GS__ATOMIC32(&m->state_);
	_Atomic uint32_t *sema = GS__ATOMIC32(&m->sema_);
	uint32_t old = atomic_load_explicit(st, memory_order_relaxed), new;
	int64_t wait_start = 0;
	bool starving = false, awoke = false, requeue, linked;
	struct gs__semq_sleeper me;
	int round = 0, rc;

	for (;;) {
		/* Spin while held in normal mode; claim WOKEN meanwhile. */
		if ((old & (LOCKED | STARVING)) == LOCKED && can_spin(round)) {
			if (!awoke && !(old & WOKEN) &&
			    (old >> WAITER_SHIFT) != 0 &&
			    atomic_compare_exchange_weak_explicit(
				    st, &old, old | WOKEN,
				    memory_order_relaxed,
				    memory_order_relaxed))
				awoke = true;
			for (int i = 0; i < SPIN_PAUSES; i++)
				gs__spin_pause();
			round++;
			old = atomic_load_explicit(st, memory_order_relaxed);
			continue;
		}
		new = old;
		if (!(old & STARVING))
			new |= LOCKED;
		if (old & (LOCKED | STARVING)) {
			if (deadline != GS_NEVER && gs_now() >= deadline)
				return give_up(m, awoke);
			new += WAITER;
		}
		if (starving && (old & LOCKED))
			new |= STARVING;
		/*
		 * Queued at the back the first time, at the front after
		 * losing a race, as Go's waiters are. An awake waiter about
		 * to queue joins the queue before its CAS makes it a waiter:
		 * while it owns WOKEN no unlock releases a permit, so none
		 * can reach it early, and from the CAS on, every permit finds
		 * it queued instead of going to the count for the fastest
		 * thread to take.
		 */
		requeue = wait_start != 0;
		linked = false;
		if (awoke) {
			if (!(new & WOKEN))
				inconsistent();
			new &= ~(uint32_t)WOKEN;
			if (old & LOCKED)
				linked = gs__semq_link(sema, &me, requeue);
		}
		if (!atomic_compare_exchange_weak_explicit(
			    st, &old, new, memory_order_acquire,
			    memory_order_relaxed)) {
			if (linked && gs__semq_unlink(sema, &me))
				inconsistent(); /* a permit while WOKEN */
			continue;
		}
		if (!(old & (LOCKED | STARVING)))
			return 0; /* locked by the CAS */

		/* Queued: sleep for a permit. */
		if (!requeue)
			wait_start = gs_now();
		rc = linked ? gs__semq_sleep(sema, &me, deadline)
			    : gs__semq_acquire(sema, requeue, deadline);
		if (rc == ETIMEDOUT && !leave_queue(st, sema))
			return ETIMEDOUT;
		starving = starving || gs_now() - wait_start > STARVATION_NS;
		old = atomic_load_explicit(st, memory_order_relaxed);
		if (old & STARVING)
			return take_handoff(st, old, starving);
		awoke = true;
		round = 0;
	}
}

void gs_mutex_lock(gs_mutex_t *m)
{
	uint32_t expect = 0;

	if (!atomic_compare_exchange_strong_explicit(
		    GS__ATOMIC32(&m->state_), &expect, LOCKED,
		    memory_order_acquire, memory_order_relaxed))
		mutex_lock_slow(m, GS_NEVER);
}

int gs_mutex_lock_until(gs_mutex_t *m, int64_t deadline)
{
	uint32_t expect = 0;

	if (atomic_compare_exchange_strong_explicit(
		    GS__ATOMIC32(&m->state_), &expect, LOCKED,
		    memory_order_acquire, memory_order_relaxed))
		return 0;
	return mutex_lock_slow(m, deadline);
}

bool gs_mutex_trylock(gs_mutex_t *m)
{
	_Atomic uint32_t *st = GS__ATOMIC32(&m->state_);
	uint32_t old = atomic_load_explicit(st, memory_order_relaxed);

	if (old & (LOCKED | STARVING))
		return false;
	return atomic_compare_exchange_strong_explicit(
		st, &old, old | LOCKED, memory_order_acquire,
		memory_order_relaxed);
}

/*
 * The unlock of a contended mutex decides whom to wake in the same CAS
 * that clears LOCKED, and after it touches nothing of the mutex but the
 * permit it releases. A thread that locks right after that CAS may
 * free the mutex once it is done (a waiter whose deadline passed then
 * waits for the permit, so it cannot leave before the release).
 */
static void mutex_unlock_slow(gs_mutex_t *m, uint32_t old)
{
	_Atomic uint32_t *st = GS__ATOMIC32(&m->state_);
	uint32_t new;
	bool wake;

	do {
		if (!(old & LOCKED))
			gs__misuse("mutex", "unlock of unlocked mutex");
		new = old - LOCKED;
		wake = !(new & (WOKEN | STARVING)) &&
		       (new >> WAITER_SHIFT) != 0;
		if (wake)
			new = (new - WAITER) | WOKEN;
		/* Release: pairs with the acquire of the next lock. */
	} while (!atomic_compare_exchange_weak_explicit(
		st, &old, new, memory_order_release, memory_order_relaxed));
	/* Hand off in hand-off mode; otherwise wake one, if any. */
	if (wake || (new & STARVING))
		gs__semq_release(GS__ATOMIC32(&m->sema_));
}

void gs_mutex_unlock(gs_mutex_t *m)
{
	uint32_t old = LOCKED;

	/* Release: pairs with the acquire of the next lock. */
	if (!atomic_compare_exchange_strong_explicit(
		    GS__ATOMIC32(&m->state_), &old, 0, memory_order_release,
		    memory_order_relaxed))
		mutex_unlock_slow(m, old);
}

void gs_mutex_lock_any(void *m)
{
	gs_mutex_lock(m);
}

void gs_mutex_unlock_any(void *m)
{
	gs_mutex_unlock(m);
}
