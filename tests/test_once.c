/* test_once.c - gs_once_do: exactly once, everyone waits, misuse. */
#include <gosync/once.h>
#include <gosync/runtime.h>

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

static void *make_one(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
	return (void *)(intptr_t)1;
}

static gs_once_value_t ov = GS_ONCE_VALUE_INIT;

static void *value_caller(void *arg)
{
	(void)arg;
	gun_wait(&gun);
	CHECK(gs_once_value(&ov, make_one, NULL) == (void *)(intptr_t)1,
	      "wrong value");
	return NULL;
}

TEST(once_value_gives_the_first_value_to_every_caller)
{
	pthread_t t[10];

	gun_init(&gun, 10);
	for (int i = 0; i < 10; i++)
		t[i] = start_thread(value_caller, NULL);
	for (int i = 0; i < 10; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&calls) == 1, "fn ran %d times", atomic_load(&calls));
}

static gs_once_t try_once;
static gate_t try_entered = GATE_INIT, try_release = GATE_INIT;

static int fail_after_gate(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
	gate_open(&try_entered);
	gate_wait(&try_release);
	return EIO;
}

static int succeed(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
	return 0;
}

static void *try_caller(void *arg)
{
	*(int *)arg = gs_once_try(&try_once, fail_after_gate, NULL);
	return NULL;
}

static uint32_t once_state(gs_once_t *o)
{
	return __atomic_load_n(&o->state_, __ATOMIC_SEQ_CST) & 3;
}

TEST(once_try_failure_reaches_caller_and_waiters_and_the_next_call_retries)
{
	int r1 = -1, r2 = -1;
	pthread_t t1, t2;
	int64_t end = gs_now() + 10 * GS_SECOND;

	t1 = start_thread(try_caller, &r1);
	gate_wait(&try_entered);
	t2 = start_thread(try_caller, &r2);
	while (once_state(&try_once) != 2 && gs_now() < end)
		sched_yield(); /* the second caller is asleep, waiting */
	CHECK(once_state(&try_once) == 2, "no waiter joined");
	gate_open(&try_release);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK(r1 == EIO && r2 == EIO, "results %d and %d, expected EIO",
	      r1, r2);
	CHECK(atomic_load(&calls) == 1, "%d attempts", atomic_load(&calls));
	CHECK(gs_once_try(&try_once, succeed, NULL) == 0, "retry failed");
	CHECK(gs_once_try(&try_once, succeed, NULL) == 0, "done once failed");
	CHECK(atomic_load(&calls) == 2, "%d attempts, expected 2",
	      atomic_load(&calls));
}

static int exit_in_try(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
	pthread_exit(NULL);
}

static void *exit_try_caller(void *arg)
{
	gs_once_try(arg, exit_in_try, NULL);
	return NULL;
}

TEST(once_try_function_ending_its_thread_fails_with_eownerdead)
{
	gs_once_t o = GS_ONCE_INIT;
	pthread_t t = start_thread(exit_try_caller, &o);

	pthread_join(t, NULL);
	CHECK(once_state(&o) == 0, "the once is not ready for a retry");
	CHECK(gs_once_try(&o, succeed, NULL) == 0, "retry failed");
	CHECK(atomic_load(&calls) == 2, "%d attempts", atomic_load(&calls));
}

static int try_recurse(void *arg)
{
	return gs_once_try(arg, succeed, NULL);
}

static void call_try_recursive(void *arg)
{
	gs_once_t o = GS_ONCE_INIT;

	(void)arg;
	gs_once_try(&o, try_recurse, &o);
}

TEST(once_try_recursive_call_aborts)
{
	expect_death(call_try_recursive, NULL, "gs: once: recursive call");
}

static void *exit_making_value(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
	pthread_exit(NULL);
}

static void *exit_value_caller(void *arg)
{
	gs_once_value(arg, exit_making_value, NULL);
	return NULL;
}

TEST(once_value_function_ending_its_thread_leaves_null_and_never_reruns)
{
	gs_once_value_t v = GS_ONCE_VALUE_INIT;
	pthread_t t = start_thread(exit_value_caller, &v);

	pthread_join(t, NULL);
	CHECK(gs_once_value(&v, make_one, NULL) == NULL, "value not NULL");
	CHECK(atomic_load(&calls) == 1, "fn ran %d times", atomic_load(&calls));
}

TEST_MAIN()
