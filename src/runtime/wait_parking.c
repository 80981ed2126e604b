/*
 * wait_parking.c - layer 1 without futex: a parking lot.
 *
 * Words hash to one of 256 buckets; each bucket is a pthread mutex and a
 * list of the threads sleeping on its words. Every sleeper has its own
 * condition variable (on the monotonic clock) and a woken flag, so a
 * wake reaches exactly the sleepers of its word and the bucket never
 * broadcasts to strangers.
 *
 * No lost wakeup: gs__wait reads the word with the bucket locked and
 * joins the list before unlocking, and gs__wake takes the same lock
 * after its caller changed the word, so a wake either finds the sleeper
 * on the list or the sleeper finds the changed word. The mutex's own
 * ordering carries the happens-before edge between them; the relaxed
 * load of the word is enough because the lock orders it.
 *
 * Rejected: one condition variable per bucket, broadcast on every wake.
 * It is shorter but wakes every thread of the bucket for each wake, and
 * the collisions of unrelated words make that a thundering herd.
 * The condition wait is a cancellation point, which gs__wait must not
 * be (see wait.h), so cancellation is disabled around it.
 * Limits: 256 buckets are shared by the whole process, so a program
 * with very many sleepers on distinct words serialises on them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <gosync/runtime.h>

#include "runtime/wait.h"

#define NBUCKETS 256

struct sleeper {
	_Atomic uint32_t *word;
	struct sleeper *next, **prevp;
	pthread_cond_t cond;
	bool woken;
};

struct bucket {
	pthread_mutex_t mu;
	struct sleeper *head;
	struct sleeper **tailp;
	char pad[64];
};

static struct bucket buckets[NBUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
	for (int i = 0; i < NBUCKETS; i++) {
		pthread_mutex_init(&buckets[i].mu, NULL);
		buckets[i].head = NULL;
		buckets[i].tailp = &buckets[i].head;
	}
}

static struct bucket *bucket_of(_Atomic uint32_t *word)
{
	uintptr_t h = (uintptr_t)word;

	pthread_once(&buckets_once, buckets_init);
	h ^= h >> 17;
	h *= (uintptr_t)0x9E3779B97F4A7C15ull;
	return &buckets[(h >> 24) % NBUCKETS];
}

static void unlink_locked(struct bucket *b, struct sleeper *s)
{
	*s->prevp = s->next;
	if (s->next)
		s->next->prevp = s->prevp;
	else
		b->tailp = s->prevp;
}

_Thread_local void (*gs__wait_hook)(bool blocking);

int gs__wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline)
{
	void (*hook)(bool) = gs__wait_hook;
	struct bucket *b = bucket_of(word);
	struct sleeper s = {word, NULL, NULL, PTHREAD_COND_INITIALIZER, 0};
	int cancel_state;
	pthread_condattr_t attr;
	struct timespec ts;
	int err = 0;

	if (deadline != GS_NEVER && deadline <= gs_now())
		return ETIMEDOUT;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s.cond, &attr);
	pthread_condattr_destroy(&attr);
	ts.tv_sec = (time_t)(deadline / GS_SECOND);
	ts.tv_nsec = (long)(deadline % GS_SECOND);

	/*
	 * The hook runs with no bucket locked: it takes the executor's
	 * lock and may wake a thread, which locks a bucket, perhaps this
	 * one.
	 */
	if (hook)
		hook(true);
	pthread_mutex_lock(&b->mu);
	if (atomic_load_explicit(word, memory_order_relaxed) != expected) {
		pthread_mutex_unlock(&b->mu);
		pthread_cond_destroy(&s.cond);
		if (hook)
			hook(false);
		return EAGAIN;
	}
	s.prevp = b->tailp;
	*b->tailp = &s;
	b->tailp = &s.next;
	/* Not a cancellation point, like the futex: see wait.h. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	while (!s.woken && err != ETIMEDOUT) {
		if (deadline == GS_NEVER)
			pthread_cond_wait(&s.cond, &b->mu);
		else
			err = pthread_cond_timedwait(&s.cond, &b->mu, &ts);
	}
	pthread_setcancelstate(cancel_state, NULL);
	if (!s.woken)
		unlink_locked(b, &s);
	pthread_mutex_unlock(&b->mu);
	pthread_cond_destroy(&s.cond);
	if (hook)
		hook(false);
	return s.woken ? 0 : ETIMEDOUT;
}

void gs__wake(_Atomic uint32_t *word, int n)
{
	struct bucket *b = bucket_of(word);
	struct sleeper *s, *next;

	pthread_mutex_lock(&b->mu);
	for (s = b->head; s && n > 0; s = next) {
		next = s->next;
		if (s->word != word)
			continue;
		unlink_locked(b, s);
		s->woken = true;
		pthread_cond_signal(&s->cond);
		n--;
	}
	pthread_mutex_unlock(&b->mu);
}
