/*
 * epoch.c - epoch-based reclamation: three epochs, one global counter.
 *
 * Promise: an object retired while readers are inside sections is freed
 * only after each of those sections ended; garbage stays bounded as long
 * as sections end; threads need no registration.
 *
 * State:
 *
 *	epoch          the global epoch, only ever increased
 *	record.local   per thread: 0 outside a section, else the epoch it
 *	               saw on entering the outermost one
 *	record.limbo   per thread: retired objects with the epoch they
 *	               were retired in
 *	orphans        the limbo of threads that have exited, under mu
 *
 * The epoch advances from e to e + 1 only when every thread inside a
 * section entered it in e. An object retired in epoch e may be reached
 * by readers that entered in e or e - 1 at most; once the epoch is
 * e + 2 every such reader has left, so the object is freed then.
 *
 * A thread joins on its first enter or retire (a record on a global
 * list, under mu) and a thread-specific-data destructor moves its limbo
 * to orphans and takes its record off the list when it exits. Retire
 * tries to advance every RETIRE_BATCH objects and frees what is old
 * enough; whoever advances also frees old orphans.
 *
 * Memory orders: entering stores local and then reads the epoch and the
 * shared pointers; the store must be visible before those loads, or a
 * writer could advance past a reader it did not see. So entering stores
 * and then issues a sequentially consistent fence, and the advance
 * issues one before it scans: either the scan sees the reader's epoch,
 * or the reader sees the object already unlinked. Exit is a release
 * store, so a reader's loads happen before the free of a writer that
 * sees it gone.
 *
 * Rejected: hazard pointers (a fence per pointer read, and every data
 * structure must publish what it holds) and reference counts on nodes (a
 * shared write per read, the very contention the map avoids). Limits: a
 * reader stuck inside a section stops all reclamation; records of
 * exited threads are reused, so the list is as long as the most
 * threads alive at once.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/epoch.h"
#include "runtime/platform.h"

#define RETIRE_BATCH 64

struct retired {
	struct retired *next;
	void *p;
	void (*free_fn)(void *);
	uint64_t epoch;
};

struct record {
	_Atomic uint64_t local;
	struct record *next; /* the global list, under mu */
	bool in_use;         /* under mu */
	unsigned depth;      /* section nesting, owner only */
	struct retired *limbo;
	size_t nlimbo, since_try;
};

static _Atomic uint64_t epoch = 1;
static _Atomic size_t pending;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct record *records;
static struct retired *orphans;
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct record *self;

static void free_list(struct retired *r)
{
	struct retired *next;

	for (; r; r = next) {
		next = r->next;
		r->free_fn(r->p);
		free(r);
		atomic_fetch_sub(&pending, 1);
	}
}

/* Splits off, from *list, the entries retired before epoch e - 1. */
static struct retired *take_old(struct retired **list, uint64_t e)
{
	struct retired *old = NULL, **pp = list, *r;

	while ((r = *pp) != NULL) {
		if (r->epoch + 2 <= e) {
			*pp = r->next;
			r->next = old;
			old = r;
		} else {
			pp = &r->next;
		}
	}
	return old;
}

static void thread_exit(void *arg)
{
	struct record *rec = arg;
	struct retired *r, *next;

	pthread_mutex_lock(&mu);
	for (r = rec->limbo; r; r = next) {
		next = r->next;
		r->next = orphans;
		orphans = r;
	}
	rec->limbo = NULL;
	rec->nlimbo = 0;
	atomic_store(&rec->local, 0);
	rec->in_use = false;
	pthread_mutex_unlock(&mu);
	self = NULL; /* a later use, from another destructor, joins anew */
}

static void key_init(void)
{
	pthread_key_create(&key, thread_exit);
}

static struct record *join(void)
{
	struct record *rec;

	if (self)
		return self;
	pthread_once(&key_once, key_init);
	pthread_mutex_lock(&mu);
	for (rec = records; rec && rec->in_use; rec = rec->next)
		;
	if (!rec && (rec = calloc(1, sizeof *rec)) != NULL) {
		rec->next = records;
		records = rec;
	}
	if (rec)
		rec->in_use = true;
	pthread_mutex_unlock(&mu);
	if (rec && pthread_setspecific(key, rec) != 0) {
		thread_exit(rec);
		rec = NULL;
	}
	self = rec;
	return rec;
}

int gs__epoch_enter(void)
{
	struct record *rec = join();

	if (!rec)
		return ENOMEM;
	if (rec->depth++ == 0) {
		atomic_store(&rec->local, atomic_load(&epoch));
		/* Pairs with the fence in try_advance (see the top). */
		atomic_thread_fence(memory_order_seq_cst);
	}
	return 0;
}

void gs__epoch_exit(void)
{
	struct record *rec = self;

	if (!rec || rec->depth == 0)
		gs__misuse("epoch", "exit without enter");
	if (--rec->depth == 0)
		/* Release: this section's loads happen before any free. */
		atomic_store_explicit(&rec->local, 0, memory_order_release);
}

/* Advances the epoch if every reader inside is in the current one. */
static uint64_t try_advance(void)
{
	uint64_t e = atomic_load(&epoch);
	struct record *rec;
	struct retired *old;
	bool all = true;

	/* Pairs with the fence in gs__epoch_enter (see the top). */
	atomic_thread_fence(memory_order_seq_cst);
	pthread_mutex_lock(&mu);
	for (rec = records; rec && all; rec = rec->next) {
		uint64_t l = atomic_load(&rec->local);
		all = l == 0 || l == e;
	}
	if (all && atomic_compare_exchange_strong(&epoch, &e, e + 1))
		e++;
	old = take_old(&orphans, e);
	pthread_mutex_unlock(&mu);
	free_list(old);
	return e;
}

static void collect(struct record *rec, uint64_t e)
{
	struct retired *old = take_old(&rec->limbo, e);

	for (struct retired *r = old; r; r = r->next)
		rec->nlimbo--;
	free_list(old);
}

void gs__epoch_retire(void *p, void (*free_fn)(void *))
{
	struct record *rec = join();
	struct retired *r = rec ? malloc(sizeof *r) : NULL;

	if (!r) {
		/* Nowhere to keep it: wait the readers out and free now. */
		gs__epoch_barrier();
		free_fn(p);
		return;
	}
	*r = (struct retired){rec->limbo, p, free_fn, atomic_load(&epoch)};
	rec->limbo = r;
	rec->nlimbo++;
	atomic_fetch_add(&pending, 1);
	if (++rec->since_try >= RETIRE_BATCH) {
		rec->since_try = 0;
		collect(rec, try_advance());
	}
}

void gs__epoch_barrier(void)
{
	uint64_t start = atomic_load(&epoch);
	struct record *rec = join();

	if (rec && rec->depth != 0)
		gs__misuse("epoch", "barrier inside a section");
	/* Two advances past the start: every reader seen then has left. */
	while (atomic_load(&epoch) < start + 2)
		if (try_advance() < start + 2)
			sched_yield();
	if (rec)
		collect(rec, atomic_load(&epoch));
	try_advance();
}

size_t gs__epoch_pending(void)
{
	return atomic_load(&pending);
}
