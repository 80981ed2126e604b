/*
 * bench_core.c - gosync's core primitives beside what a C programmer
 * would use instead: gs_mutex against pthread_mutex_t, gs_once against
 * pthread_once, and gs_go with a wait against pthread_create+join.
 *
 * Method, the one shared/reference/anchors.md used for the peers, so
 * that these rows sit beside its tables:
 *
 * - ns per operation, median (min) of 5 repetitions of about 250 ms
 *   each, after a calibration that grows the operation count until a
 *   run lasts a tenth of that and then scales it to the full length;
 * - two-thread rows follow Go's RunParallel rule: both threads draw
 *   operations from one shared count, in grains of about 100 us of work
 *   (at most 10,000 operations), and ns/op is wall time over all the
 *   operations of both threads; a shared count rather than a fixed half
 *   each keeps an unfair lock from stretching the run by starving one
 *   thread at the end;
 * - the clock is CLOCK_MONOTONIC; nothing is pinned; the gosync side and
 *   the peer run the same loop body, one after the other.
 *
 * The loops call the primitives through their out-of-line functions, so
 * nothing can be folded away, and an empty asm barrier in every
 * iteration keeps that true under link-time optimisation. The local
 * work of the work row is Go's (foo *= 2; foo /= 2, a hundred times),
 * with foo hidden from the optimiser after each step so that both steps
 * are computed in a register, as Go's compiler computes them.
 *
 * Limits: figures on a shared or throttled machine move by up to ~1.5x
 * between runs; trust min for the best case and the median for the
 * typical one, and compare ratios rather than absolute times. The
 * two-thread rows always use two threads, whatever the core count, as
 * the anchors did on their two cores.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gosync/mutex.h"
#include "gosync/once.h"
#include "gosync/runtime.h"
#include "gosync/waitgroup.h"

#define REPS_FULL       5
#define TARGET_FULL_NS  250000000.0
#define REPS_QUICK      1
#define TARGET_QUICK_NS 20000000.0

/* Calibration stops once a run reaches this share of the target. */
#define CALIB_SHARE 10.0

/* RunParallel's grain: about 100 us of operations, at most 10,000. */
#define GRAIN_NS  100000.0
#define GRAIN_MAX 10000

#define PAR_THREADS 2
#define WORK_ITERS  100
#define TASK_BATCH  10000

/* Keeps a loop iteration from being merged with its neighbours. */
#define BARRIER() __asm__ __volatile__("" ::: "memory")

/* Makes x opaque: the compiler must compute it and cannot predict it. */
#define HIDE(x) __asm__ __volatile__("" : "+r"(x))

/* Consumes x, so that the work that made it is not dead. */
#define USE(x) __asm__ __volatile__("" : : "r"(x))

struct bench {
	const char *name;
	int threads;
	/* The operation count is always a multiple of unit. */
	uint64_t unit;
	void (*body)(void *ctx, uint64_t n);
	void *ctx;
};

struct result {
	double median;
	double min;
	uint64_t n;
};

struct row {
	const char *workload;
	const struct bench *gs;
	const struct bench *peer;
};

struct par_run {
	const struct bench *b;
	uint64_t total;
	uint64_t grain;
	/* Apart from the rest: both threads hit it once per grain. */
	_Alignas(64) _Atomic uint64_t taken;
	_Alignas(64) _Atomic int ready;
	_Atomic int start;
	int64_t end[PAR_THREADS];
};

struct par_arg {
	struct par_run *run;
	int idx;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_core: %s: %s\n", what, strerror(err));
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int online_cores(void)
{
	cpu_set_t set;
	long n;

	/* The CPUs this process may run on, which is what nproc prints. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* Go's MutexWork body; foo lives on between calls of the lock. */
static inline void local_work(int *foo)
{
	int v = *foo;

	for (int j = 0; j < WORK_ITERS; j++) {
		v *= 2;
		HIDE(v);
		v /= 2;
		HIDE(v);
	}
	*foo = v;
}

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
		local_work(&foo);
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
		local_work(&foo);
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

static void task_noop(void *arg)
{
	(void)arg;
}

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

static void body_gs_wg(void *ctx, uint64_t n)
{
	gs_waitgroup_t *wg = ctx;

	while (n > 0) {
		uint64_t batch = n < TASK_BATCH ? n : TASK_BATCH;
		int err;

		for (uint64_t i = 0; i < batch; i++) {
			err = gs_waitgroup_go(wg, task_noop, NULL);
			if (err != 0)
				die("gs_waitgroup_go", err);
		}
		gs_waitgroup_wait(wg);
		n -= batch;
	}
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
				die("gs_go", err);
		}
		while (sem_wait(&c->done) != 0)
			if (errno != EINTR)
				die("sem_wait", errno);
		n -= batch;
	}
}

static void *thread_noop(void *arg)
{
	return arg;
}

static void body_pt_thread(void *ctx, uint64_t n)
{
	pthread_t t;
	int err;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		err = pthread_create(&t, NULL, thread_noop, NULL);
		if (err != 0)
			die("pthread_create", err);
		err = pthread_join(t, NULL);
		if (err != 0)
			die("pthread_join", err);
	}
}

/* The benchmarks and the rows that pair them. */

static const struct bench b_gs_mutex_1 = {"gs_mutex", 1, 1, body_gs_mutex,
                                          &mu_gs_one};
static const struct bench b_pt_mutex_1 = {"pthread_mutex", 1, 1, body_pt_mutex,
                                          &mu_pt_one};
static const struct bench b_gs_mutex_2 = {"gs_mutex", PAR_THREADS, 1,
                                          body_gs_mutex, &mu_gs_two};
static const struct bench b_pt_mutex_2 = {"pthread_mutex", PAR_THREADS, 1,
                                          body_pt_mutex, &mu_pt_two};
static const struct bench b_gs_work_2 = {"gs_mutex", PAR_THREADS, 1,
                                         body_gs_work, &mu_gs_work};
static const struct bench b_pt_work_2 = {"pthread_mutex", PAR_THREADS, 1,
                                         body_pt_work, &mu_pt_work};
static const struct bench b_gs_once_1 = {"gs_once", 1, 1, body_gs_once,
                                         &once_gs};
static const struct bench b_pt_once_1 = {"pthread_once", 1, 1, body_pt_once,
                                         &once_pt};
static const struct bench b_gs_once_2 = {"gs_once", PAR_THREADS, 1,
                                         body_gs_once, &once_gs};
static const struct bench b_pt_once_2 = {"pthread_once", PAR_THREADS, 1,
                                         body_pt_once, &once_pt};
static const struct bench b_gs_wg = {"gs_waitgroup_go+wait", 1, TASK_BATCH,
                                     body_gs_wg, &task_wg};
static const struct bench b_gs_go = {"gs_go+counter", 1, TASK_BATCH, body_gs_go,
                                     &task_counted};
static const struct bench b_pt_thread = {"pthread_create+join", 1, 1,
                                         body_pt_thread, NULL};

static const struct row rows[] = {
        {"mutex uncontended", &b_gs_mutex_1, &b_pt_mutex_1},
        {"mutex contended", &b_gs_mutex_2, &b_pt_mutex_2},
        {"mutex work", &b_gs_work_2, &b_pt_work_2},
        {"once done path", &b_gs_once_1, &b_pt_once_1},
        {"once done path", &b_gs_once_2, &b_pt_once_2},
        {"task waitgroup_go+wait", &b_gs_wg, &b_pt_thread},
        {"task go+counter+wait", &b_gs_go, &b_pt_thread},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Running one benchmark: one thread, or RunParallel's shared count. */

static void *par_worker(void *p)
{
	struct par_arg *a = p;
	struct par_run *r = a->run;

	/* Relaxed: main only counts arrivals; start carries the order. */
	atomic_fetch_add_explicit(&r->ready, 1, memory_order_relaxed);
	/* Acquire pairs with the release that starts the clock in par_time. */
	while (!atomic_load_explicit(&r->start, memory_order_acquire))
		sched_yield();
	/* Relaxed: the count hands out work and publishes nothing. */
	for (;;) {
		uint64_t first = atomic_fetch_add_explicit(
		        &r->taken, r->grain, memory_order_relaxed);
		uint64_t n;

		if (first >= r->total)
			break;
		n = r->total - first;
		if (n > r->grain)
			n = r->grain;
		r->b->body(r->b->ctx, n);
	}
	r->end[a->idx] = now_ns();
	return NULL;
}

static double par_time(const struct bench *b, uint64_t n, uint64_t grain)
{
	static struct par_run r;
	struct par_arg args[PAR_THREADS];
	pthread_t t[PAR_THREADS];
	int64_t start, end = 0;
	int err;

	r.b = b;
	r.total = n;
	r.grain = grain;
	atomic_store(&r.taken, 0);
	atomic_store(&r.ready, 0);
	atomic_store(&r.start, 0);
	for (int i = 0; i < PAR_THREADS; i++) {
		args[i].run = &r;
		args[i].idx = i;
		err = pthread_create(&t[i], NULL, par_worker, &args[i]);
		if (err != 0)
			die("pthread_create", err);
	}

	/* Thread creation stays outside the timed span. */
	while (atomic_load(&r.ready) < PAR_THREADS)
		sched_yield();
	start = now_ns();
	atomic_store_explicit(&r.start, 1, memory_order_release);
	for (int i = 0; i < PAR_THREADS; i++) {
		err = pthread_join(t[i], NULL);
		if (err != 0)
			die("pthread_join", err);
		/* Join orders the worker's end time before this read. */
		if (r.end[i] > end)
			end = r.end[i];
	}
	return (double)(end - start);
}

static double time_run(const struct bench *b, uint64_t n, double ns_per_op)
{
	double grain;
	int64_t start;

	if (b->threads > 1) {
		/* With no estimate yet, Go's first grain is 1 as well. */
		grain = ns_per_op > 0 ? GRAIN_NS / ns_per_op : 1;
		if (grain < 1)
			grain = 1;
		if (grain > GRAIN_MAX)
			grain = GRAIN_MAX;
		return par_time(b, n, (uint64_t)grain);
	}
	start = now_ns();
	b->body(b->ctx, n);
	return (double)(now_ns() - start);
}

static uint64_t round_up(double n, uint64_t unit)
{
	uint64_t k;

	if (n > 1e12)
		n = 1e12;
	k = (uint64_t)(n / (double)unit);
	if ((double)(k * unit) < n)
		k++;
	return k > 0 ? k * unit : unit;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct result measure(const struct bench *b, int reps, double target)
{
	double per[REPS_FULL], t, op = 0, want;
	uint64_t n = b->unit;
	struct result res;

	/* Calibrate, growing at most a hundredfold per step as Go does. */
	for (;;) {
		t = time_run(b, n, op);
		if (t < 1)
			t = 1;
		op = t / (double)n;
		if (t >= target / CALIB_SHARE)
			break;
		want = 1.2 * target / CALIB_SHARE / op;
		if (want > 100.0 * (double)n)
			want = 100.0 * (double)n;
		n = round_up(want, b->unit);
	}
	n = round_up(target / op, b->unit);

	for (int i = 0; i < reps; i++) {
		t = time_run(b, n, op);
		per[i] = t / (double)n;
	}
	qsort(per, (size_t)reps, sizeof(per[0]), cmp_double);
	res.median = per[reps / 2];
	res.min = per[0];
	res.n = n;
	return res;
}

/* Output: the table on stdout, and the same rows as JSON on request. */

static void fmt_num(char *buf, size_t len, double v)
{
	char digits[32];
	size_t nd, out = 0;

	if (v < 999.5) {
		snprintf(buf, len, "%.3g", v);
		return;
	}
	/* Four digits and more: whole nanoseconds, grouped by thousands. */
	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)(v + 0.5));
	nd = strlen(digits);
	for (size_t i = 0; i < nd && out + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	buf[out] = '\0';
}

static void fmt_pair(char *buf, size_t len, double median, double min)
{
	char a[32], b[32];

	fmt_num(a, sizeof(a), median);
	fmt_num(b, sizeof(b), min);
	snprintf(buf, len, "%s (%s)", a, b);
}

/* Ratios keep their trailing zeros, so that a column of them lines up. */
static void fmt_ratio(char *buf, size_t len, double r)
{
	if (r < 0.1)
		snprintf(buf, len, "%.3f", r);
	else if (r < 10)
		snprintf(buf, len, "%.2f", r);
	else
		snprintf(buf, len, "%.1f", r);
}

static void print_row(const struct row *r, const struct result *gs,
                      const struct result *peer)
{
	char g[80], p[80], q[80], a[32], b[32];

	fmt_pair(g, sizeof(g), gs->median, gs->min);
	fmt_pair(p, sizeof(p), peer->median, peer->min);
	fmt_ratio(a, sizeof(a), gs->median / peer->median);
	fmt_ratio(b, sizeof(b), gs->min / peer->min);
	snprintf(q, sizeof(q), "%s (%s)", a, b);
	printf("%-23s %dT  %-17s %-20s %-17s %s\n", r->workload, r->gs->threads,
	       g, r->peer->name, p, q);
	fflush(stdout);
}

static void json_side(FILE *f, const struct bench *b, const struct result *r)
{
	fprintf(f,
	        "{\"name\": \"%s\", \"median_ns\": %.6g, "
	        "\"min_ns\": %.6g, \"ops_per_rep\": %llu}",
	        b->name, r->median, r->min, (unsigned long long)r->n);
}

static int write_json(const char *path, int cores, int reps, double target,
                      const struct result *gs, const struct result *peer)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "bench_core: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(f,
	        "{\n  \"benchmark\": \"bench_core\",\n"
	        "  \"cores\": %d,\n  \"repetitions\": %d,\n"
	        "  \"target_ms\": %.6g,\n  \"rows\": [\n",
	        cores, reps, target / 1e6);
	for (size_t i = 0; i < NROWS; i++) {
		fprintf(f,
		        "    {\"workload\": \"%s\", \"threads\": %d,\n"
		        "     \"gosync\": ",
		        rows[i].workload, rows[i].gs->threads);
		json_side(f, rows[i].gs, &gs[i]);
		fprintf(f, ",\n     \"peer\": ");
		json_side(f, rows[i].peer, &peer[i]);
		fprintf(f,
		        ",\n     \"ratio_median\": %.6g, "
		        "\"ratio_min\": %.6g}%s\n",
		        gs[i].median / peer[i].median, gs[i].min / peer[i].min,
		        i + 1 < NROWS ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "bench_core: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * glibc takes its locks with plain loads and stores, not atomics, for as
 * long as the process has never had a second thread, and pthread_mutex
 * then costs a third of its real price. Every program that needs a lock
 * has threads, so one is started and joined before anything is timed,
 * which leaves glibc on its atomic path for good.
 */
static void go_multithreaded(void)
{
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, thread_noop, NULL);
	if (err != 0)
		die("pthread_create", err);
	err = pthread_join(t, NULL);
	if (err != 0)
		die("pthread_join", err);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bench_core [--quick] [--json FILE]\n"
	        "  --quick      one short repetition of each (a smoke test)\n"
	        "  --json FILE  also write the rows to FILE as JSON\n");
}

int main(int argc, char **argv)
{
	struct result gs[NROWS], peer[NROWS];
	const char *json = NULL;
	int reps = REPS_FULL, cores = online_cores();
	double target = TARGET_FULL_NS;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			reps = REPS_QUICK;
			target = TARGET_QUICK_NS;
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			json = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}

	if (sem_init(&task_counted.done, 0, 0) != 0)
		die("sem_init", errno);
	go_multithreaded();
	gs_once_do(&once_gs, once_fn_gs, NULL);
	pthread_once(&once_pt, once_fn_pt);

	printf("bench_core: ns/op, median (min) of %d repetition%s of ~%.0f "
	       "ms, on %d core%s\n",
	       reps, reps == 1 ? "" : "s", target / 1e6, cores,
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
			peer[i] = measure(rows[i].peer, reps, target);
		gs[i] = measure(rows[i].gs, reps, target);
		print_row(&rows[i], &gs[i], &peer[i]);
	}
	printf("\n(%d cores; the pthread_create+join figure is one "
	       "measurement, shown on both task rows)\n",
	       cores);

	if (json != NULL)
		return write_json(json, cores, reps, target, gs, peer);
	return 0;
}
