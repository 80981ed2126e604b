/*
 * harness.c - calibration, timing and formatting for the benchmarks;
 * the method is described in harness.h.
 */
#include "harness.h"

#include <gosync/waitgroup.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Calibration stops once a run reaches this share of the target. */
#define CALIB_SHARE 10.0

/* RunParallel's grain: about 100 us of operations, at most 10,000. */
#define GRAIN_NS  100000.0
#define GRAIN_MAX 10000

const char *bench_prog = "bench";

struct par_run {
	const struct bench *b;
	uint64_t total;
	uint64_t grain;
	/* Apart from the rest: every thread hits it once per grain. */
	_Alignas(64) _Atomic uint64_t taken;
	_Alignas(64) _Atomic int ready;
	_Atomic int start;
	int64_t end[BENCH_MAX_THREADS];
};

struct par_arg {
	struct par_run *run;
	int idx;
};

void bench_die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", bench_prog, what, strerror(err));
	exit(1);
}

int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int bench_cores(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static void *thread_noop(void *arg)
{
	return arg;
}

void bench_body_pthread_spawn(void *ctx, uint64_t n)
{
	pthread_t t;
	int err;

	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		err = pthread_create(&t, NULL, thread_noop, NULL);
		if (err != 0)
			bench_die("pthread_create", err);
		err = pthread_join(t, NULL);
		if (err != 0)
			bench_die("pthread_join", err);
	}
}

void bench_go_multithreaded(void)
{
	bench_body_pthread_spawn(NULL, 1);
}

static void task_noop_shared(void *arg)
{
	(void)arg;
}

void bench_body_waitgroup_go(void *ctx, uint64_t n)
{
	gs_waitgroup_t *wg = ctx;

	while (n > 0) {
		uint64_t batch = n < BENCH_TASK_BATCH ? n : BENCH_TASK_BATCH;
		int err;

		for (uint64_t i = 0; i < batch; i++) {
			err = gs_waitgroup_go(wg, task_noop_shared, NULL);
			if (err != 0)
				bench_die("gs_waitgroup_go", err);
		}
		gs_waitgroup_wait(wg);
		n -= batch;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s [--quick] [--json FILE]\n"
	        "  --quick      one short repetition of each (a smoke test)\n"
	        "  --json FILE  also write the rows to FILE as JSON\n",
	        bench_prog);
}

int bench_parse_args(int argc, char **argv, struct bench_opts *o)
{
	const char *slash;

	if (argc > 0 && argv[0] != NULL) {
		slash = strrchr(argv[0], '/');
		bench_prog = slash != NULL ? slash + 1 : argv[0];
	}
	o->reps = BENCH_REPS_FULL;
	o->target_ns = BENCH_TARGET_FULL_NS;
	o->json = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			o->reps = BENCH_REPS_QUICK;
			o->target_ns = BENCH_TARGET_QUICK_NS;
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			o->json = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	return -1;
}

/* Running one benchmark: one thread, or a team started together. */

static void *par_worker(void *p)
{
	struct par_arg *a = p;
	struct par_run *r = a->run;
	const struct bench *b = r->b;
	void *ctx = (char *)b->ctx + (size_t)a->idx * b->stride;

	/* Relaxed: main only counts arrivals; start carries the order. */
	atomic_fetch_add_explicit(&r->ready, 1, memory_order_relaxed);
	/* Acquire pairs with the release that starts the clock in par_time. */
	while (!atomic_load_explicit(&r->start, memory_order_acquire))
		sched_yield();
	if (b->each) {
		b->body(ctx, r->total);
		r->end[a->idx] = bench_now_ns();
		return NULL;
	}
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
		b->body(ctx, n);
	}
	r->end[a->idx] = bench_now_ns();
	return NULL;
}

static double par_time(const struct bench *b, uint64_t n, uint64_t grain)
{
	static struct par_run r;
	struct par_arg args[BENCH_MAX_THREADS];
	pthread_t t[BENCH_MAX_THREADS];
	int64_t start, end = 0;
	int err;

	r.b = b;
	r.total = n;
	r.grain = grain;
	atomic_store(&r.taken, 0);
	atomic_store(&r.ready, 0);
	atomic_store(&r.start, 0);
	for (int i = 0; i < b->threads; i++) {
		args[i].run = &r;
		args[i].idx = i;
		err = pthread_create(&t[i], NULL, par_worker, &args[i]);
		if (err != 0)
			bench_die("pthread_create", err);
	}

	/* Thread creation stays outside the timed span. */
	while (atomic_load(&r.ready) < b->threads)
		sched_yield();
	start = bench_now_ns();
	atomic_store_explicit(&r.start, 1, memory_order_release);
	for (int i = 0; i < b->threads; i++) {
		err = pthread_join(t[i], NULL);
		if (err != 0)
			bench_die("pthread_join", err);
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

	if (b->before != NULL)
		b->before(b->ctx);
	if (b->prepare != NULL)
		b->prepare(b->ctx, n);
	if (b->threads > 1) {
		/* With no estimate yet, Go's first grain is 1 as well. */
		grain = ns_per_op > 0 ? GRAIN_NS / ns_per_op : 1;
		if (grain < 1)
			grain = 1;
		if (grain > GRAIN_MAX)
			grain = GRAIN_MAX;
		return par_time(b, n, (uint64_t)grain);
	}
	start = bench_now_ns();
	b->body(b->ctx, n);
	return (double)(bench_now_ns() - start);
}

static uint64_t round_up(const struct bench *b, double n)
{
	uint64_t k, unit = b->unit;

	if (n > 1e12)
		n = 1e12;
	k = (uint64_t)(n / (double)unit);
	if ((double)(k * unit) < n)
		k++;
	if (b->max_n != 0 && k * unit > b->max_n)
		k = b->max_n / unit;
	return k > 0 ? k * unit : unit;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct result bench_measure(const struct bench *b, int reps, double target)
{
	double per[BENCH_REPS_FULL], t, op = 0, want;
	uint64_t n = b->unit;
	struct result res;

	if (reps > BENCH_REPS_FULL)
		reps = BENCH_REPS_FULL;
	if (b->threads > BENCH_MAX_THREADS)
		bench_die(b->name, EINVAL);

	/* Calibrate, growing at most a hundredfold per step as Go does. */
	for (;;) {
		t = time_run(b, n, op);
		if (t < 1)
			t = 1;
		op = t / (double)n;
		if (t >= target / CALIB_SHARE)
			break;
		if (b->max_n != 0 && n + b->unit > b->max_n)
			break;
		want = 1.2 * target / CALIB_SHARE / op;
		if (want > 100.0 * (double)n)
			want = 100.0 * (double)n;
		n = round_up(b, want);
	}
	n = round_up(b, target / op);

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

void bench_fmt_num(char *buf, size_t len, double v)
{
	char digits[32];
	size_t nd, out = 0;

	if (v < 999.5) {
		snprintf(buf, len, "%.3g", v);
		return;
	}
	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)(v + 0.5));
	nd = strlen(digits);
	for (size_t i = 0; i < nd && out + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	buf[out] = '\0';
}

void bench_fmt_pair(char *buf, size_t len, const struct result *r)
{
	char a[32], b[32];

	bench_fmt_num(a, sizeof(a), r->median);
	bench_fmt_num(b, sizeof(b), r->min);
	snprintf(buf, len, "%s (%s)", a, b);
}

void bench_fmt_ratio(char *buf, size_t len, double r)
{
	if (r < 0.1)
		snprintf(buf, len, "%.3f", r);
	else if (r < 10)
		snprintf(buf, len, "%.2f", r);
	else
		snprintf(buf, len, "%.1f", r);
}

void bench_fmt_ratios(char *buf, size_t len, const struct result *a,
                      const struct result *b)
{
	char m[32], n[32];

	bench_fmt_ratio(m, sizeof(m), a->median / b->median);
	bench_fmt_ratio(n, sizeof(n), a->min / b->min);
	snprintf(buf, len, "%s (%s)", m, n);
}

void bench_json_side(FILE *f, const char *name, const struct result *r)
{
	fprintf(f,
	        "{\"name\": \"%s\", \"median_ns\": %.6g, "
	        "\"min_ns\": %.6g, \"ops_per_rep\": %llu}",
	        name, r->median, r->min, (unsigned long long)r->n);
}
