/* test_cond.c - gs_cond_t: FIFO wakeups, no lost or stolen signals. */
#include <gosync/cond.h>
#include <gosync/runtime.h>

#include "harness.h"

static gs_mutex_t mu = GS_MUTEX_INIT;
static gs_cond_t cond = GS_COND_INIT(GS_MUTEX_LOCKER(&mu));

static uint32_t waiting(gs_cond_t *c)
{
	return __atomic_load_n(&c->nwaiters_, __ATOMIC_SEQ_CST);
}

/* Waits until c has n waiters; they joined while holding the lock. */
static void await_waiters(gs_cond_t *c, uint32_t n)
{
	int64_t end = gs_now() + 10 * GS_SECOND;

	while (waiting(c) != n && gs_now() < end)
		sched_yield();
	CHECK(waiting(c) == n, "%u waiters, expected %u", waiting(c), n);
}

static atomic_int order[8], woke;

static void *ordered_waiter(void *arg)
{
	gs_mutex_lock(&mu);
	gs_cond_wait(&cond);
	order[atomic_fetch_add(&woke, 1)] = (int)(intptr_t)arg;
	gs_mutex_unlock(&mu);
	return NULL;
}

TEST(cond_signal_wakes_one_waiter_at_a_time_in_arrival_order)
{
	pthread_t t[3];

	gs_cond_signal(&cond); /* nobody waits: nothing happens */
	for (int i = 0; i < 3; i++) {
		t[i] = start_thread(ordered_waiter, (void *)(intptr_t)i);
		await_waiters(&cond, (uint32_t)i + 1);
	}
	test_sleep_ms(20);
	CHECK(atomic_load(&woke) == 0, "%d woke before any signal",
	      atomic_load(&woke));
	for (int i = 0; i < 3; i++) {
		gs_cond_signal(&cond);
		CHECK(wait_for_int(&woke, i + 1, 5000) == i + 1,
		      "signal %d woke %d", i, atomic_load(&woke));
		test_sleep_ms(10);
		CHECK(atomic_load(&woke) == i + 1, "signal %d woke more", i);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		CHECK(order[i] == i, "wake %d went to waiter %d", i,
		      atomic_load(&order[i]));
	}
}

static int round_no;
static atomic_int awake_count;

static void *broadcast_waiter(void *arg)
{
	int rounds = (int)(intptr_t)arg;

	gs_mutex_lock(&mu);
	for (int r = 0; r < rounds; r++) {
		int my = round_no;
		while (round_no == my)
			gs_cond_wait(&cond);
		atomic_fetch_add(&awake_count, 1);
	}
	gs_mutex_unlock(&mu);
	return NULL;
}

TEST(cond_broadcast_wakes_every_waiter_once_per_round)
{
	enum { N = 50, ROUNDS = 50 };
	pthread_t t[N];

	for (int i = 0; i < N; i++)
		t[i] = start_thread(broadcast_waiter, (void *)(intptr_t)ROUNDS);
	for (int r = 0; r < ROUNDS; r++) {
		await_waiters(&cond, N);
		gs_mutex_lock(&mu);
		round_no++;
		gs_cond_broadcast(&cond);
		gs_mutex_unlock(&mu);
		CHECK(wait_for_int(&awake_count, (r + 1) * N, 10000) ==
			      (r + 1) * N,
		      "round %d: %d awake", r, atomic_load(&awake_count));
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&awake_count) == N * ROUNDS, "%d wakes",
	      atomic_load(&awake_count));
}

static int x;

static void *pass_on(void *arg)
{
	int from = (int)(intptr_t)arg;

	gs_mutex_lock(&mu);
	while (x != from)
		gs_cond_wait(&cond);
	CHECK(x == from, "saw %d, expected %d", x, from);
	x = from + 1;
	gs_cond_broadcast(&cond);
	gs_mutex_unlock(&mu);
	return NULL;
}

TEST(cond_passes_a_value_through_three_threads)
{
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		t[i] = start_thread(pass_on, (void *)(intptr_t)(i + 1));
	gs_mutex_lock(&mu);
	x = 1;
	gs_cond_broadcast(&cond);
	while (x != 4)
		gs_cond_wait(&cond);
	gs_mutex_unlock(&mu);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

static atomic_int late_woke, early_woke;

static void *early_waiter(void *arg)
{
	(void)arg;
	gs_mutex_lock(&mu);
	gs_cond_wait(&cond);
	atomic_store(&early_woke, 1);
	gs_mutex_unlock(&mu);
	return NULL;
}

static void *late_waiter(void *arg)
{
	(void)arg;
	gs_mutex_lock(&mu);
	gs_cond_wait(&cond);
	atomic_store(&late_woke, 1);
	gs_mutex_unlock(&mu);
	return NULL;
}

TEST(cond_waiter_arriving_after_broadcast_stays_asleep)
{
	pthread_t w1, w2;

	w1 = start_thread(early_waiter, NULL);
	await_waiters(&cond, 1);
	gs_cond_broadcast(&cond);
	w2 = start_thread(late_waiter, NULL);
	CHECK(wait_for_int(&early_woke, 1, 1000) == 1, "W1 not woken");
	await_waiters(&cond, 1);
	test_sleep_ms(200);
	CHECK(!atomic_load(&late_woke), "W2 took a wakeup meant for W1");
	gs_cond_signal(&cond);
	CHECK(wait_for_int(&late_woke, 1, 1000) == 1, "W2 not woken");
	pthread_join(w1, NULL);
	pthread_join(w2, NULL);
}

struct handshake {
	gs_mutex_t mu;
	gs_cond_t c;
	bool ready;
	bool broadcast;
	gun_t gun;
};

static void *hs_waiter(void *arg)
{
	struct handshake *h = arg;

	gun_wait(&h->gun);
	gs_mutex_lock(&h->mu);
	while (!h->ready)
		gs_cond_wait(&h->c);
	gs_mutex_unlock(&h->mu);
	return NULL;
}

static void *hs_signaller(void *arg)
{
	struct handshake *h = arg;

	gun_wait(&h->gun);
	gs_mutex_lock(&h->mu);
	h->ready = true;
	gs_mutex_unlock(&h->mu);
	if (h->broadcast) /* deliberately outside the lock */
		gs_cond_broadcast(&h->c);
	else
		gs_cond_signal(&h->c);
	return NULL;
}

TEST(cond_signal_after_unlock_is_never_lost)
{
	for (int round = 0; round < 4000; round++) {
		struct handshake h;
		pthread_t a, b;

		memset(&h, 0, sizeof h);
		h.broadcast = round & 1;
		gs_cond_init(&h.c, gs_mutex_locker(&h.mu));
		gun_init(&h.gun, 2);
		a = start_thread(hs_waiter, &h);
		b = start_thread(hs_signaller, &h);
		pthread_join(a, NULL); /* a lost signal hangs: the watchdog */
		pthread_join(b, NULL);
	}
}

TEST(cond_wait_until_times_out_holding_the_lock_again)
{
	int64_t start = gs_now();

	gs_mutex_lock(&mu);
	CHECK(!gs_cond_wait_until(&cond, start + 20 * GS_MILLISECOND),
	      "a wait nobody signalled reported a signal");
	CHECK(gs_now() - start >= 20 * GS_MILLISECOND, "gave up early");
	CHECK(!gs_mutex_trylock(&mu), "the lock is not held after the wait");
	gs_mutex_unlock(&mu);
	CHECK(waiting(&cond) == 0, "the timed-out waiter stayed listed");
}

static atomic_int patient_woke;

static void *patient_waiter(void *arg)
{
	(void)arg;
	gs_mutex_lock(&mu);
	gs_cond_wait(&cond);
	atomic_store(&patient_woke, 1);
	gs_mutex_unlock(&mu);
	return NULL;
}

static void *impatient_waiter(void *arg)
{
	(void)arg;
	gs_mutex_lock(&mu);
	/* Long enough for the patient waiter to queue behind it. */
	CHECK(!gs_cond_wait_until(&cond, gs_now() + 500 * GS_MILLISECOND),
	      "the impatient waiter was signalled");
	gs_mutex_unlock(&mu);
	return NULL;
}

TEST(cond_timed_out_waiter_does_not_eat_a_later_signal)
{
	pthread_t a, b;

	a = start_thread(impatient_waiter, NULL);
	await_waiters(&cond, 1);
	b = start_thread(patient_waiter, NULL);
	await_waiters(&cond, 2);
	pthread_join(a, NULL);
	await_waiters(&cond, 1);
	gs_cond_signal(&cond);
	CHECK(wait_for_int(&patient_woke, 1, 2000) == 1,
	      "the signal went nowhere");
	pthread_join(b, NULL);
}

static pthread_mutex_t pmu = PTHREAD_MUTEX_INITIALIZER;

static void plock(void *m)
{
	pthread_mutex_lock(m);
}

static void punlock(void *m)
{
	pthread_mutex_unlock(m);
}

static gs_cond_t pcond = GS_COND_INIT(GS_LOCKER(plock, punlock, &pmu));
static bool pready;

static void *p_signaller(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pmu);
	pready = true;
	gs_cond_signal(&pcond);
	pthread_mutex_unlock(&pmu);
	return NULL;
}

TEST(cond_works_with_a_users_own_lock)
{
	pthread_t t;

	pthread_mutex_lock(&pmu);
	t = start_thread(p_signaller, NULL);
	while (!pready)
		gs_cond_wait(&pcond);
	pthread_mutex_unlock(&pmu);
	pthread_join(t, NULL);
}

static void signal_copy(void *arg)
{
	gs_cond_t copy;

	(void)arg;
	gs_cond_signal(&cond); /* first use records the address */
	memcpy(&copy, &cond, sizeof copy);
	gs_cond_signal(&copy);
}

TEST(cond_copied_after_first_use_aborts)
{
	expect_death(signal_copy, NULL, "gs: cond: copied after first use");
}

TEST_MAIN()
