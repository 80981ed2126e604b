/* test_mutex.c - gs_mutex_t: exclusion, trylock, and misuse. */
#include <sched.h>

#include <gosync/mutex.h>
#include <gosync/runtime.h>

#include "harness.h"
#include "runtime/semqueue.h"

_Static_assert(sizeof(gs_mutex_t) == 8, "a gs_mutex_t is 8 bytes");

/* The state word's bits, as src/sync/mutex.c lays them out. */
enum { M_LOCKED = 1, M_STARVING = 4, M_WAITER_SHIFT = 3 };

/* The mutex's semaphore word, where its sleepers queue. */
#define GS__SEMQ_WORD(m) ((_Atomic uint32_t *)(void *)&(m)->sema_)

static uint32_t state_of(gs_mutex_t *m)
{
	return __atomic_load_n(&m->state_, __ATOMIC_SEQ_CST);
}

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

static gs_mutex_t starve_mu;
static atomic_int waiter_locked;

static void *starved_waiter(void *arg)
{
	(void)arg;
	gs_mutex_lock(&starve_mu);
	atomic_store(&waiter_locked, 1);
	gs_mutex_unlock(&starve_mu);
	return NULL;
}

static bool wait_state(gs_mutex_t *m, uint32_t mask, uint32_t want, int ms)
{
	int64_t end = gs_now() + ms * GS_MILLISECOND;

	while ((state_of(m) & mask) != want)
		if (gs_now() > end)
			return false;
	return true;
}

TEST(mutex_waiter_over_1ms_gets_hand_off_and_trylock_fails_meanwhile)
{
	int handed = 0;

	for (int round = 0; round < 50 && !handed; round++) {
		pthread_t w;

		atomic_store(&waiter_locked, 0);
		gs_mutex_lock(&starve_mu);
		w = start_thread(starved_waiter, NULL);
		CHECK(wait_state(&starve_mu, ~7u, 1u << M_WAITER_SHIFT, 5000),
		      "the waiter never queued");
		test_sleep_ms(3);
		/* Unlock and barge straight back in, as a newcomer would. */
		gs_mutex_unlock(&starve_mu);
		gs_mutex_lock(&starve_mu);
		if (!wait_state(&starve_mu, M_STARVING, M_STARVING, 200)) {
			gs_mutex_unlock(&starve_mu); /* it won the race */
			pthread_join(w, NULL);
			continue;
		}
		handed = 1;
		gs_mutex_unlock(&starve_mu); /* hands the mutex to the waiter */
		bool got = gs_mutex_trylock(&starve_mu);
		/* Only a waiter already through may have left it free. */
		CHECK(!got || atomic_load(&waiter_locked),
		      "trylock took a mutex in hand-off mode");
		if (got)
			gs_mutex_unlock(&starve_mu);
		pthread_join(w, NULL);
		CHECK(atomic_load(&waiter_locked), "the waiter never locked");
	}
	CHECK(handed, "no round reached hand-off mode");
	CHECK(state_of(&starve_mu) == 0, "state 0x%x at the end",
	      state_of(&starve_mu));
}

static atomic_int stop_hog, hog_rounds;

static void *hog(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_hog)) {
		gs_mutex_lock(&starve_mu);
		int64_t end = gs_now() + 100 * GS_MICROSECOND;
		while (gs_now() < end)
			;
		gs_mutex_unlock(&starve_mu);
		atomic_fetch_add(&hog_rounds, 1);
	}
	return NULL;
}

TEST(mutex_waiter_is_not_starved_by_a_thread_relocking_in_a_loop)
{
	pthread_t h = start_thread(hog, NULL);
	int64_t start;

	wait_for_int(&hog_rounds, 10, 5000); /* the loop is running */
	start = gs_now();

	for (int i = 0; i < 20; i++) {
		gs_mutex_lock(&starve_mu);
		gs_mutex_unlock(&starve_mu);
	}
	CHECK(atomic_load(&hog_rounds) >= 10, "the hog never ran");
	atomic_store(&stop_hog, 1);
	pthread_join(h, NULL);
	CHECK(gs_now() - start < 10 * GS_SECOND, "20 locks took %lld ms",
	      (long long)((gs_now() - start) / GS_MILLISECOND));
}

/*
 * Hand-off order. Five waiters and a thread relocking in a loop (the
 * barger, queued second, holding the mutex a fixed time each time)
 * sleep on a mutex held for 3 ms, so every one of them has waited over
 * 1 ms when it is released. Each owner notes who it is and whether the mutex is
 * in hand-off mode while it holds it. An owner that holds it in
 * hand-off mode gives it, at its unlock, to the oldest sleeper; the
 * barger, which relocks at once, is never that while a waiter that
 * queued before it still waits. So no barger follows an owner in
 * hand-off mode until every waiter is through, and the waiters lock in
 * the order they queued.
 */
enum { FIFO_WAITERS = 5, FIFO_LOG = 4096 };

static gs_mutex_t fifo_mu;
static struct {
	char who;
	bool hand_off;
} fifo_log[FIFO_LOG]; /* who locked, in order; guarded by fifo_mu */
static int fifo_len;
static atomic_int fifo_done;

static int64_t fifo_section_ns; /* the barger's time holding it */

/* A run of barger entries in normal mode is kept as one. */
static void fifo_note(char who)
{
	bool hand_off = state_of(&fifo_mu) & M_STARVING;

	if (fifo_len > 0 && who == 'B' && !hand_off &&
	    fifo_log[fifo_len - 1].who == 'B' &&
	    !fifo_log[fifo_len - 1].hand_off)
		return;
	if (fifo_len < FIFO_LOG) {
		fifo_log[fifo_len].who = who;
		fifo_log[fifo_len++].hand_off = hand_off;
	}
}

static void *fifo_waiter(void *arg)
{
	gs_mutex_lock(&fifo_mu);
	fifo_note((char)(intptr_t)arg);
	gs_mutex_unlock(&fifo_mu);
	atomic_fetch_add(&fifo_done, 1);
	return NULL;
}

static void *fifo_barger(void *arg)
{
	(void)arg;
	while (atomic_load(&fifo_done) < FIFO_WAITERS) {
		gs_mutex_lock(&fifo_mu);
		fifo_note('B');
		int64_t end = gs_now() + fifo_section_ns;
		while (gs_now() < end)
			;
		gs_mutex_unlock(&fifo_mu);
	}
	return NULL;
}

static void fifo_queue(pthread_t *t, void *(*fn)(void *), intptr_t who,
		       int sleepers)
{
	_Atomic uint32_t *sema = GS__SEMQ_WORD(&fifo_mu);
	int64_t end = gs_now() + 5 * GS_SECOND;

	*t = start_thread(fn, (void *)who);
	while (gs__semq_sleepers(sema) < sleepers)
		CHECK(gs_now() < end, "thread %c never queued", (char)who);
}

static void fifo_run(int64_t section_ns)
{
	pthread_t t[FIFO_WAITERS + 1];
	char order[FIFO_WAITERS + 1], log[2 * FIFO_LOG + 1] = "";
	int n = 0, hand_offs = 0;

	fifo_section_ns = section_ns;
	gs_mutex_lock(&fifo_mu);
	fifo_queue(&t[0], fifo_waiter, '0', 1);
	fifo_queue(&t[FIFO_WAITERS], fifo_barger, 'B', 2);
	for (int i = 1; i < FIFO_WAITERS; i++)
		fifo_queue(&t[i], fifo_waiter, '0' + i, i + 2);
	test_sleep_ms(3);
	gs_mutex_unlock(&fifo_mu);
	for (int i = 0; i <= FIFO_WAITERS; i++)
		pthread_join(t[i], NULL);

	for (int i = 0, j = 0; i < fifo_len; i++) {
		log[j++] = fifo_log[i].who;
		if (fifo_log[i].hand_off)
			log[j++] = '*';
		log[j] = 0;
	}
	for (int i = 0; i < fifo_len; i++) {
		if (fifo_log[i].who != 'B') {
			CHECK(n < FIFO_WAITERS, "a waiter locked twice");
			order[n++] = fifo_log[i].who;
		}
		if (i > 0 && fifo_log[i - 1].hand_off) {
			hand_offs++;
			CHECK(fifo_log[i].who != 'B' || n == FIFO_WAITERS,
			      "a hand-off went to the barger with waiters "
			      "queued ahead of it (log %s; *: held in "
			      "hand-off mode)", log);
		}
	}
	order[n] = 0;
	CHECK(strcmp(order, "01234") == 0, "waiters locked in order %s "
	      "(log %s)", order, log);
	CHECK(state_of(&fifo_mu) == 0, "state 0x%x at the end",
	      state_of(&fifo_mu));
	printf("hand-offs %d, log %s\n", hand_offs, log);
}

/* A barger section longer than a woken waiter spins, so that it loses. */
TEST(mutex_hand_off_serves_waiters_in_queue_order_ahead_of_a_relocker)
{
	fifo_run(50 * GS_MICROSECOND);
}

/*
 * A barger section shorter than the waiters' spins: the barger is back
 * at the lock while a waiter that lost is still on its way to the
 * queue, and must not find the hand-off's permit free to take.
 */
TEST(mutex_hand_off_is_not_taken_back_by_a_fast_relocker)
{
	fifo_run(1 * GS_MICROSECOND);
}

/*
 * Freeing after the last unlock. Each round, thread A locks a mutex on
 * the heap, waits for thread T to queue on it with a deadline near the
 * moment A will unlock, marks the round done and unlocks, and touches
 * the mutex no more. T retries lock_until until it holds the mutex and
 * sees the mark, then unlocks and frees it. An unlock that still wrote
 * to the mutex after deciding whom to wake would race with that free,
 * and AddressSanitizer would report it in the ASan build; the window is
 * a few instructions wide, so a run catches such a race only now and
 * then (a million rounds caught the one this guards against about half
 * the time).
 */
enum { FREE_ROUNDS = 5000 };

struct doomed {
	gs_mutex_t mu;
	int done;
	int64_t deadline;
};

static struct doomed *_Atomic doomed_cur;
static atomic_int doomed_round, doomed_freed;

static void *doomed_owner(void *arg)
{
	(void)arg;
	for (int r = 1; r <= FREE_ROUNDS; r++) {
		struct doomed *o = calloc(1, sizeof(*o));

		CHECK(o != NULL, "out of memory");
		while (atomic_load(&doomed_freed) != r - 1)
			sched_yield();
		gs_mutex_lock(&o->mu);
		o->deadline = gs_now() + (10 + r % 7 * 3) * GS_MICROSECOND;
		atomic_store(&doomed_cur, o);
		atomic_store(&doomed_round, r);
		while ((state_of(&o->mu) >> M_WAITER_SHIFT) == 0 &&
		       gs_now() < o->deadline)
			;
		while (gs_now() < o->deadline - r % 5 * GS_MICROSECOND)
			;
		o->done = 1;
		gs_mutex_unlock(&o->mu); /* the owner's last touch */
	}
	return NULL;
}

static void *doomed_freer(void *arg)
{
	unsigned seed = 7;

	(void)arg;
	for (int r = 1; r <= FREE_ROUNDS; r++) {
		while (atomic_load(&doomed_round) != r)
			sched_yield();
		struct doomed *o = atomic_load(&doomed_cur);
		int64_t d = o->deadline;
		int done = 0;

		while (!done) {
			if (gs_mutex_lock_until(&o->mu, d) == 0) {
				done = o->done;
				gs_mutex_unlock(&o->mu);
			}
			d = gs_now() + rand_r(&seed) % 3 * GS_MICROSECOND;
		}
		free(o);
		atomic_store(&doomed_freed, r);
	}
	return NULL;
}

TEST(mutex_may_be_freed_by_its_next_owner_while_an_unlock_returns)
{
	pthread_t a = start_thread(doomed_owner, NULL);
	pthread_t t = start_thread(doomed_freer, NULL);

	pthread_join(a, NULL);
	pthread_join(t, NULL);
	CHECK(atomic_load(&doomed_freed) == FREE_ROUNDS, "%d rounds",
	      atomic_load(&doomed_freed));
}

TEST(mutex_lock_until_times_out_while_held_and_works_after)
{
	gs_mutex_t m = GS_MUTEX_INIT;
	int64_t start;

	CHECK(gs_mutex_lock_until(&m, gs_now() - GS_SECOND) == 0,
	      "a free mutex refused a past deadline");
	start = gs_now();
	CHECK(gs_mutex_lock_until(&m, start + 20 * GS_MILLISECOND) ==
		      ETIMEDOUT,
	      "locked a held mutex");
	CHECK(gs_now() - start >= 20 * GS_MILLISECOND, "gave up early");
	CHECK(state_of(&m) == M_LOCKED, "state 0x%x after the timeout",
	      state_of(&m));
	gs_mutex_unlock(&m);
	CHECK(gs_mutex_trylock(&m), "mutex unusable after a timeout");
	gs_mutex_unlock(&m);
}

static gs_mutex_t timed_mu;
static int timed_inside;
static atomic_int timed_ok, timed_out;

static void *timed_locker(void *arg)
{
	(void)arg;
	gun_wait(&gun);
	for (int i = 0; i < 2000; i++) {
		int64_t d = gs_now() + (rand() % 200) * GS_MICROSECOND;
		if (gs_mutex_lock_until(&timed_mu, d) != 0) {
			atomic_fetch_add(&timed_out, 1);
			continue;
		}
		CHECK(++timed_inside == 1, "%d inside", timed_inside);
		int64_t end = gs_now() + (rand() % 50) * GS_MICROSECOND;
		while (gs_now() < end)
			;
		timed_inside--;
		atomic_fetch_add(&timed_ok, 1);
		gs_mutex_unlock(&timed_mu);
	}
	return NULL;
}

TEST(mutex_timed_waiters_giving_up_keep_the_state_consistent)
{
	pthread_t t[6];

	gun_init(&gun, 6);
	for (int i = 0; i < 6; i++)
		t[i] = start_thread(timed_locker, NULL);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	CHECK(state_of(&timed_mu) == 0, "state 0x%x, expected 0",
	      state_of(&timed_mu));
	CHECK(atomic_load(&timed_ok) + atomic_load(&timed_out) == 12000,
	      "lost attempts");
	CHECK(gs_mutex_trylock(&timed_mu), "mutex unusable at the end");
	gs_mutex_unlock(&timed_mu);
}

TEST_MAIN()
