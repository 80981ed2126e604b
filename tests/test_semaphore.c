/* test_semaphore.c - gs_semaphore_t: order, cancellation, misuse. */
#include <gosync/runtime.h>
#include <gosync/semaphore.h>

#include "harness.h"
#include "introspect.h"

static int64_t held(gs_semaphore_t *s)
{
	return gs__semaphore_held(s);
}

static int queued(gs_semaphore_t *s)
{
	return gs__semaphore_waiters(s);
}

static void await_queued(gs_semaphore_t *s, int n)
{
	int64_t end = gs_now() + 10 * GS_SECOND;

	while (queued(s) != n && gs_now() < end)
		sched_yield();
	CHECK(queued(s) == n, "%d queued, expected %d", queued(s), n);
}

static gs_semaphore_t ws = GS_SEMAPHORE_INIT(2);

static void *weighted_user(void *arg)
{
	int64_t n = (int64_t)(intptr_t)arg;

	for (int i = 0; i < 5000; i++) {
		CHECK(gs_semaphore_acquire(&ws, NULL, n) == 0, "acquire");
		CHECK(held(&ws) <= 2, "held %lld of 2", (long long)held(&ws));
		gs_semaphore_release(&ws, n);
	}
	return NULL;
}

TEST(semaphore_weighted_users_finish_and_never_exceed_the_size)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		t[i] = start_thread(weighted_user, (void *)(intptr_t)(i + 1));
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(held(&ws) == 0, "weight left held");
}

TEST(semaphore_try_acquire_follows_the_free_weight)
{
	gs_semaphore_t s = GS_SEMAPHORE_INIT(2);
	bool want[] = {true, false, true, false};
	bool got[4];

	CHECK(gs_semaphore_acquire(&s, NULL, 1) == 0, "acquire");
	got[0] = gs_semaphore_try_acquire(&s, 1);
	got[1] = gs_semaphore_try_acquire(&s, 1);
	gs_semaphore_release(&s, 2);
	got[2] = gs_semaphore_try_acquire(&s, 1);
	CHECK(gs_semaphore_acquire(&s, NULL, 1) == 0, "acquire");
	got[3] = gs_semaphore_try_acquire(&s, 1);
	for (int i = 0; i < 4; i++)
		CHECK(got[i] == want[i], "step %d: %d", i, got[i]);
}

TEST(semaphore_acquire_under_a_timeout_follows_the_free_weight)
{
	gs_semaphore_t s = GS_SEMAPHORE_INIT(2);
	int want[] = {0, ETIMEDOUT, 0, ETIMEDOUT};
	int got[4];

	/*
	 * Steps that must succeed get a long timeout, so that a loaded
	 * machine cannot make their context expire before they start.
	 */
	for (int i = 0; i < 4; i++) {
		int64_t timeout =
			want[i] ? 10 * GS_MILLISECOND : 10 * GS_SECOND;
		gs_ctx_t *c;
		CHECK(gs_ctx_with_timeout(NULL, timeout, &c) == 0, "ctx");
		got[i] = gs_semaphore_acquire(&s, c, i % 2 ? 1 : 2);
		if (i == 1)
			gs_semaphore_release(&s, 2);
		gs_ctx_cancel(c);
		gs_ctx_unref(c);
	}
	for (int i = 0; i < 4; i++)
		CHECK(got[i] == want[i], "step %d: %d", i, got[i]);
}

struct acq {
	gs_semaphore_t *s;
	gs_ctx_t *ctx;
	int64_t n;
	int result;
	atomic_int done;
	atomic_int order;
};

static atomic_int served;

static void *acquirer(void *arg)
{
	struct acq *a = arg;

	a->result = gs_semaphore_acquire(a->s, a->ctx, a->n);
	atomic_store(&a->order, atomic_fetch_add(&served, 1) + 1);
	atomic_store(&a->done, 1);
	return NULL;
}

TEST(semaphore_request_too_big_blocks_nobody)
{
	gs_semaphore_t s = GS_SEMAPHORE_INIT(2);
	gs_ctx_t *c;
	struct acq big = {&s, NULL, 3, -1, 0, 0};
	pthread_t t;

	CHECK(gs_ctx_with_cancel(NULL, &c) == 0, "ctx");
	big.ctx = c;
	t = start_thread(acquirer, &big);
	test_sleep_ms(10);
	for (int i = 0; i < 6; i++) {
		CHECK(gs_semaphore_acquire(&s, NULL, 1) == 0, "acquire %d", i);
		gs_semaphore_release(&s, 1);
	}
	CHECK(!atomic_load(&big.done), "the big request returned");
	gs_ctx_cancel(c);
	pthread_join(t, NULL);
	CHECK(big.result == ECANCELED, "big request returned %d", big.result);
	CHECK(held(&s) == 0, "weight held");
	gs_ctx_unref(c);
}

TEST(semaphore_acquire_with_a_done_context_fails_even_when_free)
{
	gs_semaphore_t s = GS_SEMAPHORE_INIT(1);
	gs_ctx_t *c;

	CHECK(gs_ctx_with_cancel(NULL, &c) == 0, "ctx");
	gs_ctx_cancel(c);
	CHECK(gs_semaphore_acquire(&s, c, 1) == ECANCELED, "acquired");
	CHECK(gs_semaphore_try_acquire(&s, 1), "weight taken by a failure");
	gs_ctx_unref(c);
}

TEST(semaphore_cancelled_front_waiter_wakes_those_behind_it)
{
	gs_semaphore_t s = GS_SEMAPHORE_INIT(10);
	gs_ctx_t *c1;
	struct acq w1 = {&s, NULL, 2, -1, 0, 0}, w2 = {&s, NULL, 1, -1, 0, 0};
	pthread_t t1, t2;

	CHECK(gs_semaphore_acquire(&s, NULL, 9) == 0, "acquire 9");
	CHECK(gs_ctx_with_cancel(NULL, &c1) == 0, "ctx");
	w1.ctx = c1;
	t1 = start_thread(acquirer, &w1);
	await_queued(&s, 1);
	t2 = start_thread(acquirer, &w2);
	await_queued(&s, 2);
	gs_ctx_cancel(c1);
	pthread_join(t1, NULL);
	CHECK(w1.result == ECANCELED, "W1 returned %d", w1.result);
	CHECK(wait_for_int(&w2.done, 1, 1000) == 1,
	      "W2 still asleep though 1 is free");
	pthread_join(t2, NULL);
	CHECK(w2.result == 0, "W2 returned %d", w2.result);
	gs_semaphore_release(&s, 9);
	gs_semaphore_release(&s, 1);
	CHECK(gs_semaphore_try_acquire(&s, 10), "full weight not restored");
	gs_ctx_unref(c1);
}

struct race {
	gs_semaphore_t s;
	gs_ctx_t *ctx;
	gun_t gun;
	int result;
};

static void *race_acquire(void *arg)
{
	struct race *r = arg;

	r->result = gs_semaphore_acquire(&r->s, r->ctx, 1);
	return NULL;
}

static void *race_release(void *arg)
{
	struct race *r = arg;

	gun_wait(&r->gun);
	gs_semaphore_release(&r->s, 1);
	return NULL;
}

static void *race_cancel(void *arg)
{
	struct race *r = arg;

	gun_wait(&r->gun);
	gs_ctx_cancel(r->ctx);
	return NULL;
}

TEST(semaphore_grant_racing_cancel_never_loses_or_leaks_weight)
{
	for (int round = 0; round < 3000; round++) {
		struct race r = {GS_SEMAPHORE_INIT(1), NULL, {0}, -1};
		pthread_t a, b, c;

		CHECK(gs_semaphore_acquire(&r.s, NULL, 1) == 0, "hold");
		CHECK(gs_ctx_with_cancel(NULL, &r.ctx) == 0, "ctx");
		a = start_thread(race_acquire, &r);
		await_queued(&r.s, 1);
		gun_init(&r.gun, 2);
		b = start_thread(race_release, &r);
		c = start_thread(race_cancel, &r);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		pthread_join(c, NULL);
		CHECK(r.result == 0 || r.result == ECANCELED, "result %d",
		      r.result);
		if (r.result == 0)
			gs_semaphore_release(&r.s, 1); /* it owned the weight */
		CHECK(held(&r.s) == 0 && gs_semaphore_try_acquire(&r.s, 1),
		      "round %d: weight lost (result %d)", round, r.result);
		gs_ctx_unref(r.ctx);
	}
}

TEST(semaphore_large_front_waiter_holds_back_smaller_ones)
{
	gs_semaphore_t s = GS_SEMAPHORE_INIT(10);
	struct acq w1 = {&s, NULL, 10, -1, 0, 0}, w2 = {&s, NULL, 1, -1, 0, 0};
	pthread_t t1, t2;

	atomic_store(&served, 0);
	CHECK(gs_semaphore_acquire(&s, NULL, 5) == 0, "acquire 5");
	t1 = start_thread(acquirer, &w1);
	await_queued(&s, 1);
	t2 = start_thread(acquirer, &w2);
	await_queued(&s, 2);
	test_sleep_ms(200);
	CHECK(!atomic_load(&w2.done), "W2 barged past W1");
	CHECK(!gs_semaphore_try_acquire(&s, 1), "try_acquire barged");
	gs_semaphore_release(&s, 5);
	CHECK(wait_for_int(&w1.done, 1, 1000) == 1, "W1 not served");
	CHECK(!atomic_load(&w2.done), "W2 served beside W1's 10");
	gs_semaphore_release(&s, 10);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK(w1.order == 1 && w2.order == 2, "order %d %d", w1.order,
	      w2.order);
	gs_semaphore_release(&s, 1);
}

TEST(semaphore_too_big_request_times_out_while_others_go)
{
	gs_semaphore_t s = GS_SEMAPHORE_INIT(5);
	gs_ctx_t *c;
	struct acq w1 = {&s, NULL, 6, -1, 0, 0};
	pthread_t t;
	int64_t start = gs_now();

	CHECK(gs_ctx_with_timeout(NULL, 100 * GS_MILLISECOND, &c) == 0, "c");
	w1.ctx = c;
	t = start_thread(acquirer, &w1);
	test_sleep_ms(10);
	CHECK(gs_semaphore_acquire(&s, NULL, 1) == 0, "acquire 1");
	pthread_join(t, NULL);
	CHECK(w1.result == ETIMEDOUT, "W1 returned %d", w1.result);
	CHECK(gs_now() - start >= 100 * GS_MILLISECOND, "W1 gave up early");
	CHECK(held(&s) == 1, "held %lld", (long long)held(&s));
	gs_semaphore_release(&s, 1);
	gs_ctx_unref(c);
}

static void release_unheld(void *arg)
{
	gs_semaphore_t s = GS_SEMAPHORE_INIT(2);

	(void)arg;
	gs_semaphore_release(&s, 1);
}

TEST(semaphore_release_of_more_than_held_aborts)
{
	gs_semaphore_t s = GS_SEMAPHORE_INIT(2);

	expect_death(release_unheld, NULL,
		     "gs: semaphore: released more than held");
	CHECK(gs_semaphore_acquire(&s, NULL, 2) == 0, "acquire");
	gs_semaphore_release(&s, 1);
	gs_semaphore_release(&s, 1);
	CHECK(gs_semaphore_try_acquire(&s, 2), "full weight not back");
}

TEST_MAIN()
