/*
 * test_map.c - gs_map_t: Go's sync.Map cases (39-45), the faults B27
 * and B28, out-of-memory, compute, len, clear, destroy, odd keys,
 * range across growth, seeding, and random operations checked against
 * a reference map held under a mutex.
 */
#include <gosync/map.h>
#include <gosync/runtime.h>

#include "harness.h"
#include "introspect.h"
#include "runtime/epoch.h"

#define V(i) ((void *)(uintptr_t)(i))

/* The reference: a slow map of small keys under a mutex. */
#define REF_MAX 512
struct ref {
	pthread_mutex_t mu;
	int n;
	struct {
		unsigned char key[24];
		size_t len;
		void *value;
	} e[REF_MAX];
};

static int ref_find(struct ref *r, const void *key, size_t len)
{
	for (int i = 0; i < r->n; i++)
		if (r->e[i].len == len && memcmp(r->e[i].key, key, len) == 0)
			return i;
	return -1;
}

static bool ref_load(struct ref *r, const void *key, size_t len, void **v)
{
	int i = ref_find(r, key, len);

	if (i >= 0)
		*v = r->e[i].value;
	return i >= 0;
}

static void ref_store(struct ref *r, const void *key, size_t len, void *v)
{
	int i = ref_find(r, key, len);

	if (i < 0) {
		CHECK(r->n < REF_MAX, "reference full");
		i = r->n++;
		memcpy(r->e[i].key, key, len);
		r->e[i].len = len;
	}
	r->e[i].value = v;
}

static void ref_delete(struct ref *r, const void *key, size_t len)
{
	int i = ref_find(r, key, len);

	if (i >= 0)
		r->e[i] = r->e[--r->n];
}

struct seen {
	struct ref *r;
	int visits;
	bool ok;
};

static bool check_entry(const void *key, size_t len, void *value, void *arg)
{
	struct seen *s = arg;
	void *v;

	s->visits++;
	if (!ref_load(s->r, key, len, &v) || v != value)
		s->ok = false;
	return true;
}

/* Random small keys: lengths 0 to 20, few enough to collide often. */
static size_t random_key(unsigned *seed, unsigned char *key, int space)
{
	unsigned k = (unsigned)rand_r(seed) % (unsigned)space;
	size_t len = k % 21;

	for (size_t i = 0; i < len; i++)
		key[i] = (unsigned char)(k * 31 + i);
	return len;
}

/*
 * One random operation on both m and r, compared; r's mutex is held by
 * the caller if others share r.
 */
static void random_op(gs_map_t *m, struct ref *r, unsigned *seed, int space)
{
	unsigned char key[24];
	size_t len = random_key(seed, key, space);
	void *v = V(rand_r(seed) % 1000 + 1), *got = NULL, *want = NULL;
	bool loaded, had = ref_load(r, key, len, &want);

	switch (rand_r(seed) % 9) {
	case 0:
		CHECK(gs_map_load(m, key, len, &got) == had &&
			      (!had || got == want),
		      "load: %d %p, want %d %p", !had, got, had, want);
		break;
	case 1:
		CHECK(gs_map_store(m, key, len, v) == 0, "store");
		ref_store(r, key, len, v);
		break;
	case 2:
		CHECK(gs_map_load_or_store(m, key, len, v, &got, &loaded) == 0,
		      "load_or_store");
		CHECK(loaded == had && got == (had ? want : v),
		      "load_or_store: %d %p, want %d %p", loaded, got, had,
		      had ? want : v);
		if (!had)
			ref_store(r, key, len, v);
		break;
	case 3:
		CHECK(gs_map_load_and_delete(m, key, len, &got) == had &&
			      (!had || got == want),
		      "load_and_delete");
		ref_delete(r, key, len);
		break;
	case 4:
		gs_map_delete(m, key, len);
		ref_delete(r, key, len);
		break;
	case 5:
		CHECK(gs_map_swap(m, key, len, v, &got, &loaded) == 0, "swap");
		CHECK(loaded == had && got == (had ? want : NULL), "swap");
		ref_store(r, key, len, v);
		break;
	case 6: {
		void *old = rand_r(seed) % 2 && had ? want : V(7);
		bool ok = had && old == want;

		CHECK(gs_map_compare_and_swap(m, key, len, old, v) == ok,
		      "compare_and_swap");
		if (ok)
			ref_store(r, key, len, v);
		break;
	}
	case 7: {
		void *old = rand_r(seed) % 2 && had ? want : V(7);
		bool ok = had && old == want;

		CHECK(gs_map_compare_and_delete(m, key, len, old) == ok,
		      "compare_and_delete");
		if (ok)
			ref_delete(r, key, len);
		break;
	}
	default:
		if (rand_r(seed) % 50 == 0) {
			gs_map_clear(m);
			r->n = 0;
		}
		break;
	}
}

static void check_same(gs_map_t *m, struct ref *r)
{
	struct seen s = {r, 0, true};

	gs_map_range(m, check_entry, &s);
	CHECK(s.ok && s.visits == r->n && gs_map_len(m) == (size_t)r->n,
	      "range saw %d entries (ok %d), len %zu, reference %d", s.visits,
	      s.ok, gs_map_len(m), r->n);
}

static struct ref ref1 = {PTHREAD_MUTEX_INITIALIZER, 0, {{{0}, 0, 0}}};

TEST(map_random_operations_match_a_mutex_guarded_map)
{
	gs_map_t m = GS_MAP_INIT;
	unsigned seed = 1;

	for (int i = 0; i < 200000; i++) {
		random_op(&m, &ref1, &seed, 300);
		if (i % 1000 == 0)
			check_same(&m, &ref1);
	}
	check_same(&m, &ref1);
	gs_map_destroy(&m);
}

/*
 * Threads each own a key range, checked exactly against a reference of
 * their own, and share a few counter keys, changed only by compute and
 * checked by the sum at the end.
 */
#define MT_THREADS 4
#define MT_OPS     40000
static gs_map_t mt_map;
static struct ref mt_ref[MT_THREADS];
static gun_t mt_gun;

static void add_one(void **value, bool *present, void *arg)
{
	(void)arg;
	*value = V((uintptr_t)(*present ? *value : V(0)) + 1);
	*present = true;
}

static void *mt_worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned seed = (unsigned)id + 7;
	unsigned char key[24];

	gun_wait(&mt_gun);
	for (int i = 0; i < MT_OPS; i++) {
		unsigned r = (unsigned)rand_r(&seed);
		size_t len;

		if (r % 4 == 0) {
			len = (size_t)snprintf((char *)key, sizeof key,
					       "shared%u", r % 8);
			CHECK(gs_map_compute(&mt_map, key, len, add_one,
					     NULL) == 0,
			      "compute");
			continue;
		}
		/* Own keys: a prefix byte no other thread uses. */
		len = random_key(&seed, key + 1, 200) + 1;
		key[0] = (unsigned char)(0xf0 + id);
		{
			void *got, *want;
			bool had = ref_load(&mt_ref[id], key, len, &want);

			if (r % 3 == 0) {
				CHECK(gs_map_load(&mt_map, key, len, &got) ==
						      had &&
					      (!had || got == want),
				      "thread %d: load", id);
			} else if (r % 3 == 1) {
				CHECK(gs_map_store(&mt_map, key, len,
						   V(r % 999 + 1)) == 0,
				      "store");
				ref_store(&mt_ref[id], key, len,
					  V(r % 999 + 1));
			} else {
				CHECK(gs_map_load_and_delete(&mt_map, key, len,
							     &got) == had,
				      "thread %d: load_and_delete", id);
				ref_delete(&mt_ref[id], key, len);
			}
		}
	}
	return NULL;
}

static bool sum_shared(const void *key, size_t len, void *value, void *arg)
{
	if (len > 6 && memcmp(key, "shared", 6) == 0)
		*(uintptr_t *)arg += (uintptr_t)value;
	return true;
}

TEST(map_concurrent_operations_match_per_thread_references)
{
	pthread_t t[MT_THREADS];
	uintptr_t shared = 0;
	size_t own = 0;

	gun_init(&mt_gun, MT_THREADS);
	for (int i = 0; i < MT_THREADS; i++)
		t[i] = start_thread(mt_worker, (void *)(intptr_t)i);
	for (int i = 0; i < MT_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < MT_THREADS; i++) {
		for (int j = 0; j < mt_ref[i].n; j++) {
			void *got;

			CHECK(gs_map_load(&mt_map, mt_ref[i].e[j].key,
					  mt_ref[i].e[j].len, &got) &&
				      got == mt_ref[i].e[j].value,
			      "thread %d's key %d lost", i, j);
		}
		own += (size_t)mt_ref[i].n;
	}
	gs_map_range(&mt_map, sum_shared, &shared);
	CHECK(gs_map_len(&mt_map) >= own, "len %zu below the %zu own keys",
	      gs_map_len(&mt_map), own);
	{
		/* Every compute counted once: the sum is the number made. */
		uintptr_t made = 0;
		unsigned seed;

		for (int id = 0; id < MT_THREADS; id++) {
			seed = (unsigned)id + 7;
			for (int i = 0; i < MT_OPS; i++) {
				unsigned r = (unsigned)rand_r(&seed);
				unsigned char k[24];

				if (r % 4 == 0)
					made++;
				else
					(void)random_key(&seed, k, 200);
			}
		}
		CHECK(shared == made, "shared counters sum to %zu, want %zu",
		      (size_t)shared, (size_t)made);
	}
	gs_map_destroy(&mt_map);
}

/* Case 41: fresh keys stored and deleted do not pile up. */
TEST(map_deleted_keys_are_freed)
{
	gs_map_t m = GS_MAP_INIT;

	for (uint64_t i = 0; i < 300000; i++) {
		CHECK(gs_map_store(&m, &i, sizeof i, V(1)) == 0, "store");
		gs_map_delete(&m, &i, sizeof i);
		CHECK(gs__epoch_pending() < 20000,
		      "%zu removed nodes waiting", gs__epoch_pending());
	}
	CHECK(gs_map_len(&m) == 0, "len %zu", gs_map_len(&m));
	gs_map_destroy(&m);
	gs__epoch_barrier();
	CHECK(gs__epoch_pending() == 0, "%zu pending", gs__epoch_pending());
}

/* Case 43. */
TEST(map_compare_and_swap_of_a_missing_key_fails)
{
	gs_map_t m = GS_MAP_INIT;

	CHECK(!gs_map_compare_and_swap(&m, "k", 1, NULL, V(1)), "empty map");
	CHECK(gs_map_store(&m, "other", 5, V(2)) == 0, "store");
	CHECK(!gs_map_compare_and_swap(&m, "k", 1, NULL, V(1)), "missing");
	CHECK(!gs_map_compare_and_delete(&m, "k", 1, NULL), "delete");
	CHECK(!gs_map_load(&m, "k", 1, NULL), "stored by a failed CAS");
	gs_map_destroy(&m);
}

/* Case 44. */
static gs_map_t clear_map;
static gun_t clear_gun;

static void *clear_worker(void *arg)
{
	int kind = (int)(intptr_t)arg % 3;

	gun_wait(&clear_gun);
	for (uint64_t i = 0; i < 2000; i++) {
		if (kind == 0)
			CHECK(gs_map_store(&clear_map, &i, sizeof i, V(1)) == 0,
			      "store");
		else if (kind == 1)
			gs_map_load(&clear_map, &i, sizeof i, NULL);
		else if (i % 100 == 0)
			gs_map_clear(&clear_map);
	}
	return NULL;
}

static bool count_one(const void *key, size_t len, void *value, void *arg)
{
	(void)key, (void)len, (void)value;
	++*(int *)arg;
	return true;
}

TEST(map_clear_concurrent_with_store_and_load_then_clear_leaves_nothing)
{
	pthread_t t[30];
	int n = 0;

	gun_init(&clear_gun, 30);
	for (int i = 0; i < 30; i++)
		t[i] = start_thread(clear_worker, (void *)(intptr_t)i);
	for (int i = 0; i < 30; i++)
		pthread_join(t[i], NULL);
	gs_map_clear(&clear_map);
	gs_map_range(&clear_map, count_one, &n);
	CHECK(n == 0 && gs_map_len(&clear_map) == 0, "%d left, len %zu", n,
	      gs_map_len(&clear_map));
	gs_map_destroy(&clear_map);
}

/* Case 45. */
TEST(map_range_and_clear_of_an_empty_map_allocate_nothing)
{
	gs_map_t m = GS_MAP_INIT;
	size_t before = gs__map_allocs();
	int n = 0;

	gs_map_range(&m, count_one, &n);
	gs_map_clear(&m);
	CHECK(gs_map_store(&m, "k", 1, V(1)) == 0, "store");
	gs_map_clear(&m);
	before = gs__map_allocs();
	gs_map_range(&m, count_one, &n);
	gs_map_clear(&m);
	CHECK(gs__map_allocs() == before && n == 0, "%zu allocations",
	      gs__map_allocs() - before);
	gs_map_destroy(&m);
}

/* B27 (a): a store racing a load-and-delete is never lost. */
#define B27_ROUNDS 100000
static gs_map_t b27_map;
static atomic_int b27_round, b27_done;
static void *b27_r1;
static bool b27_had1;

static void *b27_deleter(void *arg)
{
	(void)arg;
	for (int r = 1; r <= B27_ROUNDS; r++) {
		while (atomic_load(&b27_round) < r)
			sched_yield();
		b27_had1 = gs_map_load_and_delete(&b27_map, "k", 1, &b27_r1);
		atomic_fetch_add(&b27_done, 1);
	}
	return NULL;
}

static void *b27_storer(void *arg)
{
	(void)arg;
	for (int r = 1; r <= B27_ROUNDS; r++) {
		while (atomic_load(&b27_round) < r)
			sched_yield();
		CHECK(gs_map_store(&b27_map, "k", 1, V(2)) == 0, "store");
		atomic_fetch_add(&b27_done, 1);
	}
	return NULL;
}

TEST(map_store_racing_load_and_delete_is_never_lost)
{
	pthread_t a = start_thread(b27_deleter, NULL);
	pthread_t b = start_thread(b27_storer, NULL);

	for (int r = 1; r <= B27_ROUNDS; r++) {
		void *r2 = NULL;
		bool had2;

		CHECK(gs_map_store(&b27_map, "k", 1, V(1)) == 0, "store");
		atomic_store(&b27_done, 0);
		atomic_store(&b27_round, r); /* the starting gun */
		while (atomic_load(&b27_done) < 2)
			sched_yield();
		had2 = gs_map_load_and_delete(&b27_map, "k", 1, &r2);
		CHECK(b27_had1 && ((b27_r1 == V(1) && had2 && r2 == V(2)) ||
				   (b27_r1 == V(2) && !had2)),
		      "round %d: r1 %p, r2 %s %p", r, b27_r1,
		      had2 ? "present" : "absent", r2);
	}
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	gs_map_destroy(&b27_map);
}

/* B27 (b): a losing load-or-store reports a key that load sees. */
#define B27B_THREADS 8
static gs_map_t b27b_map;
static atomic_int b27b_round, b27b_done, b27b_winners;

static void *b27b_worker(void *arg)
{
	void *me = V((intptr_t)arg + 1);

	for (int r = 1; r <= 3000; r++) {
		void *actual, *seen = NULL;
		bool loaded;

		while (atomic_load(&b27b_round) < r)
			sched_yield();
		CHECK(gs_map_load_or_store(&b27b_map, "key", 3, me, &actual,
					   &loaded) == 0,
		      "load_or_store");
		CHECK(gs_map_load(&b27b_map, "key", 3, &seen) &&
			      seen == actual,
		      "round %d: load_or_store said %p (loaded %d), load %p",
		      r, actual, loaded, seen);
		if (!loaded)
			atomic_fetch_add(&b27b_winners, 1);
		atomic_fetch_add(&b27b_done, 1);
	}
	return NULL;
}

TEST(map_losing_load_or_store_reports_what_load_sees)
{
	pthread_t t[B27B_THREADS];

	for (int i = 0; i < B27B_THREADS; i++)
		t[i] = start_thread(b27b_worker, (void *)(intptr_t)i);
	for (int r = 1; r <= 3000; r++) {
		gs_map_delete(&b27b_map, "key", 3);
		atomic_store(&b27b_winners, 0);
		atomic_store(&b27b_done, 0);
		atomic_store(&b27b_round, r);
		while (atomic_load(&b27b_done) < B27B_THREADS)
			sched_yield();
		CHECK(atomic_load(&b27b_winners) == 1, "round %d: %d winners",
		      r, atomic_load(&b27b_winners));
	}
	for (int i = 0; i < B27B_THREADS; i++)
		pthread_join(t[i], NULL);
	gs_map_destroy(&b27b_map);
}

/* B28: a range callback that changes the map does not deadlock. */
static gs_map_t b28_map;
static atomic_int b28_stop;

static bool b28_fn(const void *key, size_t len, void *value, void *arg)
{
	uintptr_t v = (uintptr_t)value;
	unsigned *seed = arg;
	char k[32];
	int n;

	if (len != 4 + sizeof v || memcmp(key, "key-", 4) != 0)
		return true;
	if (v % 2 == 0)
		gs_map_delete(&b28_map, key, 4 + sizeof v);
	if (v % 100 == 0) {
		n = snprintf(k, sizeof k, "new-%zu", (size_t)v);
		CHECK(gs_map_store(&b28_map, k, (size_t)n, V(1)) == 0,
		      "store");
	}
	{
		unsigned char rk[4 + sizeof v];
		uintptr_t r = (uintptr_t)rand_r(seed) % 1000;

		memcpy(rk, "key-", 4);
		memcpy(rk + 4, &r, sizeof r);
		gs_map_load(&b28_map, rk, sizeof rk, NULL);
	}
	return true;
}

static void *b28_writer(void *arg)
{
	uint64_t i = (uint64_t)(intptr_t)arg << 32;

	while (!atomic_load(&b28_stop)) {
		char k[32];
		int n = snprintf(k, sizeof k, "w-%llu",
				 (unsigned long long)(i++ % 500));

		if (i % 2)
			CHECK(gs_map_store(&b28_map, k, (size_t)n, V(3)) == 0,
			      "store");
		else
			gs_map_delete(&b28_map, k, (size_t)n);
	}
	return NULL;
}

static void b28_run(int writers)
{
	pthread_t t[4];
	unsigned seed = 3;
	int64_t start;

	for (uintptr_t v = 0; v < 1000; v++) {
		unsigned char k[4 + sizeof v];

		memcpy(k, "key-", 4);
		memcpy(k + 4, &v, sizeof v);
		CHECK(gs_map_store(&b28_map, k, sizeof k, V(v)) == 0, "store");
	}
	for (int i = 0; i < writers; i++)
		t[i] = start_thread(b28_writer, (void *)(intptr_t)i);
	start = gs_now();
	gs_map_range(&b28_map, b28_fn, &seed);
	CHECK(gs_now() - start < GS_SECOND, "range took %lld ms",
	      (long long)((gs_now() - start) / GS_MILLISECOND));
	atomic_store(&b28_stop, 1);
	for (int i = 0; i < writers; i++)
		pthread_join(t[i], NULL);
	for (uintptr_t v = 0; v < 1000; v++) {
		unsigned char k[4 + sizeof v];

		memcpy(k, "key-", 4);
		memcpy(k + 4, &v, sizeof v);
		CHECK(gs_map_load(&b28_map, k, sizeof k, NULL) == (v % 2 == 1),
		      "key %zu: %s", (size_t)v, v % 2 ? "lost" : "kept");
	}
	gs_map_destroy(&b28_map);
}

TEST(map_range_callback_may_modify_the_map)
{
	b28_run(0);
}

TEST(map_range_callback_may_modify_the_map_under_concurrent_writers)
{
	b28_run(4);
}

/* Every allocating operation, made to fail at each allocation. */
static void fill(gs_map_t *m, int n)
{
	for (uint64_t i = 0; i < (uint64_t)n; i++)
		CHECK(gs_map_store(m, &i, sizeof i, V(i + 1)) == 0, "fill");
}

static void check_filled(gs_map_t *m, int n)
{
	int count = 0;

	for (uint64_t i = 0; i < (uint64_t)n; i++) {
		void *v;

		CHECK(gs_map_load(m, &i, sizeof i, &v) && v == V(i + 1),
		      "key %d changed", (int)i);
	}
	gs_map_range(m, count_one, &count);
	CHECK(count == n && gs_map_len(m) == (size_t)n,
	      "%d entries, len %zu, want %d", count, gs_map_len(m), n);
}

static void set_present(void **value, bool *present, void *arg)
{
	*value = arg;
	*present = true;
}

static int failing_op(int which, gs_map_t *m, uint64_t key)
{
	void *prev;
	bool loaded = true;
	int err;

	switch (which) {
	case 0:
		return gs_map_store(m, &key, sizeof key, V(9));
	case 1:
		err = gs_map_load_or_store(m, &key, sizeof key, V(9), &prev,
					   &loaded);
		CHECK(!err || !loaded, "loaded set on ENOMEM");
		return err;
	case 2:
		err = gs_map_swap(m, &key, sizeof key, V(9), &prev, &loaded);
		CHECK(!err || !loaded, "loaded set on ENOMEM");
		return err;
	default:
		return gs_map_compute(m, &key, sizeof key, set_present, V(9));
	}
}

TEST(map_enomem_leaves_the_map_unchanged)
{
	/* Sizes that hit the first table, overflow and growth. */
	static const int sizes[] = {0, 1, 7, 30, 39, 100, 1000};

	for (int which = 0; which < 4; which++)
		for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
			for (long left = 0; left < 4; left++) {
				gs_map_t m = GS_MAP_INIT;
				int err;

				fill(&m, sizes[s]);
				gs__map_fail_allocs(left);
				err = failing_op(which, &m, 1u << 30);
				gs__map_fail_allocs(-1);
				uint64_t k = 1u << 30;

				if (err == 0) {
					CHECK(gs_map_load(&m, &k, 8, NULL),
					      "stored but absent");
					gs_map_delete(&m, &k, 8);
				} else {
					CHECK(err == ENOMEM, "err %d", err);
					CHECK(!gs_map_load(&m, &k, 8, NULL),
					      "failed but present");
				}
				check_filled(&m, sizes[s]);
				gs_map_destroy(&m);
			}
}

TEST(map_growth_that_runs_out_of_memory_resumes_later)
{
	gs_map_t m = GS_MAP_INIT;
	int stored = 0;

	/* Failures in the middle of growth leave the map whole. */
	for (uint64_t i = 0; i < 5000; i++) {
		gs__map_fail_allocs(i % 7 == 0 ? 0 : (long)(i % 5));
		if (gs_map_store(&m, &i, sizeof i, V(i + 1)) == 0)
			stored++;
		gs__map_fail_allocs(-1);
		if (!gs_map_load(&m, &i, sizeof i, NULL))
			CHECK(gs_map_store(&m, &i, sizeof i, V(i + 1)) == 0,
			      "store");
	}
	check_filled(&m, 5000);
	CHECK(gs__map_capacity(&m) >= 5000, "capacity %zu",
	      gs__map_capacity(&m));
	gs_map_destroy(&m);
}

/*
 * A large table doubles where a small one grows by four: the keys stay
 * found by a reader that loads them all through both kinds of growth.
 */
#define BIG_KEYS 160000

static gs_map_t big_map;
static _Atomic uint64_t big_stored;
static gun_t big_gun;

static void *big_reader(void *arg)
{
	uint64_t x = 1, n;

	(void)arg;
	gun_wait(&big_gun);
	while ((n = atomic_load(&big_stored)) < BIG_KEYS) {
		uint64_t k;
		void *v = NULL;

		if (n == 0)
			continue;
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		k = (x >> 33) % n;
		CHECK(gs_map_load(&big_map, &k, sizeof k, &v) && v == V(k + 1),
		      "key %llu of %llu not found during growth",
		      (unsigned long long)k, (unsigned long long)n);
	}
	return NULL;
}

TEST(map_loads_find_every_key_while_a_large_table_doubles)
{
	size_t half = 0;
	pthread_t t;

	gun_init(&big_gun, 2);
	t = start_thread(big_reader, NULL);
	gun_wait(&big_gun);
	for (uint64_t i = 0; i < BIG_KEYS; i++) {
		CHECK(gs_map_store(&big_map, &i, sizeof i, V(i + 1)) == 0,
		      "store");
		atomic_store(&big_stored, i + 1);
		if (i + 1 == BIG_KEYS / 2)
			half = gs__map_capacity(&big_map);
	}
	pthread_join(t, NULL);
	CHECK(gs__map_capacity(&big_map) == 2 * half,
	      "capacity %zu after %zu: the last growth did not double",
	      gs__map_capacity(&big_map), half);
	check_filled(&big_map, BIG_KEYS);
	gs_map_destroy(&big_map);
}

/* compute: one atomic read-modify-write, and its three outcomes. */
static void drop(void **value, bool *present, void *arg)
{
	(void)value, (void)arg;
	*present = false;
}

static void keep(void **value, bool *present, void *arg)
{
	*(bool *)arg = *present;
	(void)value;
}

static gs_map_t cmp_map;
static gun_t cmp_gun;

static void *cmp_worker(void *arg)
{
	(void)arg;
	gun_wait(&cmp_gun);
	for (int i = 0; i < 20000; i++)
		CHECK(gs_map_compute(&cmp_map, "n", 1, add_one, NULL) == 0,
		      "compute");
	return NULL;
}

TEST(map_compute_is_an_atomic_read_modify_write)
{
	pthread_t t[4];
	void *v;
	bool was = true;

	gun_init(&cmp_gun, 4);
	for (int i = 0; i < 4; i++)
		t[i] = start_thread(cmp_worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK(gs_map_load(&cmp_map, "n", 1, &v) && v == V(80000),
	      "count %zu", (size_t)(uintptr_t)v);
	CHECK(gs_map_compute(&cmp_map, "n", 1, drop, NULL) == 0 &&
		      !gs_map_load(&cmp_map, "n", 1, NULL),
	      "compute that drops");
	CHECK(gs_map_compute(&cmp_map, "n", 1, keep, &was) == 0 && !was &&
		      !gs_map_load(&cmp_map, "n", 1, NULL),
	      "compute that leaves an absent key absent");
	CHECK(gs_map_len(&cmp_map) == 0, "len %zu", gs_map_len(&cmp_map));
	gs_map_destroy(&cmp_map);
}

TEST(map_len_counts_entries)
{
	gs_map_t m = GS_MAP_INIT;

	CHECK(gs_map_len(&m) == 0, "zero map");
	fill(&m, 1000);
	CHECK(gs_map_len(&m) == 1000, "len %zu", gs_map_len(&m));
	fill(&m, 1000); /* stores of present keys add nothing */
	for (uint64_t i = 0; i < 500; i++)
		gs_map_delete(&m, &i, sizeof i);
	gs_map_delete(&m, "absent", 6);
	CHECK(gs_map_len(&m) == 500, "len %zu", gs_map_len(&m));
	gs_map_clear(&m);
	CHECK(gs_map_len(&m) == 0, "len %zu after clear", gs_map_len(&m));
	gs_map_destroy(&m);
}

TEST(map_clear_removes_every_entry_and_the_map_stays_usable)
{
	gs_map_t m = GS_MAP_INIT;
	int n = 0;

	fill(&m, 5000);
	gs_map_clear(&m);
	gs_map_range(&m, count_one, &n);
	CHECK(n == 0 && !gs_map_load(&m, &(uint64_t){7}, 8, NULL),
	      "%d left", n);
	fill(&m, 100);
	check_filled(&m, 100);
	gs_map_destroy(&m);
}

TEST(map_destroy_frees_everything_and_leaves_a_zero_map)
{
	gs_map_t m = GS_MAP_INIT;

	fill(&m, 3000);
	for (uint64_t i = 0; i < 1000; i++)
		gs_map_delete(&m, &i, sizeof i);
	gs_map_destroy(&m);
	CHECK(m.impl_ == NULL, "not reset");
	CHECK(!gs_map_load(&m, "k", 1, NULL) && gs_map_len(&m) == 0,
	      "destroyed map not empty");
	fill(&m, 10); /* usable again, as a zero map is */
	gs_map_destroy(&m);
	gs__epoch_barrier();
	CHECK(gs__epoch_pending() == 0, "%zu retired, not freed",
	      gs__epoch_pending());
	/* LeakSanitizer, in its build, checks that nothing else is left. */
}

TEST(map_zero_length_and_long_keys_are_keys)
{
	gs_map_t m = GS_MAP_INIT;
	static unsigned char big[5000];
	void *v;

	CHECK(gs_map_store(&m, NULL, 0, V(1)) == 0, "empty key");
	CHECK(gs_map_load(&m, "", 0, &v) && v == V(1), "empty key lost");
	for (size_t len = 1; len <= sizeof big; len += len < 40 ? 1 : 97) {
		memset(big, 'x', len);
		CHECK(gs_map_store(&m, big, len, V(len + 1)) == 0, "store");
	}
	for (size_t len = 1; len <= sizeof big; len += len < 40 ? 1 : 97) {
		memset(big, 'x', len);
		CHECK(gs_map_load(&m, big, len, &v) && v == V(len + 1),
		      "key of %zu bytes", len);
		big[len - 1] = 'y'; /* the last byte counts */
		CHECK(!gs_map_load(&m, big, len, NULL),
		      "key of %zu bytes matched a different one", len);
	}
	CHECK(gs_map_load(&m, NULL, 0, &v) && v == V(1), "empty key lost");
	gs_map_destroy(&m);
}

/* Range across growth: each preloaded key is seen exactly once. */
#define RG_KEYS 2000
static gs_map_t rg_map;
static atomic_int rg_stop;
static int rg_seen[RG_KEYS];

static void *rg_grower(void *arg)
{
	(void)arg;
	for (uint64_t i = 1u << 20; !atomic_load(&rg_stop); i++) {
		CHECK(gs_map_store(&rg_map, &i, sizeof i, V(0)) == 0, "store");
		if (i % 3 == 0)
			gs_map_delete(&rg_map, &(uint64_t){i - 2}, 8);
	}
	return NULL;
}

static bool rg_fn(const void *key, size_t len, void *value, void *arg)
{
	uint64_t k;

	(void)arg;
	memcpy(&k, key, sizeof k);
	if (len != 8 || value == V(0) || k >= RG_KEYS)
		return true;
	rg_seen[k]++;
	/* Growth inside the walk too. */
	for (int j = 0; j < 10; j++) {
		uint64_t fresh = (1ull << 40) + k * 16 + (uint64_t)j;
		CHECK(gs_map_store(&rg_map, &fresh, 8, V(0)) == 0, "store");
	}
	return true;
}

TEST(map_range_visits_each_key_once_across_growth)
{
	for (int round = 0; round < 5; round++) {
		size_t cap;
		pthread_t t;

		memset(rg_seen, 0, sizeof rg_seen);
		atomic_store(&rg_stop, 0);
		for (uint64_t i = 0; i < RG_KEYS; i++)
			CHECK(gs_map_store(&rg_map, &i, 8, V(1)) == 0, "fill");
		cap = gs__map_capacity(&rg_map);
		t = start_thread(rg_grower, NULL);
		gs_map_range(&rg_map, rg_fn, NULL);
		atomic_store(&rg_stop, 1);
		pthread_join(t, NULL);
		CHECK(gs__map_capacity(&rg_map) > cap, "no growth happened");
		for (int i = 0; i < RG_KEYS; i++)
			CHECK(rg_seen[i] == 1, "round %d: key %d seen %d times",
			      round, i, rg_seen[i]);
		gs_map_destroy(&rg_map);
	}
}

/* Seeds: two maps differ in seed and in the order range walks. */
struct order {
	uint64_t keys[64];
	int n;
};

static bool record(const void *key, size_t len, void *value, void *arg)
{
	struct order *o = arg;

	(void)value, (void)len;
	memcpy(&o->keys[o->n++], key, 8);
	return o->n < 64;
}

TEST(map_hash_is_seeded_per_map)
{
	gs_map_t a = GS_MAP_INIT, b = GS_MAP_INIT;
	struct order oa = {{0}, 0}, ob = {{0}, 0};

	fill(&a, 64);
	fill(&b, 64);
	CHECK(gs__map_seed(&a) != gs__map_seed(&b), "same seed %llx",
	      (unsigned long long)gs__map_seed(&a));
	gs_map_range(&a, record, &oa);
	gs_map_range(&b, record, &ob);
	CHECK(oa.n == 64 && ob.n == 64 &&
		      memcmp(oa.keys, ob.keys, sizeof oa.keys) != 0,
	      "two maps walk their keys in the same order");
	gs_map_destroy(&a);
	gs_map_destroy(&b);
}

static bool stop_at_three(const void *key, size_t len, void *value,
			  void *arg)
{
	(void)key, (void)len, (void)value;
	return ++*(int *)arg < 3;
}

TEST(map_operations_follow_go_semantics)
{
	gs_map_t m = GS_MAP_INIT;
	void *v = V(5);
	bool loaded = true;
	int n = 0;

	CHECK(!gs_map_load(&m, "a", 1, &v) && v == V(5), "zero map load");
	CHECK(!gs_map_load_and_delete(&m, "a", 1, &v), "zero map delete");
	CHECK(gs_map_load_or_store(&m, "a", 1, V(1), &v, &loaded) == 0 &&
		      !loaded && v == V(1),
	      "load_or_store of a new key");
	CHECK(gs_map_load_or_store(&m, "a", 1, V(2), &v, &loaded) == 0 &&
		      loaded && v == V(1),
	      "load_or_store of a present key");
	CHECK(gs_map_swap(&m, "a", 1, V(3), &v, &loaded) == 0 && loaded &&
		      v == V(1),
	      "swap of a present key");
	CHECK(gs_map_swap(&m, "b", 1, V(4), &v, &loaded) == 0 && !loaded &&
		      v == NULL,
	      "swap of a new key");
	CHECK(!gs_map_compare_and_swap(&m, "a", 1, V(1), V(9)) &&
		      gs_map_compare_and_swap(&m, "a", 1, V(3), V(9)),
	      "compare_and_swap");
	CHECK(!gs_map_compare_and_delete(&m, "a", 1, V(3)) &&
		      gs_map_compare_and_delete(&m, "a", 1, V(9)) &&
		      !gs_map_load(&m, "a", 1, NULL),
	      "compare_and_delete");
	CHECK(gs_map_store(&m, "n", 1, NULL) == 0 &&
		      gs_map_load(&m, "n", 1, &v) && v == NULL &&
		      gs_map_compare_and_swap(&m, "n", 1, NULL, V(1)),
	      "a NULL value is a value");
	fill(&m, 10);
	gs_map_range(&m, stop_at_three, &n);
	CHECK(n == 3, "range went on after fn returned false: %d", n);
	gs_map_destroy(&m);
}

/*
 * A slot emptied by a delete and reused by a key of the other kind (8
 * bytes inline against a 20-byte key in a node) while loads run: a
 * load that read the bucket before the delete must never take the new
 * short key's bytes for a node pointer. 12 short and 12 long keys, one
 * thread deleting one and storing another for a second, two threads
 * loading the long ones.
 */
enum { MIXED_KEYS = 24, MIXED_WRITES = 300000 };

static char mixed_key[MIXED_KEYS][24];
static size_t mixed_len[MIXED_KEYS];
static gs_map_t mixed_map;
static atomic_int mixed_stop;

static void *mixed_loader(void *arg)
{
	unsigned r = (unsigned)(uintptr_t)arg;
	long n = 0;

	while (!atomic_load_explicit(&mixed_stop, memory_order_relaxed)) {
		void *v = NULL;
		int i;

		r = r * 1103515245 + 12345;
		i = (int)((r >> 8) % (MIXED_KEYS / 2)) * 2; /* a long key */
		if (gs_map_load(&mixed_map, mixed_key[i], mixed_len[i], &v))
			CHECK(v == (void *)(intptr_t)(i + 1),
			      "key %d gave %p", i, v);
		n++;
	}
	return (void *)n;
}

TEST(map_loads_survive_slots_reused_by_keys_of_the_other_length)
{
	pthread_t t[2];
	unsigned r = 3;

	for (int i = 0; i < MIXED_KEYS; i++) {
		mixed_len[i] = (size_t)snprintf(
			mixed_key[i], sizeof(mixed_key[i]),
			i % 2 ? "sess%04d" : "session-%012d", i);
		CHECK(gs_map_store(&mixed_map, mixed_key[i], mixed_len[i],
				   (void *)(intptr_t)(i + 1)) == 0,
		      "store");
	}
	for (int i = 0; i < 2; i++)
		t[i] = start_thread(mixed_loader, (void *)(uintptr_t)(i + 1));
	int64_t end = gs_now() + GS_SECOND;

	for (int w = 0; w < MIXED_WRITES || gs_now() < end; w++) {
		int i, j;

		r = r * 1103515245 + 12345;
		i = (int)((r >> 8) % MIXED_KEYS);
		j = (int)((r >> 20) % MIXED_KEYS);
		gs_map_delete(&mixed_map, mixed_key[i], mixed_len[i]);
		CHECK(gs_map_store(&mixed_map, mixed_key[j], mixed_len[j],
				   (void *)(intptr_t)(j + 1)) == 0,
		      "store");
	}
	atomic_store(&mixed_stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	gs_map_destroy(&mixed_map);
}

TEST_MAIN()
