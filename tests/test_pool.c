/*
 * test_pool.c - gs_pool_t: Go's sync.Pool cases (34-38 of
 * shared/cases/go-behaviour.md, with gs_pool_trim as the collector) and
 * the lifetime fault B25 of known-faults.md: every object the pool
 * takes in leaves it once, by a get or through free_fn, whichever
 * thread cached it; and no test assumes that a get returns the object
 * the last put gave.
 */
#include <gosync/pool.h>

#include "harness.h"

#define MAGIC 0x600d9001u

struct obj {
	uint32_t magic;
	int id;
	atomic_int freed;
};

static atomic_long created, destroyed, double_frees;

static void *obj_new(void *arg)
{
	struct obj *o = calloc(1, sizeof(*o));

	(void)arg;
	CHECK(o != NULL, "out of memory");
	o->magic = MAGIC;
	o->id = (int)atomic_fetch_add(&created, 1);
	return o;
}

static void obj_free(void *p, void *arg)
{
	struct obj *o = p;

	(void)arg;
	CHECK(o->magic == MAGIC, "free_fn got an object it never made");
	atomic_fetch_add(&destroyed, 1);
	free(o);
}

/* Objects that stay alive after free_fn, so a second free is seen. */
#define NTRACK 4096
static struct obj tracked[NTRACK];

static void tracked_free(void *p, void *arg)
{
	struct obj *o = p;

	(void)arg;
	CHECK(o >= tracked && o < tracked + NTRACK, "not a tracked object");
	if (atomic_fetch_add(&o->freed, 1) != 0)
		atomic_fetch_add(&double_frees, 1);
	atomic_fetch_add(&destroyed, 1);
}

static void tracked_init(int n)
{
	for (int i = 0; i < n; i++) {
		tracked[i].magic = MAGIC;
		tracked[i].id = i;
		atomic_init(&tracked[i].freed, 0);
	}
}

/* Marks which tracked objects came out, failing on any seen twice. */
static void seen_once(unsigned char *seen, struct obj *o)
{
	CHECK(o >= tracked && o < tracked + NTRACK, "get gave %p", (void *)o);
	CHECK(!seen[o->id], "object %d came out twice", o->id);
	seen[o->id] = 1;
}

TEST(pool_get_on_empty_pool_without_new_fn_gives_null)
{
	gs_pool_t p = GS_POOL_INIT(NULL, NULL, NULL);
	void *o;

	CHECK(gs_pool_get(&p) == NULL, "a new pool gave an object");
	gs_pool_put(&p, malloc(8));
	CHECK((o = gs_pool_get(&p)) != NULL, "the object put was lost");
	CHECK(gs_pool_get(&p) == NULL, "a drained pool gave an object");
	gs_pool_destroy(&p);
	free(o);
}

TEST(pool_put_then_get_gives_each_object_once_then_null)
{
	gs_pool_t p = GS_POOL_INIT(NULL, tracked_free, NULL);
	unsigned char seen[2] = {0};

	tracked_init(2);
	gs_pool_put(&p, &tracked[0]);
	gs_pool_put(&p, &tracked[1]);
	/* Go gives a then b; the order here is the pool's choice. */
	seen_once(seen, gs_pool_get(&p));
	seen_once(seen, gs_pool_get(&p));
	CHECK(gs_pool_get(&p) == NULL, "a third get gave an object");
	gs_pool_destroy(&p);
	CHECK(atomic_load(&destroyed) == 0, "destroy freed objects it gave");
}

TEST(pool_object_is_a_victim_after_one_trim_and_freed_after_two)
{
	gs_pool_t p = GS_POOL_INIT(NULL, tracked_free, NULL);
	struct obj *o;

	tracked_init(100);
	for (int i = 0; i < 100; i++)
		gs_pool_put(&p, &tracked[i]);
	gs_pool_trim(&p);
	CHECK(atomic_load(&destroyed) == 0, "one trim freed %ld objects",
	      atomic_load(&destroyed));
	o = gs_pool_get(&p);
	CHECK(o != NULL && o->magic == MAGIC, "no victim after one trim");
	gs_pool_trim(&p);
	CHECK(gs_pool_get(&p) == NULL, "an object survived two trims");
	CHECK(atomic_load(&destroyed) == 99, "two trims freed %ld of 99",
	      atomic_load(&destroyed));
	CHECK(atomic_load(&o->freed) == 0, "the object taken was freed");
	gs_pool_destroy(&p);
	CHECK(atomic_load(&double_frees) == 0, "an object was freed twice");
}

static atomic_int counter;

static void *count_new(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)(atomic_fetch_add(&counter, 1) + 1);
}

static void no_free(void *obj, void *arg)
{
	(void)obj;
	(void)arg;
}

TEST(pool_new_fn_makes_objects_only_when_empty)
{
	gs_pool_t p = GS_POOL_INIT(count_new, no_free, NULL);

	CHECK(gs_pool_get(&p) == (void *)1, "first get is not new 1");
	CHECK(gs_pool_get(&p) == (void *)2, "second get is not new 2");
	gs_pool_put(&p, (void *)42);
	CHECK(gs_pool_get(&p) == (void *)42, "get after put 42 made one");
	CHECK(gs_pool_get(&p) == (void *)3, "get on empty is not new 3");
	gs_pool_destroy(&p);
}

TEST(pool_trims_free_every_object_put_through_free_fn)
{
	gs_pool_t p = GS_POOL_INIT(NULL, tracked_free, NULL);

	tracked_init(100);
	for (int i = 0; i < 100; i++)
		gs_pool_put(&p, &tracked[i]);
	/* Drain some and give them back, as Go's TestPoolRelease does. */
	for (int i = 0; i < 30; i++)
		gs_pool_put(&p, gs_pool_get(&p));
	gs_pool_trim(&p);
	gs_pool_trim(&p);
	CHECK(atomic_load(&destroyed) == 100, "two trims freed %ld of 100",
	      atomic_load(&destroyed));
	for (int i = 0; i < 100; i++)
		CHECK(atomic_load(&tracked[i].freed) == 1,
		      "object %d freed %d times", i,
		      atomic_load(&tracked[i].freed));
	gs_pool_destroy(&p);
}

/* Threads that cache objects and then wait, idle, while main trims. */
struct idle_arg {
	gs_pool_t *p;
	int first, n;
	atomic_int *ready;
	gate_t *go_on;
};

static void *idle_putter(void *a)
{
	struct idle_arg *arg = a;

	for (int i = 0; i < arg->n; i++)
		gs_pool_put(arg->p, &tracked[arg->first + i]);
	atomic_fetch_add(arg->ready, 1);
	gate_wait(arg->go_on);
	return NULL;
}

/*
 * Starts n threads running fn, thread i on n_each of the tracked
 * objects from i * n_each, and returns once each has put them and
 * waits on go_on, alive with its cache full.
 */
static void start_putters(gs_pool_t *p, void *(*fn)(void *),
			  struct idle_arg *args, pthread_t *t, int n,
			  int n_each, atomic_int *ready, gate_t *go_on)
{
	tracked_init(n * n_each);
	for (int i = 0; i < n; i++) {
		args[i] = (struct idle_arg){p, i * n_each, n_each, ready,
					    go_on};
		t[i] = start_thread(fn, &args[i]);
	}
	CHECK(wait_for_int(ready, n, 60000) == n, "putters did not finish");
}

TEST(pool_trims_free_objects_cached_by_threads_still_alive)
{
	gs_pool_t p = GS_POOL_INIT(NULL, tracked_free, NULL);
	struct idle_arg args[4];
	pthread_t t[4];
	atomic_int ready = 0;
	gate_t go_on = GATE_INIT;

	start_putters(&p, idle_putter, args, t, 4, 5, &ready, &go_on);
	gs_pool_trim(&p);
	gs_pool_trim(&p);
	CHECK(atomic_load(&destroyed) == 20,
	      "two trims freed %ld of 20 objects in live threads' caches",
	      atomic_load(&destroyed));
	gate_open(&go_on);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	gs_pool_destroy(&p);
	CHECK(atomic_load(&destroyed) == 20 && atomic_load(&double_frees) == 0,
	      "destroy freed %ld", atomic_load(&destroyed) - 20);
}

/* Case 37, with a trimmer beside the ten threads. */
struct stress_arg {
	gs_pool_t *p;
	gun_t *gun;
	int iters;
	atomic_int *running;
};

static void *stress_worker(void *a)
{
	struct stress_arg *arg = a;

	gun_wait(arg->gun);
	for (int i = 0; i < arg->iters; i++) {
		struct obj *o = gs_pool_get(arg->p);

		CHECK(o != NULL && o->magic == MAGIC, "get gave a bad object");
		gs_pool_put(arg->p, o);
	}
	atomic_fetch_sub(arg->running, 1);
	return NULL;
}

static void *trimmer(void *a)
{
	struct stress_arg *arg = a;

	gun_wait(arg->gun);
	do
		gs_pool_trim(arg->p);
	while (atomic_load(arg->running) > 0);
	return NULL;
}

TEST(pool_concurrent_puts_and_gets_give_only_valid_objects)
{
	gs_pool_t p = GS_POOL_INIT(obj_new, obj_free, NULL);
	pthread_t t[11];
	gun_t gun;
	atomic_int running = 10;
	struct stress_arg arg = {&p, &gun, 100000, &running};

	gun_init(&gun, 11);
	for (int i = 0; i < 10; i++)
		t[i] = start_thread(stress_worker, &arg);
	t[10] = start_thread(trimmer, &arg);
	for (int i = 0; i < 11; i++)
		pthread_join(t[i], NULL);
	gs_pool_destroy(&p);
	CHECK(atomic_load(&created) == atomic_load(&destroyed),
	      "created %ld, destroyed %ld", atomic_load(&created),
	      atomic_load(&destroyed));
}

/* Case 38 on the shared overflow: one producer, several consumers. */
#define FLOW_N 4000
static unsigned char flow_seen[FLOW_N];
static atomic_int flow_got, producer_gets;
static pthread_mutex_t flow_mu = PTHREAD_MUTEX_INITIALIZER;

static void flow_record(struct obj *o)
{
	pthread_mutex_lock(&flow_mu);
	seen_once(flow_seen, o);
	pthread_mutex_unlock(&flow_mu);
	atomic_fetch_add(&flow_got, 1);
}

static void *producer(void *a)
{
	struct stress_arg *arg = a;

	gun_wait(arg->gun);
	for (int i = 0; i < FLOW_N; i++) {
		gs_pool_put(arg->p, &tracked[i]);
		if (i % 10 == 9) {
			struct obj *o = gs_pool_get(arg->p);

			if (o != NULL) {
				flow_record(o);
				atomic_fetch_add(&producer_gets, 1);
			}
		}
	}
	atomic_fetch_sub(arg->running, 1);
	return NULL; /* the exit hook gives back what is cached here */
}

static void *consumer(void *a)
{
	struct stress_arg *arg = a;

	gun_wait(arg->gun);
	while (atomic_load(arg->running) > 0) {
		struct obj *o = gs_pool_get(arg->p);

		if (o != NULL)
			flow_record(o);
		else
			sched_yield();
	}
	return NULL;
}

TEST(pool_shared_overflow_hands_out_each_object_exactly_once)
{
	gs_pool_t p = GS_POOL_INIT(NULL, tracked_free, NULL);
	pthread_t t[4];
	gun_t gun;
	atomic_int running = 1;
	struct stress_arg arg = {&p, &gun, 0, &running};
	struct obj *o;

	tracked_init(FLOW_N);
	gun_init(&gun, 4);
	t[0] = start_thread(producer, &arg);
	for (int i = 1; i < 4; i++)
		t[i] = start_thread(consumer, &arg);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	while ((o = gs_pool_get(&p)) != NULL)
		flow_record(o);
	CHECK(atomic_load(&flow_got) == FLOW_N, "%d of %d objects came out",
	      atomic_load(&flow_got), FLOW_N);
	CHECK(atomic_load(&producer_gets) > 0, "the producer got none back");
	gs_pool_destroy(&p);
	CHECK(atomic_load(&destroyed) == 0, "destroy freed objects given out");
}

/* B25: creations - destructions == the objects still held. */
struct b25_arg {
	gs_pool_t *p;
	gun_t *gun;
	atomic_int *running;
	struct obj *held[10];
	bool holder;
};

static void *b25_worker(void *a)
{
	struct b25_arg *arg = a;

	gun_wait(arg->gun);
	for (int i = 0; i < 100000; i++) {
		struct obj *o = gs_pool_get(arg->p);

		CHECK(o != NULL && o->magic == MAGIC, "get gave a bad object");
		gs_pool_put(arg->p, o);
	}
	if (arg->holder)
		for (int i = 0; i < 10; i++)
			arg->held[i] = gs_pool_get(arg->p);
	atomic_fetch_sub(arg->running, 1);
	return NULL;
}

static void *b25_trimmer(void *a)
{
	struct b25_arg *arg = a;
	int trims = 0;

	gun_wait(arg->gun);
	while (trims < 3 || atomic_load(arg->running) > 0) {
		if (trims < 3) {
			gs_pool_trim(arg->p);
			trims++;
		}
		sched_yield();
	}
	return NULL;
}

TEST(pool_drops_objects_through_free_fn_and_keeps_count_with_held_ones)
{
	gs_pool_t p = GS_POOL_INIT(obj_new, obj_free, NULL);
	struct b25_arg args[5];
	pthread_t t[5];
	gun_t gun;
	atomic_int running = 4;

	gun_init(&gun, 5);
	for (int i = 0; i < 5; i++) {
		args[i] = (struct b25_arg){.p = &p, .gun = &gun,
					   .running = &running,
					   .holder = i == 0};
		t[i] = start_thread(i < 4 ? b25_worker : b25_trimmer,
				    &args[i]);
	}
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	gs_pool_destroy(&p);
	CHECK(atomic_load(&created) - atomic_load(&destroyed) == 10,
	      "created %ld, destroyed %ld, with 10 held",
	      atomic_load(&created), atomic_load(&destroyed));
	for (int i = 0; i < 10; i++) {
		CHECK(args[0].held[i] && args[0].held[i]->magic == MAGIC,
		      "held object %d is bad", i);
		free(args[0].held[i]);
	}
}

static void *exiting_putter(void *a)
{
	struct idle_arg *arg = a;

	for (int i = 0; i < arg->n; i++)
		gs_pool_put(arg->p, &tracked[arg->first + i]);
	return NULL;
}

TEST(pool_thread_exit_gives_its_cache_back_to_the_pool)
{
	gs_pool_t p = GS_POOL_INIT(count_new, tracked_free, NULL);
	struct idle_arg arg = {&p, 0, 5, NULL, NULL};
	unsigned char seen[5] = {0};

	tracked_init(5);
	pthread_join(start_thread(exiting_putter, &arg), NULL);
	for (int i = 0; i < 5; i++)
		seen_once(seen, gs_pool_get(&p));
	CHECK(atomic_load(&counter) == 0, "new_fn ran while objects waited");
	gs_pool_destroy(&p);
}

static void *mixed_putter(void *a)
{
	struct idle_arg *arg = a;

	for (int i = 0; i < arg->n; i++) {
		gs_pool_put(arg->p, &tracked[arg->first + i]);
		if (i == arg->n / 2)
			gs_pool_trim(arg->p); /* some become victims */
	}
	atomic_fetch_add(arg->ready, 1);
	gate_wait(arg->go_on);
	return NULL;
}

TEST(pool_destroy_frees_each_cached_object_once)
{
	gs_pool_t p = GS_POOL_INIT(NULL, tracked_free, NULL);
	struct idle_arg args[3];
	pthread_t t[3];
	atomic_int ready = 0;
	gate_t go_on = GATE_INIT;

	/* The threads are alive, their caches full, when destroy runs. */
	start_putters(&p, mixed_putter, args, t, 3, 100, &ready, &go_on);
	gs_pool_destroy(&p);
	gate_open(&go_on);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&double_frees) == 0, "an object was freed twice");
	for (int i = 0; i < 300; i++)
		CHECK(atomic_load(&tracked[i].freed) == 1,
		      "object %d freed %d times", i,
		      atomic_load(&tracked[i].freed));
	/* The destroyed pool is empty and usable again. */
	CHECK(gs_pool_get(&p) == NULL, "a destroyed pool gave an object");
	gs_pool_put(&p, &tracked[0]);
	CHECK(gs_pool_get(&p) == &tracked[0], "the reused pool lost one");
	gs_pool_destroy(&p);
}

TEST(pool_put_null_is_ignored)
{
	gs_pool_t p = GS_POOL_INIT(NULL, tracked_free, NULL);

	gs_pool_put(&p, NULL);
	CHECK(gs_pool_get(&p) == NULL, "get after put NULL gave an object");
	gs_pool_trim(&p);
	gs_pool_trim(&p);
	gs_pool_destroy(&p);
	CHECK(atomic_load(&destroyed) == 0, "free_fn saw NULL");
}

TEST(pool_null_free_fn_means_free)
{
	gs_pool_t p = GS_POOL_INIT(NULL, NULL, NULL);

	/* LeakSanitizer fails this test if free() is not called. */
	for (int i = 0; i < 50; i++)
		gs_pool_put(&p, malloc(64));
	gs_pool_trim(&p);
	gs_pool_put(&p, malloc(64));
	gs_pool_trim(&p);
	gs_pool_destroy(&p);
}

static void trim_a_copy(void *arg)
{
	gs_pool_t p = GS_POOL_INIT(NULL, NULL, NULL), copy;

	(void)arg;
	gs_pool_put(&p, malloc(8));
	copy = p;
	gs_pool_trim(&copy);
}

TEST(pool_trim_of_a_copy_made_after_use_aborts)
{
	expect_death(trim_a_copy, NULL, "gs: pool: copied after first use");
}

TEST_MAIN()
