/*
 * map_bench.c - the meetup talk's map example: store, delete and load
 * on gosync's gs_map beside the map a C programmer writes by hand, a
 * hash table behind a pthread_rwlock_t (bench/ctable.c), one thread,
 * with a small table on stdout and a bar chart drawn by gnuplot.
 *
 *	map_bench [KEYS [PNG]]      (defaults: 100000, map-bench.png)
 *
 * Each pass stores KEYS random keys into an empty map, loads them all
 * in another random order, then deletes them all in that order; each
 * figure is the best of PASSES passes, in ns per operation. This is a
 * reader's example, not the benchmark: bench/bench_map runs these
 * workloads (and many more) against every peer with repeated, longer
 * runs. Without gnuplot on PATH the chart is skipped with a line
 * saying so.
 */
#include <gosync/map.h>

#include "ctable.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PASSES 3

enum { STORE, DELETE, LOAD, NOPS };

static const char *const op_name[NOPS] = {"store", "delete", "load"};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A fixed-seed generator, so that every run uses the same keys. */
static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void die(const char *what)
{
	fprintf(stderr, "map_bench: %s: %s\n", what, strerror(ENOMEM));
	exit(1);
}

/* One pass over gs_map; adds each operation's ns/op to best. */
static void pass_gosync(const uint64_t *keys, const uint64_t *order,
                        size_t n, double *best)
{
	gs_map_t m = GS_MAP_INIT;
	double t[NOPS + 1];
	void *v;
	size_t hits = 0;

	t[0] = now_ns();
	for (size_t i = 0; i < n; i++)
		if (gs_map_store(&m, &keys[i], 8, (void *)&keys[i]) != 0)
			die("gs_map_store");
	t[1] = now_ns();
	for (size_t i = 0; i < n; i++)
		hits += gs_map_load(&m, &order[i], 8, &v);
	t[2] = now_ns();
	for (size_t i = 0; i < n; i++)
		gs_map_delete(&m, &order[i], 8);
	t[3] = now_ns();
	if (hits != n || gs_map_len(&m) != 0)
		fprintf(stderr, "map_bench: gs_map lost keys\n");
	gs_map_destroy(&m);
	best[STORE] = (t[1] - t[0]) / (double)n;
	best[LOAD] = (t[2] - t[1]) / (double)n;
	best[DELETE] = (t[3] - t[2]) / (double)n;
}

/* The same pass over the C table behind its rwlock. */
static void pass_ctable(const uint64_t *keys, const uint64_t *order,
                        size_t n, double *best)
{
	struct ctable m;
	double t[NOPS + 1];
	void *v;
	size_t hits = 0;

	if (ctable_init(&m) != 0)
		die("ctable_init");
	t[0] = now_ns();
	for (size_t i = 0; i < n; i++)
		if (ctable_store(&m, keys[i], (void *)&keys[i]) != 0)
			die("ctable_store");
	t[1] = now_ns();
	for (size_t i = 0; i < n; i++)
		hits += ctable_load(&m, order[i], &v);
	t[2] = now_ns();
	for (size_t i = 0; i < n; i++)
		ctable_delete(&m, order[i]);
	t[3] = now_ns();
	if (hits != n || m.len != 0)
		fprintf(stderr, "map_bench: the C table lost keys\n");
	ctable_destroy(&m);
	best[STORE] = (t[1] - t[0]) / (double)n;
	best[LOAD] = (t[2] - t[1]) / (double)n;
	best[DELETE] = (t[3] - t[2]) / (double)n;
}

/* Draws PNG with gnuplot: 0 drawn, 1 no gnuplot, -1 failed. */
static int chart(const char *png, double res[2][NOPS])
{
	char dat[1024];
	FILE *f, *gp;

	if (system("command -v gnuplot >/dev/null 2>&1") != 0)
		return 1;
	snprintf(dat, sizeof(dat), "%s.dat", png);
	f = fopen(dat, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "op\tgs_map\t\"C table + pthread_rwlock\"\n");
	for (int op = 0; op < NOPS; op++)
		fprintf(f, "%s\t%.3f\t%.3f\n", op_name[op], res[0][op],
		        res[1][op]);
	fclose(f);
	gp = popen("gnuplot", "w");
	if (gp == NULL)
		return -1;
	fprintf(gp,
	        "set terminal pngcairo size 800,480 noenhanced\n"
	        "set output '%s'\n"
	        "set title 'store, delete, load: ns/op, lower is better'\n"
	        "set style data histograms\n"
	        "set style histogram clustered gap 1\n"
	        "set style fill solid 0.85 border -1\n"
	        "set yrange [0:*]\nset grid ytics\n"
	        "plot for [i=2:3] '%s' using i:xtic(1) title columnheader(i)\n",
	        png, dat);
	return pclose(gp) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
	const char *png = argc > 2 ? argv[2] : "map-bench.png";
	double res[2][NOPS], cur[NOPS];
	uint64_t *keys, *order, seed = 0x676f73796e63ULL;
	int drawn;

	if (n == 0)
		n = 1;
	keys = malloc(n * sizeof(*keys));
	order = malloc(n * sizeof(*order));
	if (keys == NULL || order == NULL)
		die("malloc");
	/* Random nonzero 62-bit keys, then the same keys shuffled. */
	for (size_t i = 0; i < n; i++)
		keys[i] = (next_random(&seed) >> 2) | 1;
	memcpy(order, keys, n * sizeof(*keys));
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(next_random(&seed) % (i + 1));
		uint64_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}

	for (int p = 0; p < PASSES; p++) {
		pass_gosync(keys, order, n, cur);
		for (int op = 0; op < NOPS; op++)
			if (p == 0 || cur[op] < res[0][op])
				res[0][op] = cur[op];
		pass_ctable(keys, order, n, cur);
		for (int op = 0; op < NOPS; op++)
			if (p == 0 || cur[op] < res[1][op])
				res[1][op] = cur[op];
	}

	printf("%zu keys, one thread, ns/op, best of %d passes\n", n,
	       PASSES);
	printf("%-8s %10s %26s %8s\n", "op", "gs_map",
	       "C table + pthread_rwlock", "ratio");
	for (int op = 0; op < NOPS; op++)
		printf("%-8s %10.1f %26.1f %8.2f\n", op_name[op], res[0][op],
		       res[1][op], res[0][op] / res[1][op]);
	printf("(ratio: gs_map's time over the C table's; below 1 = gs_map "
	       "faster, as in bench/'s tables)\n");

	drawn = chart(png, res);
	if (drawn == 1)
		printf("gnuplot not installed: chart skipped\n");
	else if (drawn == 0)
		printf("chart: %s\n", png);
	else
		fprintf(stderr, "map_bench: gnuplot failed, no chart\n");
	free(keys);
	free(order);
	return drawn < 0 ? 1 : 0;
}
