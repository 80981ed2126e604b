/*
 * semaphore.c - gs_semaphore_t: Go's weighted semaphore.
 *
 * Under mu_: size_ (fixed), cur_ (weight held), and a FIFO of waiters,
 * each with its weight and a word of its own (context/ctxwait.h).
 * Acquire takes the weight at once only if it fits and nobody waits;
 * otherwise it queues and sleeps on its word until a release grants it
 * or its context ends. Release lowers cur_ and grants waiters from the
 * front as long as the front one fits, stopping at the first that does
 * not: that is what keeps a large request from starving behind a stream
 * of small ones.
 *
 * A grant and a give-up race on the waiter's word, and exactly one wins
 * (compare-and-swap from WAITING). A release whose grant fails takes the
 * weight back and goes on to the next waiter; a waiter that gave up
 * removes itself if still queued and, if it was at the front, serves
 * those behind it that now fit (the fault of golang/go#37852 was to
 * leave them asleep). Either way a cancelled waiter holds no weight.
 *
 * Memory orders: the queue and cur_ are under mu_; a grant's release on
 * the word pairs with the waiter's acquire, so the releaser's writes
 * before release are visible to the acquirer.
 *
 * Rejected: waking every waiter to recheck (a herd, and no order).
 * Limits: one mutex serialises acquire and release; weights are int64_t
 * and a negative weight is not checked, as in Go.
 */
#include <errno.h>
#include <stddef.h>

#include <gosync/runtime.h>
#include <gosync/semaphore.h>

#include "context/ctxwait.h"
#include "introspect.h"
#include "runtime/platform.h"

struct gs__sem_waiter {
	struct gs__sem_waiter *next, *prev;
	int64_t n;
	bool linked;
	_Atomic uint32_t word;
};

static void unlink_locked(gs_semaphore_t *s, struct gs__sem_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		s->head_ = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		s->tail_ = w->prev;
	w->linked = false;
}

/* Grants the front waiters while they fit. */
static void notify_locked(gs_semaphore_t *s)
{
	struct gs__sem_waiter *w;

	while ((w = s->head_) != NULL && s->size_ - s->cur_ >= w->n) {
		unlink_locked(s, w);
		s->cur_ += w->n;
		if (!gs__ctx_grant(&w->word))
			s->cur_ -= w->n; /* it gave up first: none for it */
	}
}

bool gs_semaphore_try_acquire(gs_semaphore_t *s, int64_t n)
{
	bool ok;

	gs_mutex_lock(&s->mu_);
	ok = s->size_ - s->cur_ >= n && !s->head_;
	if (ok)
		s->cur_ += n;
	gs_mutex_unlock(&s->mu_);
	return ok;
}

int gs_semaphore_acquire(gs_semaphore_t *s, gs_ctx_t *ctx, int64_t n)
{
	struct gs__sem_waiter w = {NULL, NULL, n, false, GS__WAITING};
	int err = gs_ctx_err(ctx);
	bool front;

	if (err != 0)
		return err;
	gs_mutex_lock(&s->mu_);
	if (s->size_ - s->cur_ >= n && !s->head_) {
		s->cur_ += n;
		gs_mutex_unlock(&s->mu_);
		return 0;
	}
	if (n > s->size_) {
		/* It can never fit: wait for the context, blocking nobody. */
		gs_mutex_unlock(&s->mu_);
		gs_ctx_wait(ctx);
		return gs_ctx_err(ctx);
	}
	w.prev = s->tail_;
	if (s->tail_)
		s->tail_->next = &w;
	else
		s->head_ = &w;
	s->tail_ = &w;
	w.linked = true;
	gs_mutex_unlock(&s->mu_);

	err = gs__ctx_wait_word(&w.word, ctx, GS_NEVER);
	if (err == 0)
		return 0;
	gs_mutex_lock(&s->mu_);
	front = s->head_ == &w;
	if (w.linked)
		unlink_locked(s, &w);
	if (front)
		notify_locked(s);
	gs_mutex_unlock(&s->mu_);
	return err;
}

void gs_semaphore_release(gs_semaphore_t *s, int64_t n)
{
	gs_mutex_lock(&s->mu_);
	s->cur_ -= n;
	if (s->cur_ < 0) {
		gs_mutex_unlock(&s->mu_);
		gs__misuse("semaphore", "released more than held");
	}
	notify_locked(s);
	gs_mutex_unlock(&s->mu_);
}

int gs__semaphore_waiters(gs_semaphore_t *s)
{
	int n = 0;

	gs_mutex_lock(&s->mu_);
	for (struct gs__sem_waiter *w = s->head_; w; w = w->next)
		n++;
	gs_mutex_unlock(&s->mu_);
	return n;
}

int64_t gs__semaphore_held(gs_semaphore_t *s)
{
	int64_t n;

	gs_mutex_lock(&s->mu_);
	n = s->cur_;
	gs_mutex_unlock(&s->mu_);
	return n;
}
