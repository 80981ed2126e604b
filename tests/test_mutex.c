/* test_mutex.c - gs_mutex_t: exclusion, trylock, and misuse. */
#include <gosync/mutex.h>

#include "harness.h"

_Static_assert(sizeof(gs_mutex_t) == 4, "a gs_mutex_t is 4 bytes");

enum { THREADS = 8, ITERS = 20000 };

static gs_mutex_t mu = GS_MUTEX_INIT;
static long counter; /* guarded by mu; deliberately not atomic */
static gun_t gun;

static void *increment(void *arg)
{
	(void)arg;
	gun_wait(&gun);
	for (int i = 0; i < ITERS; i++) {
		gs_mutex_lock(&mu);
		counter++;
		gs_mutex_unlock(&mu);
	}
	return NULL;
}

TEST(mutex_excludes_under_contention)
{
	pthread_t t[THREADS];

	gun_init(&gun, THREADS);
	for (int i = 0; i < THREADS; i++)
		t[i] = start_thread(increment, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK(counter == (long)THREADS * ITERS, "counter %ld, expected %ld",
	      counter, (long)THREADS * ITERS);
}

TEST(mutex_trylock_fails_while_locked_and_succeeds_after_unlock)
{
	gs_mutex_t m = GS_MUTEX_INIT;

	gs_mutex_lock(&m);
	CHECK(!gs_mutex_trylock(&m), "trylock of a locked mutex succeeded");
	gs_mutex_unlock(&m);
	CHECK(gs_mutex_trylock(&m), "trylock of a free mutex failed");
	gs_mutex_unlock(&m);
}

static gs_mutex_t hammer_mu;
static int hammer_inside;

static void *hammer(void *arg)
{
	(void)arg;
	gun_wait(&gun);
	for (int i = 0; i < 1000; i++) {
		if (i % 3 == 0) {
			if (!gs_mutex_trylock(&hammer_mu))
				continue;
		} else {
			gs_mutex_lock(&hammer_mu);
		}
		CHECK(++hammer_inside == 1, "%d threads inside", hammer_inside);
		hammer_inside--;
		gs_mutex_unlock(&hammer_mu);
	}
	return NULL;
}

TEST(mutex_hammered_with_lock_and_trylock_keeps_one_holder)
{
	pthread_t t[10];

	gun_init(&gun, 10);
	for (int i = 0; i < 10; i++)
		t[i] = start_thread(hammer, NULL);
	for (int i = 0; i < 10; i++)
		pthread_join(t[i], NULL);
	CHECK(gs_mutex_trylock(&hammer_mu), "mutex left locked");
}

static void *hold_then_release(void *arg)
{
	gs_mutex_t *m = arg;

	test_sleep_ms(20);
	gs_mutex_unlock(m);
	return NULL;
}

TEST(mutex_may_be_unlocked_by_another_thread)
{
	gs_mutex_t m = GS_MUTEX_INIT;
	pthread_t t;

	gs_mutex_lock(&m);
	t = start_thread(hold_then_release, &m);
	gs_mutex_lock(&m); /* blocks until the other thread unlocks */
	gs_mutex_unlock(&m);
	pthread_join(t, NULL);
}

static void unlock_fresh(void *arg)
{
	gs_mutex_t m = GS_MUTEX_INIT;

	(void)arg;
	gs_mutex_unlock(&m);
}

static void unlock_twice(void *arg)
{
	gs_mutex_t m = GS_MUTEX_INIT;

	(void)arg;
	gs_mutex_lock(&m);
	gs_mutex_unlock(&m);
	gs_mutex_unlock(&m);
}

TEST(mutex_unlock_of_unlocked_mutex_aborts)
{
	gs_mutex_t other = GS_MUTEX_INIT;

	expect_death(unlock_fresh, NULL, "gs: mutex: unlock of unlocked mutex");
	/* The parent's own mutexes are untouched by the child's misuse. */
	gs_mutex_lock(&other);
	gs_mutex_unlock(&other);
}

TEST(mutex_second_unlock_aborts)
{
	expect_death(unlock_twice, NULL, "gs: mutex: unlock of unlocked mutex");
}

TEST_MAIN()
