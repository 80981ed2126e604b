/*
 * bench_map.c - gosync's gs_map beside every concurrent map a C or C++
 * programmer could pick instead (map_impl.h lists them), on the
 * workloads of shared/reference/anchors.md, on Go's own sync.Map
 * benchmarks and on three mixes, all in one run; Go's figures for the
 * same workloads come from bench/run_go.sh --map through --go FILE.
 *
 * Keys are random 62-bit integers (splitmix64 from a fixed seed, the
 * generator bench/go/map_test.go repeats), the same for every map:
 * keys[0, N) are preloaded (then each loaded twice, as Go's benchmarks
 * prime their maps), keys[N, 2N) are never stored. A row's
 * stream is a precomputed sequence of keys (and of operations, for the
 * mixes) that each thread walks from its own offset. The anchors'
 * workloads, for N = 1,000 and 100,000:
 *
 *	load-hits      loads, 1023 in 1024 of a present key (1T, 2T)
 *	load-misses    loads, 1023 in 1024 of an absent key (1T, 2T)
 *	talk-load      loads of random present keys (1T)
 *	talk-store     keys[0, N) stored into a fresh empty map, growth
 *	               included; one op is one store (1T)
 *	talk-delete    every key of a full map deleted, in random order;
 *	               one op is one delete (1T)
 *	mix-90-5-5     90% load, 5% store, 5% delete of keys[0, 2N): the
 *	               size stays about N (1T, 2T)
 *
 * For the talk rows every N operations have a map of their own, made
 * (and for talk-delete filled) before the clock starts; a run is capped
 * at 2^21 operations so that those maps fit in memory.
 *
 * Go's sync.Map benchmarks (sync/map_bench_test.go), with Go's int key
 * i as the 64-bit key i + 1 and each thread's i starting where Go's
 * goroutine starts it; a fresh map is set up before every timed run, as
 * Go's benchMap does: LoadMostlyHits, LoadMostlyMisses,
 * LoadOrStoreBalanced, LoadOrStoreUnique, LoadOrStoreCollision,
 * LoadAndDeleteBalanced, LoadAndDeleteUnique, LoadAndDeleteCollision,
 * DeleteCollision, Range, AdversarialAlloc, AdversarialDelete (1T, 2T).
 *
 * The mixes of conc-map-bench, as defined here (1T, 2T):
 *
 *	ReadHeavy      98% load, 1% store, 1% delete of keys[0, 2,000),
 *	               1,000 preloaded
 *	Exchange       20% load, 40% store, 40% delete of the same fixed
 *	               2,000 keys: a write-heavy steady state
 *	RapidGrow      a map empty at the start of each timed run; 80% stores
 *	               of new keys, 10% loads and 10% overwrites of keys the
 *	               thread stored before; runs capped at 2^21 operations,
 *	               so the map grows to at most ~1.7 M keys
 *
 * Timing is harness.h's (median (min) of 5 runs of ~250 ms; 2T rows by
 * Go's RunParallel rule, wall time over all operations). A peer without
 * an operation, one-thread maps on 2T rows, and a range that is unsafe
 * beside writers on 2T rows that write, are skipped with "-".
 *
 * Limits: every map is called through the same function pointers, so
 * each operation costs one indirect call (~1 ns) more than inline code,
 * which shows only beside absl's ~3 ns loads; figures on a shared
 * 2-core machine move by up to ~1.5x between runs. Rows that grow a
 * map without bound (LoadOrStoreUnique, LoadOrStoreBalanced,
 * RapidGrow) have given the C table medians of 1 to 300 us/op in some
 * runs and ~100-150 ns in others, on one thread and on two; the cause
 * was not found, so read its figures there with their min and a rerun
 * (--only NAME runs one workload alone).
 *
 * Options besides harness.c's --quick (here also 100 and 1,000 keys
 * instead of 1,000 and 100,000, and 2 ms runs) and --json FILE: --tiny
 * (the same as --quick's sizes and runs), --go FILE (run_go.sh --map's
 * TSV), --only NAME.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "map_impl.h"

#define SEED        0x676f73796e63ULL
#define KEY_MASK    ((1ULL << 62) - 1)
#define TALK_MAX_N  (1ULL << 21)
#define GROW_MAX_N  (1ULL << 21)
#define TINY_TARGET 2000000.0
/* Go's goroutine g starts at g * b.N; this is far enough apart. */
#define GO_THREAD_BASE (1ULL << 40)

enum op { OP_LOAD, OP_STORE, OP_DELETE };

/* Stream ids, shared with bench/go/map_test.go. */
enum stream_id {
	S_KEYS, S_HITS, S_MISSES, S_TALK, S_MIX, S_READ_HEAVY, S_EXCHANGE,
	S_PERM
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t key_of(uint64_t r)
{
	uint64_t k = r >> 2;

	return k != 0 ? k : 1;
}

static uint64_t stream_seed(enum stream_id id, size_t n)
{
	return SEED ^ ((uint64_t)id << 32) ^ (uint64_t)n;
}

/* Keys and streams for one N, shared by every map. */
struct keyset {
	size_t n;
	/* 2n keys: [0, n) present, [n, 2n) absent. */
	uint64_t *keys;
	/* keys[0, n) in talk-delete's order. */
	uint64_t *perm;
	size_t mask;
	uint64_t *hits, *misses, *talk, *mix, *read_heavy, *exchange;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		bench_die("malloc", ENOMEM);
	return p;
}

static uint64_t *make_loads(const struct keyset *ks, enum stream_id id)
{
	uint64_t *s = xmalloc((ks->mask + 1) * sizeof(*s));
	uint64_t st = stream_seed(id, ks->n);

	for (size_t i = 0; i <= ks->mask; i++) {
		uint64_t r = splitmix(&st), j = (r >> 10) % ks->n;
		bool rare = (r & 1023) == 0;

		if (id == S_TALK)
			s[i] = ks->keys[j];
		else if (id == S_HITS)
			s[i] = ks->keys[rare ? ks->n + j : j];
		else
			s[i] = ks->keys[rare ? j : ks->n + j];
	}
	return s;
}

/* A mix stream: each entry is a key with its operation in bits 62-63. */
static uint64_t *make_mix(const struct keyset *ks, enum stream_id id,
                          unsigned load, unsigned store)
{
	uint64_t *s = xmalloc((ks->mask + 1) * sizeof(*s));
	uint64_t st = stream_seed(id, ks->n);

	for (size_t i = 0; i <= ks->mask; i++) {
		uint64_t r = splitmix(&st), p = (r & 0xffff) % 100;
		uint64_t op = p < load ? OP_LOAD
		              : p < load + store ? OP_STORE
		                                 : OP_DELETE;

		s[i] = ks->keys[(r >> 16) % (2 * ks->n)] | op << 62;
	}
	return s;
}

static void keyset_init(struct keyset *ks, size_t n)
{
	uint64_t st = stream_seed(S_KEYS, n);
	size_t len = 1;

	ks->n = n;
	ks->keys = xmalloc(2 * n * sizeof(ks->keys[0]));
	for (size_t i = 0; i < 2 * n; i++)
		ks->keys[i] = key_of(splitmix(&st));
	ks->perm = xmalloc(n * sizeof(ks->perm[0]));
	memcpy(ks->perm, ks->keys, n * sizeof(ks->perm[0]));
	st = stream_seed(S_PERM, n);
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(splitmix(&st) % (i + 1));
		uint64_t t = ks->perm[i];

		ks->perm[i] = ks->perm[j];
		ks->perm[j] = t;
	}
	while (len < 8 * n)
		len *= 2;
	ks->mask = len - 1;
	ks->hits = make_loads(ks, S_HITS);
	ks->misses = make_loads(ks, S_MISSES);
	ks->talk = make_loads(ks, S_TALK);
	ks->mix = make_mix(ks, S_MIX, 90, 5);
	ks->read_heavy = make_mix(ks, S_READ_HEAVY, 98, 1);
	ks->exchange = make_mix(ks, S_EXCHANGE, 20, 40);
}

static void keyset_free(struct keyset *ks)
{
	free(ks->keys);
	free(ks->perm);
	free(ks->hits);
	free(ks->misses);
	free(ks->talk);
	free(ks->mix);
	free(ks->read_heavy);
	free(ks->exchange);
}

/* The workloads. */

enum wl {
	W_HITS, W_MISSES, W_TALK_LOAD, W_TALK_STORE, W_TALK_DELETE, W_MIX,
	W_READ_HEAVY, W_EXCHANGE, W_RAPID_GROW,
	G_LOAD_MOSTLY_HITS, G_LOAD_MOSTLY_MISSES, G_LOS_BALANCED,
	G_LOS_UNIQUE, G_LOS_COLLISION, G_LAD_BALANCED, G_LAD_UNIQUE,
	G_LAD_COLLISION, G_DELETE_COLLISION, G_RANGE, G_ADV_ALLOC,
	G_ADV_DELETE
};

enum section { SEC_ANCHORS, SEC_GO, SEC_MIXES };

struct row {
	char workload[48];
	enum wl wl;
	enum section section;
	const struct keyset *ks;
	int threads;
	/* Go's benchmark name less the map's part, or "" for none. */
	char go[64];
};

struct run;

struct tctx {
	_Alignas(64) struct run *run;
	int id;
	uint64_t pos;
	uint64_t i;
	int64_t stores, since;
	uint64_t rng;
	uint64_t count;
};

struct run {
	const struct row *row;
	const struct map_impl *impl;
	void *map;
	/* talk-store and talk-delete: a map for every N operations. */
	void **maps;
	size_t nmaps, next;
	const uint64_t *stream;
	struct tctx t[BENCH_MAX_THREADS];
};

static void fail(const struct run *r, const char *what)
{
	fprintf(stderr, "%s: %s, %s: %s\n", bench_prog, r->impl->name,
	        r->row->workload, what);
	exit(1);
}

static void *val_of(uint64_t i)
{
	return (void *)(uintptr_t)(i + 1);
}

/* keys[0, n) stored, then each loaded twice, as Go primes its maps. */
static void preload(struct run *r, void *m)
{
	const struct keyset *ks = r->row->ks;
	void *v;

	for (size_t i = 0; i < ks->n; i++)
		r->impl->store(m, ks->keys[i], val_of(i));
	for (size_t i = 0; i < 2 * ks->n; i++)
		r->impl->load(m, ks->keys[i % ks->n], &v);
}

static void body_loads(void *ctx, uint64_t n)
{
	struct tctx *t = ctx;
	struct run *r = t->run;
	const struct map_impl *im = r->impl;
	const uint64_t *s = r->stream;
	size_t mask = r->row->ks->mask;
	uint64_t pos = t->pos;
	void *m = r->map, *v;

	for (uint64_t k = 0; k < n; k++) {
		bool ok = im->load(m, s[pos++ & mask], &v);

		USE(ok);
		BARRIER();
	}
	t->pos = pos;
}

static void body_mix(void *ctx, uint64_t n)
{
	struct tctx *t = ctx;
	struct run *r = t->run;
	const struct map_impl *im = r->impl;
	const uint64_t *s = r->stream;
	size_t mask = r->row->ks->mask;
	uint64_t pos = t->pos;
	void *m = r->map, *v;

	for (uint64_t k = 0; k < n; k++) {
		uint64_t e = s[pos++ & mask], key = e & KEY_MASK;
		bool ok;

		switch (e >> 62) {
		case OP_LOAD:
			ok = im->load(m, key, &v);
			USE(ok);
			break;
		case OP_STORE:
			im->store(m, key, val_of(k));
			break;
		default:
			im->del(m, key);
			break;
		}
		BARRIER();
	}
	t->pos = pos;
}

static void free_maps(struct run *r)
{
	for (size_t i = 0; i < r->nmaps; i++)
		r->impl->destroy(r->maps[i]);
	free(r->maps);
	r->maps = NULL;
	r->nmaps = 0;
}

/* One map for every N operations: empty for store, full for delete. */
static void prepare_talk(void *ctx, uint64_t n)
{
	struct tctx *t = ctx;
	struct run *r = t->run;
	size_t k = (size_t)(n / r->row->ks->n);

	free_maps(r);
	r->maps = xmalloc(k * sizeof(r->maps[0]));
	for (size_t i = 0; i < k; i++) {
		r->maps[i] = r->impl->create();
		if (r->row->wl == W_TALK_DELETE)
			preload(r, r->maps[i]);
	}
	r->nmaps = k;
	r->next = 0;
}

static void body_talk(void *ctx, uint64_t n)
{
	struct tctx *t = ctx;
	struct run *r = t->run;
	const struct map_impl *im = r->impl;
	const struct keyset *ks = r->row->ks;
	bool store = r->row->wl == W_TALK_STORE;

	for (uint64_t done = 0; done < n; done += ks->n) {
		void *m = r->maps[r->next++];

		if (store) {
			for (size_t i = 0; i < ks->n; i++) {
				im->store(m, ks->keys[i], val_of(i));
				BARRIER();
			}
		} else {
			for (size_t i = 0; i < ks->n; i++) {
				im->del(m, ks->perm[i]);
				BARRIER();
			}
		}
	}
}

static uint64_t grow_key(int id, uint64_t c)
{
	uint64_t s = SEED ^ ((uint64_t)id << 48) ^ c;

	return key_of(splitmix(&s));
}

static void body_grow(void *ctx, uint64_t n)
{
	struct tctx *t = ctx;
	struct run *r = t->run;
	const struct map_impl *im = r->impl;
	void *m = r->map, *v;

	for (uint64_t k = 0; k < n; k++) {
		uint64_t x = splitmix(&t->rng), p = x % 10;
		bool ok;

		if (p < 8 || t->count == 0) {
			im->store(m, grow_key(t->id, t->count++), val_of(k));
		} else {
			uint64_t key = grow_key(t->id, (x >> 8) % t->count);

			if (p == 8) {
				ok = im->load(m, key, &v);
				USE(ok);
			} else {
				im->store(m, key, val_of(k));
			}
		}
		BARRIER();
	}
}

/* Go's benchmarks: int key i is the 64-bit key i + 1. */

static uint64_t gk(uint64_t i)
{
	return i + 1;
}

static bool range_all(uint64_t key, void *value, void *arg)
{
	(void)key;
	(void)value;
	(void)arg;
	return true;
}

struct del_first {
	const struct map_impl *impl;
	void *map;
};

static bool range_delete_first(uint64_t key, void *value, void *arg)
{
	struct del_first *d = arg;

	(void)value;
	d->impl->del(d->map, key);
	return false;
}

/* Go's setup, on a fresh map, and each thread's i from Go's start. */
static void before_go(void *ctx)
{
	struct run *r = ((struct tctx *)ctx)->run;
	const struct map_impl *im = r->impl;
	uint64_t hits = 0;
	void *v;

	if (r->map != NULL)
		im->destroy(r->map);
	r->map = im->create();
	switch (r->row->wl) {
	case G_LOAD_MOSTLY_HITS:
		hits = 1023;
		break;
	case G_LOAD_MOSTLY_MISSES:
		hits = 1;
		break;
	case G_LOS_BALANCED:
	case G_LAD_BALANCED:
		hits = 128;
		break;
	case G_LOS_COLLISION:
	case G_LAD_COLLISION:
	case G_DELETE_COLLISION:
		im->load_or_store(r->map, gk(0), val_of(0), &v);
		break;
	case G_RANGE:
	case G_ADV_DELETE:
		for (uint64_t i = 0; i < 1024; i++)
			im->store(r->map, gk(i), val_of(i));
		break;
	default:
		break;
	}
	for (uint64_t i = 0; i < hits; i++)
		im->load_or_store(r->map, gk(i), val_of(i), &v);
	for (uint64_t i = 0; i < hits * 2; i++)
		im->load(r->map, gk(i % hits), &v);
	for (int i = 0; i < r->row->threads; i++) {
		r->t[i].i = (uint64_t)i * GO_THREAD_BASE;
		r->t[i].stores = 0;
		r->t[i].since = 0;
	}
}

static void body_go(void *ctx, uint64_t n)
{
	struct tctx *t = ctx;
	struct run *r = t->run;
	const struct map_impl *im = r->impl;
	void *m = r->map, *v;
	uint64_t i = t->i;
	struct del_first d = {im, m};
	bool ok;

	for (uint64_t k = 0; k < n; k++, i++) {
		uint64_t j;

		switch (r->row->wl) {
		case G_LOAD_MOSTLY_HITS:
		case G_LOAD_MOSTLY_MISSES:
			ok = im->load(m, gk(i % 1024), &v);
			USE(ok);
			break;
		case G_LOS_BALANCED:
			j = i % 256;
			if (j < 128) {
				if (!im->load_or_store(m, gk(j), val_of(i), &v))
					fail(r, "unexpected miss");
			} else if (im->load_or_store(m, gk(i), val_of(i),
			                             &v)) {
				fail(r, "failed to store a new key");
			}
			break;
		case G_LOS_UNIQUE:
			im->load_or_store(m, gk(i), val_of(i), &v);
			break;
		case G_LOS_COLLISION:
			im->load_or_store(m, gk(0), val_of(0), &v);
			break;
		case G_LAD_BALANCED:
			j = i % 256;
			im->load_and_delete(m, gk(j < 128 ? j : i), &v);
			break;
		case G_LAD_UNIQUE:
			im->load_and_delete(m, gk(i), &v);
			break;
		case G_LAD_COLLISION:
			im->load_and_delete(m, gk(0), &v);
			break;
		case G_DELETE_COLLISION:
			im->del(m, gk(0));
			break;
		case G_RANGE:
			im->range(m, range_all, NULL);
			break;
		case G_ADV_ALLOC:
			ok = im->load(m, gk(i), &v);
			USE(ok);
			if (++t->since > t->stores) {
				im->load_or_store(m, gk(i),
				                  val_of((uint64_t)t->stores),
				                  &v);
				t->since = 0;
				t->stores++;
			}
			break;
		default: /* G_ADV_DELETE */
			ok = im->load(m, gk(i), &v);
			USE(ok);
			if (i % 1024 == 0) {
				im->range(m, range_delete_first, &d);
				im->store(m, gk(i), val_of(i));
			}
			break;
		}
		BARRIER();
	}
	t->i = i;
}

static void before_grow(void *ctx)
{
	struct run *r = ((struct tctx *)ctx)->run;

	if (r->map != NULL)
		r->impl->destroy(r->map);
	r->map = r->impl->create();
	for (int i = 0; i < r->row->threads; i++) {
		r->t[i].count = 0;
		r->t[i].rng = SEED ^ (uint64_t)i;
	}
}

/* Whether the row ranges while other threads write. */
static bool ranges_beside_writes(const struct row *w)
{
	return w->wl == G_ADV_DELETE && w->threads > 1;
}

/* Runs one map on one row; false if the row does not suit the map. */
static bool measure(const struct row *w, const struct map_impl *im,
                    const struct bench_opts *o, struct result *res)
{
	static struct run r;
	struct bench b = {
	        .name = im->name, .threads = w->threads, .unit = 1,
	        .ctx = &r.t[0], .stride = sizeof(r.t[0])};

	if (im->one_thread && w->threads > 1)
		return false;
	if (im->range_needs_quiet && ranges_beside_writes(w))
		return false;
	memset(&r, 0, sizeof(r));
	r.row = w;
	r.impl = im;
	for (int i = 0; i < w->threads; i++) {
		r.t[i].run = &r;
		r.t[i].id = i;
		r.t[i].pos = (uint64_t)i * ((w->ks->mask + 1) / 2);
	}
	switch (w->wl) {
	case W_HITS:
	case W_MISSES:
	case W_TALK_LOAD:
		r.stream = w->wl == W_HITS     ? w->ks->hits
		           : w->wl == W_MISSES ? w->ks->misses
		                               : w->ks->talk;
		b.body = body_loads;
		break;
	case W_MIX:
	case W_READ_HEAVY:
	case W_EXCHANGE:
		r.stream = w->wl == W_MIX          ? w->ks->mix
		           : w->wl == W_READ_HEAVY ? w->ks->read_heavy
		                                   : w->ks->exchange;
		b.body = body_mix;
		break;
	case W_TALK_STORE:
	case W_TALK_DELETE:
		b.body = body_talk;
		b.unit = w->ks->n;
		b.prepare = prepare_talk;
		b.max_n = TALK_MAX_N;
		break;
	case W_RAPID_GROW:
		b.body = body_grow;
		b.before = before_grow;
		b.max_n = GROW_MAX_N;
		break;
	default:
		b.body = body_go;
		b.before = before_go;
		break;
	}
	if (b.before == NULL && b.prepare == NULL) {
		r.map = im->create();
		preload(&r, r.map);
	}
	*res = bench_measure(&b, o->reps, o->target_ns);
	free_maps(&r);
	if (r.map != NULL)
		im->destroy(r.map);
	return true;
}

/* The maps, in the anchors' order; gosync first where it is built. */

struct peer {
	const char *name;
	const struct map_impl *impl;
	/* Why it is missing, when impl is NULL. */
	const char *missing;
};

#ifdef HAVE_GS_MAP
#define GS_IMPL (&map_impl_gosync)
#else
#define GS_IMPL NULL
#endif
#ifdef HAVE_GLIB
#define GLIB_IMPL (&map_impl_glib)
#else
#define GLIB_IMPL NULL
#endif
#ifdef HAVE_CK
#define CK_IMPL (&map_impl_ck)
#else
#define CK_IMPL NULL
#endif
#ifdef HAVE_URCU
#define URCU_IMPL (&map_impl_urcu)
#else
#define URCU_IMPL NULL
#endif
#ifdef HAVE_TBB
#define TBB_IMPL (&map_impl_tbb)
#else
#define TBB_IMPL NULL
#endif
#ifdef HAVE_CUCKOO
#define CUCKOO_IMPL (&map_impl_cuckoo)
#else
#define CUCKOO_IMPL NULL
#endif
#ifdef HAVE_ABSL
#define ABSL_IMPL (&map_impl_absl)
#else
#define ABSL_IMPL NULL
#endif

static const struct peer peers[] = {
        {"gosync gs_map", GS_IMPL, "src/sync/map.c not in this tree"},
        {"C table + pthread_rwlock", &map_impl_ctable, NULL},
        {"GLib GHashTable + GRWLock", GLIB_IMPL, "glib-2.0 not found"},
        {"CK ck_ht (writer mutex)", CK_IMPL, "ck not found"},
        {"liburcu rculfhash (memb)", URCU_IMPL,
         "liburcu-memb/liburcu-cds not found"},
        {"tbb::concurrent_hash_map", TBB_IMPL, "TBB not found"},
        {"absl::flat_hash_map (1 thread only)", ABSL_IMPL,
         "absl not found"},
        {"libcuckoo cuckoohash_map", CUCKOO_IMPL, "libcuckoo not found"},
};

#define NPEERS (sizeof(peers) / sizeof(peers[0]))

/* Go's two maps, as run_go.sh --map names them in the TSV. */
#define NGO 2

static const char *const go_map[NGO] = {"map+RWMutex", "sync.Map"};
/* "Go 1.19.8 sync.Map": set once the version is known. */
static char go_label[NGO][96];
/* The suffix of Go's name: ours (bench/go), then upstream's. */
static const char *const go_ours[NGO] = {"RWMutexMap", "sync.Map"};
static const char *const go_upstream[NGO] = {"*sync_test.RWMutexMap",
                                             "*sync.Map"};

struct go_fig {
	char name[128];
	int threads;
	struct result r;
};

static struct go_fig *go_figs;
static size_t go_nfigs;
static char go_version[64] = "go";

/* Reads run_go.sh's TSV: "bench NAME THREADS MEDIAN MIN" lines. */
static void read_go(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", bench_prog, path,
		        strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct go_fig g;

		if (sscanf(line, "version\t%63[^\n]", go_version) == 1)
			continue;
		if (sscanf(line, "bench\t%127[^\t]\t%d\t%lf\t%lf", g.name,
		           &g.threads, &g.r.median, &g.r.min) != 4)
			continue;
		g.r.n = 0;
		if (go_nfigs == cap) {
			cap = cap ? 2 * cap : 64;
			go_figs = realloc(go_figs, cap * sizeof(*go_figs));
			if (go_figs == NULL)
				bench_die("realloc", ENOMEM);
		}
		go_figs[go_nfigs++] = g;
	}
	fclose(f);
}

static void name_go(void)
{
	const char *v = go_version;

	if (strncmp(v, "go", 2) == 0)
		v += 2;
	for (int k = 0; k < NGO; k++)
		snprintf(go_label[k], sizeof(go_label[k]), "Go%s%.32s %s",
		         *v != '\0' ? " " : "", v, go_map[k]);
}

/* Go's figure of map k on row w, or NULL. */
static const struct result *go_result(const struct row *w, int k)
{
	char name[160];

	if (w->go[0] == '\0')
		return NULL;
	snprintf(name, sizeof(name), "%s/%s", w->go,
	         w->section == SEC_GO ? go_upstream[k] : go_ours[k]);
	for (size_t i = 0; i < go_nfigs; i++)
		if (go_figs[i].threads == w->threads &&
		    strcmp(go_figs[i].name, name) == 0)
			return &go_figs[i].r;
	return NULL;
}

/* The rows. */

#define MAX_ROWS 64

/* --only WORKLOAD: the one workload to run, or NULL for all. */
static const char *only;

static struct row rows[MAX_ROWS];
static size_t nrows;

static void add_row(enum section sec, enum wl wl, const char *name,
                    const struct keyset *ks, int threads, const char *go)
{
	struct row *w;

	if (only != NULL && strcmp(only, name) != 0)
		return;
	w = &rows[nrows++];
	w->section = sec;
	w->wl = wl;
	w->ks = ks;
	w->threads = threads;
	snprintf(w->workload, sizeof(w->workload), "%s", name);
	if (sec == SEC_ANCHORS)
		snprintf(w->go, sizeof(w->go), "Map/%s/%zu/%dT", name, ks->n,
		         threads);
	else
		snprintf(w->go, sizeof(w->go), "%s", go != NULL ? go : "");
}

static void make_rows(const struct keyset *ks, size_t nks)
{
	static const struct {
		const char *name;
		enum wl wl;
	} anchors[] = {
	        {"load-hits", W_HITS},       {"load-misses", W_MISSES},
	        {"talk-load", W_TALK_LOAD},  {"talk-store", W_TALK_STORE},
	        {"talk-delete", W_TALK_DELETE}, {"mix-90-5-5", W_MIX},
	};
	static const struct {
		const char *name;
		enum wl wl;
	} gos[] = {
	        {"LoadMostlyHits", G_LOAD_MOSTLY_HITS},
	        {"LoadMostlyMisses", G_LOAD_MOSTLY_MISSES},
	        {"LoadOrStoreBalanced", G_LOS_BALANCED},
	        {"LoadOrStoreUnique", G_LOS_UNIQUE},
	        {"LoadOrStoreCollision", G_LOS_COLLISION},
	        {"LoadAndDeleteBalanced", G_LAD_BALANCED},
	        {"LoadAndDeleteUnique", G_LAD_UNIQUE},
	        {"LoadAndDeleteCollision", G_LAD_COLLISION},
	        {"DeleteCollision", G_DELETE_COLLISION},
	        {"Range", G_RANGE},
	        {"AdversarialAlloc", G_ADV_ALLOC},
	        {"AdversarialDelete", G_ADV_DELETE},
	};
	static const struct {
		const char *name;
		enum wl wl;
	} mixes[] = {
	        {"ReadHeavy", W_READ_HEAVY},
	        {"Exchange", W_EXCHANGE},
	        {"RapidGrow", W_RAPID_GROW},
	};

	for (size_t k = 0; k < nks; k++)
		for (size_t a = 0; a < sizeof(anchors) / sizeof(anchors[0]);
		     a++) {
			enum wl wl = anchors[a].wl;
			bool two = wl == W_HITS || wl == W_MISSES ||
			           wl == W_MIX;

			add_row(SEC_ANCHORS, wl, anchors[a].name, &ks[k], 1,
			        NULL);
			if (two)
				add_row(SEC_ANCHORS, wl, anchors[a].name,
				        &ks[k], 2, NULL);
		}
	for (size_t g = 0; g < sizeof(gos) / sizeof(gos[0]); g++)
		for (int t = 1; t <= 2; t++)
			add_row(SEC_GO, gos[g].wl, gos[g].name, &ks[0], t,
			        gos[g].name);
	for (size_t x = 0; x < sizeof(mixes) / sizeof(mixes[0]); x++)
		for (int t = 1; t <= 2; t++)
			add_row(SEC_MIXES, mixes[x].wl, mixes[x].name, &ks[0],
			        t, NULL);
}

/* Output: a block per row, a matrix of the anchors' rows, and JSON. */

#define NCOLS (NPEERS + NGO)

struct cell {
	bool have;
	struct result r;
};

static struct cell cells[MAX_ROWS][NCOLS];

static const char *col_name(size_t c)
{
	return c < NPEERS ? peers[c].name : go_label[c - NPEERS];
}

static void row_title(char *buf, size_t len, const struct row *w)
{
	char n[32];

	bench_fmt_num(n, sizeof(n), (double)w->ks->n);
	if (w->section == SEC_ANCHORS)
		snprintf(buf, len, "%s, %s keys, %dT", w->workload, n,
		         w->threads);
	else if (w->wl == W_READ_HEAVY || w->wl == W_EXCHANGE)
		snprintf(buf, len, "%s, %s keys, %dT", w->workload, n,
		         w->threads);
	else
		snprintf(buf, len, "%s, %dT", w->workload, w->threads);
}

static void print_row(size_t i)
{
	const struct row *w = &rows[i];
	const struct cell *gs = &cells[i][0];
	char title[96];

	row_title(title, sizeof(title), w);
	printf("\n%-40s %-20s %s\n", title, "ns/op, median (min)",
	       "gosync / peer");
	for (size_t c = 0; c < NCOLS; c++) {
		char p[64] = "-", q[64] = "-";
		const char *name = col_name(c);

		if (c < NPEERS && peers[c].impl == NULL)
			continue;
		if (c >= NPEERS && go_nfigs == 0)
			continue;
		if (cells[i][c].have) {
			bench_fmt_pair(p, sizeof(p), &cells[i][c].r);
			if (gs->have && c > 0)
				bench_fmt_ratios(q, sizeof(q), &gs->r,
				                 &cells[i][c].r);
		}
		printf("  %-38s %-20s %s\n", name, p, q);
	}
	fflush(stdout);
}

/* The anchors' tables, one per N, in their markdown layout. */
static void print_matrix(const struct keyset *ks, size_t nks)
{
	for (size_t k = 0; k < nks; k++) {
		size_t have = 0;
		char n[32];

		for (size_t i = 0; i < nrows; i++)
			have += rows[i].section == SEC_ANCHORS &&
			        rows[i].ks == &ks[k];
		if (have == 0)
			continue;
		bench_fmt_num(n, sizeof(n), (double)ks[k].n);
		printf("\n### Map, %s preloaded keys (ns/op, this run)\n\n"
		       "| peer |", n);
		for (size_t i = 0; i < nrows; i++)
			if (rows[i].section == SEC_ANCHORS &&
			    rows[i].ks == &ks[k])
				printf(" %s %dT |", rows[i].workload,
				       rows[i].threads);
		printf("\n|---|");
		for (size_t i = 0; i < nrows; i++)
			if (rows[i].section == SEC_ANCHORS &&
			    rows[i].ks == &ks[k])
				printf("---|");
		printf("\n");
		for (size_t c = 0; c < NCOLS; c++) {
			if (c < NPEERS && peers[c].impl == NULL)
				continue;
			if (c >= NPEERS && go_nfigs == 0)
				continue;
			printf("| %s |", col_name(c));
			for (size_t i = 0; i < nrows; i++) {
				char p[64] = "-";

				if (rows[i].section != SEC_ANCHORS ||
				    rows[i].ks != &ks[k])
					continue;
				if (cells[i][c].have)
					bench_fmt_pair(p, sizeof(p),
					               &cells[i][c].r);
				printf(" %s |", p);
			}
			printf("\n");
		}
	}
}

/* Each map's family, the schema's side ("gosync" for the library). */
static const char *const peer_side[NPEERS] = {
        "gosync", "pthreads", "GLib", "CK", "urcu", "TBB", "Abseil",
        "libcuckoo"};

/*
 * Keeps every cell for bench_json_write (schema gosync-bench/1): the
 * group is the table (map-1000, map-100000, map-go, map-mixes), go
 * names Go's sync.Map figure of the row as run_go.sh writes it.
 */
static void record_all(void)
{
	for (size_t i = 0; i < nrows; i++) {
		const struct row *w = &rows[i];
		char group[32], go[160] = "";
		struct bench_rec rec = {0};

		if (w->section == SEC_ANCHORS)
			snprintf(group, sizeof(group), "map-%zu", w->ks->n);
		else
			snprintf(group, sizeof(group), "%s",
			         w->section == SEC_GO ? "map-go"
			                              : "map-mixes");
		if (w->go[0] != '\0')
			snprintf(go, sizeof(go), "%s/%s", w->go,
			         w->section == SEC_GO ? go_upstream[1]
			                              : go_ours[1]);
		rec.group = group;
		rec.workload = w->workload;
		rec.threads = w->threads;
		rec.go = go[0] != '\0' ? go : NULL;
		for (size_t c = 0; c < NPEERS; c++) {
			if (!cells[i][c].have)
				continue;
			rec.impl = peers[c].name;
			rec.side = peer_side[c];
			bench_record(&rec, &cells[i][c].r);
		}
	}
}

/*
 * Takes bench_map's own options (--tiny, --go FILE, --only WORKLOAD)
 * out of argv before harness.c reads the common ones.
 */
static int own_args(int argc, char **argv, bool *tiny, const char **go)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tiny") == 0) {
			*tiny = true;
		} else if (strcmp(argv[i], "--go") == 0 && i + 1 < argc) {
			*go = argv[++i];
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	static struct keyset ks[2];
	struct bench_opts o;
	const char *go = NULL;
	bool tiny = false;
	int cores = bench_cores(), rc;
	size_t sizes[2] = {1000, 100000};
	enum section at = SEC_ANCHORS;

	argc = own_args(argc, argv, &tiny, &go);
	rc = bench_parse_args(argc, argv, &o);
	if (rc >= 0) {
		if (rc == 0)
			printf("  --tiny       100 and 1,000 keys, 2 ms runs "
			       "(as --quick)\n"
			       "  --go FILE    set run_go.sh --map's figures "
			       "beside each row\n"
			       "  --only NAME  run only the rows of workload "
			       "NAME (talk-store, Range, ...)\n");
		return rc;
	}
	/*
	 * A quick run is a smoke test, run.sh's among the others; with
	 * ~370 measurements, small maps and 2 ms runs keep it to seconds.
	 */
	if (tiny || o.reps == BENCH_REPS_QUICK) {
		sizes[0] = 100;
		sizes[1] = 1000;
		o.target_ns = TINY_TARGET;
	}
	if (go != NULL)
		read_go(go);
	name_go();
	bench_go_multithreaded();
	for (size_t k = 0; k < 2; k++)
		keyset_init(&ks[k], sizes[k]);
	make_rows(ks, 2);

	printf("bench_map: ns/op, median (min) of %d repetition%s of ~%.0f "
	       "ms, on %d core%s\n",
	       o.reps, o.reps == 1 ? "" : "s", o.target_ns / 1e6, cores,
	       cores == 1 ? "" : "s");
	printf("2T rows: 2 threads, wall time / all operations of both "
	       "(Go's RunParallel)\n");
	printf("gosync / peer: ratio of medians (of mins); below 1 = "
	       "gosync faster, as in every other table\n");
	for (size_t c = 0; c < NPEERS; c++) {
		char why[160];

		if (peers[c].impl != NULL)
			continue;
		snprintf(why, sizeof(why), "%s: %s at configure time",
		         peers[c].name, peers[c].missing);
		bench_skip(why);
	}
	if (go == NULL)
		printf("skipped: Go's rows (no --go FILE from run_go.sh "
		       "--map)\n");
	else if (go_nfigs == 0)
		printf("skipped: Go's rows (no figures in %s)\n", go);

	for (size_t i = 0; i < nrows; i++) {
		if (i == 0 || rows[i].section != at) {
			static const char *const title[] = {
			        "the anchors' workloads (shared/reference/"
			        "anchors.md, Map)",
			        "Go's sync.Map benchmarks (sync/"
			        "map_bench_test.go); Go's figures: "
			        "GOMAXPROCS 2 only",
			        "conc-map-bench's mixes, as defined in "
			        "bench_map.c"};

			at = rows[i].section;
			printf("\n== %s\n", title[at]);
		}
		for (size_t c = 0; c < NPEERS; c++)
			if (peers[c].impl != NULL)
				cells[i][c].have = measure(
				        &rows[i], peers[c].impl, &o,
				        &cells[i][c].r);
		for (int g = 0; g < NGO; g++) {
			const struct result *r = go_result(&rows[i], g);

			cells[i][NPEERS + g].have = r != NULL;
			if (r != NULL)
				cells[i][NPEERS + g].r = *r;
		}
		print_row(i);
	}
	print_matrix(ks, 2);
	printf("\n(-: the map lacks the operation, runs one thread only, "
	       "cannot range beside\n writers, or Go has no benchmark of "
	       "the row on this many threads)\n");
	for (size_t k = 0; k < 2; k++)
		keyset_free(&ks[k]);
	record_all();
	return bench_json_write(&o);
}
