/*
 * cond.c - gs_cond_t: a FIFO list of waiters, each sleeping on a word of
 * its own.
 *
 * A waiter joins the tail of the list (under mu_) while it still holds
 * the user's lock, and only then unlocks it and sleeps. So a signaller
 * that runs after the waiter's unlock, by holding the lock or by any
 * other ordering, finds it in the list: the lost wakeup of a condvar
 * that releases the lock before joining its queue cannot happen, and a
 * thread that starts to wait after a signal or broadcast can never take
 * a wakeup meant for earlier waiters.
 *
 * Signal pops the head and sets its word; broadcast takes the whole list.
 * A woken waiter finds its word set, which no one else sets, so it
 * never returns spuriously. A waiter whose deadline passes takes mu_,
 * and either finds its word already set (it was signalled: it reports
 * so, and no signal is lost) or removes itself.
 *
 * nwaiters_ lets signal and broadcast return without the mutex when the
 * list is empty; it changes under mu_, and a relaxed read is enough
 * because a signal that must see a waiter is ordered after it by the
 * user's lock.
 *
 * Memory orders: the waiter's word is set with release after it left
 * the list and read with acquire, so the signaller's writes before the
 * signal are visible when the wait returns.
 *
 * Rejected: Go's tickets, which exist because Go's waiter joins its
 * queue after releasing the lock; joining first needs no tickets, and
 * it lets a timed-out waiter leave without eating a later signal.
 * Limits: every wait takes mu_ twice, and a broadcast wakes all waiters
 * at once, which then contend for the user's lock.
 */
#include <errno.h>
#include <stddef.h>

#include <gosync/cond.h>
#include <gosync/runtime.h>

#include "runtime/platform.h"
#include "runtime/wait.h"

/* Pauses a waiter spends watching its word before it sleeps. */
#define SPIN 200

struct gs__cond_waiter {
	struct gs__cond_waiter *next, *prev;
	_Atomic uint32_t woken;
};

void gs_cond_init(gs_cond_t *c, gs_locker_t l)
{
	*c = (gs_cond_t)GS_COND_INIT(l);
}

/* The first use records the address; any other address is a copy. */
static void cond_check(gs_cond_t *c)
{
	_Atomic(void *) *self = (_Atomic(void *) *)(void *)&c->self_;
	void *seen = atomic_load_explicit(self, memory_order_relaxed);

	if (seen == c)
		return;
	if (seen == NULL && atomic_compare_exchange_strong_explicit(
				    self, &seen, c, memory_order_relaxed,
				    memory_order_relaxed))
		return;
	if (seen != c)
		gs__misuse("cond", "copied after first use");
}

static void unlink_locked(gs_cond_t *c, struct gs__cond_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		c->head_ = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		c->tail_ = w->prev;
	atomic_store_explicit(GS__ATOMIC32(&c->nwaiters_),
			      c->nwaiters_ - 1, memory_order_relaxed);
}

bool gs_cond_wait_until(gs_cond_t *c, int64_t deadline)
{
	struct gs__cond_waiter w = {NULL, NULL, 0};
	bool woken = true;

	cond_check(c);
	if (!c->l.lock)
		gs__misuse("cond", "wait on a cond without a locker");
	gs_mutex_lock(&c->mu_);
	w.prev = c->tail_;
	if (c->tail_)
		c->tail_->next = &w;
	else
		c->head_ = &w;
	c->tail_ = &w;
	atomic_store_explicit(GS__ATOMIC32(&c->nwaiters_),
			      c->nwaiters_ + 1, memory_order_relaxed);
	gs_mutex_unlock(&c->mu_);
	gs_locker_unlock(&c->l);

	/* A signal often follows within microseconds: watch before sleeping. */
	for (int i = 0; i < SPIN && gs__ncpu() > 1; i++) {
		if (atomic_load_explicit(&w.woken, memory_order_relaxed))
			break;
		gs__spin_pause();
	}
	/* Acquire: pairs with the release store of the waker. */
	while (!atomic_load_explicit(&w.woken, memory_order_acquire)) {
		if (gs__wait(&w.woken, 0, deadline) != ETIMEDOUT)
			continue;
		gs_mutex_lock(&c->mu_);
		woken = atomic_load_explicit(&w.woken, memory_order_acquire);
		if (!woken)
			unlink_locked(c, &w);
		gs_mutex_unlock(&c->mu_);
		break;
	}
	gs_locker_lock(&c->l);
	return woken;
}

void gs_cond_wait(gs_cond_t *c)
{
	gs_cond_wait_until(c, GS_NEVER);
}

static void wake(struct gs__cond_waiter *w)
{
	/* Release: pairs with the acquire load in the waiter. */
	atomic_store_explicit(&w->woken, 1, memory_order_release);
	gs__wake(&w->woken, 1);
}

/* Takes mu_ and returns true, unless nobody waits. */
static bool cond_lock_if_waiters(gs_cond_t *c)
{
	cond_check(c);
	if (!atomic_load_explicit(GS__ATOMIC32(&c->nwaiters_),
				  memory_order_relaxed))
		return false;
	gs_mutex_lock(&c->mu_);
	return true;
}

void gs_cond_signal(gs_cond_t *c)
{
	struct gs__cond_waiter *w;

	if (!cond_lock_if_waiters(c))
		return;
	w = c->head_;
	if (w) {
		unlink_locked(c, w);
		wake(w);
	}
	gs_mutex_unlock(&c->mu_);
}

void gs_cond_broadcast(gs_cond_t *c)
{
	struct gs__cond_waiter *w, *next;

	if (!cond_lock_if_waiters(c))
		return;
	w = c->head_;
	c->head_ = c->tail_ = NULL;
	atomic_store_explicit(GS__ATOMIC32(&c->nwaiters_), 0,
			      memory_order_relaxed);
	for (; w; w = next) {
		next = w->next;
		wake(w);
	}
	gs_mutex_unlock(&c->mu_);
}
