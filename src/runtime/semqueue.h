/*
 * semqueue.h - layer 1: a counting semaphore on one 32-bit word whose
 * sleepers are served in order, for the mutex's hand-off.
 *
 * The count lives in the caller's word; the sleepers live in a table of
 * queues outside it, found by the word's address, so the word can stay
 * in a small struct. A release gives its permit straight to the oldest
 * sleeper on the word, which owns it from that moment: no thread that
 * arrives later can take it, however fast it runs. Only when nobody
 * sleeps does the permit go to the count, where the next taker finds
 * it.
 *
 * Invariant: every change of the count and every queueing happens with
 * the word's queue locked, and a thread queues only after seeing the
 * count at zero; so while anyone sleeps on a word, its count is zero,
 * and permits reach the sleepers first, in order.
 *
 * Memory orders: a release synchronises with the acquire that gets its
 * permit, through the queue's lock or through the count's
 * acquire/release pair.
 */
#ifndef GS_RUNTIME_SEMQUEUE_H
#define GS_RUNTIME_SEMQUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/platform.h"

/* gs__semq_try takes a permit from the count if one is there. */
static inline bool gs__semq_try(_Atomic uint32_t *sema)
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
#define GS__SEMQ_SPIN 200

/* gs__semq_spin watches for a permit a moment, where it may come. */
static inline bool gs__semq_spin(_Atomic uint32_t *sema)
{
	if (gs__ncpu() > 1)
		for (int i = 0; i < GS__SEMQ_SPIN; i++) {
			if (atomic_load_explicit(sema, memory_order_relaxed) &&
			    gs__semq_try(sema))
				return true;
			gs__spin_pause();
		}
	return false;
}

/*
 * gs__semq_acquire takes a permit, sleeping until deadline (a gs_now()
 * value or GS_NEVER) if there is none: 0, or ETIMEDOUT with nothing
 * taken. A sleeper joins the back of the word's queue, or the front if
 * front is true (a waiter that has waited before and lost its turn).
 * Where another CPU runs, it watches the count for a moment before it
 * queues.
 */
int gs__semq_acquire(_Atomic uint32_t *sema, bool front, int64_t deadline);

/*
 * A sleeper's record, on its own stack, for a caller that must join the
 * queue before it publishes that it waits (the mutex's requeue): link
 * it with gs__semq_link, then either sleep with gs__semq_sleep or take
 * it out again with gs__semq_unlink. Its fields are private to
 * semqueue.c.
 */
struct gs__semq_sleeper {
	_Atomic uint32_t *sema;
	struct gs__semq_sleeper *next, *prev;
	_Atomic uint32_t granted;
};

/*
 * gs__semq_link queues s on sema, at the front or the back, without
 * taking a permit; it returns false, queuing nothing, if the count holds
 * a permit (the caller then takes the ordinary path).
 */
bool gs__semq_link(_Atomic uint32_t *sema, struct gs__semq_sleeper *s,
		   bool front);

/*
 * gs__semq_sleep waits, until deadline, for a release to grant s:
 * 0, or ETIMEDOUT with s out of the queue and nothing taken.
 */
int gs__semq_sleep(_Atomic uint32_t *sema, struct gs__semq_sleeper *s,
		   int64_t deadline);

/*
 * gs__semq_unlink takes s out of the queue; returns true instead if a
 * release granted s first (s then holds the permit).
 */
bool gs__semq_unlink(_Atomic uint32_t *sema, struct gs__semq_sleeper *s);

/* gs__semq_release gives one permit: to the oldest sleeper, if any. */
void gs__semq_release(_Atomic uint32_t *sema);

/* How many threads sleep on sema right now (for tests). */
int gs__semq_sleepers(_Atomic uint32_t *sema);

#endif
