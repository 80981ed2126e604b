/*
 * stress_once THREADS ROUNDS - each round a fresh once, THREADS callers
 * released together, a function that runs 1 to 20 us: it must run once
 * a round, and every caller must return after it did.
 */
#include <gosync/once.h>

#include "stress.h"

static struct {
	gs_once_t once;
	atomic_int calls;
	atomic_int arrived, go;
} r;
static atomic_int round_no, done_callers;

static void fn(void *arg)
{
	(void)arg;
	atomic_fetch_add(&r.calls, 1);
	stress_spin_ns(1000 + rand() % 19000);
}

static void *worker(void *arg)
{
	(void)arg;
	for (int k = 1; k <= stress_iters; k++) {
		while (atomic_load(&round_no) < k)
			sched_yield();
		gs_once_do(&r.once, fn, NULL);
		if (atomic_load(&r.calls) != 1)
			stress_fail("stress_once", "returned before fn");
		atomic_fetch_add(&done_callers, 1);
	}
	return NULL;
}

static void *driver(void *arg)
{
	(void)arg;
	for (int k = 1; k <= stress_iters; k++) {
		r.once = (gs_once_t)GS_ONCE_INIT;
		atomic_store(&r.calls, 0);
		atomic_store(&round_no, k);
		while (atomic_load(&done_callers) < k * stress_threads)
			sched_yield();
		if (atomic_load(&r.calls) != 1)
			stress_fail("stress_once", "fn ran more than once");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t d;

	stress_args(argc, argv, "stress_once");
	pthread_create(&d, NULL, driver, NULL);
	stress_run(worker, stress_threads);
	pthread_join(d, NULL);
	printf("stress_once: %d threads x %d rounds, ok\n", stress_threads,
	       stress_iters);
	return 0;
}
