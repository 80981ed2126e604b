/*
 * rwmutex.c - gs_rwmutex_t: Go's reader-count algorithm, with deadlines.
 *
 * Fields:
 *
 *	w_            the writers' mutex: one writer at a time goes further
 *	readers_      readers inside or waiting; minus MAX while a writer is
 *	              announced (so a negative count means "writer
 *	              pending or in")
 *	departing_    readers the announced writer still waits for
 *	writer_sem_   permit for the writer: the last of those readers left
 *	reader_sem_   permits for readers that queued behind a writer
 *	grant_        who settles a writer that gave up (see below)
 *	unlocks_      bumped at every write unlock; timed readers sleep on it
 *	timed_readers_ how many timed readers sleep on unlocks_
 *
 * rlock adds one to readers_; a non-negative result means it is in, a
 * negative one that a writer is announced, so it sleeps for a permit.
 * runlock subtracts one; a negative result means a writer waits, and
 * the reader counts itself out of departing_, the last one posting the
 * writer's permit. lock takes w_, subtracts MAX from readers_ (which
 * shuts new readers out), adds the readers that were inside to
 * departing_, and sleeps for its permit unless they already left.
 * unlock adds MAX back: the result is the number of readers that queued
 * meanwhile, and it posts that many permits, then releases w_.
 *
 * Deadlines. A timed reader never queues on reader_sem_: it tries the
 * lock (as tryrlock) and otherwise sleeps on unlocks_ until a writer
 * unlocks, so giving up leaves no count behind. The sleep cannot miss
 * the unlock: the reader counts itself in timed_readers_ and then reads
 * unlocks_, the writer bumps unlocks_ and then reads timed_readers_,
 * all sequentially consistent, so one of them sees the other. A timed
 * writer that gives up after announcing cannot take back what the
 * readers inside will do to departing_, so instead it hands its lock
 * over: grant_ is raced for by compare-and-swap. If the writer wins
 * (ABANDONED), the last departing reader finishes for it, unlocking as
 * the writer would have; if the reader wins (GRANTED), its permit is on
 * the way and the writer takes it and keeps the lock.
 *
 * Memory orders: the add of rlock and the subtractions of lock are
 * acquires, the adds of runlock and unlock releases; permits are
 * release/acquire (sema.h). That gives Go's memory model.
 *
 * Rejected: one state word with reader count and writer bits, which
 * makes rlock a compare-and-swap loop instead of one add. Limits: at
 * most MAX - 1 (2^30 - 1) readers; timed readers compete again after
 * each write unlock instead of being admitted by it, so a stream of
 * writers can keep them out until their deadline.
 */
#include <errno.h>
#include <stdatomic.h>

#include <gosync/runtime.h>
#include <gosync/rwmutex.h>

#include "runtime/platform.h"
#include "runtime/wait.h"
#include "sync/sema.h"

#define MAX_READERS (1 << 30)

enum { GRANT_NONE = 0, GRANTED = 1, ABANDONED = 2 };

#define READERS(rw) ((_Atomic int32_t *)(void *)&(rw)->readers_)
#define DEPARTING(rw) ((_Atomic int32_t *)(void *)&(rw)->departing_)

static void release_readers(gs_rwmutex_t *rw, int32_t r)
{
	if (r > 0)
		gs__sema_post(GS__ATOMIC32(&rw->reader_sem_), (uint32_t)r);
	/* Seq_cst: pairs with the timed reader's count-then-read. */
	atomic_fetch_add(GS__ATOMIC32(&rw->unlocks_), 1);
	if (atomic_load(GS__ATOMIC32(&rw->timed_readers_)))
		gs__wake(GS__ATOMIC32(&rw->unlocks_), GS__WAKE_ALL);
}

/* The write unlock, by the writer or for a writer that gave up. */
static void write_release(gs_rwmutex_t *rw)
{
	/* Release: pairs with the acquire add of rlock. */
	int32_t r = atomic_fetch_add_explicit(READERS(rw), MAX_READERS,
					      memory_order_release) +
		    MAX_READERS;

	if (r >= MAX_READERS)
		gs__misuse("rwmutex", "unlock of unlocked rwmutex");
	release_readers(rw, r);
	gs_mutex_unlock(&rw->w_);
}

bool gs_rwmutex_tryrlock(gs_rwmutex_t *rw)
{
	int32_t c = atomic_load_explicit(READERS(rw), memory_order_relaxed);

	while (c >= 0)
		if (atomic_compare_exchange_weak_explicit(
			    READERS(rw), &c, c + 1, memory_order_acquire,
			    memory_order_relaxed))
			return true;
	return false;
}

void gs_rwmutex_rlock(gs_rwmutex_t *rw)
{
	/* A negative count after the add: a writer is announced. */
	if (atomic_fetch_add_explicit(READERS(rw), 1, memory_order_acquire) +
		    1 <
	    0)
		gs__sema_take(GS__ATOMIC32(&rw->reader_sem_), GS_NEVER);
}

int gs_rwmutex_rlock_until(gs_rwmutex_t *rw, int64_t deadline)
{
	_Atomic uint32_t *unlocks = GS__ATOMIC32(&rw->unlocks_);
	_Atomic uint32_t *timed = GS__ATOMIC32(&rw->timed_readers_);
	int err = 0;

	if (gs_rwmutex_tryrlock(rw))
		return 0;
	atomic_fetch_add(timed, 1);
	for (;;) {
		uint32_t seen = atomic_load(unlocks);

		if (gs_rwmutex_tryrlock(rw))
			break;
		if (gs__wait(unlocks, seen, deadline) == ETIMEDOUT) {
			err = gs_rwmutex_tryrlock(rw) ? 0 : ETIMEDOUT;
			break;
		}
	}
	atomic_fetch_sub(timed, 1);
	return err;
}

static void runlock_slow(gs_rwmutex_t *rw, int32_t r)
{
	uint32_t expect = GRANT_NONE;

	if (r + 1 == 0 || r + 1 == -MAX_READERS)
		gs__misuse("rwmutex", "runlock of unlocked rwmutex");
	if (atomic_fetch_sub_explicit(DEPARTING(rw), 1,
				      memory_order_acq_rel) != 1)
		return;
	/* The last reader the writer waited for: let it in, or finish it. */
	if (atomic_compare_exchange_strong_explicit(
		    GS__ATOMIC32(&rw->grant_), &expect, GRANTED,
		    memory_order_acq_rel, memory_order_acquire))
		gs__sema_post(GS__ATOMIC32(&rw->writer_sem_), 1);
	else
		write_release(rw);
}

void gs_rwmutex_runlock(gs_rwmutex_t *rw)
{
	/* Release: pairs with the acquire of the writer's lock. */
	int32_t r = atomic_fetch_sub_explicit(READERS(rw), 1,
					      memory_order_release) -
		    1;

	if (r < 0)
		runlock_slow(rw, r);
}

int gs_rwmutex_lock_until(gs_rwmutex_t *rw, int64_t deadline)
{
	_Atomic uint32_t *grant = GS__ATOMIC32(&rw->grant_);
	uint32_t expect = GRANT_NONE;
	int32_t r;

	if (gs_mutex_lock_until(&rw->w_, deadline) != 0)
		return ETIMEDOUT;
	/* Only the holder of w_ resets it; the last race is settled. */
	atomic_store_explicit(grant, GRANT_NONE, memory_order_relaxed);
	r = atomic_fetch_sub_explicit(READERS(rw), MAX_READERS,
				      memory_order_acquire);
	if (r == 0 || atomic_fetch_add_explicit(DEPARTING(rw), r,
						memory_order_acq_rel) +
				      r ==
			      0)
		return 0;
	if (gs__sema_take(GS__ATOMIC32(&rw->writer_sem_), deadline) == 0)
		return 0;
	if (atomic_compare_exchange_strong_explicit(grant, &expect, ABANDONED,
						    memory_order_acq_rel,
						    memory_order_acquire))
		return ETIMEDOUT; /* the last reader unlocks for us */
	gs__sema_take(GS__ATOMIC32(&rw->writer_sem_), GS_NEVER);
	return 0;
}

void gs_rwmutex_lock(gs_rwmutex_t *rw)
{
	gs_rwmutex_lock_until(rw, GS_NEVER);
}

bool gs_rwmutex_trylock(gs_rwmutex_t *rw)
{
	int32_t zero = 0;

	if (!gs_mutex_trylock(&rw->w_))
		return false;
	/* Holding w_, no writer that gave up is still being finished. */
	atomic_store_explicit(GS__ATOMIC32(&rw->grant_), GRANT_NONE,
			      memory_order_relaxed);
	if (atomic_compare_exchange_strong_explicit(
		    READERS(rw), &zero, -MAX_READERS, memory_order_acquire,
		    memory_order_relaxed))
		return true;
	gs_mutex_unlock(&rw->w_);
	return false;
}

void gs_rwmutex_unlock(gs_rwmutex_t *rw)
{
	/*
	 * The holder of the write lock waits for no reader and has not given
	 * up; an unlock while a writer still waits for readers, or after a
	 * lock_until that gave up, is an unlock without the lock.
	 */
	if (atomic_load_explicit(DEPARTING(rw), memory_order_relaxed) > 0 ||
	    atomic_load_explicit(GS__ATOMIC32(&rw->grant_),
				 memory_order_relaxed) == ABANDONED)
		gs__misuse("rwmutex", "unlock of unlocked rwmutex");
	write_release(rw);
}

void gs_rwmutex_lock_any(void *rw)
{
	gs_rwmutex_lock(rw);
}

void gs_rwmutex_unlock_any(void *rw)
{
	gs_rwmutex_unlock(rw);
}

void gs_rwmutex_rlock_any(void *rw)
{
	gs_rwmutex_rlock(rw);
}

void gs_rwmutex_runlock_any(void *rw)
{
	gs_rwmutex_runlock(rw);
}
