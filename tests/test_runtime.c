/* test_runtime.c - the wait layer, the clock and gs_go's executor. */
#include <sched.h>

#include <gosync/context.h>
#include <gosync/runtime.h>
#include <gosync/waitgroup.h>

#include "harness.h"
#include "runtime/executor.h"
#include "runtime/wait.h"
#include "sync/sema.h"

TEST(wait_returns_at_once_when_the_word_differs)
{
	_Atomic uint32_t w = 1;

	CHECK(gs__wait(&w, 0, GS_NEVER) == EAGAIN, "did not see the change");
}

TEST(wait_times_out_at_its_deadline)
{
	_Atomic uint32_t w = 0;
	int64_t start = gs_now();
	int err = gs__wait(&w, 0, start + 20 * GS_MILLISECOND);

	while (err == 0) /* a spurious wakeup: sleep out the rest */
		err = gs__wait(&w, 0, start + 20 * GS_MILLISECOND);
	CHECK(err == ETIMEDOUT, "got %d", err);
	CHECK(gs_now() - start >= 20 * GS_MILLISECOND, "woke early");
	CHECK(gs__wait(&w, 0, start - GS_SECOND) == ETIMEDOUT,
	      "a past deadline slept");
}

static _Atomic uint32_t word;
static atomic_int sleeping;

static void *sleeper(void *arg)
{
	(void)arg;
	atomic_fetch_add(&sleeping, 1);
	while (atomic_load(&word) == 0)
		gs__wait(&word, 0, GS_NEVER);
	return NULL;
}

TEST(wake_after_a_change_reaches_every_sleeper)
{
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		t[i] = start_thread(sleeper, NULL);
	wait_for_int(&sleeping, 4, 5000);
	atomic_store(&word, 1);
	gs__wake(&word, GS__WAKE_ALL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}

TEST(now_is_monotonic_nanoseconds)
{
	int64_t a = gs_now();
	test_sleep_ms(20);
	int64_t b = gs_now();

	CHECK(b - a >= 20 * GS_MILLISECOND && b - a < 5 * GS_SECOND,
	      "20 ms measured as %lld ns", (long long)(b - a));
}

struct task {
	gs_waitgroup_t *wg;
	pthread_t caller;
	atomic_int ran_elsewhere;
};

static void note_thread(void *arg)
{
	struct task *t = arg;

	atomic_store(&t->ran_elsewhere,
		     !pthread_equal(pthread_self(), t->caller));
	gs_waitgroup_done(t->wg);
}

TEST(go_runs_the_task_on_another_thread)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	struct task t = {&wg, pthread_self(), 0};

	gs_waitgroup_add(&wg, 1);
	CHECK(gs_go(note_thread, &t) == 0, "gs_go failed");
	gs_waitgroup_wait(&wg);
	CHECK(atomic_load(&t.ran_elsewhere), "ran on the caller's thread");
}

static gate_t ping = GATE_INIT, pong = GATE_INIT;
static gs_waitgroup_t pair_wg;

static void ping_task(void *arg)
{
	(void)arg;
	gate_open(&ping);
	gate_wait(&pong);
	gs_waitgroup_done(&pair_wg);
}

static void pong_task(void *arg)
{
	(void)arg;
	gate_wait(&ping);
	gate_open(&pong);
	gs_waitgroup_done(&pair_wg);
}

TEST(go_tasks_that_wait_on_each_other_both_finish)
{
	gs_waitgroup_add(&pair_wg, 2);
	CHECK(gs_go(pong_task, NULL) == 0, "gs_go failed");
	CHECK(gs_go(ping_task, NULL) == 0, "gs_go failed");
	gs_waitgroup_wait(&pair_wg);
}

static gate_t gate = GATE_INIT;
static atomic_int through;

static void wait_gate(void *arg)
{
	gate_wait(&gate);
	atomic_fetch_add(&through, 1);
	gs_waitgroup_done(arg);
}

TEST(go_tasks_blocked_on_one_gate_all_finish_once_it_opens)
{
	enum { N = 300 };
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;

	gs_waitgroup_add(&wg, N);
	for (int i = 0; i < N; i++)
		CHECK(gs_go(wait_gate, &wg) == 0, "gs_go %d failed", i);
	gate_open(&gate);
	gs_waitgroup_wait(&wg);
	CHECK(atomic_load(&through) == N, "%d of %d through",
	      atomic_load(&through), N);
}

static void noop_done(void *arg)
{
	gs_waitgroup_done(arg);
}

static void noop_done_child(void *arg)
{
	(void)arg;
}

TEST(go_reuses_idle_threads)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	int threads, idle;
	uint64_t created;

	for (int i = 0; i < 1000; i++) {
		gs_waitgroup_add(&wg, 1);
		CHECK(gs_go(noop_done, &wg) == 0, "gs_go failed");
		gs_waitgroup_wait(&wg);
	}
	gs__executor_stats(&threads, &idle, &created);
	/*
	 * A task's thread is still inside the task when the next gs_go comes,
	 * so now and then a new thread starts; most tasks must reuse one.
	 */
	CHECK(created < 250, "1000 sequential tasks started %llu threads",
	      (unsigned long long)created);
}

TEST(go_idle_threads_retire)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	int threads = 0, idle;
	uint64_t created;
	int64_t end;

	gs__executor_set_idle_timeout(20 * GS_MILLISECOND);
	gs_waitgroup_add(&wg, 8);
	for (int i = 0; i < 8; i++)
		CHECK(gs_go(noop_done, &wg) == 0, "gs_go failed");
	gs_waitgroup_wait(&wg);
	end = gs_now() + 10 * GS_SECOND;
	do {
		test_sleep_ms(10);
		gs__executor_stats(&threads, &idle, &created);
	} while (threads > 0 && gs_now() < end);
	CHECK(threads == 0, "%d threads still alive", threads);
	gs_waitgroup_add(&wg, 1);
	CHECK(gs_go(noop_done, &wg) == 0, "gs_go after retirement failed");
	gs_waitgroup_wait(&wg);
}

static void exit_task(void *arg)
{
	gs_waitgroup_done(arg);
	pthread_exit(NULL);
}

TEST(go_task_ending_its_thread_leaves_the_pool_working)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	int threads, idle;
	uint64_t created;

	gs_waitgroup_add(&wg, 3);
	for (int i = 0; i < 3; i++)
		CHECK(gs_go(exit_task, &wg) == 0, "gs_go failed");
	gs_waitgroup_wait(&wg);
	gs_waitgroup_add(&wg, 100);
	for (int i = 0; i < 100; i++)
		CHECK(gs_go(noop_done, &wg) == 0, "gs_go failed");
	gs_waitgroup_wait(&wg);
	/* Once all are idle again, no dead thread may still be counted. */
	int64_t end = gs_now() + 10 * GS_SECOND;
	do {
		sched_yield();
		gs__executor_stats(&threads, &idle, &created);
	} while (threads != idle && gs_now() < end);
	CHECK(threads == idle, "%d threads but %d idle", threads, idle);
}

static _Atomic uint32_t sema = 1;
static int sema_inside, sema_total;

static void *sema_user(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		gs__sema_take(&sema, GS_NEVER);
		CHECK(++sema_inside == 1, "%d holders of a 1-permit semaphore",
		      sema_inside);
		sema_total++;
		sema_inside--;
		gs__sema_post(&sema, 1);
	}
	return NULL;
}

TEST(sema_with_one_permit_admits_one_thread_at_a_time)
{
	pthread_t t[10];

	for (int i = 0; i < 10; i++)
		t[i] = start_thread(sema_user, NULL);
	for (int i = 0; i < 10; i++)
		pthread_join(t[i], NULL);
	CHECK(sema_total == 10000 && atomic_load(&sema) == 1,
	      "total %d, permits %u", sema_total, atomic_load(&sema));
	CHECK(gs__sema_take(&sema, gs_now()) == 0, "the permit is gone");
	CHECK(gs__sema_take(&sema, gs_now() + GS_MILLISECOND) == ETIMEDOUT,
	      "took a permit that is not there");
}

#if defined(__SANITIZE_THREAD__)
#define TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN 1
#endif
#endif
#ifndef TSAN
#define TSAN 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifndef ASAN
#define ASAN 0
#endif
#define SANITIZED (TSAN || ASAN)

static void pin_to_one_cpu(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	CHECK(sched_setaffinity(0, sizeof one, &one) == 0, "setaffinity");
}

static gs_waitgroup_t first_half, both_done;

/* Each task arrives, then waits until both have: neither can finish
 * unless both run at once. */
static void wait_for_partner(void *arg)
{
	(void)arg;
	gs_waitgroup_done(&first_half);
	gs_waitgroup_wait(&first_half);
	gs_waitgroup_done(&both_done);
}

TEST(go_tasks_waiting_on_each_other_finish_on_one_core)
{
	pin_to_one_cpu(); /* before gosync first reads the CPU count */
	gs_waitgroup_add(&first_half, 2);
	gs_waitgroup_add(&both_done, 2);
	CHECK(gs_go(wait_for_partner, NULL) == 0, "gs_go");
	CHECK(gs_go(wait_for_partner, NULL) == 0, "gs_go");
	gs_waitgroup_wait(&both_done);
}

static gate_t foreign_gate = GATE_INIT;

static void block_on_foreign_gate(void *arg)
{
	gate_wait(&foreign_gate); /* a pthread wait gosync cannot see */
	gs_waitgroup_done(arg);
}

static void open_foreign_gate(void *arg)
{
	gate_open(&foreign_gate);
	gs_waitgroup_done(arg);
}

TEST(go_task_blocked_outside_gosync_does_not_stall_the_queue_on_one_core)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;

	pin_to_one_cpu();
	gs_waitgroup_add(&wg, 2);
	CHECK(gs_go(block_on_foreign_gate, &wg) == 0, "gs_go");
	CHECK(gs_go(open_foreign_gate, &wg) == 0, "gs_go");
	gs_waitgroup_wait(&wg);
}

static void sleep_long(void *arg)
{
	test_sleep_ms(500);
	gs_waitgroup_done(arg);
}

static atomic_llong quick_done_at;

static void quick(void *arg)
{
	atomic_store(&quick_done_at, gs_now());
	gs_waitgroup_done(arg);
}

TEST(go_tasks_sleeping_in_system_calls_do_not_hold_back_the_queue)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	int64_t start = gs_now();
	int n = 4; /* more sleepers than this machine has CPUs, mostly */

	gs_waitgroup_add(&wg, n + 1);
	for (int i = 0; i < n; i++)
		CHECK(gs_go(sleep_long, &wg) == 0, "gs_go");
	CHECK(gs_go(quick, &wg) == 0, "gs_go");
	gs_waitgroup_wait(&wg);
	CHECK(atomic_load(&quick_done_at) - start < 300 * GS_MILLISECOND,
	      "the quick task waited %lld ms behind the sleepers",
	      (long long)((atomic_load(&quick_done_at) - start) /
			  GS_MILLISECOND));
}

static gs_ctx_t *gate_ctx;
static atomic_int gate_passed, gate_arrived;

static void wait_gate_ctx(void *arg)
{
	atomic_fetch_add(&gate_arrived, 1);
	gs_ctx_wait(gate_ctx);
	atomic_fetch_add(&gate_passed, 1);
	gs_waitgroup_done(arg);
}

TEST(go_ten_thousand_tasks_blocked_on_one_gate_all_finish)
{
	int n = SANITIZED ? 1000 : 10000;
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;

	CHECK(gs_ctx_with_cancel(NULL, &gate_ctx) == 0, "ctx");
	gs_waitgroup_add(&wg, n);
	for (int i = 0; i < n; i++)
		CHECK(gs_go(wait_gate_ctx, &wg) == 0, "gs_go %d failed", i);
	/* Every task is inside, blocked on the gate, before it opens. */
	CHECK(wait_for_int(&gate_arrived, n, 60000) == n, "%d of %d arrived",
	      atomic_load(&gate_arrived), n);
	CHECK(atomic_load(&gate_passed) == 0, "a task passed a closed gate");
	gs_ctx_cancel(gate_ctx);
	gs_waitgroup_wait(&wg);
	CHECK(atomic_load(&gate_passed) == n, "%d of %d passed",
	      atomic_load(&gate_passed), n);
	gs_ctx_unref(gate_ctx);
}

TEST(go_burst_of_tiny_tasks_costs_a_queue_push_not_a_thread_each)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	int threads, idle;
	uint64_t created;

	for (int i = 0; i < 10000; i++)
		CHECK(gs_waitgroup_go(&wg, noop_done_child, NULL) == 0,
		      "go failed");
	gs_waitgroup_wait(&wg);
	gs__executor_stats(&threads, &idle, &created);
	CHECK(created < 100, "10000 tasks started %llu threads",
	      (unsigned long long)created);
}

static atomic_int leaves;
static gs_waitgroup_t tree_wg;

static void branch(void *arg)
{
	intptr_t depth = (intptr_t)arg;

	if (depth == 0) {
		atomic_fetch_add(&leaves, 1);
		return;
	}
	for (int i = 0; i < 2; i++)
		while (gs_waitgroup_go(&tree_wg, branch,
				       (void *)(depth - 1)) != 0)
			sched_yield();
}

TEST(go_tasks_that_spawn_tasks_never_deadlock_the_pool)
{
	intptr_t depth = SANITIZED ? 12 : 16;

	for (int i = 0; i < 10; i++)
		CHECK(gs_waitgroup_go(&tree_wg, branch, (void *)depth) == 0,
		      "go failed");
	gs_waitgroup_wait(&tree_wg);
	CHECK(atomic_load(&leaves) == 10 << depth, "%d leaves, expected %d",
	      atomic_load(&leaves), 10 << (int)depth);
}

static void child_spawns(void *arg)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;

	(void)arg;
	if (gs_waitgroup_go(&wg, noop_done_child, NULL) != 0)
		_exit(3);
	gs_waitgroup_wait(&wg);
	_exit(0);
}

TEST(go_works_in_a_child_process_after_fork)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	char buf[256];
	int status;

	if (TSAN) {
		/* ThreadSanitizer cannot start threads after such a fork. */
		printf("skipped under ThreadSanitizer\n");
		return;
	}
	gs_waitgroup_add(&wg, 1);
	CHECK(gs_go(noop_done, &wg) == 0, "gs_go"); /* the pool is running */
	gs_waitgroup_wait(&wg);
	status = run_child(child_spawns, NULL, buf, sizeof buf);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child's gs_go failed: status 0x%x", status);
}

static gs_ctx_t *cap_gate;

static void block_until_cap_gate(void *arg)
{
	gs_ctx_wait(cap_gate);
	gs_waitgroup_done(arg);
}

TEST(go_at_the_thread_cap_with_every_thread_blocked_returns_eagain)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;

	CHECK(gs_ctx_with_cancel(NULL, &cap_gate) == 0, "ctx");
	gs_go_set_max_threads(4);
	gs_waitgroup_add(&wg, 4);
	for (int i = 0; i < 4; i++)
		CHECK(gs_go(block_until_cap_gate, &wg) == 0, "gs_go %d", i);
	/* Wait until all four sleep in the gate. */
	int threads, idle;
	uint64_t created;
	int64_t end = gs_now() + 10 * GS_SECOND;
	do {
		sched_yield();
		gs__executor_stats(&threads, &idle, &created);
	} while ((threads < 4 || idle > 0) && gs_now() < end);
	test_sleep_ms(20);
	CHECK(gs_go(noop_done, &wg) == EAGAIN, "a fifth task was accepted");
	gs_ctx_cancel(cap_gate);
	gs_waitgroup_wait(&wg);
	gs_waitgroup_add(&wg, 1);
	CHECK(gs_go(noop_done, &wg) == 0, "gs_go after the gate opened");
	gs_waitgroup_wait(&wg);
	gs_ctx_unref(cap_gate);
}

TEST_MAIN()
