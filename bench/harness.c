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

/* The JSON of gosync-bench/1, kept in memory until bench_json_write. */

struct kept_rec {
	struct bench_rec rec;
	struct result res;
};

struct kept_size {
	const char *primitive, *side, *type;
	size_t bytes;
};

static struct kept_rec *kept_recs;
static size_t n_recs, cap_recs;
static struct kept_size *kept_sizes;
static size_t n_sizes, cap_sizes;
static const char **kept_skips;
static size_t n_skips, cap_skips;

/* The results are the output: a program that cannot keep them stops. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap;

	if (need <= c)
		return p;
	c = c > 0 ? 2 * c : 64;
	p = realloc(p, c * elem);
	if (p == NULL)
		bench_die("results", ENOMEM);
	*cap = c;
	return p;
}

static const char *keep_str(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		bench_die("results", ENOMEM);
	return d;
}

void bench_record(const struct bench_rec *rec, const struct result *r)
{
	struct kept_rec *k;

	kept_recs = grow(kept_recs, &cap_recs, n_recs + 1, sizeof(*k));
	k = &kept_recs[n_recs++];
	k->rec = *rec;
	k->rec.group = keep_str(rec->group);
	k->rec.workload = keep_str(rec->workload);
	k->rec.impl = keep_str(rec->impl);
	k->rec.side = keep_str(rec->side);
	k->rec.go = keep_str(rec->go);
	k->rec.unit = keep_str(rec->unit);
	k->res = *r;
}

void bench_size(const char *primitive, const char *side, const char *type,
                size_t bytes)
{
	struct kept_size *k;

	kept_sizes = grow(kept_sizes, &cap_sizes, n_sizes + 1, sizeof(*k));
	k = &kept_sizes[n_sizes++];
	k->primitive = keep_str(primitive);
	k->side = keep_str(side);
	k->type = keep_str(type);
	k->bytes = bytes;
}

void bench_skip(const char *what)
{
	printf("%s: %s, skipped\n", bench_prog, what);
	fflush(stdout);
	kept_skips = grow(kept_skips, &cap_skips, n_skips + 1,
	                  sizeof(*kept_skips));
	kept_skips[n_skips++] = keep_str(what);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_rec(FILE *f, const struct kept_rec *k, bool last)
{
	const struct bench_rec *r = &k->rec;

	fprintf(f, "    {\"group\": ");
	json_str(f, r->group);
	fprintf(f, ", \"workload\": ");
	json_str(f, r->workload);
	fprintf(f, ", \"threads\": %d, \"implementation\": ", r->threads);
	json_str(f, r->impl);
	fprintf(f, ", \"side\": ");
	json_str(f, r->side);
	fprintf(f, ", \"median_ns\": %.6g, \"min_ns\": %.6g, \"ops\": %llu",
	        k->res.median, k->res.min, (unsigned long long)k->res.n);
	fprintf(f, ", \"unit\": ");
	json_str(f, r->unit != NULL ? r->unit : "ns/op");
	fprintf(f, ", \"go\": ");
	json_str(f, r->go);
	fprintf(f, ", \"target_ns\": %.6g, \"target_go\": %.6g}%s\n",
	        r->target_ns, r->target_go, last ? "" : ",");
}

static void json_size(FILE *f, const struct kept_size *k, bool last)
{
	fprintf(f, "    {\"primitive\": ");
	json_str(f, k->primitive);
	fprintf(f, ", \"side\": ");
	json_str(f, k->side);
	fprintf(f, ", \"type\": ");
	json_str(f, k->type);
	fprintf(f, ", \"bytes\": %zu}%s\n", k->bytes, last ? "" : ",");
}

int bench_json_write(const struct bench_opts *o)
{
	FILE *f;

	if (o->json == NULL)
		return 0;
	f = fopen(o->json, "w");
	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", bench_prog, o->json,
		        strerror(errno));
		return 1;
	}
	fprintf(f, "{\n  \"schema\": \"gosync-bench/1\",\n  \"program\": ");
	json_str(f, bench_prog);
	fprintf(f,
	        ",\n  \"cores\": %d,\n  \"repetitions\": %d,\n"
	        "  \"target_ms\": %.6g,\n  \"results\": [\n",
	        bench_cores(), o->reps, o->target_ns / 1e6);
	for (size_t i = 0; i < n_recs; i++)
		json_rec(f, &kept_recs[i], i + 1 == n_recs);
	fprintf(f, "  ],\n  \"sizes\": [\n");
	for (size_t i = 0; i < n_sizes; i++)
		json_size(f, &kept_sizes[i], i + 1 == n_sizes);
	fprintf(f, "  ],\n  \"skipped\": [\n");
	for (size_t i = 0; i < n_skips; i++) {
		fprintf(f, "    ");
		json_str(f, kept_skips[i]);
		fprintf(f, "%s\n", i + 1 < n_skips ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "%s: %s: %s\n", bench_prog, o->json,
		        strerror(errno));
		return 1;
	}
	return 0;
}
