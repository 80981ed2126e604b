/*
 * bench_pool.c - gs_pool get+put beside what a C programmer would do
 * instead: malloc+free of the same size, and GLib's g_slice_alloc and
 * g_slice_free1 when GLib is installed.
 *
 * One operation takes an object, writes its first byte (so that each
 * side hands out memory that is used) and gives it back. Sizes 64 B
 * and 4 KiB; one thread, and two threads on one shared pool (Go's
 * RunParallel rule, harness.h). The pool's new_fn is malloc of the
 * size, and each thread's first get makes its object, before the clock
 * starts. Target: the pool cheaper than malloc+free at every row.
 *
 * bench/go/pool_test.go times Go's sync.Pool on the same workload
 * (PoolGetPut64, PoolGetPut4096), for run_go.sh.
 *
 * Limits: the pool side is its fast path, a thread's own cache, as a
 * get+put in a loop always is; a program whose gets and puts fall on
 * different threads pays the shared overflow's lock, which this does
 * not time. glibc's malloc of 64 B is its thread cache (tcache), its
 * own fast path; 4 KiB is above tcache's limit of 1,032 B by default
 * and takes the arena.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_GLIB
#include <glib.h>
#endif

#include "gosync/pool.h"

#include "harness.h"

#define PAR_THREADS 2

static void *new_64(void *arg)
{
	(void)arg;
	return malloc(64);
}

static void *new_4096(void *arg)
{
	(void)arg;
	return malloc(4096);
}

static gs_pool_t pool_64 = GS_POOL_INIT(new_64, NULL, NULL);
static gs_pool_t pool_4096 = GS_POOL_INIT(new_4096, NULL, NULL);
static size_t size_64 = 64, size_4096 = 4096;

static void body_pool(void *ctx, uint64_t n)
{
	gs_pool_t *p = ctx;

	for (uint64_t i = 0; i < n; i++) {
		char *o = gs_pool_get(p);

		o[0] = 0;
		gs_pool_put(p, o);
		BARRIER();
	}
}

static void body_malloc(void *ctx, uint64_t n)
{
	size_t size = *(size_t *)ctx;

	for (uint64_t i = 0; i < n; i++) {
		char *o = malloc(size);

		HIDE(o);
		o[0] = 0;
		free(o);
		BARRIER();
	}
}

#ifdef HAVE_GLIB
static void body_slice(void *ctx, uint64_t n)
{
	size_t size = *(size_t *)ctx;

	for (uint64_t i = 0; i < n; i++) {
		char *o = g_slice_alloc(size);

		HIDE(o);
		o[0] = 0;
		g_slice_free1(size, o);
		BARRIER();
	}
}
#endif

enum { GS, MALLOC, SLICE, SIDES };

static const char *const side_names[SIDES] = {"gs_pool", "malloc+free",
					      "g_slice"};

static const char *const side_families[SIDES] = {"gosync", "libc",
						 "GLib"};

struct row {
	const char *workload;
	int threads;
	/* Go's benchmark of the row, as bench/run_go.sh names it. */
	const char *go;
	gs_pool_t *pool;
	size_t *size;
};

static const struct row rows[] = {
	{"get+put 64 B", 1, "PoolGetPut64Serial", &pool_64, &size_64},
	{"get+put 64 B", PAR_THREADS, "PoolGetPut64Parallel", &pool_64,
	 &size_64},
	{"get+put 4 KiB", 1, "PoolGetPut4096Serial", &pool_4096, &size_4096},
	{"get+put 4 KiB", PAR_THREADS, "PoolGetPut4096Parallel", &pool_4096,
	 &size_4096},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void measure_row(const struct row *r, const struct bench_opts *o,
			struct result *res)
{
	void (*bodies[SIDES])(void *, uint64_t) = {
		body_pool, body_malloc,
#ifdef HAVE_GLIB
		body_slice,
#else
		NULL,
#endif
	};

	for (int s = 0; s < SIDES; s++) {
		struct bench b = {
			.name = side_names[s], .threads = r->threads,
			.unit = 1, .body = bodies[s],
			.ctx = s == GS ? (void *)r->pool : (void *)r->size};

		if (bodies[s] == NULL) {
			res[s] = (struct result){0};
			continue;
		}
		res[s] = bench_measure(&b, o->reps, o->target_ns);
	}
}

#define ROW_FMT "%-14s %-4s %-17s %-17s %-17s %-13s %s\n"

static void print_row(const struct row *r, const struct result *res)
{
	char thr[8], c[SIDES][80], q[2][80];

	snprintf(thr, sizeof(thr), "%dT", r->threads);
	for (int s = 0; s < SIDES; s++)
		if (res[s].n > 0)
			bench_fmt_pair(c[s], sizeof(c[s]), &res[s]);
		else
			snprintf(c[s], sizeof(c[s]), "-");
	bench_fmt_ratios(q[0], sizeof(q[0]), &res[GS], &res[MALLOC]);
	if (res[SLICE].n > 0)
		bench_fmt_ratios(q[1], sizeof(q[1]), &res[GS], &res[SLICE]);
	else
		snprintf(q[1], sizeof(q[1]), "-");
	printf(ROW_FMT, r->workload, thr, c[GS], c[MALLOC], c[SLICE], q[0],
	       q[1]);
	fflush(stdout);
}

/* Keeps a row's results for the JSON of bench_json_write. */
static void record_row(const struct row *r, const struct result *res)
{
	for (int s = 0; s < SIDES; s++) {
		struct bench_rec rec = {
			.group = "pool",
			.workload = r->workload,
			.threads = r->threads,
			.impl = side_names[s],
			.side = side_families[s],
			.go = r->go,
		};

		if (res[s].n > 0)
			bench_record(&rec, &res[s]);
	}
}

int main(int argc, char **argv)
{
	static struct result res[NROWS][SIDES];
	struct bench_opts o;
	int cores = bench_cores(), rc, met = 0;

	rc = bench_parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	bench_go_multithreaded();

	printf("bench_pool: ns/op, median (min) of %d repetition%s of ~%.0f "
	       "ms, on %d core%s\n",
	       o.reps, o.reps == 1 ? "" : "s", o.target_ns / 1e6, cores,
	       cores == 1 ? "" : "s");
	printf("one op: take an object, write its first byte, give it "
	       "back\n");
	printf("2T rows: %d threads on one pool, wall time / all "
	       "operations (Go's RunParallel)\n",
	       PAR_THREADS);
	printf("ratios: gs_pool / peer, median (min); below 1 = gs_pool "
	       "faster\n");
#ifndef HAVE_GLIB
	bench_skip("GLib: not installed");
#endif
	printf("\n" ROW_FMT, "workload", "thr", "gs_pool", "malloc+free",
	       "g_slice", "gs/malloc", "gs/g_slice");
	for (size_t i = 0; i < NROWS; i++) {
		measure_row(&rows[i], &o, res[i]);
		print_row(&rows[i], res[i]);
		record_row(&rows[i], res[i]);
		met += res[i][GS].median < res[i][MALLOC].median;
	}
	printf("\ntarget: get+put cheaper than malloc+free: %d of %zu rows "
	       "met (medians, %d cores)\n",
	       met, NROWS, cores);
	gs_pool_destroy(&pool_64);
	gs_pool_destroy(&pool_4096);

	return bench_json_write(&o);
}
