/* test_once.c - gs_once_do: exactly once, everyone waits, misuse. */
#include <gosync/once.h>

#include "harness.h"

static gs_once_t once;
static atomic_int calls;
static gun_t gun;

static void increment(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
}

static void *call_once(void *arg)
{
	(void)arg;
	gun_wait(&gun);
	gs_once_do(&once, increment, NULL);
	CHECK(atomic_load(&calls) == 1, "saw %d calls right after do",
	      atomic_load(&calls));
	return NULL;
}

TEST(once_runs_its_function_exactly_once_under_starting_gun)
{
	pthread_t t[10];

	gun_init(&gun, 10);
	for (int i = 0; i < 10; i++)
		t[i] = start_thread(call_once, NULL);
	for (int i = 0; i < 10; i++)
		pthread_join(t[i], NULL);
	gs_once_do(&once, increment, NULL);
	CHECK(atomic_load(&calls) == 1, "%d calls, expected 1",
	      atomic_load(&calls));
}

struct round {
	gs_once_t once;
	atomic_int calls;
	gun_t gun;
};

static void slow_increment(void *arg)
{
	struct round *r = arg;
	int64_t end = test_now() + 1000 + rand() % 20000;

	atomic_fetch_add(&r->calls, 1);
	while (test_now() < end)
		;
}

static void *round_caller(void *arg)
{
	struct round *r = arg;

	gun_wait(&r->gun);
	gs_once_do(&r->once, slow_increment, r);
	CHECK(atomic_load(&r->calls) == 1, "returned before the call ended");
	return NULL;
}

TEST(once_late_arrivals_never_sleep_through_done)
{
	enum { ROUNDS = 500, THREADS = 8 };
	pthread_t t[THREADS];

	for (int k = 0; k < ROUNDS; k++) {
		struct round r = {GS_ONCE_INIT, 0, {0}};

		gun_init(&r.gun, THREADS);
		for (int i = 0; i < THREADS; i++)
			t[i] = start_thread(round_caller, &r);
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
		CHECK(atomic_load(&r.calls) == 1, "round %d: %d calls", k,
		      atomic_load(&r.calls));
	}
}

static gate_t entered = GATE_INIT, release = GATE_INIT;
static atomic_int x, y, second_returned, g_called;

static void first_fn(void *arg)
{
	(void)arg;
	atomic_store(&x, 1);
	gate_open(&entered);
	gate_wait(&release);
	atomic_store(&y, 1);
}

static void second_fn(void *arg)
{
	(void)arg;
	atomic_store(&g_called, 1);
}

static void *first_caller(void *arg)
{
	gs_once_do(arg, first_fn, NULL);
	return NULL;
}

static void *second_caller(void *arg)
{
	gs_once_do(arg, second_fn, NULL);
	CHECK(atomic_load(&x) == 1 && atomic_load(&y) == 1,
	      "returned before the first call finished");
	atomic_store(&second_returned, 1);
	return NULL;
}

TEST(once_second_caller_waits_for_the_first_call_to_finish)
{
	gs_once_t o = GS_ONCE_INIT;
	pthread_t t1, t2;

	t1 = start_thread(first_caller, &o);
	gate_wait(&entered);
	t2 = start_thread(second_caller, &o);
	test_sleep_ms(200);
	CHECK(!atomic_load(&second_returned), "second do did not wait");
	gate_open(&release);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK(!atomic_load(&g_called), "the second function ran");
}

static gs_once_t outer, inner;

static void nested(void *arg)
{
	(void)arg;
	gs_once_do(&inner, increment, NULL);
}

static void recurse(void *arg)
{
	(void)arg;
	gs_once_do(&outer, increment, NULL);
}

static void call_recursive(void *arg)
{
	(void)arg;
	gs_once_do(&outer, recurse, NULL);
}

TEST(once_recursive_call_aborts)
{
	expect_death(call_recursive, NULL, "gs: once: recursive call");
}

TEST(once_call_of_another_once_from_inside_works)
{
	gs_once_do(&outer, nested, NULL);
	CHECK(atomic_load(&calls) == 1, "inner once ran %d times",
	      atomic_load(&calls));
}

static void exit_thread(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
	pthread_exit(NULL);
}

static void *exit_caller(void *arg)
{
	gs_once_do(arg, exit_thread, NULL);
	return NULL;
}

TEST(once_function_ending_its_thread_counts_as_done)
{
	gs_once_t o = GS_ONCE_INIT;
	pthread_t t = start_thread(exit_caller, &o);

	pthread_join(t, NULL);
	gs_once_do(&o, increment, NULL); /* must return, and not run */
	CHECK(atomic_load(&calls) == 1, "%d calls, expected 1",
	      atomic_load(&calls));
}

TEST_MAIN()
