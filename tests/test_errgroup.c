/* test_errgroup.c - gs_errgroup_t: first error, cancellation, list. */
#include <gosync/errgroup.h>
#include <gosync/runtime.h>

#include "harness.h"

static int return_arg(gs_ctx_t *ctx, void *arg)
{
	(void)ctx;
	return (int)(intptr_t)arg;
}

TEST(errgroup_zero_group_wait_returns_the_first_error_so_far)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;
	int errs[] = {0, EPIPE, 0, ENOENT, 0};

	for (int i = 0; i < 5; i++) {
		void *arg = (void *)(intptr_t)errs[i];
		CHECK(gs_errgroup_go(&g, return_arg, arg) == 0, "go failed");
		int got = gs_errgroup_wait(&g);
		int want = i == 0 ? 0 : EPIPE;
		CHECK(got == want, "after task %d: got %d, want %d", i, got,
		      want);
	}
	CHECK(gs_errgroup_ctx(&g) == NULL, "zero group has a context");
	gs_errgroup_destroy(&g);
}

TEST(errgroup_with_ctx_is_done_after_wait_whatever_the_tasks_return)
{
	int cases[][2] = {{0, 0}, {0, 1}, {EPIPE, 1}, {EPIPE, 2}};

	for (int k = 0; k < 4; k++) {
		gs_errgroup_t g = GS_ERRGROUP_INIT;
		int n = cases[k][1], want = cases[k][0];

		CHECK(gs_errgroup_with_ctx(&g, NULL) == 0, "with_ctx");
		for (int i = 0; i < n; i++)
			gs_errgroup_go(&g, return_arg,
				       (void *)(intptr_t)(i == 0 ? want : 0));
		int got = gs_errgroup_wait(&g);
		CHECK(got == want, "case %d: got %d want %d", k, got, want);
		CHECK(gs_ctx_err(gs_errgroup_ctx(&g)) == ECANCELED,
		      "case %d: ctx not done after wait", k);
		CHECK(gs_ctx_cause(gs_errgroup_ctx(&g)) ==
			      (want ? want : ECANCELED),
		      "case %d: cause %d", k,
		      gs_ctx_cause(gs_errgroup_ctx(&g)));
		gs_errgroup_destroy(&g);
	}
}

static int wait_for_cancel(gs_ctx_t *ctx, void *arg)
{
	(void)arg;
	gs_ctx_wait(ctx);
	return ENOENT;
}

TEST(errgroup_first_error_cancels_the_context_with_it_as_cause)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;
	gs_errgroup_error_t list[4];

	CHECK(gs_errgroup_with_ctx(&g, NULL) == 0, "with_ctx");
	gs_errgroup_go(&g, wait_for_cancel, "b");
	gs_errgroup_go(&g, return_arg, (void *)(intptr_t)EPIPE);
	CHECK(gs_errgroup_wait(&g) == EPIPE, "wait did not return EPIPE");
	CHECK(gs_ctx_cause(gs_errgroup_ctx(&g)) == EPIPE &&
		      gs_ctx_err(gs_errgroup_ctx(&g)) == ECANCELED,
	      "cause %d err %d", gs_ctx_cause(gs_errgroup_ctx(&g)),
	      gs_ctx_err(gs_errgroup_ctx(&g)));
	CHECK(gs_errgroup_errors(&g, list, 4) == 2, "not two failures");
	CHECK(list[0].err == EPIPE && list[1].err == ENOENT &&
		      strcmp(list[1].arg, "b") == 0,
	      "failures out of order: %d %d", list[0].err, list[1].err);
	gs_errgroup_destroy(&g);
}

static gs_errgroup_t *parent_group;

static int cancelled_by_parent(gs_ctx_t *ctx, void *arg)
{
	(void)arg;
	gs_ctx_wait(ctx);
	return gs_ctx_err(ctx);
}

TEST(errgroup_parent_cancel_reaches_the_tasks)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;
	gs_ctx_t *parent;

	parent_group = &g;
	CHECK(gs_ctx_with_cancel(NULL, &parent) == 0, "parent");
	CHECK(gs_errgroup_with_ctx(&g, parent) == 0, "with_ctx");
	for (int i = 0; i < 3; i++)
		gs_errgroup_go(&g, cancelled_by_parent, NULL);
	gs_ctx_cancel(parent);
	CHECK(gs_errgroup_wait(&g) == ECANCELED, "wait did not see cancel");
	gs_errgroup_destroy(&g);
	gs_ctx_unref(parent);
}

TEST(errgroup_errors_lists_every_failure_in_the_order_they_failed)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;
	gs_errgroup_error_t list[8];
	int codes[] = {100, 0, 102, 103};
	size_t want = 0;

	/* One task at a time, each failure recorded before the next starts. */
	for (int i = 0; i < 4; i++) {
		int64_t end = test_now() + 10 * 1000000000ll;

		gs_errgroup_go(&g, return_arg, (void *)(intptr_t)codes[i]);
		if (codes[i] == 0)
			continue;
		want++;
		while (gs_errgroup_errors(&g, NULL, 0) < want &&
		       test_now() < end)
			sched_yield();
	}
	CHECK(gs_errgroup_wait(&g) == 100, "first error lost");
	CHECK(gs_errgroup_errors(&g, list, 8) == 3, "not three failures");
	CHECK(list[0].err == 100 && list[1].err == 102 && list[2].err == 103,
	      "order %d %d %d", list[0].err, list[1].err, list[2].err);
	CHECK((intptr_t)list[2].arg == 103, "arg not kept");
	CHECK(gs_errgroup_errors(&g, list, 1) == 3, "count depends on cap");
	gs_errgroup_destroy(&g);
}

TEST(errgroup_errors_keeps_thousands_of_failures)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;
	static gs_errgroup_error_t list[2000];
	int seen[2000] = {0};

	for (int i = 0; i < 2000; i++)
		gs_errgroup_go(&g, return_arg, (void *)(intptr_t)(1000 + i));
	CHECK(gs_errgroup_wait(&g) >= 1000, "no first error");
	CHECK(gs_errgroup_errors(&g, list, 2000) == 2000, "lost failures");
	for (int i = 0; i < 2000; i++) {
		int k = list[i].err - 1000;
		CHECK(k >= 0 && k < 2000 && !seen[k] &&
			      (intptr_t)list[i].arg == list[i].err,
		      "entry %d is %d", i, list[i].err);
		seen[k] = 1;
	}
	gs_errgroup_destroy(&g);
}

static int exit_thread(gs_ctx_t *ctx, void *arg)
{
	(void)ctx;
	(void)arg;
	pthread_exit(NULL);
}

TEST(errgroup_task_ending_its_thread_counts_as_eownerdead)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;

	CHECK(gs_errgroup_with_ctx(&g, NULL) == 0, "with_ctx");
	gs_errgroup_go(&g, exit_thread, NULL);
	CHECK(gs_errgroup_wait(&g) == EOWNERDEAD, "wait did not report it");
	CHECK(gs_ctx_cause(gs_errgroup_ctx(&g)) == EOWNERDEAD, "cause");
	gs_errgroup_destroy(&g);
}

static pthread_t blocked_thread;
static gate_t blocked = GATE_INIT;

static atomic_int wait_returned;

static int block_in_wait(gs_ctx_t *ctx, void *arg)
{
	(void)arg;
	blocked_thread = pthread_self();
	gate_open(&blocked);
	gs_ctx_wait(ctx); /* not a cancellation point: it returns */
	atomic_store(&wait_returned, 1);
	pthread_testcancel(); /* the pending cancel ends the thread here */
	return 0;
}

TEST(errgroup_task_cancelled_by_pthread_cancel_counts_as_eownerdead)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;
	gs_ctx_t *parent;

	CHECK(gs_ctx_with_cancel(NULL, &parent) == 0, "parent");
	CHECK(gs_errgroup_with_ctx(&g, parent) == 0, "with_ctx");
	gs_errgroup_go(&g, block_in_wait, NULL);
	gate_wait(&blocked);
	pthread_cancel(blocked_thread);
	gs_ctx_cancel(parent);
	CHECK(gs_errgroup_wait(&g) == EOWNERDEAD, "wait did not report it");
	CHECK(atomic_load(&wait_returned), "the wait did not return");
	gs_errgroup_destroy(&g);
	gs_ctx_unref(parent);
}

static gs_ctx_t *drain;
static atomic_int active, most;

static int block_until_drained(gs_ctx_t *ctx, void *arg)
{
	int n = atomic_fetch_add(&active, 1) + 1;
	int m = atomic_load(&most);

	(void)ctx;
	(void)arg;
	while (n > m && !atomic_compare_exchange_weak(&most, &m, n))
		;
	gs_ctx_wait(drain);
	atomic_fetch_sub(&active, 1);
	return 0;
}

TEST(errgroup_try_go_fails_at_the_limit_and_works_again_after_wait)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;

	CHECK(gs_ctx_with_cancel(NULL, &drain) == 0, "ctx");
	gs_errgroup_set_limit(&g, 42);
	for (int i = 0; i < 42; i++)
		CHECK(gs_errgroup_try_go(&g, block_until_drained, NULL),
		      "try_go %d failed under the limit", i);
	CHECK(!gs_errgroup_try_go(&g, block_until_drained, NULL),
	      "the 43rd try_go succeeded");
	gs_ctx_cancel(drain);
	CHECK(gs_errgroup_wait(&g) == 0, "wait");
	CHECK(gs_errgroup_try_go(&g, return_arg, NULL), "try_go after wait");
	gs_errgroup_wait(&g);
	gs_ctx_unref(drain);
	CHECK(gs_ctx_with_cancel(NULL, &drain) == 0, "ctx");
	gs_errgroup_set_limit(&g, 1);
	CHECK(gs_errgroup_try_go(&g, block_until_drained, NULL), "limit 1");
	CHECK(!gs_errgroup_try_go(&g, return_arg, NULL), "two under limit 1");
	gs_ctx_cancel(drain);
	gs_errgroup_wait(&g);
	gs_errgroup_set_limit(&g, 0);
	for (int i = 0; i < 1024; i++)
		CHECK(!gs_errgroup_try_go(&g, return_arg, NULL),
		      "try_go under limit 0 succeeded");
	gs_errgroup_destroy(&g);
	gs_ctx_unref(drain);
}

static int brief(gs_ctx_t *ctx, void *arg)
{
	int n = atomic_fetch_add(&active, 1) + 1;
	int m = atomic_load(&most);

	(void)ctx;
	(void)arg;
	while (n > m && !atomic_compare_exchange_weak(&most, &m, n))
		;
	sched_yield();
	atomic_fetch_sub(&active, 1);
	return 0;
}

TEST(errgroup_go_never_runs_more_tasks_than_the_limit)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;

	gs_errgroup_set_limit(&g, 10);
	for (int i = 0; i < 1025; i++)
		gs_errgroup_go(&g, brief, NULL);
	CHECK(gs_errgroup_wait(&g) == 0, "wait");
	CHECK(atomic_load(&most) <= 10 && atomic_load(&most) >= 1,
	      "%d tasks ran at once under a limit of 10", atomic_load(&most));
	gs_errgroup_destroy(&g);
}

static void change_limit_while_active(void *arg)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;

	(void)arg;
	CHECK(gs_ctx_with_cancel(NULL, &drain) == 0, "ctx");
	gs_errgroup_set_limit(&g, 2);
	gs_errgroup_go(&g, block_until_drained, NULL);
	gs_errgroup_set_limit(&g, 3);
}

static void unlimit_while_active(void *arg)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;

	(void)arg;
	CHECK(gs_ctx_with_cancel(NULL, &drain) == 0, "ctx");
	gs_errgroup_set_limit(&g, 10);
	gs_errgroup_go(&g, block_until_drained, NULL);
	gs_errgroup_set_limit(&g, -1);
}

TEST(errgroup_limit_changed_while_tasks_are_active_aborts)
{
	gs_errgroup_t g = GS_ERRGROUP_INIT;

	expect_death(change_limit_while_active, NULL,
		     "gs: errgroup: limit changed while 1 tasks are active");
	expect_death(unlimit_while_active, NULL,
		     "gs: errgroup: limit changed while 1 tasks are active");
	/* Tasks started with no limit do not count. */
	CHECK(gs_ctx_with_cancel(NULL, &drain) == 0, "ctx");
	gs_errgroup_go(&g, block_until_drained, NULL);
	gs_errgroup_set_limit(&g, 3);
	gs_ctx_cancel(drain);
	gs_errgroup_wait(&g);
	gs_errgroup_destroy(&g);
	gs_ctx_unref(drain);
}

static int nth_fails(gs_ctx_t *ctx, void *arg)
{
	(void)ctx;
	test_sleep_ms(1);
	return (intptr_t)arg == 4 ? EPIPE : 0;
}

TEST(errgroup_first_error_under_limit_one_never_leaves_wait_hanging)
{
	for (int round = 0; round < 200; round++) {
		gs_errgroup_t g = GS_ERRGROUP_INIT;

		CHECK(gs_errgroup_with_ctx(&g, NULL) == 0, "with_ctx");
		gs_errgroup_set_limit(&g, 1);
		for (intptr_t i = 1; i <= 7; i++)
			gs_errgroup_go(&g, nth_fails, (void *)i);
		CHECK(gs_errgroup_wait(&g) == EPIPE, "wait");
		CHECK(gs_ctx_err(gs_errgroup_ctx(&g)) == ECANCELED, "ctx");
		gs_errgroup_destroy(&g);
	}
}

static atomic_int b_ran;

static int mark_ran(gs_ctx_t *ctx, void *arg)
{
	(void)ctx;
	(void)arg;
	atomic_fetch_add(&b_ran, 1);
	return 0;
}

static void *go_under_limit_zero(void *arg)
{
	gs_errgroup_go(arg, mark_ran, NULL);
	return NULL;
}

TEST(errgroup_limit_zero_blocks_go_and_fails_try_go)
{
	static gs_errgroup_t g = GS_ERRGROUP_INIT; /* outlives the stuck go */
	pthread_t t;

	CHECK(gs_ctx_with_cancel(NULL, &drain) == 0, "ctx");
	gs_errgroup_set_limit(&g, 1);
	gs_errgroup_go(&g, block_until_drained, NULL);
	CHECK(!gs_errgroup_try_go(&g, mark_ran, NULL), "try_go at the limit");
	gs_ctx_cancel(drain);
	gs_errgroup_wait(&g);
	CHECK(gs_errgroup_try_go(&g, mark_ran, NULL), "try_go after drain");
	gs_errgroup_wait(&g);
	CHECK(atomic_load(&b_ran) == 1, "%d ran", atomic_load(&b_ran));
	gs_errgroup_set_limit(&g, 0);
	CHECK(!gs_errgroup_try_go(&g, mark_ran, NULL), "try_go at limit 0");
	t = start_thread(go_under_limit_zero, &g);
	test_sleep_ms(200);
	CHECK(atomic_load(&b_ran) == 1, "go ran under limit 0");
	/* The stuck go is left behind on purpose: limit 0 blocks for ever. */
	pthread_detach(t);
	gs_ctx_unref(drain);
}

static gs_errgroup_t nest_g;
static atomic_int nest_ran;

static int nested_child(gs_ctx_t *ctx, void *arg)
{
	(void)ctx;
	atomic_fetch_add(&nest_ran, 1);
	return (intptr_t)arg == 7 ? EPIPE : 0;
}

static int nested_parent(gs_ctx_t *ctx, void *arg)
{
	(void)ctx;
	for (intptr_t i = 0; i < 10; i++)
		gs_errgroup_go(&nest_g, nested_child,
			       (void *)((intptr_t)arg * 10 + i));
	return 0;
}

TEST(errgroup_tasks_that_start_tasks_are_all_waited_for)
{
	for (intptr_t i = 0; i < 5; i++)
		gs_errgroup_go(&nest_g, nested_parent, (void *)i);
	CHECK(gs_errgroup_wait(&nest_g) == EPIPE, "the nested failure lost");
	CHECK(atomic_load(&nest_ran) == 50, "%d of 50 nested tasks ran",
	      atomic_load(&nest_ran));
	gs_errgroup_destroy(&nest_g);
}

TEST_MAIN()
