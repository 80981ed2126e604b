/*
 * stress_waitgroup THREADS ROUNDS - each round, THREADS tasks started
 * with gs_waitgroup_go each count once; wait must return only after all
 * of them, and a timed wait beside it must agree.
 */
#include <gosync/waitgroup.h>

#include "stress.h"

static gs_waitgroup_t wg;
static atomic_int ran;

static void task(void *arg)
{
	(void)arg;
	if (rand() % 8 == 0)
		stress_spin_ns(rand() % 20000);
	atomic_fetch_add(&ran, 1);
}

int main(int argc, char **argv)
{
	stress_args(argc, argv, "stress_waitgroup");
	for (int k = 1; k <= stress_iters; k++) {
		for (int i = 0; i < stress_threads; i++)
			if (gs_waitgroup_go(&wg, task, NULL) != 0)
				stress_fail("stress_waitgroup", "go failed");
		if (k % 2)
			gs_waitgroup_wait(&wg);
		else
			while (!gs_waitgroup_wait_until(&wg,
							gs_now() + 10000))
				;
		if (atomic_load(&ran) != k * stress_threads)
			stress_fail("stress_waitgroup", "wait returned early");
	}
	printf("stress_waitgroup: %d tasks x %d rounds, ok\n", stress_threads,
	       stress_iters);
	return 0;
}
