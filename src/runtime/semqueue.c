/*
 * semqueue.c - the ordered semaphore of semqueue.h.
 *
 * Words hash to one of 256 buckets. Each bucket is a pthread mutex and
 * one doubly linked list of the sleepers of all its words, in the order
 * they queued (a sleeper queued at the front goes before the first
 * sleeper of its own word). A sleeper is a record on its own stack with
 * a grant word it sleeps on in the wait layer.
 *
 * A release that finds a sleeper unlinks it and sets its grant with the
 * bucket locked, then wakes it, still locked. The sleeper that sees its
 * grant takes and drops the bucket lock before it returns, so the
 * waker's last touch of the record comes before the record's stack
 * frame goes away.
 *
 * A sleeper whose deadline passes locks the bucket: if it was granted
 * meanwhile it keeps the permit and returns 0; otherwise it unlinks
 * itself and returns ETIMEDOUT, so a permit is never lost to a sleeper
 * that left.
 *
 * Limits: a bucket's list is searched from its head for the first
 * sleeper of a word, so many sleepers on words of one bucket make a
 * release linear in them; and the 256 buckets serialise the queueing of
 * unrelated words that collide. Both cost only where threads already
 * sleep.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include <gosync/runtime.h>

#include "runtime/platform.h"
#include "runtime/semqueue.h"
#include "runtime/wait.h"

#define NBUCKETS 256

#define sleeper gs__semq_sleeper

struct bucket {
	pthread_mutex_t mu;
	struct sleeper *head, *tail;
	char pad[64];
};

static struct bucket buckets[NBUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
	for (int i = 0; i < NBUCKETS; i++)
		pthread_mutex_init(&buckets[i].mu, NULL);
}

static struct bucket *bucket_of(_Atomic uint32_t *sema)
{
	uintptr_t a = (uintptr_t)sema >> 2;

	pthread_once(&buckets_once, buckets_init);
	a *= (uintptr_t)0x9e3779b97f4a7c15ull;
	return &buckets[(a >> (sizeof(a) * 8 - 8)) % NBUCKETS];
}

static struct sleeper *first_of(struct bucket *b, _Atomic uint32_t *sema)
{
	struct sleeper *s;

	for (s = b->head; s != NULL; s = s->next)
		if (s->sema == sema)
			return s;
	return NULL;
}

/* Links s before pos, or at the tail if pos is NULL. */
static void link_before(struct bucket *b, struct sleeper *s,
			struct sleeper *pos)
{
	s->next = pos;
	s->prev = pos != NULL ? pos->prev : b->tail;
	if (s->prev != NULL)
		s->prev->next = s;
	else
		b->head = s;
	if (pos != NULL)
		pos->prev = s;
	else
		b->tail = s;
}

static void unlink_sleeper(struct bucket *b, struct sleeper *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		b->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		b->tail = s->prev;
}

static bool granted(struct sleeper *s)
{
	return atomic_load_explicit(&s->granted, memory_order_acquire);
}

bool gs__semq_link(_Atomic uint32_t *sema, struct sleeper *s, bool front)
{
	struct bucket *b = bucket_of(sema);
	bool linked = false;

	s->sema = sema;
	atomic_store_explicit(&s->granted, 0, memory_order_relaxed);
	pthread_mutex_lock(&b->mu);
	if (atomic_load_explicit(sema, memory_order_relaxed) == 0) {
		link_before(b, s, front ? first_of(b, sema) : NULL);
		linked = true;
	}
	pthread_mutex_unlock(&b->mu);
	return linked;
}

int gs__semq_sleep(_Atomic uint32_t *sema, struct sleeper *s,
		   int64_t deadline)
{
	struct bucket *b = bucket_of(sema);
	int rc = 0;

	while (!granted(s) && gs__wait(&s->granted, 0, deadline) != ETIMEDOUT)
		;
	pthread_mutex_lock(&b->mu);
	if (!granted(s)) {
		unlink_sleeper(b, s);
		rc = ETIMEDOUT;
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

bool gs__semq_unlink(_Atomic uint32_t *sema, struct sleeper *s)
{
	struct bucket *b = bucket_of(sema);
	bool was_granted;

	pthread_mutex_lock(&b->mu);
	was_granted = granted(s);
	if (!was_granted)
		unlink_sleeper(b, s);
	pthread_mutex_unlock(&b->mu);
	return was_granted;
}

int gs__semq_acquire(_Atomic uint32_t *sema, bool front, int64_t deadline)
{
	struct sleeper s;
	struct bucket *b;

	if (gs__semq_spin(sema) || gs__semq_try(sema))
		return 0;
	b = bucket_of(sema);
	s.sema = sema;
	atomic_store_explicit(&s.granted, 0, memory_order_relaxed);
	pthread_mutex_lock(&b->mu);
	if (gs__semq_try(sema)) {
		pthread_mutex_unlock(&b->mu);
		return 0;
	}
	link_before(b, &s, front ? first_of(b, sema) : NULL);
	pthread_mutex_unlock(&b->mu);
	return gs__semq_sleep(sema, &s, deadline);
}

void gs__semq_release(_Atomic uint32_t *sema)
{
	struct bucket *b = bucket_of(sema);
	struct sleeper *s;

	pthread_mutex_lock(&b->mu);
	s = first_of(b, sema);
	if (s != NULL) {
		unlink_sleeper(b, s);
		atomic_store_explicit(&s->granted, 1, memory_order_release);
		gs__wake(&s->granted, 1);
	} else {
		atomic_fetch_add_explicit(sema, 1, memory_order_release);
	}
	pthread_mutex_unlock(&b->mu);
}

int gs__semq_sleepers(_Atomic uint32_t *sema)
{
	struct bucket *b = bucket_of(sema);
	struct sleeper *s;
	int n = 0;

	pthread_mutex_lock(&b->mu);
	for (s = b->head; s != NULL; s = s->next)
		n += s->sema == sema;
	pthread_mutex_unlock(&b->mu);
	return n;
}
