/*
 * map.c - gs_map_t: a hash map whose loads take no lock and never
 * block, and whose writers lock only the bucket chain they touch.
 *
 * Layout. A table is an array of 128-byte buckets (two cache lines):
 *
 *	ctrl     bytes 0-5: the tag of slots 0-5 (0 = empty); bits 48-61:
 *	         a version, bumped whenever a slot gains or loses a key;
 *	         bit DEAD and bit MOVED (both in a chain's first bucket)
 *	meta     byte i: the length of slot i's key (0-8), or LONG; bit
 *	         META_LOCK: the chain's spin lock (first bucket only); bit
 *	         META_OVER: over is set
 *	slot[6]  the key word and the value: a key of up to 8 bytes sits
 *	         in the word itself; a longer one is a node (hash, length,
 *	         bytes) that the word points to
 *	over     the next bucket of the chain, allocated when 6 are full
 *
 * The tag is the hash's top byte (never 0); the bucket is picked by its
 * low bits. A load is: hash, ctrl, a byte match of the tag against the
 * six tags at once, the matching slot's word and value (same bucket),
 * and ctrl once more: for a short key no pointer is followed and
 * nothing is allocated per entry.
 *
 * Writers lock the chain's first bucket and change it only under that
 * lock. A key is added by writing its slot and meta byte and then, in
 * one release store, its tag with a new version; removed by clearing
 * its tag with a new version; its value is rewritten in place. A reader
 * that matched a key checks that ctrl is unchanged after it read the
 * slot: the same version means the slot held that key all along, so
 * key and value belong together; otherwise it reads the bucket again
 * (a retry, never a wait: no writer holds anything a reader needs).
 * Every write operation is one locked read-modify-write of one entry
 * (update), which makes them linearizable: Store and LoadAndDelete of a
 * key serialise on its lock (B27), and a LoadOrStore that loses read
 * the winner's published slot.
 *
 * Growth makes the table four times larger while it has fewer than
 * GROW4_BELOW buckets and twice as large after that: growth is most of
 * what a store into a fresh map costs, and a factor of four moves each
 * key about a third as often while the memory it wastes stays small.
 * One thread at a time (the resize mutex) links the new table as
 * old->next and moves old bucket i, under its lock, into new buckets
 * i, i + n, and so on up to the factor (only old bucket i feeds them,
 * so they need no lock yet), then sets MOVED on it. The old slots are
 * left as they were (frozen): a reader that read ctrl before MOVED reads a
 * copy that was exact at the move (its recheck of ctrl sends a hit to
 * the new table); a writer that finds MOVED under the lock goes to
 * next. Long keys' nodes are shared by both tables, so a delete in the
 * new one also clears the node's frozen word in the old one (new->prev)
 * while the old table is still reachable. When every bucket is moved,
 * the map points at the new table and the old one is retired through
 * the epoch. A move that cannot allocate stops where it is; the map
 * works in that half-moved state and the next growth resumes it.
 *
 * Range walks the table it started with, bucket by bucket, and follows
 * MOVED into the new buckets of a bucket moved before it got there.
 * It reads each bucket until ctrl holds still across the read, then
 * calls fn on that copy, holding no lock. A key present for the whole
 * walk keeps its slot in that bucket (or, once moved, in the frozen
 * copy), so it is visited exactly once. Clear swaps the table for none,
 * then marks every chain DEAD under its lock (writers that see DEAD
 * start again from the map; readers see an empty map) and retires the
 * table with its nodes: no allocation, one retire.
 *
 * Reclamation: every operation runs inside an epoch section; long
 * keys' nodes and old tables carry their epoch entry, so retiring
 * allocates nothing. Counting: per-thread stripes of monotonic add and
 * delete counters, so writers share no counter line; len collects them
 * twice until both collections agree, which makes its result a value
 * the count had at one moment between them.
 *
 * Concurrency table (every pair may overlap, destroy excepted):
 *
 *	load             lock-free, never waits; retries a bucket that
 *	                 changed while it read
 *	store and the    lock the key's chain; may run growth afterwards
 *	other writers    (the resize mutex), never while holding a lock
 *	range            lock-free; fn may call anything on the map
 *	clear            the resize mutex, then every chain's lock in turn
 *	compute          fn runs under the key's chain lock
 *
 * Memory orders: slot words, values, meta and over are written before
 * the release store of ctrl (or of over) that publishes them and read
 * after an acquire load of it; the reader's second ctrl load comes
 * after its slot loads, which are acquire, so it cannot be hoisted
 * above them (on x86 all of these are plain moves). The bucket lock is
 * an acquire fetch-or and a release store. MOVED is set with release after
 * the new buckets are filled, so a reader that sees it sees them.
 *
 * Writers: a write takes one locked instruction, the lock's, unless it
 * grows the table or its thread shares the last count stripe (its own
 * stripe is written with plain stores). The write path is inlined into
 * each operation, with long keys, overflow buckets and the first
 * insertion out of line, and a lookup or lock prefetches the bucket's
 * second line so that its miss overlaps the first line's.
 *
 * Rejected: one lock per map (writers would all contend), a node per
 * entry (a second cache line and a malloc per store; this file's first
 * form), a seqlock that readers wait on (a reader could spin behind a
 * preempted writer), and split-ordered lists (a pointer chase per entry
 * on every load).
 *
 * Limits: the version has 14 bits, so a reader stalled inside one
 * bucket read while exactly a multiple of 16,384 slot changes hit that
 * bucket, ending with the same tags, could pair a key with another's
 * value, and, if a slot went from a long key to a short one and back
 * in between, follow a short key's bytes as a node pointer and crash
 * (a load or a range); a test made that happen only by running the
 * 16,384 changes from a signal handler on the reader's own thread;
 * chains lengthen when growth cannot allocate; a range callback that
 * runs long delays every reclamation; a key deleted and stored
 * again during a range may be visited twice; the lock is a spin lock
 * that yields, so a writer preempted inside it makes others of the same
 * chain yield until it runs; len retries while the count keeps
 * changing; a move hashes short keys again; right after a growth by
 * four a table is 3/16 full (at worst 4 MB of buckets for about 37,000
 * keys); a growth of a large table touches a new table's pages for the
 * first time, which the kernel must clear, so a store that triggers it
 * waits for the whole move (a few milliseconds past 100,000 keys); a
 * stripe stays with the thread that took it, even after that thread
 * exits, and threads whose stripe is taken share the last one by
 * fetch_add.
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

#define SLOTS       6
#define TAGS        0xffffffffffffull /* the six tag bytes of ctrl */
#define BYTE_LO     0x010101010101ull
#define BYTE_HI     0x808080808080ull
#define BYTE_LOW7   0x7f7f7f7f7f7full
#define VERSION     (0x3fffull << 48) /* bumped by each slot change */
#define VERSION_ONE (1ull << 48)
#define DEAD        (1ull << 62)
#define MOVED       (1ull << 63)
#define LONG        0xff /* meta byte of a slot whose key is a node */
#define META_LOCK   (1ull << 48) /* the chain's lock (first bucket) */
#define META_OVER   (1ull << 49) /* over is set */
#define SHORT_MAX   8    /* longer keys live in a node */
#define MIN_BUCKETS 8
#define GROW_MAX    4    /* the growth factor of small tables */
#define GROW4_BELOW 16384 /* buckets: a larger table only doubles */
#define STRIPES     16
#define LINE        64

#define container_of(p, type, field) \
	((type *)(void *)((char *)(p) - offsetof(type, field)))

/* A key longer than SHORT_MAX bytes, with its hash. */
struct knode {
	struct gs__epoch_entry link;
	uint64_t hash;
	size_t len;
	unsigned char key[];
};

struct slot {
	_Atomic uint64_t kw; /* a short key's bytes, or a knode pointer */
	_Atomic(void *) value;
};

struct bucket {
	_Alignas(2 * LINE) _Atomic uint64_t ctrl;
	_Atomic uint64_t meta; /* byte i: slot i's length; META_ bits */
	struct slot s[SLOTS];
	_Atomic(struct bucket *) over;
};

struct table {
	_Alignas(2 * LINE) struct gs__epoch_entry link;
	size_t mask;                  /* buckets - 1 */
	_Atomic(struct table *) next; /* the table this one moves into */
	_Atomic(struct table *) prev; /* the table moving into this one */
	size_t moved;     /* buckets below it are moved; resize mutex */
	bool owns_nodes;  /* set by clear: the free frees the nodes too */
	_Atomic size_t nover; /* overflow buckets, so a free can skip */
	struct bucket b[];
};

/* A counter pair that one thread (owner) alone writes, without RMW. */
struct stripe {
	_Alignas(LINE) _Atomic uint64_t adds;
	_Atomic uint64_t dels;
	_Atomic uint32_t owner; /* a gs__thread_id, or 0 before the first */
};

struct impl {
	_Alignas(LINE) _Atomic(struct table *) table;
	uint64_t seed[2];
	gs_mutex_t resize; /* growth, clear, the first table */
	struct stripe count[STRIPES + 1]; /* the last: shared, by RMW */
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

static void *map_alloc(size_t size, size_t align)
{
	long n = atomic_load_explicit(&allocs_left, memory_order_relaxed);

	allocs_tried++;
	while (n >= 0) {
		if (n == 0)
			return NULL;
		if (atomic_compare_exchange_weak(&allocs_left, &n, n - 1))
			break;
	}
	if (!align)
		return malloc(size);
	return aligned_alloc(align, (size + align - 1) & ~(align - 1));
}

/*
 * Hashing: the key's bytes in two 64-bit words (short keys read as two
 * overlapping loads), the first mixed with a seed word, the second with
 * the other and the length, folded by one 128-bit multiply (high half
 * xor low half, so that the low bits, which pick the bucket, depend on
 * every input bit). Longer keys chain 16 bytes a round through the same
 * fold. The seed words are odd-or-random, so no fixed key multiplies to
 * a fixed value.
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

static __attribute__((noinline)) uint64_t
hash_long(const uint64_t *seed, const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	uint64_t acc = seed[0] ^ len;

	for (; end - p > 16; p += 16)
		acc = fold(ld64(p) ^ seed[1] ^ MIX1, ld64(p + 8) ^ acc);
	return fold(fold(ld64(end - 16) ^ seed[1], ld64(end - 8) ^ acc) ^
			    MIX2,
		    seed[0] ^ MIX0);
}

/* A short key's bytes as one word, zero above them. */
static inline uint64_t short_word(const unsigned char *p, size_t len)
{
	if (len == 8)
		return ld64(p);
	if (len >= 4)
		return ld32(p) | ld32(p + len - 4) << (8 * (len - 4));
	if (len == 0)
		return 0;
	/* Overlapping bytes are equal, so or-ing them is harmless. */
	return (uint64_t)p[0] | (uint64_t)p[len >> 1] << (8 * (len >> 1)) |
	       (uint64_t)p[len - 1] << (8 * (len - 1));
}

static inline uint64_t hash_words(const struct impl *im, uint64_t a,
				  uint64_t b, size_t len)
{
	return fold(a ^ im->seed[0], b ^ im->seed[1] ^ (len * MIX2));
}

static inline uint64_t map_hash(const struct impl *im, const void *key,
				size_t len)
{
	const unsigned char *p = key;

	if (len > 16)
		return hash_long(im->seed, p, len);
	if (len > 8)
		return hash_words(im, ld64(p), ld64(p + len - 8), len);
	return hash_words(im, short_word(p, len), 0, len);
}

static inline uint64_t tag_of(uint64_t h)
{
	uint64_t t = h >> 56;

	return t | (t == 0);
}

/*
 * The slots of ctrl whose tag is tag: bit 8i+7 for slot i. Exact: an
 * empty slot keeps its old key's bytes, so a false match on one could
 * bring a deleted key back. A byte of x is zero where the tags agree;
 * adding 0x7f to its low seven bits sets bit 7 unless they are all 0,
 * and no sum carries into the next byte.
 */
static inline uint64_t match(uint64_t ctrl, uint64_t tag)
{
	uint64_t x = (ctrl & TAGS) ^ (tag * BYTE_LO);

	return ~(((x & BYTE_LOW7) + BYTE_LOW7) | x | BYTE_LOW7) & BYTE_HI;
}

static inline uint64_t bump(uint64_t c)
{
	return (c & ~VERSION) | ((c + VERSION_ONE) & VERSION);
}

/* What a lookup compares: the key, its word if short, its hash. */
struct probe {
	const void *key;
	size_t len;
	uint64_t hash, word, tag;
};

static inline __attribute__((always_inline)) struct probe
probe_of(const struct impl *im, const void *key, size_t len)
{
	struct probe p = {key, len, map_hash(im, key, len), 0, 0};

	if (len <= SHORT_MAX)
		p.word = short_word(key, len);
	p.tag = tag_of(p.hash);
	return p;
}

/* Whether slot content (meta byte, kw) holds p's key. */
static inline bool slot_is(unsigned meta, uint64_t kw,
			   const struct probe *p)
{
	const struct knode *k;

	if (meta != LONG)
		return meta == p->len && kw == p->word;
	k = (const struct knode *)(uintptr_t)kw;
	return k && k->hash == p->hash && k->len == p->len &&
	       memcmp(k->key, p->key, p->len) == 0;
}

static inline unsigned meta_at(uint64_t meta, int i)
{
	return (unsigned)(meta >> (8 * i)) & 0xff;
}

static inline uint64_t ctrl_acquire(struct bucket *b)
{
	return atomic_load_explicit(&b->ctrl, memory_order_acquire);
}

static inline uint64_t load_acquire(_Atomic uint64_t *w)
{
	return atomic_load_explicit(w, memory_order_acquire);
}

/*
 * Finds p's key, lock-free, and sets *value; the caller is inside a
 * section. A hit is checked by reading ctrl again: the same word (the
 * version included) means that no slot of the bucket changed hands
 * while the key and value were read, so they belong together.
 */
static inline bool find(struct table *t, const struct probe *p,
			void **value)
{
	struct bucket *b = &t->b[p->hash & t->mask];
	uint64_t c;

	/* Slots 3 to 5 are on the second line: fetch both lines at once. */
	__builtin_prefetch((char *)b + LINE);
	c = ctrl_acquire(b);

	for (;;) {
		uint64_t meta, mm;

		if (__builtin_expect(c & (MOVED | DEAD), 0)) {
			if (!(c & MOVED))
				return false; /* cleared after we looked */
			t = atomic_load_explicit(&t->next,
						 memory_order_acquire);
			b = &t->b[p->hash & t->mask];
			c = ctrl_acquire(b);
			continue;
		}
		meta = load_acquire(&b->meta);
		for (mm = match(c, p->tag); mm; mm &= mm - 1) {
			int i = __builtin_ctzll(mm) >> 3;
			uint64_t kw = load_acquire(&b->s[i].kw);
			unsigned mt = meta_at(load_acquire(&b->meta), i);
			void *v = atomic_load_explicit(&b->s[i].value,
						       memory_order_acquire);

			/*
			 * The word is read before its meta byte (insert_slot
			 * writes them the other way round), and a node is
			 * followed only while ctrl still says the slot kept
			 * its key: the slot may have been emptied and reused
			 * since c was read.
			 */
			if (mt == LONG && ctrl_acquire(b) != c)
				break;
			if (!slot_is(mt, kw, p))
				continue;
			if (ctrl_acquire(b) != c)
				break; /* changed under us: read again */
			*value = v;
			return true;
		}
		if (mm) {
			c = ctrl_acquire(b);
			continue;
		}
		/* META_OVER comes after over: pairs with insert_slot. */
		if (!(meta & META_OVER))
			return false;
		b = atomic_load_explicit(&b->over, memory_order_acquire);
		c = ctrl_acquire(b);
	}
}

static void bucket_lock_slow(struct bucket *b)
{
	for (unsigned n = 0;; n++) {
		if (!(atomic_load_explicit(&b->meta, memory_order_relaxed) &
		      META_LOCK) &&
		    !(atomic_fetch_or_explicit(&b->meta, META_LOCK,
					       memory_order_acquire) &
		      META_LOCK))
			return;
		if (n < 64)
			gs__spin_pause();
		else
			sched_yield(); /* the holder may be preempted */
	}
}

/*
 * The lock is a bit of the first bucket's meta, on the line that the
 * writer reads next anyway. Waiters only ever set the bit, which is set
 * already, so the holder may clear it with a plain store of what it
 * last wrote.
 */
static inline void bucket_lock(struct bucket *b)
{
	if (atomic_fetch_or_explicit(&b->meta, META_LOCK,
				     memory_order_acquire) &
	    META_LOCK)
		bucket_lock_slow(b);
}

static inline void bucket_unlock(struct bucket *b)
{
	atomic_store_explicit(&b->meta,
			      atomic_load_explicit(&b->meta,
						   memory_order_relaxed) &
				      ~META_LOCK,
			      memory_order_release);
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
	struct table *t = map_alloc(size, 2 * LINE);

	if (t) {
		memset(t, 0, size);
		t->mask = nbuckets - 1;
	}
	return t;
}

static struct bucket *bucket_new(void)
{
	struct bucket *b = map_alloc(sizeof *b, 2 * LINE);

	if (b)
		memset(b, 0, sizeof *b);
	return b;
}

/* Frees t's buckets, and its long keys if nodes (not those moved on). */
static void table_free(struct table *t, bool nodes)
{
	for (size_t i = 0;
	     (nodes || atomic_load(&t->nover)) && i <= t->mask; i++) {
		struct bucket *b = &t->b[i], *next;
		bool mine = nodes && !(atomic_load(&b->ctrl) & MOVED);

		for (; b; b = next) {
			uint64_t c = atomic_load(&b->ctrl);
			uint64_t meta = atomic_load(&b->meta);

			next = atomic_load(&b->over);
			for (int s = 0; mine && s < SLOTS; s++)
				if ((c >> (8 * s) & 0xff) &&
				    meta_at(meta, s) == LONG)
					free((void *)(uintptr_t)atomic_load(
						&b->s[s].kw));
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

static void knode_retired(struct gs__epoch_entry *e)
{
	free(container_of(e, struct knode, link));
}

/* The first insertion's allocation of m's state. */
static __attribute__((noinline)) struct impl *impl_create(gs_map_t *m)
{
	struct impl *im = map_alloc(sizeof *im, LINE), *none = NULL;

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

static inline struct impl *impl_get(gs_map_t *m, bool create)
{
	struct impl *im = atomic_load_explicit(IMPL(m), memory_order_acquire);

	if (__builtin_expect(im != NULL, 1) || !create)
		return im;
	return impl_create(m);
}

static uint64_t count_of(struct impl *im)
{
	uint64_t adds = 0, dels = 0;

	for (int i = 0; i <= STRIPES; i++) {
		adds += atomic_load_explicit(&im->count[i].adds,
					     memory_order_acquire);
		dels += atomic_load_explicit(&im->count[i].dels,
					     memory_order_acquire);
	}
	return adds - dels;
}

/*
 * Adds n to the caller's adds (or dels) counter and returns the new
 * value. A thread owns the stripe of its id if it is the first there;
 * the owner alone writes it, so a load and a release store do (no
 * locked instruction); others share the last stripe by fetch_add.
 */
static inline uint64_t count_add(struct impl *im, bool del, uint64_t n)
{
	uint32_t id = gs__thread_id(), z = 0;
	struct stripe *s = &im->count[id & (STRIPES - 1)];
	uint32_t owner = atomic_load_explicit(&s->owner, memory_order_relaxed);
	_Atomic uint64_t *c;
	uint64_t v;

	if (owner != id &&
	    (owner != 0 || !atomic_compare_exchange_strong_explicit(
				   &s->owner, &z, id, memory_order_relaxed,
				   memory_order_relaxed)))
		s = &im->count[STRIPES];
	c = del ? &s->dels : &s->adds;
	if (s == &im->count[STRIPES])
		return atomic_fetch_add_explicit(c, n, memory_order_release) +
		       n;
	/* Release: pairs with len's acquire loads of the counters. */
	v = atomic_load_explicit(c, memory_order_relaxed) + n;
	atomic_store_explicit(c, v, memory_order_release);
	return v;
}

/* The size a table of nb buckets grows to. */
static inline size_t grown(size_t nb)
{
	return nb < GROW4_BELOW ? GROW_MAX * nb : 2 * nb;
}

static bool over_full(struct impl *im, struct table *t)
{
	return count_of(im) > (t->mask + 1) * SLOTS * 3 / 4;
}

/* A chain being filled by a move; nobody reads it before MOVED. */
struct filler {
	struct bucket *b;
	int n;
	uint64_t ctrl, meta;
};

static void filler_flush(struct filler *f)
{
	atomic_store_explicit(&f->b->ctrl, f->ctrl, memory_order_relaxed);
	atomic_store_explicit(&f->b->meta, f->meta, memory_order_relaxed);
}

static void filler_put(struct filler *f, struct bucket **spare,
		       uint64_t tag, unsigned meta, uint64_t kw, void *value)
{
	if (f->n == SLOTS) {
		struct bucket *ob = *spare;

		f->meta |= META_OVER;
		filler_flush(f);
		*spare = atomic_load_explicit(&ob->over, memory_order_relaxed);
		atomic_store_explicit(&ob->over, NULL, memory_order_relaxed);
		atomic_store_explicit(&f->b->over, ob, memory_order_relaxed);
		*f = (struct filler){ob, 0, 0, 0};
	}
	atomic_store_explicit(&f->b->s[f->n].kw, kw, memory_order_relaxed);
	atomic_store_explicit(&f->b->s[f->n].value, value,
			      memory_order_relaxed);
	f->ctrl |= tag << (8 * f->n);
	f->meta |= (uint64_t)meta << (8 * f->n);
	f->n++;
}

static void free_chain(struct bucket *b)
{
	while (b) {
		struct bucket *next = atomic_load(&b->over);

		free(b);
		b = next;
	}
}

/* The hash of a slot's key, under its chain's lock. */
static inline uint64_t slot_hash(const struct impl *im, unsigned meta,
				 uint64_t kw)
{
	if (meta == LONG)
		return ((const struct knode *)(uintptr_t)kw)->hash;
	return hash_words(im, kw, 0, meta);
}

/*
 * Moves old bucket i into new buckets i, i + old size, i + 2 old size
 * and so on (as many as the growth factor), under old bucket i's lock.
 * A chain of one bucket fits each part without overflow; a longer one
 * is counted first, so that every overflow bucket is allocated before
 * anything changes and a failure leaves everything as it was. The old
 * slots stay as they were (frozen); long keys' nodes are shared by both
 * tables.
 */
static int move_bucket(struct impl *im, struct table *t, size_t i,
		       struct table *n)
{
	struct bucket *b = &t->b[i], *bb, *spare = NULL;
	size_t cnt[GROW_MAX] = {0}, need = 0, parts, shift;
	struct filler f[GROW_MAX];
	uint64_t c;

	shift = (size_t)__builtin_ctzll(t->mask + 1);
	parts = (n->mask + 1) >> shift;
	bucket_lock(b);
	c = atomic_load_explicit(&b->ctrl, memory_order_relaxed);
	if (c & MOVED) {
		bucket_unlock(b);
		return 0;
	}
	if (atomic_load_explicit(&b->over, memory_order_relaxed)) {
		for (bb = b; bb; bb = atomic_load_explicit(
					 &bb->over, memory_order_relaxed)) {
			uint64_t cc = atomic_load_explicit(
				&bb->ctrl, memory_order_relaxed);
			uint64_t meta = atomic_load_explicit(
				&bb->meta, memory_order_relaxed);

			for (int s = 0; s < SLOTS; s++)
				if (cc >> (8 * s) & 0xff) {
					uint64_t kw = atomic_load_explicit(
						&bb->s[s].kw,
						memory_order_relaxed);
					uint64_t h = slot_hash(
						im, meta_at(meta, s), kw);

					cnt[(h & n->mask) >> shift]++;
				}
		}
		for (size_t k = 0; k < parts; k++)
			need += cnt[k] ? (cnt[k] - 1) / SLOTS : 0;
		atomic_fetch_add_explicit(&n->nover, need,
					  memory_order_relaxed);
		/* A failure below overcounts nover: a free then walks. */
		for (; need; need--) {
			struct bucket *ob = bucket_new();

			if (!ob) {
				free_chain(spare);
				bucket_unlock(b);
				return ENOMEM;
			}
			atomic_store_explicit(&ob->over, spare,
					      memory_order_relaxed);
			spare = ob;
		}
	}

	/* Fill the new chains; nobody reads them before MOVED is set. */
	for (size_t k = 0; k < parts; k++)
		f[k] = (struct filler){&n->b[i + (k << shift)], 0, 0, 0};
	for (bb = b; bb;
	     bb = atomic_load_explicit(&bb->over, memory_order_relaxed)) {
		uint64_t cc = atomic_load_explicit(&bb->ctrl,
						   memory_order_relaxed);
		uint64_t meta = atomic_load_explicit(&bb->meta,
						     memory_order_relaxed);

		for (int s = 0; s < SLOTS; s++) {
			unsigned mt = meta_at(meta, s);
			uint64_t kw, h;

			if (!(cc >> (8 * s) & 0xff))
				continue;
			kw = atomic_load_explicit(&bb->s[s].kw,
						  memory_order_relaxed);
			h = slot_hash(im, mt, kw);
			filler_put(&f[(h & n->mask) >> shift], &spare,
				   tag_of(h), mt, kw,
				   atomic_load_explicit(&bb->s[s].value,
							memory_order_relaxed));
		}
	}
	for (size_t k = 0; k < parts; k++)
		filler_flush(&f[k]);

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
	    (n = table_new(grown(t->mask + 1))) != NULL) {
		atomic_store_explicit(&n->prev, t, memory_order_relaxed);
		atomic_store_explicit(&t->next, n, memory_order_release);
	}
	if (n) {
		for (; t->moved <= t->mask; t->moved++)
			if (move_bucket(im, t, t->moved, n) != 0)
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
static inline __attribute__((always_inline)) struct bucket *
lock_home(struct impl *im, uint64_t h, struct table **tp)
{
	struct table *t = atomic_load_explicit(&im->table,
					       memory_order_acquire);

	while (t) {
		struct bucket *b = &t->b[h & t->mask];
		uint64_t c;

		/* The second line's miss overlaps the locked first's. */
		__builtin_prefetch((char *)b + LINE, 1);
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
 * Under the chain's lock: finds p's key (at), the first free slot
 * (hole) and the chain's last bucket.
 */
static inline __attribute__((always_inline)) bool
chain_find(struct bucket *b, const struct probe *p, struct pos *at,
	   struct pos *hole, struct bucket **last)
{
	hole->b = NULL;
	for (;;) {
		uint64_t c = atomic_load_explicit(&b->ctrl,
						  memory_order_relaxed);
		uint64_t meta = atomic_load_explicit(&b->meta,
						     memory_order_relaxed);
		uint64_t mm;

		for (mm = match(c, p->tag); mm; mm &= mm - 1) {
			int i = __builtin_ctzll(mm) >> 3;
			uint64_t kw = atomic_load_explicit(
				&b->s[i].kw, memory_order_relaxed);

			if (slot_is(meta_at(meta, i), kw, p)) {
				at->b = b;
				at->i = i;
				return true;
			}
		}
		if (!hole->b && (mm = match(c, 0)) != 0) {
			hole->b = b;
			hole->i = __builtin_ctzll(mm) >> 3;
		}
		*last = b;
		if (!(meta & META_OVER))
			return false;
		b = atomic_load_explicit(&b->over, memory_order_relaxed);
	}
}

/*
 * A long key's node, just unlinked from t: clears its frozen copy in a
 * table still moving into t, and returns it to retire.
 */
static __attribute__((noinline)) struct knode *unlink_node(struct table *t,
							   struct pos at)
{
	struct knode *k = (struct knode *)(uintptr_t)atomic_load_explicit(
		&at.b->s[at.i].kw, memory_order_relaxed);
	struct table *p;

	/* Its frozen copy in a table still moving into this one. */
	p = atomic_load_explicit(&t->prev, memory_order_acquire);
	for (struct bucket *b = p ? &p->b[k->hash & p->mask] : NULL; b;
	     b = atomic_load_explicit(&b->over, memory_order_acquire))
		for (int s = 0; s < SLOTS; s++)
			if (atomic_load_explicit(&b->s[s].kw,
						 memory_order_relaxed) ==
			    (uint64_t)(uintptr_t)k)
				atomic_store_explicit(&b->s[s].kw, 0,
						      memory_order_release);
	return k;
}

/* Empties slot at; returns the long key's node to retire, or NULL. */
static inline struct knode *unlink_slot(struct table *t, struct pos at)
{
	uint64_t c = atomic_load_explicit(&at.b->ctrl, memory_order_relaxed);
	uint64_t meta = atomic_load_explicit(&at.b->meta,
					     memory_order_relaxed);

	/* One store: the tag goes and the version moves. */
	atomic_store_explicit(&at.b->ctrl, bump(c & ~(0xffull << (8 * at.i))),
			      memory_order_release);
	if (__builtin_expect(meta_at(meta, at.i) != LONG, 1))
		return NULL;
	return unlink_node(t, at);
}

/*
 * What insert_slot needs that a short key with a hole does not: the
 * long key's node (*kw), an overflow bucket (hole). Allocates both
 * before changing anything.
 */
static __attribute__((noinline)) int
insert_prepare(struct table *t, struct pos *hole, struct bucket *last,
	       const struct probe *p, uint64_t *kw)
{
	struct knode *k = NULL;

	if (p->len > SHORT_MAX) {
		k = map_alloc(sizeof *k + p->len, 0);
		if (!k)
			return ENOMEM;
		k->hash = p->hash;
		k->len = p->len;
		memcpy(k->key, p->key, p->len);
		*kw = (uint64_t)(uintptr_t)k;
	}
	if (!hole->b) {
		struct bucket *ob = bucket_new();

		if (!ob) {
			free(k);
			return ENOMEM;
		}
		atomic_store_explicit(&last->over, ob, memory_order_release);
		atomic_store_explicit(
			&last->meta,
			atomic_load_explicit(&last->meta,
					     memory_order_relaxed) |
				META_OVER,
			memory_order_release);
		atomic_fetch_add_explicit(&t->nover, 1, memory_order_relaxed);
		hole->b = ob;
		hole->i = 0;
	}
	return 0;
}

/* Fills hole (or a new overflow bucket) with p's key and value. */
static inline __attribute__((always_inline)) int
insert_slot(struct impl *im, struct table *t, struct pos hole,
	    struct bucket *last, const struct probe *p, void *value,
	    bool *grow_now)
{
	uint64_t c, meta, adds, kw = p->word;
	unsigned mt = p->len > SHORT_MAX ? LONG : (unsigned)p->len;

	if (__builtin_expect(!hole.b || p->len > SHORT_MAX, 0)) {
		bool full = !hole.b;

		if (insert_prepare(t, &hole, last, p, &kw) != 0)
			return ENOMEM;
		/* A new overflow bucket asks for growth at once. */
		*grow_now = full;
	}

	/*
	 * Meta, then the key word with release, then the value; then tag
	 * and version in one release store. A reader that sees this key
	 * word sees this meta byte with it (find reads the word first), so
	 * it never takes a short key's bytes for a node.
	 */
	meta = atomic_load_explicit(&hole.b->meta, memory_order_relaxed);
	meta &= ~(0xffull << (8 * hole.i));
	atomic_store_explicit(&hole.b->meta,
			      meta | (uint64_t)mt << (8 * hole.i),
			      memory_order_relaxed);
	atomic_store_explicit(&hole.b->s[hole.i].kw, kw, memory_order_release);
	atomic_store_explicit(&hole.b->s[hole.i].value, value,
			      memory_order_relaxed);
	c = atomic_load_explicit(&hole.b->ctrl, memory_order_relaxed);
	atomic_store_explicit(&hole.b->ctrl,
			      bump(c | p->tag << (8 * hole.i)),
			      memory_order_release);
	adds = count_add(im, false, 1);
	if ((adds & 15) == 0)
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
	struct knode *dead = NULL;
	struct probe p;
	bool found, present = false, grow_now = false;
	void *v = NULL, *was = NULL;
	int err = 0;

	if (!im) {
		fn(&v, &present, arg);
		return present ? ENOMEM : 0;
	}
	p = probe_of(im, key, len);
	map_enter();
	while ((b = lock_home(im, p.hash, &t)) == NULL) {
		if (!may_insert || install(im) != 0) {
			gs__epoch_exit();
			fn(&v, &present, arg);
			return present ? ENOMEM : 0;
		}
	}
	found = chain_find(b, &p, &at, &hole, &last);
	if (found) {
		was = v = atomic_load_explicit(&at.b->s[at.i].value,
					       memory_order_relaxed);
		present = true;
	}
	fn(&v, &present, arg);
	if (found && present) {
		/* An unchanged value is not written: readers keep the line. */
		if (v != was)
			atomic_store_explicit(&at.b->s[at.i].value, v,
					      memory_order_release);
	} else if (found) {
		dead = unlink_slot(t, at);
		count_add(im, true, 1);
	} else if (present) {
		err = insert_slot(im, t, hole, last, &p, v, &grow_now);
	}
	bucket_unlock(b);
	if (dead)
		gs__epoch_retire_entry(&dead->link, knode_retired);
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
	struct probe p;
	void *v;
	bool found = false;

	if (!im)
		return false;
	p = probe_of(im, key, len);
	map_enter();
	t = atomic_load_explicit(&im->table, memory_order_acquire);
	if (t && (found = find(t, &p, &v)) && value)
		*value = v;
	gs__epoch_exit();
	return found;
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

/* One bucket's entries, read together (see range_bucket). */
struct snap {
	uint64_t ctrl, meta, kw[SLOTS];
	void *value[SLOTS];
};

/* Visits bucket i of t, or the two it moved into; false: fn stopped. */
static bool range_bucket(struct table *t, size_t i,
			 bool (*fn)(const void *, size_t, void *, void *),
			 void *arg)
{
	struct bucket *b = &t->b[i];
	uint64_t c = ctrl_acquire(b);
	struct snap sn;

	if (c & MOVED) {
		struct table *n = atomic_load_explicit(&t->next,
						       memory_order_acquire);

		for (size_t j = i; j <= n->mask; j += t->mask + 1)
			if (!range_bucket(n, j, fn, arg))
				return false;
		return true;
	}
	if (c & DEAD)
		return true;
	for (; b; b = atomic_load_explicit(&b->over, memory_order_acquire)) {
		/*
		 * Read the bucket until ctrl holds still across the read:
		 * then every key and value read belong together. A key that
		 * stays keeps its slot, so each read finds it again.
		 */
		do {
			sn.ctrl = ctrl_acquire(b);
			for (int s = 0; s < SLOTS; s++) {
				sn.kw[s] = load_acquire(&b->s[s].kw);
				sn.value[s] = atomic_load_explicit(
					&b->s[s].value, memory_order_acquire);
			}
			/* After the words, as in find. */
			sn.meta = load_acquire(&b->meta);
		} while (ctrl_acquire(b) != sn.ctrl);
		for (int s = 0; s < SLOTS; s++) {
			unsigned mt = meta_at(sn.meta, s);
			const struct knode *k;
			unsigned char key[8];

			if (!(sn.ctrl >> (8 * s) & 0xff))
				continue;
			if (mt != LONG) {
				memcpy(key, &sn.kw[s], 8);
				if (!fn(key, mt, sn.value[s], arg))
					return false;
				continue;
			}
			k = (const struct knode *)(uintptr_t)sn.kw[s];
			if (k && !fn(k->key, k->len, sn.value[s], arg))
				return false;
		}
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

static int tags_in(uint64_t c)
{
	int n = 0;

	for (int s = 0; s < SLOTS; s++)
		n += (c >> (8 * s) & 0xff) != 0;
	return n;
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
				killed += (uint64_t)tags_in(
					atomic_load_explicit(
						&bb->ctrl,
						memory_order_relaxed));
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
		count_add(im, true, killed);
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
			for (int i = 0; i <= STRIPES; i++) {
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
