/*
 * bench_runtime.c - what it costs to start work and to call it off:
 * gs_go, gs_waitgroup_go and gs_errgroup_go beside pthread_create+join,
 * the context tree's create and cancel on the workloads of Go's own
 * context benchmarks, and how soon an after function runs once its
 * context is cancelled.
 *
 * The method is harness.h's, the one shared/reference/anchors.md used
 * for the peers: ns/op, median (min) of repeated runs, two-thread rows
 * by Go's RunParallel rule. Rows named like a Go benchmark run that
 * benchmark's workload, so that bench/run.sh can set Go's figure, run
 * on the same machine by run_go.sh, beside them:
 *
 *	WaitGroupActuallyWait  sync: a new group per op, one task, wait
 *	errgroup.Go            x/sync: go a no-op task, wait once at the end
 *	CommonParentCancel     context: a child of one shared parent, a
 *	                       value looked up through it, cancelled, with
 *	                       Go's hundred divisions before and after
 *	CancelTree/depth=D/Root=R
 *	                       context: a chain of D cancellable children
 *	                       built under R, which is background (nothing
 *	                       cancelled), a cancellable root cancelled
 *	                       after the build (Open) or before it (Closed)
 *	WithCancelCancel       one child of background made and cancelled;
 *	                       Go has no upstream benchmark of it, so its
 *	                       Go side is bench/go's own
 *
 * C has no garbage collector, so every op also drops the references it
 * made; Go pays for the same memory in its collector, which runs
 * inside the timed span too. A chain is released through its deepest
 * context: each child holds its parent, so dropping the caller's
 * reference to the parent as soon as the child exists leaves the chain
 * alive, and registered in its root, exactly as long as Go's garbage
 * is reachable from the root's children.
 *
 * The task rows submit batches of TASK_BATCH no-op tasks from one
 * thread and wait for each batch, as the anchors' task table did; Go's
 * errgroup benchmark waits only once, after all b.N tasks, so its row
 * differs in that one respect. The peer is a thread created and joined
 * per task, measured before the first gs_go, since a process that has
 * pool threads about creates new ones more slowly.
 *
 * The latency rows are not loops but samples: a context with one after
 * function is cancelled, and the function, on its pool thread, stamps
 * the clock first thing; the sample is that stamp minus the time read
 * just before gs_ctx_cancel. CLOCK_MONOTONIC is one clock for every
 * CPU, so the difference is meaningful across threads. The same samples
 * also time the gs_ctx_cancel call itself, which is what the cancelling
 * thread pays. Warm samples follow each other at once, so that a pool
 * thread may still be spinning for work; idle ones sleep IDLE_GAP_NS
 * first, so the pool thread has gone to sleep and the cancel must wake
 * it. The canceller waits for each function with sched_yield, as a
 * thread with nothing else to do would.
 *
 * Limits: figures move by up to ~1.5x between runs on a shared machine;
 * the two-thread rows use two threads whatever the core count; a
 * latency sample includes the scheduler's delay in running the woken
 * thread, which on a loaded machine is most of it; warm samples fall
 * into two groups, the pool thread caught spinning or asleep, and their
 * median tells which group was the larger in that run.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gosync/context.h"
#include "gosync/errgroup.h"
#include "gosync/runtime.h"
#include "gosync/waitgroup.h"

#include "harness.h"

#define PAR_THREADS 2
#define TASK_BATCH  BENCH_TASK_BATCH

/* Go's CommonParentCancel divides this many times on each side. */
#define DIVIDE_ITERS 100

/* Latency samples in a full run; --quick takes a tenth. */
#define WARM_SAMPLES 10000
#define IDLE_SAMPLES 1000
#define IDLE_GAP_NS  1000000

/* The target for a tiny task, Go's go+WaitGroup in the anchors. */
#define TASK_TARGET_NS 305.0

enum section { SPAWN, CONTEXT, AFTER };

/* What a latency row reports of its samples. */
enum sample { FN_START, CANCEL_CALL };

struct row {
	const char *workload;
	enum section section;
	/* NULL for a latency row, which samples instead of looping. */
	const struct bench *gs;
	/* NULL where C has no peer. */
	const struct bench *peer;
	/* Latency rows: how long the canceller idles before each cancel. */
	int64_t gap_ns;
	enum sample sample;
	/* Judged on the tiny-task target line. */
	bool task_target;
};

static void fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", bench_prog, what);
	exit(1);
}

/* Spawning: batches of no-op tasks, then one wait for each batch. */

static void task_noop(void *arg)
{
	(void)arg;
}

static void task_done(void *arg)
{
	gs_waitgroup_done(arg);
}

static int task_ok(gs_ctx_t *ctx, void *arg)
{
	(void)ctx;
	(void)arg;
	return 0;
}

static gs_waitgroup_t task_wg = GS_WAITGROUP_INIT;

/* Go's wg.Add(1); go func() { wg.Done() }(), then wg.Wait(). */
static void body_go_wg(void *ctx, uint64_t n)
{
	gs_waitgroup_t *wg = ctx;

	while (n > 0) {
		uint64_t batch = n < TASK_BATCH ? n : TASK_BATCH;
		int err;

		for (uint64_t i = 0; i < batch; i++) {
			gs_waitgroup_add(wg, 1);
			err = gs_go(task_done, wg);
			if (err != 0)
				bench_die("gs_go", err);
		}
		gs_waitgroup_wait(wg);
		n -= batch;
	}
}


/* A group serves one job, so each batch gets a fresh zero group. */
static void body_errgroup(void *ctx, uint64_t n)
{
	(void)ctx;
	while (n > 0) {
		uint64_t batch = n < TASK_BATCH ? n : TASK_BATCH;
		gs_errgroup_t g = GS_ERRGROUP_INIT;
		int err;

		for (uint64_t i = 0; i < batch; i++) {
			err = gs_errgroup_go(&g, task_ok, NULL);
			if (err != 0)
				bench_die("gs_errgroup_go", err);
		}
		err = gs_errgroup_wait(&g);
		if (err != 0)
			bench_die("gs_errgroup_wait", err);
		gs_errgroup_destroy(&g);
		n -= batch;
	}
}

/* Go's WaitGroupActuallyWait: the group lives for one op, as Go's var. */
static void body_actually_wait(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		gs_waitgroup_t wg = GS_WAITGROUP_INIT;
		int err;

		err = gs_waitgroup_go(&wg, task_noop, NULL);
		if (err != 0)
			bench_die("gs_waitgroup_go", err);
		gs_waitgroup_wait(&wg);
		BARRIER();
	}
}


/* Contexts: Go's context benchmarks, and one child made and cancelled. */

static gs_ctx_t *new_child(gs_ctx_t *parent)
{
	gs_ctx_t *c;
	int err;

	err = gs_ctx_with_cancel(parent, &c);
	if (err != 0)
		bench_die("gs_ctx_with_cancel", err);
	return c;
}

/*
 * Go's x /= x + 1, DIVIDE_ITERS times. x stays 0, but hidden after each
 * step the compiler cannot know it and must divide every time, as Go's
 * compiler does.
 */
static inline int64_t divide_work(int64_t x)
{
	for (int i = 0; i < DIVIDE_ITERS; i++) {
		x /= x + 1;
		HIDE(x);
	}
	return x;
}

/* Go's keys are strings; here the address of a static is the key. */
static const char cp_key[] = "key";
static char cp_value[] = "value";

struct common_parent {
	/* A value context under background, as Go's root. */
	gs_ctx_t *root;
	/* A cancellable child of root: every op's parent. */
	gs_ctx_t *shared;
};

static struct common_parent common_parent;

static void body_common_parent(void *ctx, uint64_t n)
{
	const struct common_parent *cp = ctx;
	int64_t x = 0;

	for (uint64_t i = 0; i < n; i++) {
		gs_ctx_t *c = new_child(cp->shared);

		if (gs_ctx_value(c, cp_key) != cp_value)
			fail("gs_ctx_value: the shared root's value is lost");
		x = divide_work(x);
		gs_ctx_cancel(c);
		x = divide_work(x);
		gs_ctx_unref(c);
	}
	USE(x);
}

enum root { ROOT_BACKGROUND, ROOT_OPEN, ROOT_CLOSED };

struct tree {
	int depth;
	enum root root;
};

/*
 * Go's buildContextTree: depth cancellable contexts, each the child of
 * the last. Returns the deepest; its reference holds the whole chain.
 */
static gs_ctx_t *build_chain(gs_ctx_t *root, int depth)
{
	gs_ctx_t *c = root, *child;

	for (int d = 0; d < depth; d++) {
		child = new_child(c);
		if (c != root)
			gs_ctx_unref(c);
		c = child;
	}
	return c;
}

static void body_tree(void *ctx, uint64_t n)
{
	const struct tree *t = ctx;

	for (uint64_t i = 0; i < n; i++) {
		gs_ctx_t *root = gs_ctx_background(), *leaf;

		if (t->root != ROOT_BACKGROUND)
			root = new_child(root);
		if (t->root == ROOT_CLOSED)
			gs_ctx_cancel(root);
		leaf = build_chain(root, t->depth);
		if (t->root == ROOT_OPEN)
			gs_ctx_cancel(root);
		gs_ctx_unref(leaf);
		gs_ctx_unref(root);
		BARRIER();
	}
}

static void body_cancel_one(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		gs_ctx_t *c = new_child(gs_ctx_background());

		gs_ctx_cancel(c);
		gs_ctx_unref(c);
		BARRIER();
	}
}

/* After functions: registration and stop on a context never cancelled. */

static gs_ctx_t *after_ctx;

static void after_noop(void *arg)
{
	(void)arg;
}

static void body_after_stop(void *ctx, uint64_t n)
{
	gs_ctx_t *c = *(gs_ctx_t **)ctx;
	gs_ctx_after_t *h;
	int err;

	for (uint64_t i = 0; i < n; i++) {
		err = gs_ctx_after_func(c, after_noop, NULL, &h);
		if (err != 0)
			bench_die("gs_ctx_after_func", err);
		if (!gs_ctx_stop(h))
			fail("gs_ctx_stop: the function of a live context ran");
		BARRIER();
	}
}

/* Latency: one sample is one cancel and the start of its function. */

struct mark {
	/* The clock when the function began; 0 before. */
	_Atomic int64_t started;
	pthread_t canceller;
	/* Samples whose function ran on the cancelling thread itself. */
	int inline_runs;
};

static void after_mark(void *arg)
{
	struct mark *m = arg;
	int64_t t = bench_now_ns();

	if (pthread_equal(pthread_self(), m->canceller))
		m->inline_runs++;
	/* Release: pairs with the acquire in take_sample; the count too. */
	atomic_store_explicit(&m->started, t, memory_order_release);
}

/* One sample: returns cancel-to-start; *call gets the cancel call. */
static double take_sample(struct mark *m, int64_t gap_ns, double *call)
{
	struct timespec gap = {0, (long)gap_ns};
	gs_ctx_t *c = new_child(gs_ctx_background());
	int64_t t0, t1, back;
	int err;

	atomic_store_explicit(&m->started, 0, memory_order_relaxed);
	err = gs_ctx_after_func(c, after_mark, m, NULL);
	if (err != 0)
		bench_die("gs_ctx_after_func", err);
	if (gap_ns > 0)
		while (nanosleep(&gap, &gap) != 0 && errno == EINTR)
			;
	t0 = bench_now_ns();
	gs_ctx_cancel(c);
	back = bench_now_ns();
	/* Acquire: pairs with the release in after_mark. */
	while ((t1 = atomic_load_explicit(&m->started,
	                                  memory_order_acquire)) == 0)
		sched_yield();
	gs_ctx_unref(c);
	*call = (double)(back - t0);
	return (double)(t1 - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median (the upper middle, as elsewhere) and min; sorts s. */
static struct result summarise(double *s, int samples)
{
	struct result r;

	qsort(s, (size_t)samples, sizeof(*s), cmp_double);
	r.median = s[samples / 2];
	r.min = s[0];
	r.n = (uint64_t)samples;
	return r;
}

/* Both figures of one set of samples, for the two rows that show them. */
struct latency {
	struct result start;
	struct result call;
	bool measured;
};

static void measure_latency(int64_t gap_ns, int samples, struct latency *l,
                            int *inline_runs)
{
	struct mark m = {.canceller = pthread_self()};
	double *start = malloc((size_t)samples * sizeof(*start));
	double *call = malloc((size_t)samples * sizeof(*call));

	if (start == NULL || call == NULL)
		bench_die("malloc", ENOMEM);
	for (int i = 0; i < samples; i++)
		start[i] = take_sample(&m, gap_ns, &call[i]);
	l->start = summarise(start, samples);
	l->call = summarise(call, samples);
	l->measured = true;
	free(start);
	free(call);
	*inline_runs += m.inline_runs;
}

/* The benchmarks and the rows that use them. */

static const struct bench b_go_wg = {
        .name = "gs_go+waitgroup", .threads = 1, .unit = TASK_BATCH,
        .body = body_go_wg, .ctx = &task_wg};
static const struct bench b_wg_go = {
        .name = "gs_waitgroup_go+wait", .threads = 1, .unit = TASK_BATCH,
        .body = bench_body_waitgroup_go, .ctx = &task_wg};
static const struct bench b_errgroup = {
        .name = "gs_errgroup_go+wait", .threads = 1, .unit = TASK_BATCH,
        .body = body_errgroup, .ctx = NULL};
static const struct bench b_actually_wait = {
        .name = "gs_waitgroup_go+wait", .threads = PAR_THREADS, .unit = 1,
        .body = body_actually_wait, .ctx = NULL};
static const struct bench b_pt_thread_1 = {
        .name = "pthread_create+join", .threads = 1, .unit = 1,
        .body = bench_body_pthread_spawn, .ctx = NULL};
static const struct bench b_pt_thread_2 = {
        .name = "pthread_create+join", .threads = PAR_THREADS, .unit = 1,
        .body = bench_body_pthread_spawn, .ctx = NULL};
static const struct bench b_common_parent = {
        .name = "gs_ctx", .threads = PAR_THREADS, .unit = 1,
        .body = body_common_parent, .ctx = &common_parent};
static const struct bench b_cancel_one = {
        .name = "gs_ctx", .threads = 1, .unit = 1, .body = body_cancel_one,
        .ctx = NULL};
static const struct bench b_after_stop = {
        .name = "gs_ctx_after_func+stop", .threads = 1, .unit = 1,
        .body = body_after_stop, .ctx = &after_ctx};

/* Go's depths and roots, in the order Go runs them. */
static const struct tree trees[] = {
        {1, ROOT_BACKGROUND},    {1, ROOT_OPEN},    {1, ROOT_CLOSED},
        {10, ROOT_BACKGROUND},   {10, ROOT_OPEN},   {10, ROOT_CLOSED},
        {100, ROOT_BACKGROUND},  {100, ROOT_OPEN},  {100, ROOT_CLOSED},
        {1000, ROOT_BACKGROUND}, {1000, ROOT_OPEN}, {1000, ROOT_CLOSED},
};

#define TREE_BENCH(i)                                                          \
	{                                                                      \
		.name = "gs_ctx", .threads = 1, .unit = 1, .body = body_tree,  \
		.ctx = (void *)&trees[i]                                       \
	}

static const struct bench b_tree[] = {
        TREE_BENCH(0), TREE_BENCH(1), TREE_BENCH(2),  TREE_BENCH(3),
        TREE_BENCH(4), TREE_BENCH(5), TREE_BENCH(6),  TREE_BENCH(7),
        TREE_BENCH(8), TREE_BENCH(9), TREE_BENCH(10), TREE_BENCH(11),
};

/* A CancelTree row: Go's sub-benchmark name, and its bench in b_tree. */
#define TREE_ROW(name, i)                                                      \
	{"CancelTree/" name, CONTEXT, &b_tree[i], NULL, 0, FN_START, false}

static const struct row rows[] = {
        {"go+waitgroup", SPAWN, &b_go_wg, &b_pt_thread_1, 0, FN_START, true},
        {"waitgroup_go+wait", SPAWN, &b_wg_go, &b_pt_thread_1, 0, FN_START,
         true},
        {"errgroup.Go", SPAWN, &b_errgroup, &b_pt_thread_1, 0, FN_START, true},
        {"WaitGroupActuallyWait", SPAWN, &b_actually_wait, &b_pt_thread_2, 0,
         FN_START, false},
        {"CommonParentCancel", CONTEXT, &b_common_parent, NULL, 0, FN_START,
         false},
        TREE_ROW("depth=1/Root=Background", 0),
        TREE_ROW("depth=1/Root=OpenCanceler", 1),
        TREE_ROW("depth=1/Root=ClosedCanceler", 2),
        TREE_ROW("depth=10/Root=Background", 3),
        TREE_ROW("depth=10/Root=OpenCanceler", 4),
        TREE_ROW("depth=10/Root=ClosedCanceler", 5),
        TREE_ROW("depth=100/Root=Background", 6),
        TREE_ROW("depth=100/Root=OpenCanceler", 7),
        TREE_ROW("depth=100/Root=ClosedCanceler", 8),
        TREE_ROW("depth=1000/Root=Background", 9),
        TREE_ROW("depth=1000/Root=OpenCanceler", 10),
        TREE_ROW("depth=1000/Root=ClosedCanceler", 11),
        {"WithCancelCancel", CONTEXT, &b_cancel_one, NULL, 0, FN_START, false},
        {"after_func latency, warm", AFTER, NULL, NULL, 0, FN_START, false},
        {"cancel call itself, warm", AFTER, NULL, NULL, 0, CANCEL_CALL, false},
        {"after_func latency, idle 1 ms", AFTER, NULL, NULL, IDLE_GAP_NS,
         FN_START, false},
        {"cancel call itself, idle 1 ms", AFTER, NULL, NULL, IDLE_GAP_NS,
         CANCEL_CALL, false},
        {"after_func+stop", AFTER, &b_after_stop, NULL, 0, FN_START, false},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static int row_threads(const struct row *r)
{
	return r->gs != NULL ? r->gs->threads : 1;
}

/* Output: the tables on stdout, and the same rows as JSON on request. */

#define SPAWN_FMT "%-22s %-4s %-5s %-17s %-20s %-17s %s\n"
#define PLAIN_FMT "%-41s %-4s %-5s %s\n"

static void print_header(const struct bench_opts *o, int cores)
{
	printf("bench_runtime: ns/op, median (min) of %d repetition%s of "
	       "~%.0f ms, on %d core%s\n",
	       o->reps, o->reps == 1 ? "" : "s", o->target_ns / 1e6, cores,
	       cores == 1 ? "" : "s");
	printf("2T rows: %d threads, wall time / all operations of both "
	       "(Go's RunParallel)\n",
	       PAR_THREADS);
	printf("timed after a second thread has existed, so glibc locks "
	       "atomically\n");
	printf("a row named like a Go benchmark runs its workload; run.sh "
	       "sets Go's beside it\n");
}

static void print_section(enum section s, int samples)
{
	switch (s) {
	case SPAWN:
		printf("\nspawn + complete a no-op task, per task: batches of "
		       "%d from one thread,\nwaited for once a batch; "
		       "WaitGroupActuallyWait: per op a new group, one task, "
		       "wait\nratio: gosync / peer, median (min); below 1 = "
		       "gosync faster\n\n",
		       TASK_BATCH);
		printf(SPAWN_FMT, "workload", "thr", "cores", "gosync", "peer",
		       "peer ns/op", "ratio");
		break;
	case CONTEXT:
		printf("\ncontext create + cancel (Go's context benchmarks); "
		       "each op also drops its references\n\n");
		printf(PLAIN_FMT, "workload", "thr", "cores", "gosync");
		break;
	case AFTER:
		printf("\nafter functions: latency = ns from gs_ctx_cancel to "
		       "the function starting on\nits thread, median (min) of "
		       "%d samples (idle: %d); cancel call = ns that\n"
		       "gs_ctx_cancel itself took in the same samples; warm = "
		       "back to back, idle =\nasleep 1 ms before each cancel; "
		       "after_func+stop = ns per pair, live context\n\n",
		       samples, samples / (WARM_SAMPLES / IDLE_SAMPLES));
		printf(PLAIN_FMT, "workload", "thr", "cores", "gosync");
		break;
	}
}

static void print_row(const struct row *r, const struct result *gs,
                      const struct result *peer, int cores)
{
	char thr[16], cor[16], g[64], p[64], q[64];

	snprintf(thr, sizeof(thr), "%dT", row_threads(r));
	snprintf(cor, sizeof(cor), "%dc", cores);
	bench_fmt_pair(g, sizeof(g), gs);
	if (r->section == SPAWN) {
		bench_fmt_pair(p, sizeof(p), peer);
		bench_fmt_ratios(q, sizeof(q), gs, peer);
		printf(SPAWN_FMT, r->workload, thr, cor, g, r->peer->name, p,
		       q);
	} else {
		printf(PLAIN_FMT, r->workload, thr, cor, g);
	}
	fflush(stdout);
}

static void print_targets(const struct result *gs)
{
	char v[32];
	const char *sep = "";

	printf("target: tiny task <= %.0f ns (Go's go+WaitGroup, anchors; "
	       "TBB 128), medians:",
	       TASK_TARGET_NS);
	for (size_t i = 0; i < NROWS; i++) {
		if (!rows[i].task_target)
			continue;
		bench_fmt_num(v, sizeof(v), gs[i].median);
		printf("%s %s %s %s", sep, rows[i].workload, v,
		       gs[i].median <= TASK_TARGET_NS ? "met" : "missed");
		sep = ",";
	}
	printf("\ntarget: context create+cancel <= half of Go's time for the "
	       "same workload: run.sh\n        sets Go's figures, run on this "
	       "machine, beside these rows and judges it\n");
}

/*
 * The rows for bench_json_write. Spawn and context rows carry the name
 * of Go's benchmark of their workload, which is their own; a context
 * row's target is half of Go's time.
 */
static void record_row(const struct row *r, const struct result *gs,
                       const struct result *peer)
{
	static const char *const group[] = {"spawn", "context", "after"};
	struct bench_rec rec = {
	        .group = group[r->section],
	        .workload = r->workload,
	        .threads = row_threads(r),
	        .impl = r->gs != NULL ? r->gs->name : "gs_ctx_after_func",
	        .side = "gosync",
	        .go = r->section != AFTER ? r->workload : NULL,
	        .unit = r->gs != NULL ? "ns/op" : "ns",
	        .target_ns = r->task_target ? TASK_TARGET_NS : 0,
	        .target_go = r->section == CONTEXT ? 0.5 : 0,
	};

	bench_record(&rec, gs);
	if (r->peer == NULL)
		return;
	rec.impl = r->peer->name;
	rec.side = "pthreads";
	rec.target_ns = 0;
	bench_record(&rec, peer);
}

/* Measuring. */

/*
 * The peers run before anything starts a pool thread; a peer shared by
 * several rows is measured once.
 */
static void measure_peers(const struct bench_opts *o, struct result *peer)
{
	for (size_t i = 0; i < NROWS; i++) {
		size_t j;

		if (rows[i].peer == NULL) {
			memset(&peer[i], 0, sizeof(peer[i]));
			continue;
		}
		for (j = 0; j < i && rows[j].peer != rows[i].peer; j++)
			;
		if (j < i)
			peer[i] = peer[j];
		else
			peer[i] = bench_measure(rows[i].peer, o->reps,
			                        o->target_ns);
	}
}

/* The two latency rows of one gap share one set of samples. */
static struct result measure_row(const struct row *r,
                                 const struct bench_opts *o, int samples,
                                 int *inline_runs)
{
	static struct latency warm, idle;
	struct latency *l = r->gap_ns > 0 ? &idle : &warm;

	if (r->gs != NULL)
		return bench_measure(r->gs, o->reps, o->target_ns);
	if (r->gap_ns > 0)
		samples /= WARM_SAMPLES / IDLE_SAMPLES;
	if (!l->measured)
		measure_latency(r->gap_ns, samples, l, inline_runs);
	return r->sample == CANCEL_CALL ? l->call : l->start;
}

static void make_contexts(void)
{
	int err;

	err = gs_ctx_with_value(gs_ctx_background(), cp_key, cp_value,
	                        &common_parent.root);
	if (err != 0)
		bench_die("gs_ctx_with_value", err);
	common_parent.shared = new_child(common_parent.root);
	after_ctx = new_child(gs_ctx_background());
}

static void drop_contexts(void)
{
	gs_ctx_cancel(common_parent.shared);
	gs_ctx_unref(common_parent.shared);
	gs_ctx_unref(common_parent.root);
	gs_ctx_cancel(after_ctx);
	gs_ctx_unref(after_ctx);
}

int main(int argc, char **argv)
{
	static struct result gs[NROWS], peer[NROWS];
	struct bench_opts o;
	int cores = bench_cores(), rc, samples, inline_runs = 0;
	enum section at = SPAWN;

	rc = bench_parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	samples = o.reps < BENCH_REPS_FULL ? WARM_SAMPLES / 10 : WARM_SAMPLES;

	bench_go_multithreaded();
	make_contexts();

	print_header(&o, cores);
	measure_peers(&o, peer);
	for (size_t i = 0; i < NROWS; i++) {
		if (i == 0 || rows[i].section != at) {
			at = rows[i].section;
			print_section(at, samples);
		}
		gs[i] = measure_row(&rows[i], &o, samples, &inline_runs);
		print_row(&rows[i], &gs[i], &peer[i], cores);
		record_row(&rows[i], &gs[i], &peer[i]);
	}
	printf("\n(ns/op on %d cores, nproc; peer: a no-op thread created "
	       "and joined per task;\n WithCancelCancel's Go side is "
	       "bench/go's own benchmark, the other named\n rows' are Go's "
	       "upstream benchmarks",
	       cores);
	if (inline_runs > 0)
		printf("; %d latency sample%s ran on the cancelling thread",
		       inline_runs, inline_runs == 1 ? "" : "s");
	printf(")\n");
	print_targets(gs);
	drop_contexts();
	return bench_json_write(&o);
}
