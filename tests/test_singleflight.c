/* test_singleflight.c - gs_singleflight_t: sharing, errors, forget. */
#include <gosync/context.h>
#include <gosync/runtime.h>
#include <gosync/singleflight.h>

#include "harness.h"
#include "introspect.h"

static atomic_int executions, frees;

static void count_free(void *value, void *arg)
{
	(void)arg;
	atomic_fetch_add(&frees, 1);
	free(value);
}

static int make_bar(void *arg, void **value)
{
	(void)arg;
	atomic_fetch_add(&executions, 1);
	*value = strdup("bar");
	return 0;
}

TEST(singleflight_do_returns_the_value)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(count_free, NULL);
	gs_singleflight_result_t r;

	CHECK(gs_singleflight_do(&g, "key", 3, make_bar, NULL, &r) == 0, "err");
	CHECK(strcmp(r.value, "bar") == 0, "value %s", (char *)r.value);
	CHECK(!r.shared, "a lone caller's result is shared");
	gs_singleflight_release(&r);
	CHECK(atomic_load(&frees) == 1, "value freed %d times",
	      atomic_load(&frees));
	gs_singleflight_release(&r); /* a second release is harmless */
	gs_singleflight_destroy(&g);
}

static int fail_with_epipe(void *arg, void **value)
{
	(void)arg;
	(void)value;
	return EPIPE;
}

TEST(singleflight_do_returns_the_error_and_no_value)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(NULL, NULL);
	gs_singleflight_result_t r;

	CHECK(gs_singleflight_do(&g, "k", 1, fail_with_epipe, NULL, &r) ==
		      EPIPE,
	      "wrong error");
	CHECK(r.err == EPIPE && r.value == NULL, "err %d value %p", r.err,
	      r.value);
	gs_singleflight_release(&r);
	gs_singleflight_destroy(&g);
}

/* A flight whose leader waits until n followers have joined. */
struct flight {
	gs_singleflight_t g;
	int followers;
	int err;
	gun_t gun;
	atomic_int shared;
	atomic_int same;
};

static int lead_until_joined(void *arg, void **value)
{
	struct flight *f = arg;
	int64_t end = gs_now() + 10 * GS_SECOND;

	atomic_fetch_add(&executions, 1);
	while (gs__singleflight_dups(&f->g, "k", 1) < (size_t)f->followers &&
	       gs_now() < end)
		sched_yield();
	*value = f->err ? NULL : strdup("bar");
	return f->err;
}

static void *caller(void *arg)
{
	struct flight *f = arg;
	gs_singleflight_result_t r;

	gun_wait(&f->gun);
	int err = gs_singleflight_do(&f->g, "k", 1, lead_until_joined, f, &r);
	if (r.shared)
		atomic_fetch_add(&f->shared, 1);
	if (err == f->err && (f->err ? r.value == NULL
				     : strcmp(r.value, "bar") == 0))
		atomic_fetch_add(&f->same, 1);
	gs_singleflight_release(&r);
	return NULL;
}

static void fly(int n, int err)
{
	struct flight f = {GS_SINGLEFLIGHT_INIT(count_free, NULL), n - 1, err,
			   {0}, 0, 0};
	pthread_t t[16];

	atomic_store(&executions, 0);
	atomic_store(&frees, 0);
	gun_init(&f.gun, n);
	for (int i = 0; i < n; i++)
		t[i] = start_thread(caller, &f);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&executions) == 1, "%d callers: %d executions", n,
	      atomic_load(&executions));
	CHECK(atomic_load(&f.same) == n, "%d of %d got the leader's result",
	      atomic_load(&f.same), n);
	CHECK(atomic_load(&f.shared) == (n > 1 ? n : 0),
	      "%d of %d saw shared", atomic_load(&f.shared), n);
	CHECK(atomic_load(&frees) == (err ? 0 : 1), "value freed %d times",
	      atomic_load(&frees));
	gs_singleflight_destroy(&f.g);
}

TEST(singleflight_runs_once_for_concurrent_callers_and_shares_the_value)
{
	fly(10, 0);
	fly(2, 0);
	fly(1, 0);
}

TEST(singleflight_followers_get_the_leaders_error)
{
	fly(6, EPIPE);
}

TEST(singleflight_shared_flag_is_race_free_across_repetitions)
{
	for (int i = 0; i < 300; i++)
		fly(2 + i % 8, 0);
}

/* Forget: C1 runs f1 and is forgotten; C2 starts f2; C3 must join C2. */
static gs_singleflight_t fg;
static gate_t s1 = GATE_INIT, g1 = GATE_INIT, s2 = GATE_INIT,
	      g2 = GATE_INIT;

static int f1(void *arg, void **value)
{
	(void)arg;
	atomic_fetch_add(&executions, 1);
	gate_open(&s1);
	gate_wait(&g1);
	*value = (void *)1;
	return 0;
}

static int f2(void *arg, void **value)
{
	(void)arg;
	atomic_fetch_add(&executions, 1);
	gate_open(&s2);
	gate_wait(&g2);
	*value = (void *)2;
	return 0;
}

static int f3(void *arg, void **value)
{
	(void)arg;
	atomic_fetch_add(&executions, 1);
	*value = (void *)3;
	return 0;
}

struct forget_call {
	gs_singleflight_fn fn;
	gs_singleflight_result_t r;
};

static void *forget_caller(void *arg)
{
	struct forget_call *c = arg;

	gs_singleflight_do(&fg, "k", 1, c->fn, NULL, &c->r);
	return NULL;
}

TEST(singleflight_forget_starts_anew_and_the_old_call_keeps_the_new_entry)
{
	struct forget_call c1 = {f1, {0}}, c2 = {f2, {0}}, c3 = {f3, {0}};
	pthread_t t1, t2, t3;

	atomic_store(&executions, 0);
	t1 = start_thread(forget_caller, &c1);
	gate_wait(&s1);
	gs_singleflight_forget(&fg, "k", 1);
	t2 = start_thread(forget_caller, &c2);
	gate_wait(&s2);
	gate_open(&g1);
	pthread_join(t1, NULL);
	CHECK((intptr_t)c1.r.value == 1, "C1 got %p", c1.r.value);
	t3 = start_thread(forget_caller, &c3);
	int64_t end = gs_now() + 10 * GS_SECOND;
	while (gs__singleflight_dups(&fg, "k", 1) < 1 && gs_now() < end)
		sched_yield();
	gate_open(&g2);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	CHECK((intptr_t)c2.r.value == 2 && (intptr_t)c3.r.value == 2,
	      "C2 got %p, C3 got %p", c2.r.value, c3.r.value);
	CHECK(c3.r.shared && c2.r.shared, "C2/C3 not shared");
	CHECK(atomic_load(&executions) == 2, "%d executions",
	      atomic_load(&executions));
	gs_singleflight_release(&c1.r);
	gs_singleflight_release(&c2.r);
	gs_singleflight_release(&c3.r);
	gs_singleflight_destroy(&fg);
}

TEST(singleflight_next_call_after_a_flight_runs_anew)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(count_free, NULL);
	gs_singleflight_result_t r;

	atomic_store(&executions, 0);
	for (int i = 0; i < 3; i++) {
		gs_singleflight_do(&g, "key", 3, make_bar, NULL, &r);
		gs_singleflight_release(&r);
	}
	CHECK(atomic_load(&executions) == 3, "%d executions",
	      atomic_load(&executions));
	gs_singleflight_destroy(&g);
}

static struct flight exit_flight;

static int exit_when_joined(void *arg, void **value)
{
	lead_until_joined(arg, value); /* stores a value, then ends */
	pthread_exit(NULL);
}

static void *exit_caller(void *arg)
{
	gs_singleflight_result_t r;
	int err;

	gun_wait(&exit_flight.gun);
	err = gs_singleflight_do(&exit_flight.g, "k", 1, exit_when_joined,
				 &exit_flight, &r);
	CHECK(err == EOWNERDEAD && r.value == NULL, "follower got %d", err);
	gs_singleflight_release(&r);
	*(int *)arg = 1;
	return NULL;
}

TEST(singleflight_leader_ending_its_thread_gives_followers_eownerdead)
{
	int returned[5] = {0};
	pthread_t t[5];

	exit_flight.g =
		(gs_singleflight_t)GS_SINGLEFLIGHT_INIT(count_free, NULL);
	exit_flight.followers = 4;
	gun_init(&exit_flight.gun, 5);
	for (int i = 0; i < 5; i++)
		t[i] = start_thread(exit_caller, &returned[i]);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	int n = 0;
	for (int i = 0; i < 5; i++)
		n += returned[i];
	CHECK(n == 4, "%d followers returned, expected 4", n);
	CHECK(atomic_load(&frees) == 1, "the stored value was freed %d times",
	      atomic_load(&frees));
	gs_singleflight_destroy(&exit_flight.g);
}

TEST(singleflight_many_keys_grow_the_table)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(count_free, NULL);
	gs_singleflight_result_t r;
	char key[16];

	atomic_store(&frees, 0);
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(key, sizeof key, "k%d", i);
		CHECK(gs_singleflight_do(&g, key, (size_t)n, make_bar, NULL,
					 &r) == 0,
		      "key %d failed", i);
		gs_singleflight_release(&r);
	}
	CHECK(atomic_load(&frees) == 1000, "%d freed", atomic_load(&frees));
	gs_singleflight_destroy(&g);
}

static gs_singleflight_t rec_g;

static int do_again(void *arg, void **value)
{
	gs_singleflight_result_t r;

	(void)arg;
	(void)value;
	return gs_singleflight_do(&rec_g, "k", 1, make_bar, NULL, &r);
}

static void recursive_do(void *arg)
{
	gs_singleflight_result_t r;

	(void)arg;
	gs_singleflight_do(&rec_g, "k", 1, do_again, NULL, &r);
}

TEST(singleflight_recursive_do_on_the_same_key_aborts)
{
	expect_death(recursive_do, NULL,
		     "gs: singleflight: recursive call for the same key");
}

TEST(singleflight_do_async_gives_the_value)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(count_free, NULL);
	gs_singleflight_call_t *call;
	gs_singleflight_result_t r;

	atomic_store(&frees, 0);
	CHECK(gs_singleflight_do_async(&g, "key", 3, make_bar, NULL, &call) ==
		      0,
	      "do_async");
	CHECK(gs_singleflight_call_wait(call, NULL, &r) == 0, "wait");
	CHECK(strcmp(r.value, "bar") == 0 && !r.shared, "value %s shared %d",
	      (char *)r.value, r.shared);
	gs_singleflight_release(&r);
	CHECK(wait_for_int(&frees, 1, 5000) == 1, "freed %d times",
	      atomic_load(&frees));
	gs_singleflight_destroy(&g);
}

static gate_t f1_started = GATE_INIT, f1_release = GATE_INIT;

static int func1(void *arg, void **value)
{
	(void)arg;
	atomic_fetch_add(&executions, 1);
	gate_open(&f1_started);
	gate_wait(&f1_release);
	*value = strdup("func 1");
	return 0;
}

static int func2(void *arg, void **value)
{
	(void)arg;
	atomic_fetch_add(&executions, 1);
	*value = strdup("func 2");
	return 0;
}

TEST(singleflight_do_async_calls_on_one_key_share_the_first_execution)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(count_free, NULL);
	gs_singleflight_call_t *c1, *c2;
	gs_singleflight_result_t r1, r2;

	atomic_store(&executions, 0);
	atomic_store(&frees, 0);
	CHECK(gs_singleflight_do_async(&g, "k", 1, func1, NULL, &c1) == 0,
	      "first");
	gate_wait(&f1_started);
	CHECK(gs_singleflight_do_async(&g, "k", 1, func2, NULL, &c2) == 0,
	      "second");
	gate_open(&f1_release);
	CHECK(gs_singleflight_call_wait(c1, NULL, &r1) == 0, "wait 1");
	CHECK(gs_singleflight_call_wait(c2, NULL, &r2) == 0, "wait 2");
	CHECK(strcmp(r1.value, "func 1") == 0 &&
		      strcmp(r2.value, "func 1") == 0,
	      "got %s and %s", (char *)r1.value, (char *)r2.value);
	CHECK(r1.shared && r2.shared, "not shared");
	CHECK(atomic_load(&executions) == 1, "%d executions",
	      atomic_load(&executions));
	gs_singleflight_release(&r1);
	gs_singleflight_release(&r2);
	CHECK(wait_for_int(&frees, 1, 5000) == 1, "freed %d times",
	      atomic_load(&frees));
	gs_singleflight_destroy(&g);
}

static gate_t slow_release = GATE_INIT;

static int slow(void *arg, void **value)
{
	(void)arg;
	gate_wait(&slow_release);
	*value = strdup("late");
	return 0;
}

TEST(singleflight_waiter_that_gives_up_leaves_the_flight_running)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(count_free, NULL);
	gs_singleflight_call_t *quitter, *patient;
	gs_singleflight_result_t r;
	gs_ctx_t *ctx;

	atomic_store(&frees, 0);
	CHECK(gs_singleflight_do_async(&g, "k", 1, slow, NULL, &quitter) == 0,
	      "do_async");
	CHECK(gs_singleflight_do_async(&g, "k", 1, slow, NULL, &patient) == 0,
	      "do_async");
	CHECK(gs_ctx_with_timeout(NULL, 20 * GS_MILLISECOND, &ctx) == 0, "t");
	CHECK(gs_singleflight_call_wait(quitter, ctx, &r) == ETIMEDOUT,
	      "the quitter did not time out");
	CHECK(r.call_ == NULL && r.value == NULL, "gave up yet holds a result");
	gate_open(&slow_release);
	CHECK(gs_singleflight_call_wait(patient, NULL, &r) == 0 &&
		      strcmp(r.value, "late") == 0,
	      "the flight did not go on");
	gs_singleflight_release(&r);
	/* The leader's thread may hold the last reference a moment longer. */
	CHECK(wait_for_int(&frees, 1, 5000) == 1, "freed %d times",
	      atomic_load(&frees));
	gs_ctx_unref(ctx);
	gs_singleflight_destroy(&g);
}

static int exit_async(void *arg, void **value)
{
	(void)arg;
	(void)value;
	gate_wait(&f1_release);
	pthread_exit(NULL);
}

TEST(singleflight_async_leader_ending_its_thread_gives_eownerdead)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(NULL, NULL);
	gs_singleflight_call_t *c[5];
	gs_singleflight_result_t r;

	for (int i = 0; i < 5; i++)
		CHECK(gs_singleflight_do_async(&g, "k", 1, exit_async, NULL,
					       &c[i]) == 0,
		      "do_async %d", i);
	gate_open(&f1_release);
	for (int i = 0; i < 5; i++) {
		CHECK(gs_singleflight_call_wait(c[i], NULL, &r) == EOWNERDEAD,
		      "caller %d got %d", i, r.err);
		gs_singleflight_release(&r);
	}
	gs_singleflight_destroy(&g);
}

TEST(singleflight_call_wait_racing_the_finish_never_hangs_or_leaks)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(count_free, NULL);

	atomic_store(&frees, 0);
	for (int i = 0; i < 2000; i++) {
		gs_singleflight_call_t *c;
		gs_singleflight_result_t r;
		gs_ctx_t *ctx;

		int r0 = gs_singleflight_do_async(&g, "k", 1, make_bar, NULL,
						  &c);
		CHECK(r0 == 0, "do_async: %d", r0);
		CHECK(gs_ctx_with_timeout(NULL, rand() % 20000, &ctx) == 0,
		      "ctx");
		int err = gs_singleflight_call_wait(c, ctx, &r);
		CHECK(err == 0 || err == ETIMEDOUT, "got %d", err);
		gs_singleflight_release(&r);
		gs_ctx_unref(ctx);
	}
	/*
	 * The last flight may not have run yet: a call joins it, or runs
	 * one of its own, and returns only when it has finished. Then
	 * every execution's value is freed once its last user is gone.
	 */
	gs_singleflight_result_t last;
	CHECK(gs_singleflight_do(&g, "k", 1, make_bar, NULL, &last) == 0,
	      "the last call failed");
	gs_singleflight_release(&last);
	int64_t end = gs_now() + 5 * GS_SECOND;
	while (atomic_load(&frees) < atomic_load(&executions) &&
	       gs_now() < end)
		sched_yield();
	CHECK(atomic_load(&frees) == atomic_load(&executions),
	      "%d executions, %d frees", atomic_load(&executions),
	      atomic_load(&frees));
	gs_singleflight_destroy(&g);
}

/*
 * The recursion check is about fn's own thread: the thread that started
 * an async flight runs nothing of it, so its do on the same key joins.
 */
static gate_t join_release = GATE_INIT;

static int slow_join(void *arg, void **value)
{
	(void)arg;
	gate_wait(&join_release);
	*value = "joined";
	return 0;
}

static void *open_join_release(void *arg)
{
	gs_singleflight_t *g = arg;

	while (gs__singleflight_dups(g, "k", 1) < 1)
		sched_yield();
	gate_open(&join_release);
	return NULL;
}

TEST(singleflight_do_joins_an_async_flight_of_the_same_thread)
{
	gs_singleflight_t g = GS_SINGLEFLIGHT_INIT(NULL, NULL);
	gs_singleflight_call_t *c;
	gs_singleflight_result_t r, a;

	CHECK(gs_singleflight_do_async(&g, "k", 1, slow_join, NULL, &c) == 0,
	      "do_async");
	pthread_t t = start_thread(open_join_release, &g);
	CHECK(gs_singleflight_do(&g, "k", 1, make_bar, NULL, &r) == 0 &&
		      strcmp(r.value, "joined") == 0 && r.shared,
	      "the do did not join the async flight");
	pthread_join(t, NULL);
	gs_singleflight_release(&r);
	CHECK(gs_singleflight_call_wait(c, NULL, &a) == 0, "call_wait");
	gs_singleflight_release(&a);
	gs_singleflight_destroy(&g);
}

TEST_MAIN()
