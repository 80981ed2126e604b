/*
 * map.c - gs_map_t: a hash map whose loads take no lock and never
 * block, and whose writers lock only the bucket they touch.
 *
 * Layout. A table is an array of 64-byte buckets, one cache line each:
 *
 *	ctrl     bytes 0-4: the tag of slots 0-4 (0 = empty), bit MOVED,
 *	         bit DEAD (both in a chain's first bucket only)
 *	lock     the chain's spin lock (first bucket only)
 *	slot[5]  pointers to nodes
 *	over     the next bucket of the chain, allocated when 5 are full
 *
 * A node holds the value (an atomic pointer), the key's 64-bit hash,
 * its length and its bytes inline: one allocation per entry. The tag is
 * the hash's top byte (never 0); the bucket is picked by its low bits.
 * A load is: hash, one acquire load of ctrl, a byte match of the tag
 * against the five tags at once, and the node's hash and key for each
 * match: for a present key that is one bucket line and one node line.
 *
 * Writers lock the chain's first bucket and change it only under that
 * lock: a node is published by storing its slot and then its tag
 * (release), removed by clearing its tag and then its slot. A node's
 * key never changes and it never moves to another slot of its table, so
 * a store to a present key writes the value in place, and readers that
 * hold the node see either value. Every write operation is one locked
 * read-modify-write of one entry (update), which makes them
 * linearizable: Store and LoadAndDelete of a key serialise on its lock
 * (B27), and a LoadOrStore that loses read the winner's published node.
 *
 * Growth doubles the table. One thread at a time (the resize mutex)
 * links the new table as old->next and moves old bucket i, under its
 * lock, into new buckets i and i + n (only old bucket i feeds them, so
 * they need no lock yet), then sets MOVED on it. The old slots are left
 * as they were (frozen): a reader that checked ctrl before MOVED reads a
 * copy that was exact at the move; one that sees MOVED follows next. A
 * writer that finds MOVED under the lock goes to next. A delete in the
 * new table also clears the node's frozen slot in the old one (new->
 * prev) while the old table is still reachable, so no reader can find a
 * freed node there. When every bucket is moved, the map points at the
 * new table and the old one is retired through the epoch. A move that
 * cannot allocate stops where it is; the map works in that half-moved
 * state and the next growth resumes it.
 *
 * Range walks the table it started with, bucket by bucket, and follows
 * MOVED into the two new buckets of a bucket moved before it got there.
 * A key present for the whole walk sits in one slot of that bucket (or,
 * once moved, of its frozen copy) for the whole walk, so it is visited
 * exactly once; range holds no lock while it calls fn. Clear swaps the
 * table for none, then marks every bucket DEAD under its lock (writers
 * that see DEAD start again from the map; readers see an empty map) and
 * retires the table with its nodes: no allocation, one retire.
 *
 * Reclamation: every operation runs inside an epoch section; removed
 * nodes and old tables carry their epoch entry, so retiring allocates
 * nothing. Counting: per-thread stripes of monotonic add and delete
 * counters, so writers share no counter line; len collects them twice
 * until both collections agree, which makes its result a value the
 * count had at one moment between them.
 *
 * Concurrency table (every pair may overlap, destroy excepted):
 *
 *	load             lock-free, never waits
 *	store and the    lock the key's chain; may run growth afterwards
 *	other writers    (the resize mutex), never while holding a lock
 *	range            lock-free; fn may call anything on the map
 *	clear            the resize mutex, then every chain's lock in turn
 *	compute          fn runs under the key's chain lock
 *
 * Memory orders: slots, tags, over, next and the map's table pointer
 * are published with release stores and read with acquire loads (on
 * x86 plain moves); the value likewise, so a loaded value's referent is
 * as its storer left it. The bucket lock is an acquire CAS and a
 * release store. MOVED is set with release after the new buckets are
 * filled, so a reader that sees it sees them.
 *
 * Rejected: one lock per map (writers would all contend), a seqlock per
 * bucket with keys inline in the slots (loads would retry, and a reader
 * could spin behind a preempted writer), and split-ordered lists (a
 * pointer chase per entry on every load).
 *
 * Limits: chains lengthen when growth cannot allocate; a range callback
 * that runs long delays every reclamation; a key deleted and stored
 * again during a range may be visited twice; the lock is a spin lock
 * that yields, so a writer preempted inside it makes others of the same
 * chain yield until it runs; len retries while the count keeps
 * changing.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gosync/map.h>
#include <gosync/mutex.h>

#include "introspect.h"
#include "runtime/epoch.h"
#include "runtime/platform.h"

#define SLOTS       5
#define TAGS        0xffffffffffull /* the five tag bytes of ctrl */
#define BYTE_LO     0x0101010101ull
#define BYTE_HI     0x8080808080ull
#define MOVED       (1ull << 63)
#define DEAD        (1ull << 62)
#define MIN_BUCKETS 8
#define STRIPES     16
#define LINE        64

#define container_of(p, type, field) \
	((type *)(void *)((char *)(p) - offsetof(type, field)))

struct node {
	struct gs__epoch_entry link; /* for the retire; readers skip it */
	_Atomic(void *) value;
	uint64_t hash;
	size_t len;
	unsigned char key[];
};

struct bucket {
	_Alignas(LINE) _Atomic uint64_t ctrl;
	_Atomic uint32_t lock;
	uint32_t unused;
	_Atomic(struct node *) slot[SLOTS];
	_Atomic(struct bucket *) over;
};

struct table {
	_Alignas(LINE) struct gs__epoch_entry link;
	size_t mask;                  /* buckets - 1 */
	_Atomic(struct table *) next; /* the table this one moves into */
	_Atomic(struct table *) prev; /* the table moving into this one */
	size_t moved;     /* buckets below it are moved; resize mutex */
	bool owns_nodes;  /* set by clear: the free frees the nodes too */
	struct bucket b[];
};

struct stripe {
	_Alignas(LINE) _Atomic uint64_t adds;
	_Atomic uint64_t dels;
};

struct impl {
	_Alignas(LINE) _Atomic(struct table *) table;
	uint64_t seed[2];
	gs_mutex_t resize; /* growth, clear, the first table */
	struct stripe count[STRIPES];
};

#define IMPL(m) ((_Atomic(struct impl *) *)(void *)&(m)->impl_)

/*
 * The test hooks: allocations left to succeed (-1: all), and those the
 * calling thread asked for.
 */
static _Atomic long allocs_left = -1;
static _Thread_local size_t allocs_tried;

void gs__map_fail_allocs(long n)
{
	atomic_store(&allocs_left, n);
}

size_t gs__map_allocs(void)
{
	return allocs_tried;
}

static void *map_alloc(size_t size, bool line)
{
	long n = atomic_load_explicit(&allocs_left, memory_order_relaxed);

	allocs_tried++;

	while (n >= 0) {
		if (n == 0)
			return NULL;
		if (atomic_compare_exchange_weak(&allocs_left, &n, n - 1))
			break;
	}
	if (!line)
		return malloc(size);
	return aligned_alloc(LINE, (size + LINE - 1) & ~(size_t)(LINE - 1));
}

/*
 * Hashing: the key's bytes in two 64-bit words (short keys read as two
 * overlapping loads), each mixed with a seed word, folded by a 128-bit
 * multiply (high half xor low half), then folded once more with the
 * length. Longer keys chain 16 bytes a round through the same fold.
 */
#define MIX0 0x9e3779b97f4a7c15ull
#define MIX1 0xc2b2ae3d27d4eb4full
#define MIX2 0x165667b19e3779f9ull

static inline uint64_t fold(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	__uint128_t p = (__uint128_t)a * b;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
	uint64_t lo = a * b, hi = (a >> 32) * (b >> 32);

	return lo ^ hi ^ ((lo >> 29) | (hi << 35));
#endif
}

static inline uint64_t ld64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t ld32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t hash_long(const uint64_t *seed, const unsigned char *p,
			  size_t len)
{
	const unsigned char *end = p + len;
	uint64_t acc = seed[0] ^ len;

	for (; end - p > 16; p += 16)
		acc = fold(ld64(p) ^ seed[1] ^ MIX1, ld64(p + 8) ^ acc);
	return fold(fold(ld64(end - 16) ^ seed[1], ld64(end - 8) ^ acc) ^
			    MIX2,
		    seed[0] ^ MIX0);
}

static inline uint64_t map_hash(const struct impl *im, const void *key,
				size_t len)
{
	const unsigned char *p = key;
	uint64_t a, b;

	if (len > 16)
		return hash_long(im->seed, p, len);
	if (len >= 8) {
		a = ld64(p);
		b = ld64(p + len - 8);
	} else if (len >= 4) {
		a = ld32(p);
		b = ld32(p + len - 4);
	} else {
		a = len ? (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 |
				  p[len - 1]
			: 0;
		b = 0;
	}
	return fold(fold(a ^ im->seed[0], b ^ im->seed[1]) ^ len ^ MIX2,
		    im->seed[0] ^ MIX0);
}

static inline uint64_t tag_of(uint64_t h)
{
	uint64_t t = h >> 56;

	return t | (t == 0);
}

/* The slots of ctrl whose tag is tag: bit 8i+7 for slot i. */
static inline uint64_t match(uint64_t ctrl, uint64_t tag)
{
	uint64_t x = (ctrl & TAGS) ^ (tag * BYTE_LO);

	/* A false match can follow a true one; the key check weeds it. */
	return (x - BYTE_LO) & ~x & BYTE_HI;
}

static inline bool key_eq(const struct node *n, uint64_t h,
			  const void *key, size_t len)
{
	const unsigned char *a = n->key, *b = key;

	if (n->hash != h || n->len != len)
		return false;
	if (len == 0)
		return true; /* key may be NULL then */
	if (len == 8)
		return ld64(a) == ld64(b);
	if (len > 8 && len <= 16)
		return ld64(a) == ld64(b) &&
		       ld64(a + len - 8) == ld64(b + len - 8);
	return memcmp(a, b, len) == 0;
}

static inline uint64_t ctrl_acquire(struct bucket *b)
{
	return atomic_load_explicit(&b->ctrl, memory_order_acquire);
}

/* Finds key's node, lock-free; the caller is inside a section. */
static inline struct node *find(struct table *t, uint64_t h,
				const void *key, size_t len)
{
	struct bucket *b = &t->b[h & t->mask];
	uint64_t c = ctrl_acquire(b), tag = tag_of(h);

	while (__builtin_expect(c & (MOVED | DEAD), 0)) {
		if (!(c & MOVED))
			return NULL; /* cleared after we read the table */
		t = atomic_load_explicit(&t->next, memory_order_acquire);
		b = &t->b[h & t->mask];
		c = ctrl_acquire(b);
	}
	for (;;) {
		for (uint64_t mm = match(c, tag); mm; mm &= mm - 1) {
			struct node *n = atomic_load_explicit(
				&b->slot[__builtin_ctzll(mm) >> 3],
				memory_order_acquire);
			if (n && key_eq(n, h, key, len))
				return n;
		}
		b = atomic_load_explicit(&b->over, memory_order_acquire);
		if (!b)
			return NULL;
		c = ctrl_acquire(b);
	}
}

static void bucket_lock_slow(struct bucket *b)
{
	for (unsigned n = 0;; n++) {
		uint32_t z = 0;

		if (atomic_load_explicit(&b->lock, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(
			    &b->lock, &z, 1, memory_order_acquire,
			    memory_order_relaxed))
			return;
		if (n < 64)
			gs__spin_pause();
		else
			sched_yield(); /* the holder may be preempted */
	}
}

static inline void bucket_lock(struct bucket *b)
{
	uint32_t z = 0;

	if (!atomic_compare_exchange_strong_explicit(&b->lock, &z, 1,
						     memory_order_acquire,
						     memory_order_relaxed))
		bucket_lock_slow(b);
}

static inline void bucket_unlock(struct bucket *b)
{
	atomic_store_explicit(&b->lock, 0, memory_order_release);
}

/* Enters a section; with no record to be had, waits for one. */
static inline void map_enter(void)
{
	while (__builtin_expect(gs__epoch_enter() != 0, 0))
		sched_yield();
}

static struct table *table_new(size_t nbuckets)
{
	size_t size = sizeof(struct table) + nbuckets * sizeof(struct bucket);
	struct table *t = map_alloc(size, true);

	if (t) {
		memset(t, 0, size);
		t->mask = nbuckets - 1;
	}
	return t;
}

static struct bucket *bucket_new(void)
{
	struct bucket *b = map_alloc(sizeof *b, true);

	if (b)
		memset(b, 0, sizeof *b);
	return b;
}

/* Frees t's buckets, and its nodes if nodes (not those it moved on). */
static void table_free(struct table *t, bool nodes)
{
	for (size_t i = 0; i <= t->mask; i++) {
		struct bucket *b = &t->b[i], *next;
		bool mine = nodes && !(atomic_load(&b->ctrl) & MOVED);

		for (; b; b = next) {
			next = atomic_load(&b->over);
			for (int s = 0; mine && s < SLOTS; s++)
				free(atomic_load(&b->slot[s]));
			if (b != &t->b[i])
				free(b);
		}
	}
	if (nodes && atomic_load(&t->next))
		table_free(atomic_load(&t->next), true);
	free(t);
}

static void table_retired(struct gs__epoch_entry *e)
{
	struct table *t = container_of(e, struct table, link);

	table_free(t, t->owns_nodes);
}

static void node_retired(struct gs__epoch_entry *e)
{
	free(container_of(e, struct node, link));
}

static struct impl *impl_get(gs_map_t *m, bool create)
{
	struct impl *im = atomic_load_explicit(IMPL(m), memory_order_acquire);
	struct impl *none = NULL;

	if (im || !create)
		return im;
	im = map_alloc(sizeof *im, true);
	if (!im)
		return NULL;
	memset(im, 0, sizeof *im);
	im->seed[0] = gs__random64();
	im->seed[1] = gs__random64() | 1;
	/* Release: the seed is seen by whoever loads the pointer. */
	if (!atomic_compare_exchange_strong_explicit(IMPL(m), &none, im,
						     memory_order_acq_rel,
						     memory_order_acquire)) {
		free(im);
		im = none;
	}
	return im;
}

static uint64_t count_of(struct impl *im)
{
	uint64_t adds = 0, dels = 0;

	for (int i = 0; i < STRIPES; i++) {
		adds += atomic_load_explicit(&im->count[i].adds,
					     memory_order_acquire);
		dels += atomic_load_explicit(&im->count[i].dels,
					     memory_order_acquire);
	}
	return adds - dels;
}

static inline struct stripe *my_stripe(struct impl *im)
{
	return &im->count[gs__thread_id() & (STRIPES - 1)];
}

static bool over_full(struct impl *im, struct table *t)
{
	return count_of(im) > (t->mask + 1) * SLOTS * 3 / 4;
}

/*
 * Moves old bucket i into new buckets i and i + old size, under old
 * bucket i's lock; allocates every overflow bucket first, so that a
 * failure leaves everything as it was.
 */
static int move_bucket(struct table *t, size_t i, struct table *n)
{
	struct bucket *b = &t->b[i], *bb, *dst[2], *spare = NULL;
	size_t cnt[2] = {0, 0}, fill[2] = {0, 0};
	uint64_t c, tags[2] = {0, 0};

	bucket_lock(b);
	c = atomic_load_explicit(&b->ctrl, memory_order_relaxed);
	if (c & MOVED) {
		bucket_unlock(b);
		return 0;
	}
	for (bb = b; bb; bb = atomic_load_explicit(&bb->over,
						   memory_order_relaxed))
		for (int s = 0; s < SLOTS; s++) {
			struct node *nd = atomic_load_explicit(
				&bb->slot[s], memory_order_relaxed);
			if (nd)
				cnt[(nd->hash & n->mask) != i]++;
		}
	for (int k = 0; k < 2; k++)
		for (size_t need = cnt[k] ? (cnt[k] - 1) / SLOTS : 0; need;
		     need--) {
			struct bucket *ob = bucket_new();

			if (!ob) {
				for (; spare; spare = ob) {
					ob = atomic_load(&spare->over);
					free(spare);
				}
				bucket_unlock(b);
				return ENOMEM;
			}
			atomic_store_explicit(&ob->over, spare,
					      memory_order_relaxed);
			spare = ob;
		}

	/* Fill the new chains; nobody reads them before MOVED is set. */
	dst[0] = &n->b[i];
	dst[1] = &n->b[i + t->mask + 1];
	for (bb = b; bb; bb = atomic_load_explicit(&bb->over,
						   memory_order_relaxed))
		for (int s = 0; s < SLOTS; s++) {
			struct node *nd = atomic_load_explicit(
				&bb->slot[s], memory_order_relaxed);
			int k;

			if (!nd)
				continue;
			k = (nd->hash & n->mask) != i;
			if (fill[k] == SLOTS) {
				struct bucket *ob = spare;

				atomic_store_explicit(&dst[k]->ctrl, tags[k],
						      memory_order_relaxed);
				spare = atomic_load_explicit(
					&ob->over, memory_order_relaxed);
				atomic_store_explicit(&ob->over, NULL,
						      memory_order_relaxed);
				atomic_store_explicit(&dst[k]->over, ob,
						      memory_order_relaxed);
				dst[k] = ob;
				fill[k] = 0;
				tags[k] = 0;
			}
			atomic_store_explicit(&dst[k]->slot[fill[k]], nd,
					      memory_order_relaxed);
			tags[k] |= tag_of(nd->hash) << (8 * fill[k]++);
		}
	for (int k = 0; k < 2; k++)
		atomic_store_explicit(&dst[k]->ctrl, tags[k],
				      memory_order_relaxed);

	/* Release: whoever sees MOVED sees the new chains. */
	atomic_store_explicit(&b->ctrl, c | MOVED, memory_order_release);
	bucket_unlock(b);
	return 0;
}

/*
 * Grows the map's table, or resumes a growth that stopped for want of
 * memory. Inside a section; takes the resize mutex; no lock held.
 */
static void grow(struct impl *im)
{
	struct table *t, *n;

	gs_mutex_lock(&im->resize);
	t = atomic_load_explicit(&im->table, memory_order_acquire);
	n = t ? atomic_load_explicit(&t->next, memory_order_acquire) : NULL;
	if (t && !n && over_full(im, t) &&
	    (n = table_new(2 * (t->mask + 1))) != NULL) {
		atomic_store_explicit(&n->prev, t, memory_order_relaxed);
		atomic_store_explicit(&t->next, n, memory_order_release);
	}
	if (n) {
		for (; t->moved <= t->mask; t->moved++)
			if (move_bucket(t, t->moved, n) != 0)
				break;
		if (t->moved > t->mask) {
			atomic_store_explicit(&im->table, n,
					      memory_order_release);
			atomic_store_explicit(&n->prev, NULL,
					      memory_order_release);
			gs__epoch_retire_entry(&t->link, table_retired);
		}
	}
	gs_mutex_unlock(&im->resize);
}

static int install(struct impl *im)
{
	int err = 0;

	gs_mutex_lock(&im->resize);
	if (!atomic_load_explicit(&im->table, memory_order_acquire)) {
		struct table *t = table_new(MIN_BUCKETS);

		if (t)
			atomic_store_explicit(&im->table, t,
					      memory_order_release);
		else
			err = ENOMEM;
	}
	gs_mutex_unlock(&im->resize);
	return err;
}

/* Locks key's chain in the table that holds it now; NULL: no table. */
static struct bucket *lock_home(struct impl *im, uint64_t h,
				struct table **tp)
{
	struct table *t = atomic_load_explicit(&im->table,
					       memory_order_acquire);

	while (t) {
		struct bucket *b = &t->b[h & t->mask];
		uint64_t c;

		bucket_lock(b);
		c = atomic_load_explicit(&b->ctrl, memory_order_relaxed);
		if (!(c & (MOVED | DEAD))) {
			*tp = t;
			return b;
		}
		bucket_unlock(b);
		/* DEAD: clear swapped the table before marking it. */
		t = atomic_load_explicit(c & MOVED ? &t->next : &im->table,
					 memory_order_acquire);
	}
	return NULL;
}

struct pos {
	struct bucket *b;
	int i;
};

/*
 * Under the chain's lock: finds key (at), the first free slot (hole)
 * and the chain's last bucket.
 */
static struct node *chain_find(struct bucket *b, uint64_t h,
			       const void *key, size_t len, struct pos *at,
			       struct pos *hole, struct bucket **last)
{
	uint64_t tag = tag_of(h);

	hole->b = NULL;
	for (;;) {
		uint64_t c = atomic_load_explicit(&b->ctrl,
						  memory_order_relaxed);

		for (uint64_t mm = match(c, tag); mm; mm &= mm - 1) {
			int i = __builtin_ctzll(mm) >> 3;
			struct node *n = atomic_load_explicit(
				&b->slot[i], memory_order_relaxed);

			if (n && key_eq(n, h, key, len)) {
				at->b = b;
				at->i = i;
				return n;
			}
		}
		for (int i = 0; !hole->b && i < SLOTS; i++)
			if (!((c >> (8 * i)) & 0xff)) {
				hole->b = b;
				hole->i = i;
			}
		*last = b;
		b = atomic_load_explicit(&b->over, memory_order_relaxed);
		if (!b)
			return NULL;
	}
}

static void unlink_node(struct table *t, struct pos at, struct node *n)
{
	uint64_t c = atomic_load_explicit(&at.b->ctrl, memory_order_relaxed);
	struct table *p;

	/* Tag first: a reader that still matches it finds NULL or n. */
	atomic_store_explicit(&at.b->ctrl, c & ~(0xffull << (8 * at.i)),
			      memory_order_release);
	atomic_store_explicit(&at.b->slot[at.i], NULL, memory_order_release);

	/* The frozen copy in a table still moving into this one. */
	p = atomic_load_explicit(&t->prev, memory_order_acquire);
	if (!p)
		return;
	for (struct bucket *b = &p->b[n->hash & p->mask]; b;
	     b = atomic_load_explicit(&b->over, memory_order_acquire))
		for (int s = 0; s < SLOTS; s++)
			if (atomic_load_explicit(&b->slot[s],
						 memory_order_relaxed) == n)
				atomic_store_explicit(&b->slot[s], NULL,
						      memory_order_release);
}

/* Links a new node for key into hole (or a new overflow bucket). */
static int insert_node(struct impl *im, struct pos hole,
		       struct bucket *last, uint64_t h, const void *key,
		       size_t len, void *value, bool *grow_now)
{
	struct node *n = map_alloc(sizeof *n + len, false);
	uint64_t c, adds;

	if (!n)
		return ENOMEM;
	if (!hole.b) {
		struct bucket *ob = bucket_new();

		if (!ob) {
			free(n);
			return ENOMEM;
		}
		atomic_store_explicit(&last->over, ob, memory_order_release);
		hole.b = ob;
		hole.i = 0;
		*grow_now = true;
	}
	atomic_init(&n->value, value);
	n->hash = h;
	n->len = len;
	if (len)
		memcpy(n->key, key, len);

	/* Slot, then tag: a reader that matches the tag finds the node. */
	atomic_store_explicit(&hole.b->slot[hole.i], n, memory_order_release);
	c = atomic_load_explicit(&hole.b->ctrl, memory_order_relaxed);
	atomic_store_explicit(&hole.b->ctrl, c | tag_of(h) << (8 * hole.i),
			      memory_order_release);
	adds = atomic_fetch_add_explicit(&my_stripe(im)->adds, 1,
					 memory_order_release);
	if ((adds & 15) == 15)
		*grow_now = true;
	return 0;
}

typedef void (*update_fn)(void **value, bool *present, void *arg);

/*
 * update runs fn on key's entry under its chain's lock and applies what
 * fn decided: the one write path. Always inlined, so that each public
 * operation gets its own copy with fn inlined into it.
 */
static inline __attribute__((always_inline)) int
update(gs_map_t *m, const void *key, size_t len, update_fn fn, void *arg,
       bool may_insert)
{
	struct impl *im = impl_get(m, may_insert);
	struct table *t;
	struct bucket *b, *last = NULL;
	struct pos at = {0}, hole;
	struct node *n;
	bool present = false, grow_now = false;
	void *v = NULL, *was = NULL;
	uint64_t h;
	int err = 0;

	if (!im) {
		fn(&v, &present, arg);
		return present ? ENOMEM : 0;
	}
	h = map_hash(im, key, len);
	map_enter();
	while ((b = lock_home(im, h, &t)) == NULL) {
		if (!may_insert || install(im) != 0) {
			gs__epoch_exit();
			fn(&v, &present, arg);
			return present ? ENOMEM : 0;
		}
	}
	n = chain_find(b, h, key, len, &at, &hole, &last);
	if (n) {
		was = v = atomic_load_explicit(&n->value,
					       memory_order_relaxed);
		present = true;
	}
	fn(&v, &present, arg);
	if (n && present) {
		/* An unchanged value is not written: readers keep the line. */
		if (v != was)
			atomic_store_explicit(&n->value, v,
					      memory_order_release);
	} else if (n) {
		unlink_node(t, at, n);
		atomic_fetch_add_explicit(&my_stripe(im)->dels, 1,
					  memory_order_release);
	} else if (present) {
		err = insert_node(im, hole, last, h, key, len, v, &grow_now);
	}
	bucket_unlock(b);
	if (n && !present)
		gs__epoch_retire_entry(&n->link, node_retired);
	if (grow_now && (atomic_load_explicit(&t->next,
					      memory_order_relaxed) ||
			 over_full(im, t)))
		grow(im);
	gs__epoch_exit();
	return err;
}

bool gs_map_load(gs_map_t *m, const void *key, size_t len, void **value)
{
	struct impl *im = atomic_load_explicit(IMPL(m), memory_order_acquire);
	struct table *t;
	struct node *n = NULL;
	uint64_t h;

	if (!im)
		return false;
	h = map_hash(im, key, len);
	map_enter();
	t = atomic_load_explicit(&im->table, memory_order_acquire);
	if (t && (n = find(t, h, key, len)) != NULL && value)
		*value = atomic_load_explicit(&n->value, memory_order_acquire);
	gs__epoch_exit();
	return n != NULL;
}

struct op {
	void *value, *old, *out;
	bool loaded;
};

static void do_store(void **v, bool *present, void *arg)
{
	*v = ((struct op *)arg)->value;
	*present = true;
}

int gs_map_store(gs_map_t *m, const void *key, size_t len, void *value)
{
	struct op op = {.value = value};

	return update(m, key, len, do_store, &op, true);
}

static void do_load_or_store(void **v, bool *present, void *arg)
{
	struct op *op = arg;

	op->loaded = *present;
	if (*present) {
		op->out = *v;
	} else {
		op->out = *v = op->value;
		*present = true;
	}
}

int gs_map_load_or_store(gs_map_t *m, const void *key, size_t len,
			 void *value, void **actual, bool *loaded)
{
	struct op op = {.value = value};
	int err = 0;

	/* A present key needs no lock: the load is the whole operation. */
	if (gs_map_load(m, key, len, &op.out))
		op.loaded = true;
	else if ((err = update(m, key, len, do_load_or_store, &op, true)))
		op.loaded = false;
	if (actual && !err)
		*actual = op.out;
	if (loaded)
		*loaded = op.loaded;
	return err;
}

static void do_load_and_delete(void **v, bool *present, void *arg)
{
	struct op *op = arg;

	op->loaded = *present;
	op->out = *v;
	*present = false;
}

bool gs_map_load_and_delete(gs_map_t *m, const void *key, size_t len,
			    void **value)
{
	struct op op = {0};

	update(m, key, len, do_load_and_delete, &op, false);
	if (op.loaded && value)
		*value = op.out;
	return op.loaded;
}

void gs_map_delete(gs_map_t *m, const void *key, size_t len)
{
	struct op op = {0};

	update(m, key, len, do_load_and_delete, &op, false);
}

static void do_swap(void **v, bool *present, void *arg)
{
	struct op *op = arg;

	op->loaded = *present;
	op->out = *v;
	*v = op->value;
	*present = true;
}

int gs_map_swap(gs_map_t *m, const void *key, size_t len, void *value,
		void **previous, bool *loaded)
{
	struct op op = {.value = value};
	int err = update(m, key, len, do_swap, &op, true);

	if (err)
		op.loaded = false;
	if (previous)
		*previous = op.loaded ? op.out : NULL;
	if (loaded)
		*loaded = op.loaded;
	return err;
}

static void do_cas(void **v, bool *present, void *arg)
{
	struct op *op = arg;

	if (*present && *v == op->old) {
		*v = op->value;
		op->loaded = true;
	}
}

bool gs_map_compare_and_swap(gs_map_t *m, const void *key, size_t len,
			     void *old_value, void *new_value)
{
	struct op op = {.value = new_value, .old = old_value};

	update(m, key, len, do_cas, &op, false);
	return op.loaded;
}

static void do_cad(void **v, bool *present, void *arg)
{
	struct op *op = arg;

	if (*present && *v == op->old) {
		*present = false;
		op->loaded = true;
	}
}

bool gs_map_compare_and_delete(gs_map_t *m, const void *key, size_t len,
			       void *old_value)
{
	struct op op = {.old = old_value};

	update(m, key, len, do_cad, &op, false);
	return op.loaded;
}

int gs_map_compute(gs_map_t *m, const void *key, size_t len,
		   void (*fn)(void **value, bool *present, void *arg),
		   void *arg)
{
	return update(m, key, len, fn, arg, true);
}

/* Visits bucket i of t, or the two it moved into; false: fn stopped. */
static bool range_bucket(struct table *t, size_t i,
			 bool (*fn)(const void *, size_t, void *, void *),
			 void *arg)
{
	struct bucket *b = &t->b[i];
	uint64_t c = ctrl_acquire(b);

	if (c & MOVED) {
		struct table *n = atomic_load_explicit(&t->next,
						       memory_order_acquire);

		return range_bucket(n, i, fn, arg) &&
		       range_bucket(n, i + t->mask + 1, fn, arg);
	}
	if (c & DEAD)
		return true;
	for (; b; b = atomic_load_explicit(&b->over, memory_order_acquire))
		for (int s = 0; s < SLOTS; s++) {
			struct node *n = atomic_load_explicit(
				&b->slot[s], memory_order_acquire);

			if (n && !fn(n->key, n->len,
				     atomic_load_explicit(&n->value,
							  memory_order_acquire),
				     arg))
				return false;
		}
	return true;
}

void gs_map_range(gs_map_t *m,
		  bool (*fn)(const void *key, size_t len, void *value,
			     void *arg),
		  void *arg)
{
	struct impl *im = atomic_load_explicit(IMPL(m), memory_order_acquire);
	struct table *t;

	/* An empty map: return before entering, which may allocate. */
	if (!im || !atomic_load_explicit(&im->table, memory_order_acquire))
		return;
	map_enter();
	t = atomic_load_explicit(&im->table, memory_order_acquire);
	for (size_t i = 0; t && i <= t->mask; i++)
		if (!range_bucket(t, i, fn, arg))
			break;
	gs__epoch_exit();
}

/* Marks t's live chains DEAD under their locks; returns their entries. */
static uint64_t kill_table(struct table *t)
{
	uint64_t killed = 0;

	for (size_t i = 0; i <= t->mask; i++) {
		struct bucket *b = &t->b[i];
		uint64_t c;

		bucket_lock(b);
		c = atomic_load_explicit(&b->ctrl, memory_order_relaxed);
		if (!(c & MOVED)) {
			for (struct bucket *bb = b; bb;
			     bb = atomic_load_explicit(&bb->over,
						       memory_order_relaxed))
				for (int s = 0; s < SLOTS; s++)
					killed += atomic_load_explicit(
							  &bb->slot[s],
							  memory_order_relaxed) !=
						  NULL;
			atomic_store_explicit(&b->ctrl, c | DEAD,
					      memory_order_release);
		}
		bucket_unlock(b);
	}
	return killed;
}

void gs_map_clear(gs_map_t *m)
{
	struct impl *im = atomic_load_explicit(IMPL(m), memory_order_acquire);
	struct table *t, *n;
	uint64_t killed;

	if (!im || !atomic_load_explicit(&im->table, memory_order_acquire))
		return;
	map_enter();
	gs_mutex_lock(&im->resize);
	t = atomic_load_explicit(&im->table, memory_order_acquire);
	if (t) {
		/* The swap is the clear; the marks stop late writers. */
		atomic_store_explicit(&im->table, NULL, memory_order_release);
		killed = kill_table(t);
		n = atomic_load_explicit(&t->next, memory_order_acquire);
		if (n)
			killed += kill_table(n);
		atomic_fetch_add_explicit(&my_stripe(im)->dels, killed,
					  memory_order_release);
		t->owns_nodes = true;
		gs__epoch_retire_entry(&t->link, table_retired);
	}
	gs_mutex_unlock(&im->resize);
	gs__epoch_exit();
}

size_t gs_map_len(gs_map_t *m)
{
	struct impl *im = atomic_load_explicit(IMPL(m), memory_order_acquire);
	uint64_t a[2], d[2];

	if (!im)
		return 0;
	for (unsigned tries = 0;; tries++) {
		for (int k = 0; k < 2; k++) {
			a[k] = d[k] = 0;
			for (int i = 0; i < STRIPES; i++) {
				a[k] += atomic_load_explicit(
					&im->count[i].adds,
					memory_order_acquire);
				d[k] += atomic_load_explicit(
					&im->count[i].dels,
					memory_order_acquire);
			}
		}
		/* Monotonic counters: equal sums mean nothing moved. */
		if (a[0] == a[1] && d[0] == d[1])
			return (size_t)(a[0] - d[0]);
		if (tries > 8)
			sched_yield();
	}
}

void gs_map_destroy(gs_map_t *m)
{
	struct impl *im = atomic_load_explicit(IMPL(m), memory_order_acquire);
	struct table *t;

	if (!im)
		return;
	t = atomic_load_explicit(&im->table, memory_order_acquire);
	if (t)
		table_free(t, true);
	free(im);
	atomic_store(IMPL(m), NULL);
}

size_t gs__map_capacity(gs_map_t *m)
{
	struct impl *im = atomic_load_explicit(IMPL(m), memory_order_acquire);
	struct table *t = im ? atomic_load(&im->table) : NULL;

	return t ? (t->mask + 1) * SLOTS : 0;
}

uint64_t gs__map_seed(gs_map_t *m)
{
	struct impl *im = atomic_load_explicit(IMPL(m), memory_order_acquire);

	return im ? im->seed[0] : 0;
}
