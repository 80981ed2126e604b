/*
 * pool.c - gs_pool_t, Go's sync.Pool: a cache of objects for reuse, kept
 * per thread so that a get and a put touch no line another thread uses,
 * with a shared overflow and a victim generation for the trim.
 *
 * Promise: every object the pool takes in leaves it exactly once, by a
 * get, or through free_fn (a trim, an overflow it cannot store, destroy).
 * After a thread's first operation, a get or put that its own cache can
 * serve takes no lock and makes no atomic read-modify-write: a few plain
 * loads and stores. A trim may run on any thread at the same time as
 * gets and puts on all the others.
 *
 * Layout:
 *
 *	impl       allocated on the first put, under reg_mu, published by a
 *	           release store into p->impl_; it holds:
 *	dir        CHUNKS pointers to chunks of CHUNK slots, made on demand
 *	           and never moved or freed before destroy
 *	slot       one thread's private cache: up to CACHE objects, with
 *	           busy (the owner is in its fast path) and claim (a trimmer
 *	           is emptying it)
 *	shared     a growable array of objects, under mu: what overflowed
 *	           from caches and what exiting threads left
 *	victims    a growable array, under mu: what the last trim found
 *
 * Finding a thread's cache: every thread takes a small dense index on
 * its first pool operation (reused after it exits), and each pool keeps
 * a slot per index: two dependent loads (dir[i / CHUNK], then the slot)
 * after a thread-local read. Rejected: a per-thread table keyed by pool,
 * which costs a hash probe per operation and leaves stale entries behind
 * a destroyed pool (a new pool at the same address would find them);
 * with slots inside the pool, destroy frees every cache at once, and a
 * thread keeps nothing that points into a pool.
 *
 * The fast path and the trim meet in a handshake on the slot. The owner
 * stores busy = 1, runs the light side of layer 1's asymmetric fence (a
 * compiler barrier when the kernel has the expedited membarrier, else a
 * full fence), reads claim, and, if claim is 0, works on its cache and
 * ends with a release store of busy = 0. A trimmer, holding mu, stores
 * claim = 1 in every slot, runs the heavy side once (membarrier), then
 * for each slot waits for busy == 0 (acquire), empties it, and stores
 * claim = 0 (release). Either the trimmer sees the owner's busy = 1 and
 * waits, or the owner sees claim = 1 and leaves for the slow path, which
 * takes mu and so waits for the trim to end. Memory orders: the owner's
 * release of busy pairs with the trimmer's acquire, so the owner's work
 * on its cache happens before the trimmer's; the trimmer's release of
 * claim pairs with the owner's acquire load of claim, and mu orders all
 * the rest. The owner touches its slot under mu in the slow path without
 * the handshake: every trimmer holds mu.
 *
 * Paths: put pushes onto the cache; a full cache moves its older half
 * to shared under mu. Get pops from the cache; an empty one takes one
 * object from shared and refills up to half the cache from it, or takes
 * one victim (only one: a victim moved into a cache would escape the
 * next trim), or calls new_fn with no lock held. Trim turns shared and
 * every cache into the new victims and frees the old ones after it lets
 * go of mu. A thread that exits runs a thread-specific-data destructor
 * that moves its slot in every live pool to that pool's shared array
 * (pools are on a global list, reg_mu) and frees its index for reuse.
 *
 * Concurrency:
 *
 *	            get/put   trim   destroy   thread exit
 *	get/put     yes       yes    no        yes
 *	trim        yes       yes    no        yes
 *	destroy     no        no     no        yes
 *
 * Lock order: reg_mu, then a pool's mu. Neither is held while new_fn
 * runs.
 *
 * Limits:
 * - An object in one thread's cache is not handed to another thread's
 *   get until that cache overflows, its thread exits, or a trim makes it
 *   a victim: a get may call new_fn while up to CACHE objects wait in
 *   each other thread's cache.
 * - free_fn may run with the pool's lock (and, at thread exit, reg_mu)
 *   held when an array cannot grow for lack of memory; it must not call
 *   into the same pool. new_fn may.
 * - Without trims the pool keeps as many objects as were ever put and
 *   not taken back at once: the peak, as Go's pool does between
 *   collections.
 * - Misuse: a pool copied after its first put shares its state with the
 *   copy; gets and puts on the copy are not checked, but its slow path,
 *   trim and destroy abort with "gs: pool: copied after first use". A
 *   pool whose memory is reused without gs_pool_destroy leaves a stale
 *   entry on the global list that thread exit then follows: destroy
 *   every pool that was used before freeing it. Using a pool during its
 *   destroy is undefined, as the header says.
 * - Beyond CHUNKS * CHUNK threads alive at once, the extra threads have
 *   no cache and every operation takes mu; so does a thread whose chunk
 *   could not be allocated.
 * - A trim costs one membarrier system call, which interrupts each CPU
 *   running a thread of the process, and it waits, yielding, for an
 *   owner that was preempted inside its fast path to be scheduled
 *   again and finish its few stores.
 * - The thread index is initial-exec thread-local storage: a program
 *   that loads libgosync.so with dlopen takes it from the static TLS
 *   room glibc keeps for such libraries (4 bytes).
 * - The main thread runs no destructor when it returns from main, so
 *   its cache stays in the pool until a trim or destroy.
 * - Destroy leaves no cache behind in any thread, since the caches are
 *   the pool's: a pool used after its destroy starts empty, with a new
 *   impl. A thread's index outlives the pools it used, never their
 *   memory.
 */
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gosync/mutex.h>
#include <gosync/pool.h>

#include "runtime/fence.h"
#include "runtime/platform.h"

#define CACHE  14  /* a slot is then two cache lines */
#define CHUNK  64  /* slots per chunk */
#define CHUNKS 256 /* chunks per pool: 16,384 threads alive at once */

struct slot {
	alignas(64) _Atomic uint32_t busy; /* owner: in its fast path */
	_Atomic uint32_t claim;            /* trimmer: emptying it */
	uint32_t n;                        /* objects in obj */
	void *obj[CACHE];
};

struct vec {
	void **v;
	size_t n, cap;
};

struct impl {
	gs_pool_t *self;          /* the pool that made it: copy check */
	struct impl *next, *prev; /* the list of live pools, reg_mu */
	gs_mutex_t mu;
	struct vec shared;  /* mu */
	struct vec victims; /* mu */
	_Atomic(struct slot *) dir[CHUNKS];
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct impl *pools;      /* reg_mu */
static uint32_t next_index;     /* reg_mu */
static struct vec free_indices; /* reg_mu; indices stored as pointers */
static pthread_key_t exit_key;
static bool exit_key_ok;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
/*
 * index + 1; 0: none yet. Initial-exec, so that the fast path reads it
 * at a fixed offset from the thread pointer instead of calling
 * __tls_get_addr, as the position-independent default would.
 */
static _Thread_local uint32_t my_index
	__attribute__((tls_model("initial-exec")));

#define NO_SLOT ((uint32_t)CHUNKS * CHUNK)

static void thread_exit(void *arg);

static void free_obj(gs_pool_t *p, void *obj)
{
	if (p->free_fn)
		p->free_fn(obj, p->arg);
	else
		free(obj);
}

static _Atomic(struct impl *) *impl_word(gs_pool_t *p)
{
	return (_Atomic(struct impl *) *)(void *)&p->impl_;
}

static struct impl *load_impl(gs_pool_t *p)
{
	/* Pairs with the release store in impl_create: a complete impl. */
	return atomic_load_explicit(impl_word(p), memory_order_acquire);
}

static void check_copy(gs_pool_t *p, struct impl *im)
{
	if (im->self != p)
		gs__misuse("pool", "copied after first use");
}

/* vec_reserve makes room for more objects; false if memory ran out. */
static bool vec_reserve(struct vec *v, size_t more)
{
	size_t cap = v->cap ? v->cap : 16;
	void **nv;

	if (v->cap - v->n >= more)
		return true;
	while (cap - v->n < more) {
		if (cap > SIZE_MAX / 2 / sizeof(void *))
			return false;
		cap *= 2;
	}
	nv = realloc(v->v, cap * sizeof(void *));
	if (nv == NULL)
		return false;
	v->v = nv;
	v->cap = cap;
	return true;
}

/* vec_take moves objs into v, freeing what v has no memory to hold. */
static void vec_take(gs_pool_t *p, struct vec *v, void **objs, size_t n)
{
	if (n == 0)
		return;
	if (vec_reserve(v, n)) {
		memcpy(v->v + v->n, objs, n * sizeof(void *));
		v->n += n;
		return;
	}
	for (size_t i = 0; i < n; i++)
		free_obj(p, objs[i]);
}

static void vec_free_all(gs_pool_t *p, struct vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		free_obj(p, v->v[i]);
	free(v->v);
	*v = (struct vec){0};
}

/* Thread indices. */

static void exit_key_init(void)
{
	exit_key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
}

/* index_slow gives the calling thread its index + 1, or NO_SLOT + 1. */
__attribute__((noinline))
static uint32_t index_slow(void)
{
	uint32_t i;

	pthread_once(&exit_key_once, exit_key_init);
	pthread_mutex_lock(&reg_mu);
	if (free_indices.n > 0)
		i = (uint32_t)(uintptr_t)free_indices.v[--free_indices.n];
	else if (next_index < NO_SLOT)
		i = next_index++;
	else
		i = NO_SLOT;
	pthread_mutex_unlock(&reg_mu);
	/*
	 * Without the destructor the index is never given back, and the
	 * thread's caches stay in their pools for a trim or destroy.
	 */
	if (i != NO_SLOT && exit_key_ok)
		pthread_setspecific(exit_key, (void *)(uintptr_t)(i + 1));
	my_index = i + 1;
	return my_index;
}

__attribute__((noinline))
static struct slot *chunk_slow(struct impl *im, uint32_t c)
{
	size_t size = sizeof(struct slot) * CHUNK;
	struct slot *chunk = aligned_alloc(alignof(struct slot), size);
	struct slot *old = NULL;

	if (chunk == NULL)
		return NULL;
	memset(chunk, 0, size);
	/* Release pairs with the acquire in my_slot: zeroed slots. */
	if (atomic_compare_exchange_strong_explicit(&im->dir[c], &old, chunk,
						    memory_order_acq_rel,
						    memory_order_acquire))
		return chunk;
	free(chunk);
	return old;
}

/* my_slot finds the calling thread's slot in im; NULL if it has none. */
static inline struct slot *my_slot(struct impl *im)
{
	uint32_t i = my_index;
	struct slot *chunk;

	if (i == 0)
		i = index_slow();
	i--;
	if (i >= NO_SLOT)
		return NULL;
	/* Pairs with the compare-and-swap in chunk_slow. */
	chunk = atomic_load_explicit(&im->dir[i / CHUNK],
				     memory_order_acquire);
	if (chunk == NULL && (chunk = chunk_slow(im, i / CHUNK)) == NULL)
		return NULL;
	return &chunk[i % CHUNK];
}

/*
 * slot_enter starts the owner's side of the handshake; true if no trim
 * holds the slot, and the owner may then use it until slot_leave.
 */
static inline bool slot_enter(struct slot *s)
{
	atomic_store_explicit(&s->busy, 1, memory_order_relaxed);
	gs__fence_light();
	/* Pairs with the release of claim in trim_slots. */
	return atomic_load_explicit(&s->claim, memory_order_acquire) == 0;
}

static inline void slot_leave(struct slot *s)
{
	/* Pairs with the acquire in trim_slots: our work comes first. */
	atomic_store_explicit(&s->busy, 0, memory_order_release);
}

static struct impl *impl_create(gs_pool_t *p)
{
	struct impl *im;

	gs__fence_init();
	pthread_mutex_lock(&reg_mu);
	im = atomic_load_explicit(impl_word(p), memory_order_relaxed);
	if (im == NULL && (im = calloc(1, sizeof(*im))) != NULL) {
		im->self = p;
		im->next = pools;
		if (pools)
			pools->prev = im;
		pools = im;
		atomic_store_explicit(impl_word(p), im, memory_order_release);
	}
	pthread_mutex_unlock(&reg_mu);
	return im;
}

/* Get. */

static void *get_locked(struct impl *im, struct slot *s)
{
	struct vec *sh = &im->shared;
	void *obj;

	if (s && s->n > 0)
		return s->obj[--s->n];
	if (sh->n > 0) {
		obj = sh->v[--sh->n];
		while (s && s->n < CACHE / 2 && sh->n > 0)
			s->obj[s->n++] = sh->v[--sh->n];
		return obj;
	}
	if (im->victims.n > 0)
		return im->victims.v[--im->victims.n];
	return NULL;
}

__attribute__((noinline))
static void *get_slow(gs_pool_t *p, struct impl *im, struct slot *s)
{
	void *obj = NULL;

	if (im != NULL) {
		check_copy(p, im);
		gs_mutex_lock(&im->mu);
		obj = get_locked(im, s);
		gs_mutex_unlock(&im->mu);
	}
	if (obj == NULL && p->new_fn)
		obj = p->new_fn(p->arg);
	return obj;
}

void *gs_pool_get(gs_pool_t *p)
{
	struct impl *im = load_impl(p);
	struct slot *s = NULL;
	void *obj;

	if (im && (s = my_slot(im)) != NULL) {
		if (slot_enter(s) && s->n > 0) {
			obj = s->obj[--s->n];
			slot_leave(s);
			return obj;
		}
		slot_leave(s);
	}
	return get_slow(p, im, s);
}

/* Put. */

/* put_locked keeps obj; false if it has no memory to (obj not kept). */
static bool put_locked(struct impl *im, struct slot *s, void *obj)
{
	const size_t half = CACHE / 2;

	if (s == NULL) {
		if (!vec_reserve(&im->shared, 1))
			return false;
		im->shared.v[im->shared.n++] = obj;
		return true;
	}
	if (s->n == CACHE) {
		if (!vec_reserve(&im->shared, half))
			return false;
		memcpy(im->shared.v + im->shared.n, s->obj, half * sizeof(obj));
		im->shared.n += half;
		memmove(s->obj, s->obj + half, (CACHE - half) * sizeof(obj));
		s->n = CACHE - half;
	}
	s->obj[s->n++] = obj;
	return true;
}

__attribute__((noinline))
static void put_slow(gs_pool_t *p, struct impl *im, struct slot *s,
		     void *obj)
{
	bool kept = false;

	if (im == NULL && (im = impl_create(p)) != NULL)
		s = my_slot(im);
	if (im != NULL) {
		check_copy(p, im);
		gs_mutex_lock(&im->mu);
		kept = put_locked(im, s, obj);
		gs_mutex_unlock(&im->mu);
	}
	if (!kept)
		free_obj(p, obj);
}

void gs_pool_put(gs_pool_t *p, void *obj)
{
	struct impl *im = load_impl(p);
	struct slot *s = NULL;

	if (obj == NULL)
		return;
	if (im && (s = my_slot(im)) != NULL) {
		if (slot_enter(s) && s->n < CACHE) {
			s->obj[s->n++] = obj;
			slot_leave(s);
			return;
		}
		slot_leave(s);
	}
	put_slow(p, im, s, obj);
}

/* Trim. */

static void claim_slots(struct impl *im)
{
	for (int c = 0; c < CHUNKS; c++) {
		struct slot *chunk = atomic_load_explicit(
			&im->dir[c], memory_order_acquire);

		for (int i = 0; chunk && i < CHUNK; i++) {
			/* Relaxed: the heavy fence orders it before busy. */
			atomic_store_explicit(&chunk[i].claim, 1,
					      memory_order_relaxed);
		}
	}
}

/* trim_slots empties every claimed slot into v; mu is held. */
static void trim_slots(gs_pool_t *p, struct impl *im, struct vec *v)
{
	for (int c = 0; c < CHUNKS; c++) {
		struct slot *chunk = atomic_load_explicit(
			&im->dir[c], memory_order_acquire);

		for (int i = 0; chunk && i < CHUNK; i++) {
			struct slot *s = &chunk[i];

			if (!atomic_load_explicit(&s->claim,
						  memory_order_relaxed))
				continue; /* a chunk made during this trim */
			/* Pairs with slot_leave's release. */
			while (atomic_load_explicit(&s->busy,
						    memory_order_acquire))
				sched_yield();
			vec_take(p, v, s->obj, s->n);
			s->n = 0;
			/* Pairs with the acquire in slot_enter. */
			atomic_store_explicit(&s->claim, 0,
					      memory_order_release);
		}
	}
}

void gs_pool_trim(gs_pool_t *p)
{
	struct impl *im = load_impl(p);
	struct vec old, fresh;

	if (im == NULL)
		return;
	check_copy(p, im);
	gs_mutex_lock(&im->mu);
	old = im->victims;
	fresh = im->shared;
	im->shared = (struct vec){0};
	claim_slots(im);
	gs__fence_heavy();
	trim_slots(p, im, &fresh);
	im->victims = fresh;
	gs_mutex_unlock(&im->mu);
	vec_free_all(p, &old);
}

/* Destroy. */

void gs_pool_destroy(gs_pool_t *p)
{
	struct impl *im = load_impl(p);

	if (im == NULL)
		return;
	check_copy(p, im);
	pthread_mutex_lock(&reg_mu);
	if (im->prev)
		im->prev->next = im->next;
	else
		pools = im->next;
	if (im->next)
		im->next->prev = im->prev;
	pthread_mutex_unlock(&reg_mu);

	for (int c = 0; c < CHUNKS; c++) {
		struct slot *chunk = atomic_load_explicit(
			&im->dir[c], memory_order_relaxed);

		for (int i = 0; chunk && i < CHUNK; i++)
			for (uint32_t j = 0; j < chunk[i].n; j++)
				free_obj(p, chunk[i].obj[j]);
		free(chunk);
	}
	vec_free_all(p, &im->shared);
	vec_free_all(p, &im->victims);
	free(im);
	atomic_store_explicit(impl_word(p), NULL, memory_order_relaxed);
}

/* Thread exit: the thread's slots go to their pools' shared arrays. */

static void thread_exit(void *arg)
{
	uint32_t i = (uint32_t)(uintptr_t)arg - 1;

	pthread_mutex_lock(&reg_mu);
	for (struct impl *im = pools; im; im = im->next) {
		struct slot *chunk = atomic_load_explicit(
			&im->dir[i / CHUNK], memory_order_acquire);
		struct slot *s;

		if (chunk == NULL)
			continue;
		s = &chunk[i % CHUNK];
		gs_mutex_lock(&im->mu);
		vec_take(im->self, &im->shared, s->obj, s->n);
		s->n = 0;
		gs_mutex_unlock(&im->mu);
	}
	/* If the list cannot grow, the index is not reused: a small loss. */
	if (vec_reserve(&free_indices, 1))
		free_indices.v[free_indices.n++] = (void *)(uintptr_t)i;
	pthread_mutex_unlock(&reg_mu);
	my_index = 0;
}
