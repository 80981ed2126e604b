/* test_waitgroup.c - gs_waitgroup_t: counting, waiting, go, misuse. */
#include <gosync/runtime.h>
#include <gosync/waitgroup.h>

#include "harness.h"

static gs_waitgroup_t wg;
static atomic_int finished;
static gun_t gun;

static void *finish_one(void *arg)
{
	(void)arg;
	gun_wait(&gun);
	atomic_fetch_add(&finished, 1);
	gs_waitgroup_done(&wg);
	return NULL;
}

TEST(waitgroup_wait_returns_after_last_done)
{
	enum { N = 16 };
	pthread_t t[N];

	gun_init(&gun, N);
	gs_waitgroup_add(&wg, N);
	for (int i = 0; i < N; i++)
		t[i] = start_thread(finish_one, NULL);
	gs_waitgroup_wait(&wg);
	CHECK(atomic_load(&finished) == N, "wait returned after %d of %d",
	      atomic_load(&finished), N);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
}

static void *inc_done(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
	gs_waitgroup_done(&wg);
	return NULL;
}

TEST(waitgroup_counts_two_after_every_wait)
{
	for (int round = 0; round < 1000; round++) {
		atomic_int n = 0;
		pthread_t a, b;

		gs_waitgroup_add(&wg, 1);
		a = start_thread(inc_done, &n);
		gs_waitgroup_add(&wg, 1);
		b = start_thread(inc_done, &n);
		gs_waitgroup_wait(&wg);
		CHECK(atomic_load(&n) == 2, "round %d: %d after wait", round,
		      atomic_load(&n));
		pthread_join(a, NULL);
		pthread_join(b, NULL);
	}
}

struct reuse {
	gs_waitgroup_t wg;
	gs_waitgroup_t waited;
	gun_t gun;
};

static void *reuse_waiter(void *arg)
{
	struct reuse *r = arg;

	gun_wait(&r->gun);
	gs_waitgroup_wait(&r->wg);
	gs_waitgroup_done(&r->waited);
	return NULL;
}

static void *reuse_worker(void *arg)
{
	struct reuse *r = arg;

	gun_wait(&r->gun);
	gs_waitgroup_done(&r->wg);
	return NULL;
}

TEST(waitgroup_reused_after_every_wait_returned_is_legal)
{
	struct reuse r = {GS_WAITGROUP_INIT, GS_WAITGROUP_INIT, {0}};
	pthread_t t[12];

	for (int round = 0; round < 300; round++) {
		gs_waitgroup_add(&r.wg, 8);
		gs_waitgroup_add(&r.waited, 4);
		gun_init(&r.gun, 12);
		for (int i = 0; i < 4; i++)
			t[i] = start_thread(reuse_waiter, &r);
		for (int i = 4; i < 12; i++)
			t[i] = start_thread(reuse_worker, &r);
		gs_waitgroup_wait(&r.waited);
		for (int i = 0; i < 12; i++)
			pthread_join(t[i], NULL);
	}
}

static void *done_from_thread(void *arg)
{
	gs_waitgroup_done(arg);
	return NULL;
}

TEST(waitgroup_laid_out_after_a_byte_still_works)
{
	struct {
		char c;
		gs_waitgroup_t wg;
	} s = {0, GS_WAITGROUP_INIT};
	pthread_t t;

	CHECK((uintptr_t)&s.wg % 8 == 0, "misaligned at %p", (void *)&s.wg);
	gs_waitgroup_add(&s.wg, 1);
	t = start_thread(done_from_thread, &s.wg);
	gs_waitgroup_wait(&s.wg);
	pthread_join(t, NULL);
}

static void done_twice(void *arg)
{
	gs_waitgroup_t g = GS_WAITGROUP_INIT;

	(void)arg;
	gs_waitgroup_add(&g, 1);
	gs_waitgroup_done(&g);
	gs_waitgroup_done(&g);
}

static void done_fresh(void *arg)
{
	gs_waitgroup_t g = GS_WAITGROUP_INIT;

	(void)arg;
	gs_waitgroup_done(&g);
}

static void add_negative(void *arg)
{
	gs_waitgroup_t g = GS_WAITGROUP_INIT;

	(void)arg;
	gs_waitgroup_add(&g, -1);
}

TEST(waitgroup_negative_counter_aborts)
{
	expect_death(done_twice, NULL, "gs: waitgroup: negative counter");
	expect_death(done_fresh, NULL, "gs: waitgroup: negative counter");
	expect_death(add_negative, NULL, "gs: waitgroup: negative counter");
}

TEST(waitgroup_three_dones_from_three_threads_release_wait)
{
	gs_waitgroup_t g = GS_WAITGROUP_INIT;
	pthread_t t[3];

	gs_waitgroup_add(&g, 3);
	for (int i = 0; i < 3; i++)
		t[i] = start_thread(done_from_thread, &g);
	gs_waitgroup_wait(&g);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	gs_waitgroup_wait(&g); /* zero: returns at once */
}

static atomic_int ran;

static void sleepy_increment(void *arg)
{
	struct timespec ts = {0, (rand() % 200) * 1000};

	(void)arg;
	nanosleep(&ts, NULL);
	atomic_fetch_add(&ran, 1);
}

TEST(waitgroup_go_counts_the_task_before_returning)
{
	gs_waitgroup_t g = GS_WAITGROUP_INIT;

	for (int round = 1; round <= 100; round++) {
		for (int i = 0; i < 100; i++)
			CHECK(gs_waitgroup_go(&g, sleepy_increment, NULL) == 0,
			      "go failed");
		gs_waitgroup_wait(&g);
		CHECK(atomic_load(&ran) == 100 * round, "round %d: %d ran",
		      round, atomic_load(&ran));
	}
}

static gs_waitgroup_t nested_wg;

static void leaf(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ran, 1);
}

static void parent_task(void *arg)
{
	(void)arg;
	CHECK(gs_waitgroup_go(&nested_wg, leaf, NULL) == 0, "nested go");
	atomic_fetch_add(&ran, 1);
}

TEST(waitgroup_go_from_inside_a_task_is_counted)
{
	for (int i = 0; i < 50; i++)
		CHECK(gs_waitgroup_go(&nested_wg, parent_task, NULL) == 0,
		      "go failed");
	gs_waitgroup_wait(&nested_wg);
	CHECK(atomic_load(&ran) == 100, "%d ran, expected 100",
	      atomic_load(&ran));
}

static void exit_early(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ran, 1);
	pthread_exit(NULL);
}

TEST(waitgroup_go_task_ending_its_thread_still_counts_done)
{
	gs_waitgroup_t g = GS_WAITGROUP_INIT;

	for (int i = 0; i < 4; i++)
		CHECK(gs_waitgroup_go(&g, exit_early, NULL) == 0, "go failed");
	gs_waitgroup_wait(&g);
	CHECK(atomic_load(&ran) == 4, "%d ran", atomic_load(&ran));
}

TEST(waitgroup_wait_until_times_out_and_the_group_still_works)
{
	gs_waitgroup_t g = GS_WAITGROUP_INIT;
	int64_t start = gs_now();
	pthread_t t;

	CHECK(gs_waitgroup_wait_until(&g, start), "zero count timed out");
	gs_waitgroup_add(&g, 1);
	CHECK(!gs_waitgroup_wait_until(&g, start + 20 * GS_MILLISECOND),
	      "returned true with the count at 1");
	CHECK(gs_now() - start >= 20 * GS_MILLISECOND, "gave up early");
	CHECK(__atomic_load_n(&g.state_, __ATOMIC_SEQ_CST) == 1ull << 32,
	      "the timed-out waiter is still counted");
	t = start_thread(done_from_thread, &g);
	CHECK(gs_waitgroup_wait_until(&g, gs_now() + 10 * GS_SECOND),
	      "the done did not release the wait");
	pthread_join(t, NULL);
}

struct churn {
	gs_waitgroup_t wg;
	atomic_int round;     /* raised by main to start a round */
	atomic_int finished;  /* waits finished, over all rounds */
	atomic_int timed_out;
};

enum { CHURN_WAITERS = 3, CHURN_ROUNDS = 5000 };

static void *timed_waiter(void *arg)
{
	struct churn *c = arg;

	for (int r = 1; r <= CHURN_ROUNDS; r++) {
		while (atomic_load(&c->round) < r)
			sched_yield();
		int64_t d = gs_now() + (rand() % 60) * GS_MICROSECOND;
		if (!gs_waitgroup_wait_until(&c->wg, d))
			atomic_fetch_add(&c->timed_out, 1);
		atomic_fetch_add(&c->finished, 1);
	}
	return NULL;
}

TEST(waitgroup_timed_waiters_leave_the_count_consistent)
{
	struct churn c;
	pthread_t t[CHURN_WAITERS];

	memset(&c, 0, sizeof c);
	for (int i = 0; i < CHURN_WAITERS; i++)
		t[i] = start_thread(timed_waiter, &c);
	for (int r = 1; r <= CHURN_ROUNDS; r++) {
		gs_waitgroup_add(&c.wg, 1);
		atomic_store(&c.round, r);
		int64_t end = gs_now() + (20 + rand() % 60) * GS_MICROSECOND;
		while (gs_now() < end)
			;
		gs_waitgroup_done(&c.wg);
		/* Reuse only after every wait of this round has returned. */
		while (atomic_load(&c.finished) < r * CHURN_WAITERS)
			sched_yield();
		CHECK(__atomic_load_n(&c.wg.state_, __ATOMIC_SEQ_CST) == 0,
		      "round %d: state not zero", r);
	}
	for (int i = 0; i < CHURN_WAITERS; i++)
		pthread_join(t[i], NULL);
	printf("%d of %d waits timed out\n", atomic_load(&c.timed_out),
	       CHURN_ROUNDS * CHURN_WAITERS);
}

static void *waiter_loop(void *arg)
{
	for (;;)
		gs_waitgroup_wait(arg);
	return NULL;
}

static void racing_reuse(void *arg)
{
	static gs_waitgroup_t g;
	int64_t end = gs_now() + 10 * GS_SECOND;

	(void)arg;
	start_thread(waiter_loop, &g);
	while (gs_now() < end) {
		gs_waitgroup_add(&g, 1);
		/* Once the waiter sleeps, release it and raise at once. */
		while ((__atomic_load_n(&g.state_, __ATOMIC_SEQ_CST) &
			0xffffffffu) == 0 &&
		       gs_now() < end)
			sched_yield();
		gs_waitgroup_done(&g);
		gs_waitgroup_add(&g, 1);
		gs_waitgroup_done(&g);
	}
}

TEST(waitgroup_reuse_while_a_wait_is_returning_aborts)
{
	expect_death_either(racing_reuse, NULL,
			    "gs: waitgroup: reused before previous wait "
			    "has returned",
			    "gs: waitgroup: add called concurrently with wait");
}

TEST_MAIN()
