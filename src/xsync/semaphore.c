/*
 * semaphore.c - gs_semaphore_t: Go's weighted semaphore.
 *
 * size_ is fixed; cur_ is the weight held, with a QUEUED bit set while
 * the FIFO of waiters (under mu_, each with its weight and a word of its
 * own, context/ctxwait.h) is not empty. While QUEUED is clear, acquire
 * and release are one compare-and-swap on cur_ each, with no mutex.
 * While it is set, both go through mu_, and QUEUED is set or cleared
 * only there, by compare-and-swap against the latest cur_, so a fast
 * path never slips past a waiter. Acquire takes the weight at once only
 * if it fits and nobody waits; otherwise it queues and sleeps on its
 * word until a release grants it or its context ends. Release lowers
 * cur_ and grants waiters from the front as long as the front one
 * fits, stopping at the first that does not: that is what keeps a large
 * request from starving behind a stream of small ones.
 *
 * A grant and a give-up race on the waiter's word, and exactly one wins
 * (compare-and-swap from WAITING). A release whose grant fails takes the
 * weight back and goes on to the next waiter; a waiter that gave up
 * removes itself if still queued and, if it was at the front, serves
 * those behind it that now fit (the fault of golang/go#37852 was to
 * leave them asleep). Either way a cancelled waiter holds no weight.
 *
 * Memory orders: the fast paths' compare-and-swaps are release (give
 * back) and acquire (take); the queue is under mu_; a grant's release on
 * the word pairs with the waiter's acquire, so the releaser's writes
 * before release are visible to the acquirer.
 *
 * Rejected: waking every waiter to recheck (a herd, and no order).
 * Limits: while anyone waits, one mutex serialises acquire and release;
 * weights are int64_t below 2^62, and a negative weight is not checked,
 * as in Go.
 */
#include <errno.h>
#include <stdatomic.h>
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

/* cur_ holds the weight held, and QUEUED while anyone waits. */
#define CUR(s) ((_Atomic int64_t *)(void *)&(s)->cur_)
#define QUEUED ((int64_t)1 << 62)

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

/* Grants the front waiters while they fit; QUEUED goes with the last. */
static void notify_locked(gs_semaphore_t *s)
{
	struct gs__sem_waiter *w;

	while ((w = s->head_) != NULL &&
	       s->size_ - (atomic_load(CUR(s)) & ~QUEUED) >= w->n) {
		unlink_locked(s, w);
		atomic_fetch_add(CUR(s), w->n);
		if (!gs__ctx_grant(&w->word))
			atomic_fetch_sub(CUR(s), w->n); /* it left first */
	}
	if (!s->head_)
		atomic_fetch_and(CUR(s), ~QUEUED);
}

/* Takes n without the mutex if it fits and nobody waits. */
static bool fast_acquire(gs_semaphore_t *s, int64_t n)
{
	int64_t c = atomic_load_explicit(CUR(s), memory_order_relaxed);

	/* Acquire: pairs with the release of fast_release. */
	while (!(c & QUEUED) && s->size_ - c >= n)
		if (atomic_compare_exchange_weak_explicit(
			    CUR(s), &c, c + n, memory_order_acquire,
			    memory_order_relaxed))
			return true;
	return false;
}

/* Gives n back without the mutex if nobody waits. */
static bool fast_release(gs_semaphore_t *s, int64_t n)
{
	int64_t c = atomic_load_explicit(CUR(s), memory_order_relaxed);

	while (!(c & QUEUED)) {
		if (c - n < 0)
			gs__misuse("semaphore", "released more than held");
		if (atomic_compare_exchange_weak_explicit(
			    CUR(s), &c, c - n, memory_order_release,
			    memory_order_relaxed))
			return true;
	}
	return false;
}

bool gs_semaphore_try_acquire(gs_semaphore_t *s, int64_t n)
{
	return fast_acquire(s, n);
}

/*
 * Under mu_: takes n if it fits and nobody waits, or else sets QUEUED,
 * in one compare-and-swap, so that no fast path can slip in between.
 */
static bool take_or_queue_locked(gs_semaphore_t *s, int64_t n)
{
	int64_t c = atomic_load(CUR(s));

	for (;;) {
		if (!s->head_ && s->size_ - (c & ~QUEUED) >= n) {
			if (atomic_compare_exchange_weak(CUR(s), &c, c + n))
				return true;
		} else if (atomic_compare_exchange_weak(CUR(s), &c,
							c | QUEUED)) {
			return false;
		}
	}
}

int gs_semaphore_acquire(gs_semaphore_t *s, gs_ctx_t *ctx, int64_t n)
{
	struct gs__sem_waiter w = {NULL, NULL, n, false, GS__WAITING};
	int err = gs_ctx_err(ctx);
	bool front;

	if (err != 0)
		return err;
	if (fast_acquire(s, n))
		return 0;
	if (n > s->size_) {
		/* It can never fit: wait for the context, blocking nobody. */
		gs_ctx_wait(ctx);
		return gs_ctx_err(ctx);
	}
	gs_mutex_lock(&s->mu_);
	if (take_or_queue_locked(s, n)) {
		gs_mutex_unlock(&s->mu_);
		return 0;
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
	if (front || !s->head_)
		notify_locked(s);
	gs_mutex_unlock(&s->mu_);
	return err;
}

void gs_semaphore_release(gs_semaphore_t *s, int64_t n)
{
	if (fast_release(s, n))
		return;
	gs_mutex_lock(&s->mu_);
	if ((atomic_fetch_sub(CUR(s), n) & ~QUEUED) - n < 0) {
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
	return atomic_load(CUR(s)) & ~QUEUED;
}
