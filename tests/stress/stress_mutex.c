/*
 * stress_mutex THREADS ITERATIONS - every thread takes one mutex
 * ITERATIONS times, by lock, trylock and lock_until in turn, and counts
 * inside it; the total must be exact and the state word zero at the end.
 */
#include <errno.h>

#include <gosync/mutex.h>

#include "stress.h"

static gs_mutex_t mu;
static long count;
static atomic_long taken;

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(intptr_t)arg;

	for (int i = 0; i < stress_iters; i++) {
		switch (i % 3) {
		case 0:
			gs_mutex_lock(&mu);
			break;
		case 1:
			if (!gs_mutex_trylock(&mu))
				continue;
			break;
		default: {
			int64_t d = gs_now() + rand_r(&seed) % 50000;
			if (gs_mutex_lock_until(&mu, d) != 0)
				continue;
		}
		}
		count++;
		if (rand_r(&seed) % 64 == 0)
			stress_spin_ns(2000); /* long enough to queue others */
		gs_mutex_unlock(&mu);
		atomic_fetch_add(&taken, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	stress_args(argc, argv, "stress_mutex");
	stress_run(worker, stress_threads);
	if (count != atomic_load(&taken))
		stress_fail("stress_mutex", "lost increments");
	if (mu.state_ != 0 || mu.sema_ != 0)
		stress_fail("stress_mutex", "mutex not clean at the end");
	printf("stress_mutex: %d threads, %ld critical sections, ok\n",
	       stress_threads, count);
	return 0;
}
