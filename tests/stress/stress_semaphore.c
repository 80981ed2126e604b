/*
 * stress_semaphore THREADS ITERATIONS - threads take weights of 1 to 3
 * from a semaphore of 4, some with deadlines that pass, some by
 * try_acquire: the weight held never exceeds 4, and all of it is free
 * at the end.
 */
#include <gosync/semaphore.h>

#include "stress.h"

static gs_semaphore_t sem = GS_SEMAPHORE_INIT(4);
static atomic_long inside;

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(intptr_t)arg;

	for (int i = 0; i < stress_iters; i++) {
		int64_t n = 1 + rand_r(&seed) % 3;
		gs_ctx_t *ctx = NULL;
		bool got;

		if (i % 3 == 1 &&
		    gs_ctx_with_timeout(NULL, rand_r(&seed) % 50000, &ctx) != 0)
			stress_fail("stress_semaphore", "no context");
		if (i % 3 == 2)
			got = gs_semaphore_try_acquire(&sem, n);
		else
			got = gs_semaphore_acquire(&sem, ctx, n) == 0;
		if (got) {
			if (atomic_fetch_add(&inside, n) + n > 4)
				stress_fail("stress_semaphore", "over 4 held");
			stress_spin_ns(rand_r(&seed) % 2000);
			atomic_fetch_sub(&inside, n);
			gs_semaphore_release(&sem, n);
		}
		if (ctx) {
			gs_ctx_cancel(ctx);
			gs_ctx_unref(ctx);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	stress_args(argc, argv, "stress_semaphore");
	stress_run(worker, stress_threads);
	if (!gs_semaphore_try_acquire(&sem, 4))
		stress_fail("stress_semaphore", "weight lost");
	printf("stress_semaphore: %d threads x %d operations, ok\n",
	       stress_threads, stress_iters);
	return 0;
}
