/*
 * stress_pool THREADS ITERATIONS - threads take objects from one pool
 * and give them back in random batches while thread 0 trims now and
 * then and every thread starts short-lived threads that use the pool
 * and exit: no object is handed to two holders at once, none the pool
 * frees is held, and after destroy every object made was freed once.
 */
#include <gosync/pool.h>

#include "stress.h"

#define HOLD 8

struct obj {
	atomic_int in_pool; /* 1 while the pool has it */
};

static gs_pool_t pool;
static atomic_long made, freed;

static void *obj_new(void *arg)
{
	struct obj *o = malloc(sizeof(*o));

	(void)arg;
	if (o == NULL)
		stress_fail("stress_pool", "out of memory");
	atomic_init(&o->in_pool, 1); /* as if the pool had it */
	atomic_fetch_add(&made, 1);
	return o;
}

static void obj_free(void *p, void *arg)
{
	struct obj *o = p;

	(void)arg;
	if (atomic_exchange(&o->in_pool, 0) != 1)
		stress_fail("stress_pool", "the pool freed an object it lent");
	atomic_fetch_add(&freed, 1);
	free(o);
}

static void take(struct obj **held, int *n)
{
	struct obj *o = gs_pool_get(&pool);

	if (o == NULL)
		stress_fail("stress_pool", "get gave NULL despite new_fn");
	if (atomic_exchange(&o->in_pool, 0) != 1)
		stress_fail("stress_pool", "an object was lent twice");
	held[(*n)++] = o;
}

static void give(struct obj **held, int *n)
{
	struct obj *o = held[--*n];

	if (atomic_exchange(&o->in_pool, 1) != 0)
		stress_fail("stress_pool", "an object was given back twice");
	gs_pool_put(&pool, o);
}

static void churn(unsigned *seed, int iters)
{
	struct obj *held[HOLD];
	int n = 0;

	for (int i = 0; i < iters; i++) {
		if (n < HOLD && (n == 0 || rand_r(seed) % 2))
			take(held, &n);
		else
			give(held, &n);
	}
	while (n > 0)
		give(held, &n);
}

static void *short_lived(void *arg)
{
	unsigned seed = (unsigned)(intptr_t)arg;

	churn(&seed, 50);
	return NULL;
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(intptr_t)arg + 1;
	int chunk = 1000;

	for (int done = 0; done < stress_iters; done += chunk) {
		pthread_t t;

		churn(&seed, chunk);
		if ((intptr_t)arg == 0)
			gs_pool_trim(&pool);
		if (pthread_create(&t, NULL, short_lived,
				   (void *)(intptr_t)rand_r(&seed)) != 0)
			stress_fail("stress_pool", "pthread_create");
		pthread_join(t, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	stress_args(argc, argv, "stress_pool");
	pool = (gs_pool_t)GS_POOL_INIT(obj_new, obj_free, NULL);
	stress_run(worker, stress_threads);
	gs_pool_destroy(&pool);
	if (atomic_load(&made) != atomic_load(&freed))
		stress_fail("stress_pool", "objects leaked or freed twice");
	printf("stress_pool: %d threads x %d operations, %ld objects, ok\n",
	       stress_threads, stress_iters, atomic_load(&made));
	return 0;
}
