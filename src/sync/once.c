/*
 * once.c - gs_once_t: run a function exactly once, and make every
 * caller wait for it.
 *
 * State word:
 *
 *	INIT     0  fn has not started
 *	RUNNING  1  one thread runs fn; nobody sleeps
 *	WAITERS  2  one thread runs fn; callers may sleep on the word
 *	DONE     3  fn has returned (or ended its thread); final
 *
 * The first caller moves INIT to RUNNING by compare-and-swap and runs
 * fn; owner_ records its thread so that a call from inside fn is caught
 * instead of waiting for itself forever. Later callers move RUNNING to
 * WAITERS and sleep until DONE. The runner alone writes DONE, by
 * exchange, and wakes everyone if it took away WAITERS. No step ever
 * moves the word back, which is what keeps a late arrival from sleeping
 * through the final wake (musl once had a swap that briefly restored
 * "running" and lost exactly those sleepers).
 *
 * Memory orders: the release exchange to DONE pairs with the acquire
 * load of the fast path and of the slow loop, so everything fn did is
 * visible to every caller once it returns. The done path is that one
 * acquire load and a branch.
 *
 * A fn that ends its thread without returning (pthread_exit or
 * cancellation) still reaches DONE through a cleanup handler, as Go's
 * deferred store does for a panicking or Goexit-ing f.
 *
 * Rejected: a mutex and a flag (Go's layout), which needs 8 more bytes
 * and a lock on the slow path for nothing the state word cannot say.
 */
#include <pthread.h>
#include <stdatomic.h>

#include <gosync/once.h>
#include <gosync/runtime.h>

#include "runtime/platform.h"
#include "runtime/wait.h"

enum { INIT = 0, RUNNING = 1, WAITERS = 2, DONE = 3 };

static void once_finish(void *p)
{
	gs_once_t *o = p;
	_Atomic uint32_t *w = GS__ATOMIC32(&o->state_);

	atomic_store_explicit(GS__ATOMIC32(&o->owner_), 0,
			      memory_order_relaxed);
	/* Release: pairs with the acquire loads in gs_once_do. */
	if (atomic_exchange_explicit(w, DONE, memory_order_release) ==
	    WAITERS)
		gs__wake(w, GS__WAKE_ALL);
}

static void once_run(gs_once_t *o, void (*fn)(void *), void *arg)
{
	/* Relaxed: only this thread ever compares owner_ with its own id. */
	atomic_store_explicit(GS__ATOMIC32(&o->owner_), gs__thread_id(),
			      memory_order_relaxed);
	pthread_cleanup_push(once_finish, o);
	fn(arg);
	pthread_cleanup_pop(1);
}

static void once_do_slow(gs_once_t *o, void (*fn)(void *), void *arg)
{
	_Atomic uint32_t *w = GS__ATOMIC32(&o->state_);
	uint32_t s = INIT;

	if (atomic_compare_exchange_strong_explicit(w, &s, RUNNING,
						    memory_order_acquire,
						    memory_order_acquire)) {
		once_run(o, fn, arg);
		return;
	}
	while (s != DONE) {
		if (atomic_load_explicit(GS__ATOMIC32(&o->owner_),
					 memory_order_relaxed) ==
		    gs__thread_id())
			gs__misuse("once", "recursive call");
		if (s == RUNNING &&
		    !atomic_compare_exchange_weak_explicit(
			    w, &s, WAITERS, memory_order_acquire,
			    memory_order_acquire))
			continue;
		gs__wait(w, WAITERS, GS_NEVER);
		s = atomic_load_explicit(w, memory_order_acquire);
	}
}

void gs_once_do(gs_once_t *o, void (*fn)(void *), void *arg)
{
	if (atomic_load_explicit(GS__ATOMIC32(&o->state_),
				 memory_order_acquire) != DONE)
		once_do_slow(o, fn, arg);
}
