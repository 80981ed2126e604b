/*
 * once.c - gs_once_t: run a function exactly once (or, for gs_once_try,
 * until it succeeds), and make every caller wait for it.
 *
 * State word:
 *
 *	bits 1..0   INIT 0     no attempt running, none succeeded
 *	            RUNNING 1  one thread runs fn; nobody sleeps
 *	            WAITERS 2  one thread runs fn; callers may sleep
 *	            DONE 3     fn has completed; final (the word is then
 *	                       exactly 3: the generation is cleared)
 *	bits 31..2  generation: failed attempts so far (gs_once_try only)
 *
 * The first caller moves INIT to RUNNING by compare-and-swap and runs
 * fn; owner_ records its thread so that a call from inside fn is caught
 * instead of waiting for itself for ever. Later callers move RUNNING to
 * WAITERS and sleep until the word changes. The runner alone ends an
 * attempt, by exchange: to DONE, or, for a failed try, to INIT with the
 * generation raised and the error left in err_. It wakes everyone if it
 * took away WAITERS. Waiters recognise the end of their attempt by the
 * word leaving RUNNING/WAITERS of their generation. Apart from a failed
 * try, no step moves the word backwards, which keeps a late arrival from
 * sleeping through the final wake (musl once had a swap that briefly
 * restored "running" and lost exactly those sleepers); a failed try
 * moves to a new generation, which no sleeper of the old one expects.
 *
 * Memory orders: the release exchange that ends an attempt pairs with
 * the acquire loads of the fast path and of the waiting loop, so what fn
 * did (and err_, written before it) is visible to every caller once it
 * returns. The done path is one acquire load and a compare, inlined
 * from the header.
 *
 * A fn that ends its thread without returning (pthread_exit or
 * cancellation) still ends its attempt through a cleanup handler: done
 * for gs_once_do, as Go's deferred store does for a panicking f, and a
 * failure with EOWNERDEAD for gs_once_try.
 *
 * Rejected: a mutex and a flag (Go's layout), which needs 8 more bytes
 * and a lock on the slow path for nothing the state word cannot say.
 * Limits: a waiter that wakes only after a later attempt has failed as
 * well reports that later error; err_ keeps only the latest.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <gosync/once.h>
#include <gosync/runtime.h>

#include "runtime/platform.h"
#include "runtime/wait.h"

enum { INIT = 0, RUNNING = 1, WAITERS = 2, DONE = GS__ONCE_DONE };
enum { STATE = 3, GEN = 4 };

/* An attempt in progress: who runs it, and how it ended. */
struct attempt {
	gs_once_t *o;
	uint32_t gen;
	int err;
	bool is_try;
	bool returned;
};

static void attempt_end(void *p)
{
	struct attempt *a = p;
	_Atomic uint32_t *w = GS__ATOMIC32(&a->o->state_);
	uint32_t next = DONE;

	if (a->is_try && !a->returned)
		a->err = EOWNERDEAD; /* a do counts an exit as done */
	if (a->err != 0) {
		/* Relaxed: the exchange below publishes it. */
		atomic_store_explicit((_Atomic int *)(void *)&a->o->err_,
				      a->err, memory_order_relaxed);
		next = a->gen + GEN; /* INIT of the next generation */
	}
	atomic_store_explicit(GS__ATOMIC32(&a->o->owner_), 0,
			      memory_order_relaxed);
	/* Release: pairs with the acquire loads of the callers. */
	if ((atomic_exchange_explicit(w, next, memory_order_release) &
	     STATE) == WAITERS)
		gs__wake(w, GS__WAKE_ALL);
}

/*
 * Starts an attempt or waits for the running one. Returns true when the
 * caller must run fn, with *gen set; false when the word left the
 * attempt it saw, with *seen set to the new word.
 */
static bool attempt_join(gs_once_t *o, uint32_t *gen, uint32_t *seen)
{
	_Atomic uint32_t *w = GS__ATOMIC32(&o->state_);
	uint32_t s = atomic_load_explicit(w, memory_order_acquire);
	uint32_t mine;

	if ((s & STATE) == INIT &&
	    atomic_compare_exchange_strong_explicit(w, &s, s | RUNNING,
						    memory_order_acquire,
						    memory_order_acquire)) {
		/* Relaxed: only this thread compares owner_ with its id. */
		atomic_store_explicit(GS__ATOMIC32(&o->owner_),
				      gs__thread_id(), memory_order_relaxed);
		*gen = s;
		return true;
	}
	mine = s & ~(uint32_t)STATE;
	while ((s & STATE) != DONE && (s & STATE) != INIT &&
	       (s & ~(uint32_t)STATE) == mine) {
		if (atomic_load_explicit(GS__ATOMIC32(&o->owner_),
					 memory_order_relaxed) ==
		    gs__thread_id())
			gs__misuse("once", "recursive call");
		if ((s & STATE) == RUNNING &&
		    !atomic_compare_exchange_weak_explicit(
			    w, &s, mine | WAITERS, memory_order_acquire,
			    memory_order_acquire))
			continue;
		gs__wait(w, mine | WAITERS, GS_NEVER);
		s = atomic_load_explicit(w, memory_order_acquire);
	}
	*seen = s;
	return false;
}

void gs__once_do_slow(gs_once_t *o, void (*fn)(void *), void *arg)
{
	uint32_t gen, seen;

	/* Only a failed gs_once_try on the same once could send us round. */
	while (!attempt_join(o, &gen, &seen))
		if (seen == DONE)
			return;

	struct attempt a = {o, gen, 0, false, false};
	pthread_cleanup_push(attempt_end, &a);
	fn(arg);
	a.returned = true;
	pthread_cleanup_pop(1);
}

int gs__once_try_slow(gs_once_t *o, int (*fn)(void *), void *arg)
{
	uint32_t gen, seen;
	int err;

	if (!attempt_join(o, &gen, &seen))
		return seen == DONE ? 0
				    : atomic_load_explicit(
					      (_Atomic int *)(void *)&o->err_,
					      memory_order_relaxed);

	struct attempt a = {o, gen, 0, true, false};
	pthread_cleanup_push(attempt_end, &a);
	a.err = err = fn(arg);
	a.returned = true;
	pthread_cleanup_pop(1);
	return err;
}

struct value_call {
	gs_once_value_t *ov;
	void *(*fn)(void *);
	void *arg;
};

static void value_run(void *p)
{
	struct value_call *c = p;

	c->ov->value_ = c->fn(c->arg);
}

void *gs_once_value(gs_once_value_t *ov, void *(*fn)(void *), void *arg)
{
	struct value_call c = {ov, fn, arg};

	gs_once_do(&ov->once_, value_run, &c);
	return ov->value_;
}
