/*
 * stress_rwmutex THREADS ITERATIONS - readers and writers, timed and
 * not, on one rwmutex: a writer must be alone, a reader never beside a
 * writer, and the reader count zero at the end.
 */
#include <gosync/rwmutex.h>

#include "stress.h"

static gs_rwmutex_t rw;
static atomic_int activity;

static void check(int n, int writer)
{
	if (writer ? n != 10000 : n >= 10000 || n < 1)
		stress_fail("stress_rwmutex", writer ? "writer not alone"
						     : "reader beside writer");
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(intptr_t)arg;

	for (int i = 0; i < stress_iters; i++) {
		int writer = rand_r(&seed) % 10 == 0;
		int timed = rand_r(&seed) % 2;
		int64_t d = gs_now() + rand_r(&seed) % 100000;
		int add = writer ? 10000 : 1;

		if (writer && timed && gs_rwmutex_lock_until(&rw, d) != 0)
			continue;
		if (!writer && timed && gs_rwmutex_rlock_until(&rw, d) != 0)
			continue;
		if (writer && !timed)
			gs_rwmutex_lock(&rw);
		if (!writer && !timed)
			gs_rwmutex_rlock(&rw);
		check(atomic_fetch_add(&activity, add) + add, writer);
		stress_spin_ns(rand_r(&seed) % 3000);
		atomic_fetch_sub(&activity, add);
		if (writer)
			gs_rwmutex_unlock(&rw);
		else
			gs_rwmutex_runlock(&rw);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	stress_args(argc, argv, "stress_rwmutex");
	stress_run(worker, stress_threads);
	if (rw.readers_ != 0 || rw.departing_ != 0 || rw.w_.state_ != 0)
		stress_fail("stress_rwmutex", "rwmutex not clean at the end");
	printf("stress_rwmutex: %d threads x %d operations, ok\n",
	       stress_threads, stress_iters);
	return 0;
}
