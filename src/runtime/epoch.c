/*
 * epoch.c - epoch-based reclamation: three epochs, one global counter.
 *
 * Promise: an object retired while readers are inside sections is freed
 * only after each of those sections ended; garbage stays bounded as long
 * as sections end; threads need no registration.
 *
 * State:
 *
 *	gs__epoch_now  the global epoch, only ever increased
 *	record.local   per thread: 0 outside a section, else the epoch it
 *	               saw on entering the outermost one
 *	record.limbo   per thread: three lists of retired objects, list
 *	               e % 3 holding those retired in epoch limbo_epoch
 *	orphans        the same three lists for threads that have exited,
 *	               under mu, each stamped with the newest epoch in it
 *
 * The epoch advances from e to e + 1 only when every thread inside a
 * section entered it in e. An object retired in epoch e may be reached
 * by readers that entered in e or e - 1 at most; once the epoch is
 * e + 2 every such reader has left, so the object is freed then. A
 * retire in epoch e finds in list e % 3 either epoch e's objects or
 * those of e - 3 or older, which it frees first: so a list never mixes
 * epochs, and retiring needs no allocation, only the entry the object
 * carries.
 *
 * A thread joins on its first enter or retire (a record on a global
 * list, under mu) and a thread-specific-data destructor moves its limbo
 * to orphans and takes its record off the list when it exits. Retire
 * tries to advance every RETIRE_BATCH objects and frees what is old
 * enough; whoever advances also frees old orphans.
 *
 * Memory orders: entering stores local and then reads the epoch and the
 * shared pointers; the store must be visible before those loads, or a
 * writer could advance past a reader it did not see. Where the system
 * has an asymmetric barrier (gs__fence_heavy: membarrier), the advance
 * runs it before it scans: every reader then either had its store
 * visible to the scan, or runs its loads after the barrier and so sees
 * the object already unlinked; the reader needs only a compiler
 * barrier. Without one, entering issues a sequentially consistent
 * fence after the store and the advance one before it scans, with the
 * same either-or. Exit is a release store, so a reader's loads happen
 * before the free of a writer that sees it gone.
 *
 * Rejected: hazard pointers (a fence per pointer read, and every data
 * structure must publish what it holds), reference counts on nodes (a
 * shared write per read, the very contention the map avoids), and a
 * fence on every enter (about 10 ns here, more than a map load). Limits:
 * a reader stuck inside a section stops all reclamation; records of
 * exited threads are reused, so the list is as long as the most threads
 * alive at once; an advance costs a system call, which the batch
 * amortises; a retirer whose garbage passes 16 batches yields once a
 * batch, so that a preempted reader can run and end its section. A
 * thread that joins when memory is out takes one of
 * NSPARE reserved records; only past those does enter fail with ENOMEM.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/epoch.h"
#include "runtime/platform.h"

#define RETIRE_BATCH 1024

/* A cache line of its own, so no thread's enter shares another's. */
struct record {
	_Alignas(64) struct gs__epoch_record pub; /* gs__epoch_self's */
	struct record *next;         /* the global list, under mu */
	bool in_use;                 /* under mu */
	struct gs__epoch_entry *limbo[3];
	uint64_t limbo_epoch[3];
	_Atomic size_t nlimbo; /* owner writes, gs__epoch_pending reads */
	size_t since_try;
};

/* gs__epoch_retire's entry, for an object that carries none. */
struct boxed {
	struct gs__epoch_entry e;
	void *p;
	void (*free_fn)(void *);
};

_Atomic uint64_t gs__epoch_now = 1;
_Thread_local struct gs__epoch_record *gs__epoch_self;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct record *records;
static struct gs__epoch_entry *orphans[3]; /* under mu */
static uint64_t orphan_epoch[3];           /* under mu */
static size_t norphans;                    /* under mu */
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
/* Records for threads that join when calloc fails (under mu). */
#define NSPARE 16
static struct record spare[NSPARE];
static bool spares_linked;

/* Frees a list; returns how many it freed. */
static size_t free_list(struct gs__epoch_entry *e)
{
	struct gs__epoch_entry *next;
	size_t n = 0;

	for (; e; e = next, n++) {
		next = e->next;
		e->fn(e);
	}
	return n;
}

/* Appends list onto *to; returns the joined list. */
static struct gs__epoch_entry *join_lists(struct gs__epoch_entry *list,
					  struct gs__epoch_entry *to)
{
	struct gs__epoch_entry *e = list;

	if (!e)
		return to;
	while (e->next)
		e = e->next;
	e->next = to;
	return list;
}

static void thread_exit(void *arg)
{
	struct record *rec = arg;

	pthread_mutex_lock(&mu);
	for (int i = 0; i < 3; i++) {
		if (!rec->limbo[i])
			continue;
		/* A later stamp only delays the older objects: safe. */
		orphans[i] = join_lists(rec->limbo[i], orphans[i]);
		if (orphan_epoch[i] < rec->limbo_epoch[i])
			orphan_epoch[i] = rec->limbo_epoch[i];
		rec->limbo[i] = NULL;
	}
	norphans += atomic_load_explicit(&rec->nlimbo, memory_order_relaxed);
	atomic_store_explicit(&rec->nlimbo, 0, memory_order_relaxed);
	atomic_store(&rec->pub.local, 0);
	rec->in_use = false;
	pthread_mutex_unlock(&mu);
	gs__epoch_self = NULL; /* a later use, from a destructor, joins anew */
}

static void key_init(void)
{
	pthread_key_create(&key, thread_exit);
	gs__fence_init();
}

static struct record *join(void)
{
	struct record *rec;

	if (gs__epoch_self)
		return (struct record *)gs__epoch_self;
	pthread_once(&key_once, key_init);
	pthread_mutex_lock(&mu);
	for (rec = records; rec && rec->in_use; rec = rec->next)
		;
	if (!rec && (rec = aligned_alloc(_Alignof(struct record),
					 sizeof *rec)) != NULL) {
		memset(rec, 0, sizeof *rec);
		rec->next = records;
		records = rec;
	}
	if (!rec && !spares_linked) {
		/* Out of memory: the reserve joins the list, once. */
		spares_linked = true;
		for (int i = 0; i < NSPARE; i++) {
			spare[i].next = records;
			records = &spare[i];
		}
		rec = records;
	}
	if (rec)
		rec->in_use = true;
	pthread_mutex_unlock(&mu);
	if (rec && pthread_setspecific(key, rec) != 0) {
		thread_exit(rec);
		rec = NULL;
	}
	gs__epoch_self = rec ? &rec->pub : NULL;
	return rec;
}

int gs__epoch_enter_slow(void)
{
	if (!join())
		return ENOMEM;
	return gs__epoch_enter();
}

/* Advances the epoch if every reader inside is in the current one. */
static uint64_t try_advance(void)
{
	uint64_t e = atomic_load(&gs__epoch_now);
	struct gs__epoch_entry *old[3] = {0};
	struct record *rec;
	bool all = true;
	size_t n = 0;

	/* Pairs with gs__epoch_enter's store (see the top). */
	gs__fence_heavy();
	pthread_mutex_lock(&mu);
	for (rec = records; rec && all; rec = rec->next) {
		uint64_t l = atomic_load(&rec->pub.local);
		all = l == 0 || l == e;
	}
	if (all && atomic_compare_exchange_strong(&gs__epoch_now, &e, e + 1))
		e++;
	for (int i = 0; i < 3; i++) {
		if (orphans[i] && orphan_epoch[i] + 2 <= e) {
			old[i] = orphans[i];
			orphans[i] = NULL;
		}
	}
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 3; i++)
		n += free_list(old[i]);
	if (n) {
		pthread_mutex_lock(&mu);
		norphans -= n;
		pthread_mutex_unlock(&mu);
	}
	return e;
}

/* Frees the calling thread's lists that epoch e makes safe. */
static void collect(struct record *rec, uint64_t e)
{
	for (int i = 0; i < 3; i++) {
		struct gs__epoch_entry *l = rec->limbo[i];

		if (!l || rec->limbo_epoch[i] + 2 > e)
			continue;
		rec->limbo[i] = NULL;
		/* Owner-only writes: no read-modify-write needed. */
		atomic_store_explicit(
			&rec->nlimbo,
			atomic_load_explicit(&rec->nlimbo,
					     memory_order_relaxed) -
				free_list(l),
			memory_order_relaxed);
	}
}

static void push(struct record *rec, struct gs__epoch_entry *e)
{
	uint64_t now = atomic_load(&gs__epoch_now);
	int i = (int)(now % 3);

	if (rec->limbo_epoch[i] != now) {
		/* What is there is from now - 3 or before: free it. */
		collect(rec, now);
		rec->limbo_epoch[i] = now;
	}
	e->next = rec->limbo[i];
	rec->limbo[i] = e;
	atomic_store_explicit(
		&rec->nlimbo,
		atomic_load_explicit(&rec->nlimbo, memory_order_relaxed) + 1,
		memory_order_relaxed);
	if (++rec->since_try >= RETIRE_BATCH) {
		rec->since_try = 0;
		collect(rec, try_advance());
		/*
		 * Garbage piling up means a reader inside is not running:
		 * give it the processor rather than retire ever more.
		 */
		if (atomic_load_explicit(&rec->nlimbo, memory_order_relaxed) >
		    16 * RETIRE_BATCH)
			sched_yield();
	}
}

void gs__epoch_retire_entry(struct gs__epoch_entry *e,
			    void (*fn)(struct gs__epoch_entry *e))
{
	struct record *rec = join();

	e->fn = fn;
	if (rec) {
		push(rec, e);
		return;
	}
	/* No record means no section is open here: wait them out. */
	gs__epoch_barrier();
	fn(e);
}

static void free_boxed(struct gs__epoch_entry *e)
{
	struct boxed *b = (struct boxed *)e;

	b->free_fn(b->p);
	free(b);
}

void gs__epoch_retire(void *p, void (*free_fn)(void *))
{
	struct record *rec = join();
	struct boxed *b = rec ? malloc(sizeof *b) : NULL;

	if (!b) {
		/* Nowhere to keep it: wait the readers out and free now. */
		gs__epoch_barrier();
		free_fn(p);
		return;
	}
	b->p = p;
	b->free_fn = free_fn;
	b->e.fn = free_boxed;
	push(rec, &b->e);
}

void gs__epoch_barrier(void)
{
	uint64_t start = atomic_load(&gs__epoch_now);
	struct record *rec = join();

	if (rec && rec->pub.depth != 0)
		gs__misuse("epoch", "barrier inside a section");
	/* Two advances past the start: every reader seen then has left. */
	while (atomic_load(&gs__epoch_now) < start + 2)
		if (try_advance() < start + 2)
			sched_yield();
	if (rec)
		collect(rec, atomic_load(&gs__epoch_now));
	try_advance();
}

size_t gs__epoch_pending(void)
{
	size_t n;

	pthread_mutex_lock(&mu);
	n = norphans;
	for (struct record *rec = records; rec; rec = rec->next)
		n += atomic_load_explicit(&rec->nlimbo, memory_order_relaxed);
	pthread_mutex_unlock(&mu);
	return n;
}
