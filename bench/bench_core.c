/*
 * bench_core.c - gosync's core primitives beside what a C programmer
 * would use instead: gs_mutex against pthread_mutex_t, gs_once against
 * pthread_once, and gs_go with a wait against pthread_create+join.
 *
 * The method is harness.h's, the one shared/reference/anchors.md used
 * for the peers, so that these rows sit beside its tables: the gosync
 * side and the peer run the same loop body, one after the other, and
 * the two-thread rows follow Go's RunParallel rule. The local work of
 * the work row is Go's, bench_local_work.
 *
 * Limits: the two-thread rows always use two threads, whatever the core
 * count, as the anchors did on their two cores.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gosync/mutex.h"
#include "gosync/once.h"
#include "gosync/runtime.h"
#include "gosync/waitgroup.h"

#include "harness.h"

#define PAR_THREADS 2
#define TASK_BATCH  BENCH_TASK_BATCH

struct row {
	const char *group;
	const char *workload;
	const struct bench *gs;
	const struct bench *peer;
	/* Go's benchmark of the workload, as run_go.sh names it, or NULL. */
	const char *go;
};

/* Mutex bodies. */

static _Alignas(64) gs_mutex_t mu_gs_one;
static _Alignas(64) gs_mutex_t mu_gs_two;
static _Alignas(64) gs_mutex_t mu_gs_work;
static _Alignas(64) pthread_mutex_t mu_pt_one = PTHREAD_MUTEX_INITIALIZER;
static _Alignas(64) pthread_mutex_t mu_pt_two = PTHREAD_MUTEX_INITIALIZER;
static _Alignas(64) pthread_mutex_t mu_pt_work = PTHREAD_MUTEX_INITIALIZER;

static void body_gs_mutex(void *ctx, uint64_t n)
{
	gs_mutex_t *m = ctx;

	for (uint64_t i = 0; i < n; i++) {
		gs_mutex_lock(m);
		gs_mutex_unlock(m);
		BARRIER();
	}
}

static void body_pt_mutex(void *ctx, uint64_t n)
{
	pthread_mutex_t *m = ctx;

	for (uint64_t i = 0; i < n; i++) {
		pthread_mutex_lock(m);
		pthread_mutex_unlock(m);
		BARRIER();
	}
}

static void body_gs_work(void *ctx, uint64_t n)
{
	gs_mutex_t *m = ctx;
	int foo = 0;

	for (uint64_t i = 0; i < n; i++) {
		gs_mutex_lock(m);
		gs_mutex_unlock(m);
		bench_local_work(&foo);
	}
	USE(foo);
}

static void body_pt_work(void *ctx, uint64_t n)
{
	pthread_mutex_t *m = ctx;
	int foo = 0;

	for (uint64_t i = 0; i < n; i++) {
		pthread_mutex_lock(m);
		pthread_mutex_unlock(m);
		bench_local_work(&foo);
	}
	USE(foo);
}

/* Once bodies: main calls each once first, so only the done path runs. */

static _Alignas(64) gs_once_t once_gs = GS_ONCE_INIT;
static _Alignas(64) pthread_once_t once_pt = PTHREAD_ONCE_INIT;

static void once_fn_gs(void *arg)
{
	(void)arg;
}

static void once_fn_pt(void)
{
}

static void body_gs_once(void *ctx, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		gs_once_do(ctx, once_fn_gs, NULL);
		BARRIER();
	}
}

static void body_pt_once(void *ctx, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		pthread_once(ctx, once_fn_pt);
		BARRIER();
	}
}

/* Task bodies: submit a batch of no-op tasks, then wait for all of it. */

struct counted {
	_Atomic uint64_t pending;
	sem_t done;
};

static gs_waitgroup_t task_wg = GS_WAITGROUP_INIT;
static struct counted task_counted;

static void task_count(void *arg)
{
	struct counted *c = arg;
	_Atomic uint64_t *pending = &c->pending;
	uint64_t before;

	/*
	 * acq_rel: each task releases its work, and the last one acquires
	 * all of it before its post hands it on to the waiting submitter.
	 */
	before = atomic_fetch_sub_explicit(pending, 1, memory_order_acq_rel);
	if (before == 1)
		sem_post(&c->done);
}


static void body_gs_go(void *ctx, uint64_t n)
{
	struct counted *c = ctx;

	while (n > 0) {
		uint64_t batch = n < TASK_BATCH ? n : TASK_BATCH;
		int err;

		/* Relaxed: gs_go synchronises before each task starts. */
		atomic_store_explicit(&c->pending, batch, memory_order_relaxed);
		for (uint64_t i = 0; i < batch; i++) {
			err = gs_go(task_count, c);
			if (err != 0)
				bench_die("gs_go", err);
		}
		while (sem_wait(&c->done) != 0)
			if (errno != EINTR)
				bench_die("sem_wait", errno);
		n -= batch;
	}
}


/* The benchmarks and the rows that pair them. */

static const struct bench b_gs_mutex_1 = {
        .name = "gs_mutex", .threads = 1, .unit = 1,
        .body = body_gs_mutex, .ctx = &mu_gs_one};
static const struct bench b_pt_mutex_1 = {
        .name = "pthread_mutex", .threads = 1, .unit = 1,
        .body = body_pt_mutex, .ctx = &mu_pt_one};
static const struct bench b_gs_mutex_2 = {
        .name = "gs_mutex", .threads = PAR_THREADS, .unit = 1,
        .body = body_gs_mutex, .ctx = &mu_gs_two};
static const struct bench b_pt_mutex_2 = {
        .name = "pthread_mutex", .threads = PAR_THREADS, .unit = 1,
        .body = body_pt_mutex, .ctx = &mu_pt_two};
static const struct bench b_gs_work_2 = {
        .name = "gs_mutex", .threads = PAR_THREADS, .unit = 1,
        .body = body_gs_work, .ctx = &mu_gs_work};
static const struct bench b_pt_work_2 = {
        .name = "pthread_mutex", .threads = PAR_THREADS, .unit = 1,
        .body = body_pt_work, .ctx = &mu_pt_work};
static const struct bench b_gs_once_1 = {
        .name = "gs_once", .threads = 1, .unit = 1,
        .body = body_gs_once, .ctx = &once_gs};
static const struct bench b_pt_once_1 = {
        .name = "pthread_once", .threads = 1, .unit = 1,
        .body = body_pt_once, .ctx = &once_pt};
static const struct bench b_gs_once_2 = {
        .name = "gs_once", .threads = PAR_THREADS, .unit = 1,
        .body = body_gs_once, .ctx = &once_gs};
static const struct bench b_pt_once_2 = {
        .name = "pthread_once", .threads = PAR_THREADS, .unit = 1,
        .body = body_pt_once, .ctx = &once_pt};
static const struct bench b_gs_wg = {
        .name = "gs_waitgroup_go+wait", .threads = 1, .unit = TASK_BATCH,
        .body = bench_body_waitgroup_go, .ctx = &task_wg};
static const struct bench b_gs_go = {
        .name = "gs_go+counter", .threads = 1, .unit = TASK_BATCH,
        .body = body_gs_go, .ctx = &task_counted};
static const struct bench b_pt_thread = {
        .name = "pthread_create+join", .threads = 1, .unit = 1,
        .body = bench_body_pthread_spawn, .ctx = NULL};

static const struct row rows[] = {
        {"mutex", "mutex uncontended", &b_gs_mutex_1, &b_pt_mutex_1, NULL},
        {"mutex", "mutex contended", &b_gs_mutex_2, &b_pt_mutex_2, "Mutex"},
        {"mutex", "mutex work", &b_gs_work_2, &b_pt_work_2, "MutexWork"},
        {"once", "once done path", &b_gs_once_1, &b_pt_once_1, NULL},
        {"once", "once done path", &b_gs_once_2, &b_pt_once_2, "Once"},
        {"task", "task waitgroup_go+wait", &b_gs_wg, &b_pt_thread, NULL},
        {"task", "task go+counter+wait", &b_gs_go, &b_pt_thread, NULL},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Output: the table on stdout, and the same rows as JSON on request. */

static void print_row(const struct row *r, const struct result *gs,
                      const struct result *peer)
{
	char g[80], p[80], q[80];

	bench_fmt_pair(g, sizeof(g), gs);
	bench_fmt_pair(p, sizeof(p), peer);
	bench_fmt_ratios(q, sizeof(q), gs, peer);
	printf("%-23s %dT  %-17s %-20s %-17s %s\n", r->workload, r->gs->threads,
	       g, r->peer->name, p, q);
	fflush(stdout);
}

static void record_row(const struct row *r, const struct result *gs,
                       const struct result *peer)
{
	struct bench_rec rec = {.group = r->group,
	                        .workload = r->workload,
	                        .threads = r->gs->threads,
	                        .impl = r->gs->name,
	                        .side = "gosync",
	                        .go = r->go};

	bench_record(&rec, gs);
	rec.impl = r->peer->name;
	rec.side = "pthreads";
	bench_record(&rec, peer);
}

int main(int argc, char **argv)
{
	struct result gs[NROWS], peer[NROWS];
	struct bench_opts o;
	int cores = bench_cores(), rc;

	rc = bench_parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;

	if (sem_init(&task_counted.done, 0, 0) != 0)
		bench_die("sem_init", errno);
	bench_go_multithreaded();
	gs_once_do(&once_gs, once_fn_gs, NULL);
	pthread_once(&once_pt, once_fn_pt);

	printf("bench_core: ns/op, median (min) of %d repetition%s of ~%.0f "
	       "ms, on %d core%s\n",
	       o.reps, o.reps == 1 ? "" : "s", o.target_ns / 1e6, cores,
	       cores == 1 ? "" : "s");
	printf("2T rows: %d threads, wall time / all operations of both "
	       "(Go's RunParallel)\n",
	       PAR_THREADS);
	printf("task rows: per task, batches of %d, one submitting thread\n",
	       TASK_BATCH);
	printf("timed after a second thread has existed, so glibc locks "
	       "atomically\n");
	printf("ratio: gosync / peer, median (min); below 1 = gosync "
	       "faster\n\n");
	printf("%-23s %-4s %-17s %-20s %-17s %s\n", "workload", "thr", "gosync",
	       "peer", "peer ns/op", "ratio");

	for (size_t i = 0; i < NROWS; i++) {
		/*
		 * The peer runs first: gs_go leaves idle pool threads behind
		 * for a while, and a process holding thousands of threads
		 * creates new ones several times slower, which would charge
		 * gosync's leftovers to pthread_create. A peer shared with the
		 * row above is measured only once.
		 */
		if (i > 0 && rows[i].peer == rows[i - 1].peer)
			peer[i] = peer[i - 1];
		else
			peer[i] = bench_measure(rows[i].peer, o.reps,
			                        o.target_ns);
		gs[i] = bench_measure(rows[i].gs, o.reps, o.target_ns);
		print_row(&rows[i], &gs[i], &peer[i]);
		record_row(&rows[i], &gs[i], &peer[i]);
	}
	printf("\n(%d cores; the pthread_create+join figure is one "
	       "measurement, shown on both task rows)\n",
	       cores);

	return bench_json_write(&o);
}
