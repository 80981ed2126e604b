/*
 * stress.h - what the stress programs share: argument parsing, a
 * starting gun, and a failure report. Each program takes a thread count
 * and an iteration count, hammers one primitive with them, checks an
 * invariant that a broken primitive violates, and prints one line.
 */
#ifndef GS_STRESS_H
#define GS_STRESS_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <gosync/runtime.h>

static int stress_threads, stress_iters;

static inline void stress_args(int argc, char **argv, const char *name)
{
	if (argc != 3 || (stress_threads = atoi(argv[1])) < 1 ||
	    stress_threads > 256 || (stress_iters = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: %s THREADS ITERATIONS\n", name);
		exit(2);
	}
}

static inline void stress_fail(const char *name, const char *what)
{
	printf("%s: FAILED: %s\n", name, what);
	exit(1);
}

static atomic_int stress_gun;
static void *(*stress_fn)(void *);

static inline void *stress_start(void *arg)
{
	while (!atomic_load(&stress_gun))
		sched_yield(); /* the starting gun: all begin together */
	return stress_fn(arg);
}

/* Starts n threads running fn(index) together and joins them. */
static inline void stress_run(void *(*fn)(void *), int n)
{
	pthread_t t[256];

	stress_fn = fn;
	atomic_store(&stress_gun, 0);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, stress_start,
				   (void *)(intptr_t)i) != 0)
			stress_fail("stress", "pthread_create");
	atomic_store(&stress_gun, 1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

static inline void stress_spin_ns(int64_t ns)
{
	int64_t end = gs_now() + ns;

	while (gs_now() < end)
		;
}

#endif
