/*
 * singleflight.c - gs_singleflight_t: one execution per key at a time.
 *
 * The group is a hash table of running calls under one mutex. A call
 * holds the key (copied), the result, a count of the callers that joined
 * it (dups), and a reference count: one for every caller that received
 * it, leader included. Each caller gives its reference back with
 * gs_singleflight_release; the last one frees the value through the
 * group's free_value and then the call. That is the ownership rule: the
 * value lives exactly as long as some caller still holds it.
 *
 * The leader inserts the call, runs fn outside the mutex, stores the
 * result, removes the call from the table (only if the table still
 * holds this very call: after a forget a newer call may own the key,
 * and removing it would let a third execution start), and only then
 * publishes done. Followers found the call under the mutex, took their
 * reference there, and sleep on done.
 *
 * A leader whose fn ends its thread without returning is caught by a
 * cleanup handler: the call finishes with EOWNERDEAD, so followers
 * return instead of waiting for ever; they see no value, and a value fn
 * had already stored goes to free_value after the last release. A call
 * of do for the same key from inside fn, on the leader's thread, would
 * wait for itself: it aborts instead.
 *
 * Memory orders: the result is written before the release store of
 * done and read after the acquire load of it. dups is written under the
 * mutex only while the call is in the table, so the leader reads it
 * without the mutex after removing the call. The reference count's
 * acq_rel decrement lets the last releaser see the value's final state.
 *
 * Rejected: returning the value with no reference count, as Go can with
 * a collector; in C someone must free it, and only a count knows when
 * the last caller is done.
 *
 * do_async starts the leader on a pool thread and hands out a call
 * handle (a reference); call_wait joins the call's list of waiters,
 * each on a word of its own that the finish grants and a context can
 * end (context/ctxwait.h), so a waiter can give up while the flight
 * goes on for the others. Limits: one mutex serialises every key's
 * start and finish.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gosync/runtime.h>
#include <gosync/singleflight.h>

#include "context/ctxwait.h"
#include "introspect.h"
#include "runtime/event.h"
#include "runtime/executor.h"
#include "runtime/platform.h"
#include "runtime/wait.h"

/* A do_async caller waiting in call_wait, on a word of its own. */
struct sf_waiter {
	struct sf_waiter *next, *prev; /* under the group's mu_ */
	bool linked;
	_Atomic uint32_t word;
};

struct gs__sf_call {
	struct gs__sf_call *next; /* bucket chain, under the group's mu_ */
	gs_singleflight_t *g;
	struct sf_waiter *waiters; /* under mu_ */
	bool finished;             /* under mu_ */
	_Atomic uint32_t done;
	_Atomic uint32_t refs;
	size_t dups;   /* under mu_ while in the table */
	uint32_t leader; /* the leader's gs__thread_id */
	bool in_table; /* under mu_ */
	int err;
	void *value;
	void (*free_value)(void *value, void *free_arg);
	void *free_arg;
	uint64_t hash;
	size_t len;
	unsigned char key[];
};

static uint64_t sf_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static struct gs__sf_call **sf_slot_locked(gs_singleflight_t *g, uint64_t h,
					   const void *key, size_t len)
{
	struct gs__sf_call **pp = &g->buckets_[h & (g->nbuckets_ - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->len == len &&
		    memcmp((*pp)->key, key, len) == 0)
			break;
	return pp;
}

/* Doubles the table; a failed allocation just leaves chains longer. */
static int sf_grow_locked(gs_singleflight_t *g)
{
	size_t n = g->nbuckets_ ? 2 * g->nbuckets_ : 16;
	struct gs__sf_call **b = calloc(n, sizeof *b), *c, *next;

	if (!b)
		return g->nbuckets_ ? 0 : ENOMEM;
	for (size_t i = 0; i < g->nbuckets_; i++) {
		for (c = g->buckets_[i]; c; c = next) {
			next = c->next;
			c->next = b[c->hash & (n - 1)];
			b[c->hash & (n - 1)] = c;
		}
	}
	free(g->buckets_);
	g->buckets_ = b;
	g->nbuckets_ = n;
	return 0;
}

static void sf_remove_locked(gs_singleflight_t *g, struct gs__sf_call *c)
{
	struct gs__sf_call **pp = sf_slot_locked(g, c->hash, c->key, c->len);

	if (*pp == c) {
		*pp = c->next;
		c->in_table = false;
		g->count_--;
	}
}

static void sf_finish(gs_singleflight_t *g, struct gs__sf_call *c, int err,
		      void *value)
{
	struct sf_waiter *w, *next;

	c->err = err;
	c->value = value;
	gs_mutex_lock(&g->mu_);
	if (c->in_table)
		sf_remove_locked(g, c);
	c->finished = true;
	w = c->waiters;
	for (struct sf_waiter *x = w; x; x = x->next)
		x->linked = false;
	c->waiters = NULL;
	/* Release: pairs with the followers' acquire load of done. */
	gs__event_set(&c->done);
	/* Granted under mu_: a waiter that gave up unlinks under it too. */
	for (; w; w = next) {
		next = w->next;
		gs__ctx_grant(&w->word);
	}
	gs_mutex_unlock(&g->mu_);
}

/* Waits for c's end; a leader nobody waits for makes no system call. */
static void sf_await(struct gs__sf_call *c)
{
	gs__event_wait(&c->done, GS_NEVER);
}

struct sf_leader {
	gs_singleflight_t *g;
	struct gs__sf_call *c;
	void **value;
};

/* A value fn stored before its thread ended is kept for free_value. */
static void sf_leader_died(void *p)
{
	struct sf_leader *l = p;
	gs_singleflight_result_t r = {NULL, 0, false, l->c};

	sf_finish(l->g, l->c, EOWNERDEAD, *l->value);
	gs_singleflight_release(&r);
}

static int sf_lead(gs_singleflight_t *g, struct gs__sf_call *c,
		   gs_singleflight_fn fn, void *arg,
		   gs_singleflight_result_t *res)
{
	void *value = NULL;
	struct sf_leader l = {g, c, &value};
	int err;

	pthread_cleanup_push(sf_leader_died, &l);
	err = fn(arg, &value);
	pthread_cleanup_pop(0);
	sf_finish(g, c, err, value);
	*res = (gs_singleflight_result_t){value, err, c->dups > 0, c};
	return err;
}

static int sf_follow(struct gs__sf_call *c, gs_singleflight_result_t *res)
{
	sf_await(c);
	/* After EOWNERDEAD the value, if any, is only for free_value. */
	*res = (gs_singleflight_result_t){
		c->err == EOWNERDEAD ? NULL : c->value, c->err, true, c};
	return c->err;
}

/*
 * A new call for key at *pp, holding refs references, run by the thread
 * leader (0 until an async call's thread starts); NULL if no memory.
 */
static struct gs__sf_call *sf_insert_locked(gs_singleflight_t *g,
					     struct gs__sf_call **pp,
					     uint64_t h, const void *key,
					     size_t len, uint32_t refs,
					     uint32_t leader)
{
	struct gs__sf_call *c = malloc(sizeof *c + len);

	if (!c)
		return NULL;
	*c = (struct gs__sf_call){.g = g,
				  .in_table = true,
				  .free_value = g->free_value,
				  .free_arg = g->free_arg,
				  .hash = h,
				  .len = len,
				  .leader = leader};
	atomic_init(&c->refs, refs);
	memcpy(c->key, key, len);
	*pp = c;
	g->count_++;
	return c;
}

int gs_singleflight_do(gs_singleflight_t *g, const void *key, size_t len,
		       gs_singleflight_fn fn, void *arg,
		       gs_singleflight_result_t *res)
{
	uint64_t h = sf_hash(key, len);
	struct gs__sf_call **pp, *c;

	gs_mutex_lock(&g->mu_);
	if (g->count_ >= g->nbuckets_ && sf_grow_locked(g) != 0)
		goto nomem;
	pp = sf_slot_locked(g, h, key, len);
	if ((c = *pp) != NULL) {
		if (c->leader == gs__thread_id())
			gs__misuse("singleflight",
				   "recursive call for the same key");
		c->dups++;
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
		gs_mutex_unlock(&g->mu_);
		return sf_follow(c, res);
	}
	c = sf_insert_locked(g, pp, h, key, len, 1, gs__thread_id());
	if (!c)
		goto nomem;
	gs_mutex_unlock(&g->mu_);
	return sf_lead(g, c, fn, arg, res);

nomem:
	gs_mutex_unlock(&g->mu_);
	*res = (gs_singleflight_result_t){NULL, ENOMEM, false, NULL};
	return ENOMEM;
}

/* The leader of an async flight: fn on a pool thread. */
static void sf_run_async(const struct gs__job *job)
{
	struct gs__sf_call *c = job->data;
	gs_singleflight_result_t r;

	/* Only now is the leader's thread known, for the recursion check. */
	gs_mutex_lock(&c->g->mu_);
	c->leader = gs__thread_id();
	gs_mutex_unlock(&c->g->mu_);
	sf_lead(c->g, c, (gs_singleflight_fn)job->fn, job->arg, &r);
	gs_singleflight_release(&r); /* the leader job's reference */
}

int gs_singleflight_do_async(gs_singleflight_t *g, const void *key,
			     size_t len, gs_singleflight_fn fn, void *arg,
			     gs_singleflight_call_t **call)
{
	uint64_t h = sf_hash(key, len);
	struct gs__sf_call **pp, *c;
	int err;

	gs_mutex_lock(&g->mu_);
	if (g->count_ >= g->nbuckets_ && sf_grow_locked(g) != 0) {
		gs_mutex_unlock(&g->mu_);
		return ENOMEM;
	}
	pp = sf_slot_locked(g, h, key, len);
	if ((c = *pp) != NULL) {
		c->dups++;
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
		gs_mutex_unlock(&g->mu_);
		*call = c;
		return 0;
	}
	/* Two references: the caller's handle and the leader job's. */
	c = sf_insert_locked(g, pp, h, key, len, 2, 0);
	gs_mutex_unlock(&g->mu_);
	if (!c)
		return ENOMEM;

	struct gs__job job = {sf_run_async, (gs__fnptr)fn, arg, c};
	err = gs__spawn(&job);
	if (err != 0) {
		gs_singleflight_result_t r = {NULL, err, false, c};

		sf_finish(g, c, err, NULL); /* joiners get the error too */
		gs_singleflight_release(&r);
		r.call_ = c;
		gs_singleflight_release(&r);
		return err;
	}
	*call = c;
	return 0;
}

int gs_singleflight_call_wait(gs_singleflight_call_t *c, gs_ctx_t *ctx,
			      gs_singleflight_result_t *res)
{
	struct sf_waiter w = {NULL, NULL, false, GS__WAITING};
	gs_singleflight_t *g = c->g;
	bool waiting;
	int err = 0;

	gs_mutex_lock(&g->mu_);
	waiting = !c->finished;
	if (waiting) {
		w.next = c->waiters;
		if (w.next)
			w.next->prev = &w;
		c->waiters = &w;
		w.linked = true;
	}
	gs_mutex_unlock(&g->mu_);
	if (waiting)
		err = gs__ctx_wait_word(&w.word, ctx, GS_NEVER);
	if (err != 0) {
		/* Given up: the flight goes on for the others. */
		gs_singleflight_result_t r = {NULL, 0, false, c};

		gs_mutex_lock(&g->mu_);
		if (w.linked) {
			if (w.prev)
				w.prev->next = w.next;
			else
				c->waiters = w.next;
			if (w.next)
				w.next->prev = w.prev;
		}
		gs_mutex_unlock(&g->mu_);
		gs_singleflight_release(&r);
		*res = (gs_singleflight_result_t){NULL, err, false, NULL};
		return err;
	}
	sf_await(c);
	*res = (gs_singleflight_result_t){
		c->err == EOWNERDEAD ? NULL : c->value, c->err, c->dups > 0,
		c};
	return c->err;
}

void gs_singleflight_call_release(gs_singleflight_call_t *c)
{
	gs_singleflight_result_t r = {NULL, 0, false, c};

	gs_singleflight_release(&r);
}

void gs_singleflight_release(gs_singleflight_result_t *res)
{
	struct gs__sf_call *c = res->call_;

	memset(res, 0, sizeof *res);
	if (!c)
		return;
	/* Acq_rel: the last releaser must see the value's final state. */
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (c->free_value && c->value)
		c->free_value(c->value, c->free_arg);
	free(c);
}

void gs_singleflight_forget(gs_singleflight_t *g, const void *key,
			    size_t len)
{
	uint64_t h = sf_hash(key, len);
	struct gs__sf_call *c;

	gs_mutex_lock(&g->mu_);
	if (g->nbuckets_ && (c = *sf_slot_locked(g, h, key, len)) != NULL)
		sf_remove_locked(g, c);
	gs_mutex_unlock(&g->mu_);
}

void gs_singleflight_destroy(gs_singleflight_t *g)
{
	/*
	 * A leader that has just finished may still be unlocking mu_ after
	 * waking its callers; taking mu_ waits for that, and after its
	 * unlock the leader touches nothing of g.
	 */
	gs_mutex_lock(&g->mu_);
	gs_mutex_unlock(&g->mu_);
	free(g->buckets_);
	g->buckets_ = NULL;
	g->nbuckets_ = 0;
	g->count_ = 0;
}

size_t gs__singleflight_dups(gs_singleflight_t *g, const void *key,
			     size_t len)
{
	struct gs__sf_call *c = NULL;
	size_t n;

	gs_mutex_lock(&g->mu_);
	if (g->nbuckets_)
		c = *sf_slot_locked(g, sf_hash(key, len), key, len);
	n = c ? c->dups : 0;
	gs_mutex_unlock(&g->mu_);
	return n;
}
