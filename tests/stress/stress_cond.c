/*
 * stress_cond THREADS ROUNDS - each round, THREADS waiters wait for a
 * flag that a signaller sets and then signals (outside the lock) once
 * per waiter, or broadcasts; every waiter must wake every round. A lost
 * wakeup hangs, and the ctest timeout fails it.
 */
#include <gosync/cond.h>

#include "stress.h"

static gs_mutex_t mu;
static gs_cond_t c = GS_COND_INIT(GS_MUTEX_LOCKER(&mu));
static int flag_round;
static atomic_int woke;

static void *waiter(void *arg)
{
	(void)arg;
	for (int k = 1; k <= stress_iters; k++) {
		gs_mutex_lock(&mu);
		while (flag_round < k)
			gs_cond_wait(&c);
		gs_mutex_unlock(&mu);
		atomic_fetch_add(&woke, 1);
		while (atomic_load(&woke) < k * stress_threads)
			sched_yield(); /* the round ends for all first */
	}
	return NULL;
}

static void *signaller(void *arg)
{
	(void)arg;
	for (int k = 1; k <= stress_iters; k++) {
		gs_mutex_lock(&mu);
		flag_round = k;
		gs_mutex_unlock(&mu);
		if (k % 2)
			gs_cond_broadcast(&c);
		else
			for (int i = 0; i < stress_threads; i++)
				gs_cond_signal(&c);
		while (atomic_load(&woke) < k * stress_threads)
			sched_yield();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t s;

	stress_args(argc, argv, "stress_cond");
	pthread_create(&s, NULL, signaller, NULL);
	stress_run(waiter, stress_threads);
	pthread_join(s, NULL);
	printf("stress_cond: %d waiters x %d rounds, ok\n", stress_threads,
	       stress_iters);
	return 0;
}
