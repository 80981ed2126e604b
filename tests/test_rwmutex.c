/* test_rwmutex.c - gs_rwmutex_t: sharing, writer preference, misuse. */
#include <gosync/runtime.h>
#include <gosync/rwmutex.h>

#include "harness.h"

static gs_rwmutex_t rw = GS_RWMUTEX_INIT;

static int32_t readers_of(gs_rwmutex_t *m)
{
	return __atomic_load_n(&m->readers_, __ATOMIC_SEQ_CST);
}

/* Waits until m's reader count is want (a writer makes it negative). */
static void await_readers(gs_rwmutex_t *m, int32_t want)
{
	int64_t end = gs_now() + 10 * GS_SECOND;

	while (readers_of(m) != want && gs_now() < end)
		sched_yield();
	CHECK(readers_of(m) == want, "reader count %d, expected %d",
	      readers_of(m), want);
}

#define MAXR (1 << 30)

static void spin_us(int us)
{
	int64_t end = gs_now() + us * GS_MICROSECOND;

	while (gs_now() < end)
		;
}

TEST(rwmutex_try_operations_follow_the_holders)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;

	gs_rwmutex_lock(&m);
	CHECK(!gs_rwmutex_trylock(&m), "trylock while write-locked");
	CHECK(!gs_rwmutex_tryrlock(&m), "tryrlock while write-locked");
	gs_rwmutex_unlock(&m);
	CHECK(gs_rwmutex_trylock(&m), "trylock of a free rwmutex failed");
	gs_rwmutex_unlock(&m);
	CHECK(gs_rwmutex_tryrlock(&m) && gs_rwmutex_tryrlock(&m),
	      "two tryrlocks failed");
	CHECK(!gs_rwmutex_trylock(&m), "trylock while read-locked");
	gs_rwmutex_runlock(&m);
	gs_rwmutex_runlock(&m);
	CHECK(readers_of(&m) == 0, "count %d after all left", readers_of(&m));
}

static gun_t gun;
static atomic_int inside;

static void *parallel_reader(void *arg)
{
	int n = (int)(intptr_t)arg;

	gs_rwmutex_rlock(&rw);
	atomic_fetch_add(&inside, 1);
	CHECK(wait_for_int(&inside, n, 10000) >= n,
	      "only %d readers inside together", atomic_load(&inside));
	gs_rwmutex_runlock(&rw);
	return NULL;
}

TEST(rwmutex_readers_hold_the_lock_at_the_same_time)
{
	int sizes[] = {1, 3, 4, 8};

	for (int k = 0; k < 4; k++) {
		pthread_t t[8];

		atomic_store(&inside, 0);
		for (int i = 0; i < sizes[k]; i++)
			t[i] = start_thread(parallel_reader,
					    (void *)(intptr_t)sizes[k]);
		for (int i = 0; i < sizes[k]; i++)
			pthread_join(t[i], NULL);
	}
}

static atomic_int activity;

static void *hammer_reader(void *arg)
{
	(void)arg;
	gun_wait(&gun);
	for (int i = 0; i < 2000; i++) {
		gs_rwmutex_rlock(&rw);
		int n = atomic_fetch_add(&activity, 1) + 1;
		CHECK(n >= 1 && n < 10000, "reader saw %d", n);
		spin_us(1);
		atomic_fetch_sub(&activity, 1);
		gs_rwmutex_runlock(&rw);
	}
	return NULL;
}

static void *hammer_writer(void *arg)
{
	(void)arg;
	gun_wait(&gun);
	for (int i = 0; i < 500; i++) {
		gs_rwmutex_lock(&rw);
		int n = atomic_fetch_add(&activity, 10000) + 10000;
		CHECK(n == 10000, "writer saw %d", n);
		spin_us(1);
		atomic_fetch_sub(&activity, 10000);
		gs_rwmutex_unlock(&rw);
	}
	return NULL;
}

TEST(rwmutex_writers_exclude_everyone_and_readers_only_writers)
{
	int readers[] = {1, 3, 10, 5};

	for (int k = 0; k < 4; k++) {
		pthread_t t[12];
		int n = readers[k] + 2;

		gun_init(&gun, n);
		t[0] = start_thread(hammer_writer, NULL);
		t[1] = start_thread(hammer_writer, NULL);
		for (int i = 2; i < n; i++)
			t[i] = start_thread(hammer_reader, NULL);
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		CHECK(readers_of(&rw) == 0, "count %d at the end",
		      readers_of(&rw));
	}
}

static atomic_int writer_locked, writer_unlocked, t3_locked;

static void *waiting_writer(void *arg)
{
	(void)arg;
	gs_rwmutex_lock(&rw);
	atomic_store(&writer_locked, 1);
	test_sleep_ms(50);
	atomic_store(&writer_unlocked, 1);
	gs_rwmutex_unlock(&rw);
	return NULL;
}

static void *late_reader(void *arg)
{
	(void)arg;
	gs_rwmutex_rlock(&rw);
	CHECK(atomic_load(&writer_unlocked), "reader passed a waiting writer");
	atomic_store(&t3_locked, 1);
	gs_rwmutex_runlock(&rw);
	return NULL;
}

TEST(rwmutex_waiting_writer_keeps_new_readers_out)
{
	pthread_t t2, t3;

	gs_rwmutex_rlock(&rw); /* T1 */
	t2 = start_thread(waiting_writer, NULL);
	await_readers(&rw, 1 - MAXR); /* the writer announced itself */
	CHECK(!gs_rwmutex_tryrlock(&rw), "tryrlock passed a waiting writer");
	t3 = start_thread(late_reader, NULL);
	await_readers(&rw, 2 - MAXR); /* T3 queued behind the writer */
	test_sleep_ms(200);
	CHECK(!atomic_load(&t3_locked) && !atomic_load(&writer_locked),
	      "someone got in while T1 held the read lock");
	gs_rwmutex_runlock(&rw);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	CHECK(atomic_load(&t3_locked), "T3 never got the read lock");
}

TEST(rwmutex_without_a_writer_a_reader_joins_readers_at_once)
{
	gs_rwmutex_rlock(&rw);
	CHECK(gs_rwmutex_tryrlock(&rw), "tryrlock failed beside a reader");
	gs_rwmutex_runlock(&rw);
	gs_rwmutex_runlock(&rw);
}

static atomic_int in_section;
static int party;

static void *blocked_reader(void *arg)
{
	(void)arg;
	gs_rwmutex_rlock(&rw);
	atomic_fetch_add(&in_section, 1);
	/* A barrier of all readers: they must be inside together. */
	CHECK(wait_for_int(&in_section, party, 1000) >= party,
	      "%d of %d readers inside together", atomic_load(&in_section),
	      party);
	gs_rwmutex_runlock(&rw);
	return NULL;
}

TEST(rwmutex_unlock_admits_every_waiting_reader)
{
	int sizes[] = {2, 8};

	for (int k = 0; k < 2; k++) {
		pthread_t t[8];

		party = sizes[k];
		atomic_store(&in_section, 0);
		gs_rwmutex_lock(&rw);
		for (int i = 0; i < party; i++)
			t[i] = start_thread(blocked_reader, NULL);
		await_readers(&rw, party - MAXR);
		gs_rwmutex_unlock(&rw);
		for (int i = 0; i < party; i++)
			pthread_join(t[i], NULL);
	}
}

TEST(rwmutex_lock_until_times_out_behind_a_reader_then_the_lock_works)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;
	int64_t start = gs_now();

	gs_rwmutex_rlock(&m);
	CHECK(gs_rwmutex_lock_until(&m, start + 20 * GS_MILLISECOND) ==
		      ETIMEDOUT,
	      "write-locked beside a reader");
	CHECK(gs_now() - start >= 20 * GS_MILLISECOND, "gave up early");
	CHECK(!gs_rwmutex_tryrlock(&m),
	      "new readers got in before the old reader left");
	gs_rwmutex_runlock(&m); /* finishes the abandoned write lock */
	CHECK(readers_of(&m) == 0, "count %d", readers_of(&m));
	CHECK(gs_rwmutex_trylock(&m), "rwmutex unusable after a timeout");
	gs_rwmutex_unlock(&m);
	CHECK(gs_rwmutex_rlock_until(&m, gs_now()) == 0, "free rlock failed");
	gs_rwmutex_runlock(&m);
}

TEST(rwmutex_rlock_until_times_out_behind_a_writer)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;
	int64_t start = gs_now();

	gs_rwmutex_lock(&m);
	CHECK(gs_rwmutex_rlock_until(&m, start + 20 * GS_MILLISECOND) ==
		      ETIMEDOUT,
	      "read-locked beside a writer");
	CHECK(gs_now() - start >= 20 * GS_MILLISECOND, "gave up early");
	gs_rwmutex_unlock(&m);
	CHECK(readers_of(&m) == 0, "a timed-out reader left a count");
	CHECK(gs_rwmutex_trylock(&m), "rwmutex unusable after a timeout");
	gs_rwmutex_unlock(&m);
}

static gs_rwmutex_t timed_rw;
static atomic_int t_activity;

static void *timed_rw_user(void *arg)
{
	int writer = (int)(intptr_t)arg;

	gun_wait(&gun);
	for (int i = 0; i < 3000; i++) {
		int64_t d = gs_now() + (rand() % 100) * GS_MICROSECOND;
		bool w = writer && i % 3 == 0;
		if ((w ? gs_rwmutex_lock_until(&timed_rw, d)
		       : gs_rwmutex_rlock_until(&timed_rw, d)) != 0)
			continue;
		int n = atomic_fetch_add(&t_activity, w ? 10000 : 1) +
			(w ? 10000 : 1);
		CHECK(w ? n == 10000 : n < 10000, "%s saw %d",
		      w ? "writer" : "reader", n);
		spin_us(rand() % 20);
		atomic_fetch_sub(&t_activity, w ? 10000 : 1);
		if (w)
			gs_rwmutex_unlock(&timed_rw);
		else
			gs_rwmutex_runlock(&timed_rw);
	}
	return NULL;
}

TEST(rwmutex_timed_readers_and_writers_giving_up_keep_it_consistent)
{
	pthread_t t[6];

	gun_init(&gun, 6);
	for (int i = 0; i < 6; i++)
		t[i] = start_thread(timed_rw_user, (void *)(intptr_t)(i < 2));
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	CHECK(readers_of(&timed_rw) == 0, "count %d", readers_of(&timed_rw));
	CHECK(gs_rwmutex_trylock(&timed_rw), "unusable at the end");
	gs_rwmutex_unlock(&timed_rw);
}

static void rlocker_user(void)
{
	gs_locker_t l = gs_rwmutex_rlocker(&rw);

	gs_locker_lock(&l);
	CHECK(readers_of(&rw) == 1, "rlocker did not read-lock");
	gs_locker_unlock(&l);
}

TEST(rwmutex_rlocker_locks_the_read_side)
{
	rlocker_user();
	CHECK(readers_of(&rw) == 0, "rlocker did not read-unlock");
}

static void unlock_fresh(void *a)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;
	(void)a;
	gs_rwmutex_unlock(&m);
}

static void rlock_then_unlock(void *a)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;
	(void)a;
	gs_rwmutex_rlock(&m);
	gs_rwmutex_unlock(&m);
}

static void unlock_twice(void *a)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;
	(void)a;
	gs_rwmutex_lock(&m);
	gs_rwmutex_unlock(&m);
	gs_rwmutex_unlock(&m);
}

static void runlock_fresh(void *a)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;
	(void)a;
	gs_rwmutex_runlock(&m);
}

static void lock_then_runlock(void *a)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;
	(void)a;
	gs_rwmutex_lock(&m);
	gs_rwmutex_runlock(&m);
}

static void runlock_twice(void *a)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;
	(void)a;
	gs_rwmutex_rlock(&m);
	gs_rwmutex_runlock(&m);
	gs_rwmutex_runlock(&m);
}

static void unlock_after_giving_up(void *a)
{
	gs_rwmutex_t m = GS_RWMUTEX_INIT;
	(void)a;
	gs_rwmutex_rlock(&m);
	if (gs_rwmutex_lock_until(&m, gs_now() + GS_MILLISECOND) == 0)
		return; /* it cannot have got the lock: no abort fails */
	gs_rwmutex_unlock(&m);
}

TEST(rwmutex_unlock_without_the_write_lock_aborts)
{
	const char *line = "gs: rwmutex: unlock of unlocked rwmutex";

	expect_death(unlock_fresh, NULL, line);
	expect_death(rlock_then_unlock, NULL, line);
	expect_death(unlock_twice, NULL, line);
	expect_death(unlock_after_giving_up, NULL, line);
}

TEST(rwmutex_runlock_without_a_read_lock_aborts)
{
	const char *line = "gs: rwmutex: runlock of unlocked rwmutex";

	expect_death(runlock_fresh, NULL, line);
	expect_death(lock_then_runlock, NULL, line);
	expect_death(runlock_twice, NULL, line);
}

TEST_MAIN()
