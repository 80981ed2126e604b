/*
 * harness.h - the test harness of gosync's own suite.
 *
 * A test file defines tests with TEST(name) { ... } and ends with
 * TEST_MAIN(). CMake reads the names from the file and registers each
 * as its own ctest test, run as "<binary> <name>" in a process of its
 * own under a timeout; the binary run with no argument runs them all,
 * each in a child process of its own, and ends with "N passed, N failed".
 * Inside a test:
 *
 * - CHECK(cond, fmt, ...) fails the test, printing what was expected and
 *   what came, when cond is false;
 * - gun_t is a starting gun: threads call gun_wait, the test fires it
 *   once all have arrived, and they all start together;
 * - expect_death(fn, arg, line) runs fn(arg) in a child process and
 *   checks that it aborts with line on stderr;
 * - a watchdog (alarm) ends a hung test with "hang" instead of letting
 *   it block the suite.
 *
 * Tests never assert timings beyond generous bounds, and never use sleep
 * to order threads; they order them with gates and guns.
 */
#ifndef GS_TEST_HARNESS_H
#define GS_TEST_HARNESS_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef void (*test_fn)(void);

struct test_entry {
	const char *name;
	test_fn fn;
};

#define TEST_MAX 128
static struct test_entry test_table[TEST_MAX];
static int test_count;
static const char *test_current;

#define TEST(name)                                                          \
	static void test_##name(void);                                      \
	__attribute__((constructor)) static void test_register_##name(void) \
	{                                                                   \
		if (test_count < TEST_MAX)                                  \
			test_table[test_count++] =                          \
				(struct test_entry){#name, test_##name};    \
	}                                                                   \
	static void test_##name(void)

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s: %s:%d: check failed: %s: ",    \
				test_current, __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
			exit(1);                                            \
		}                                                           \
	} while (0)

static inline int64_t test_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void test_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A starting gun for n threads: each waits, the last arrival fires. */
typedef struct gun {
	atomic_int arrived;
	atomic_int fired;
	int n;
} gun_t;

static inline void gun_init(gun_t *g, int n)
{
	atomic_init(&g->arrived, 0);
	atomic_init(&g->fired, 0);
	g->n = n;
}

static inline void gun_wait(gun_t *g)
{
	if (atomic_fetch_add(&g->arrived, 1) + 1 == g->n)
		atomic_store(&g->fired, 1);
	while (!atomic_load(&g->fired))
		sched_yield();
}

/* A one-shot latch that threads can wait on: open once, stays open. */
typedef struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool open;
} gate_t;

#define GATE_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}

static inline void gate_open(gate_t *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static inline void gate_wait(gate_t *g)
{
	pthread_mutex_lock(&g->mu);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

/* Spin-yields until *v is at least want or ms pass; returns the value. */
static inline int wait_for_int(atomic_int *v, int want, int ms)
{
	int64_t end = test_now() + (int64_t)ms * 1000000;
	int got;
	while ((got = atomic_load(v)) < want && test_now() < end)
		sched_yield();
	return got;
}

static inline pthread_t start_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, fn, arg);
	if (err != 0) {
		fprintf(stderr, "%s: pthread_create: %s\n", test_current,
			strerror(err));
		exit(1);
	}
	return t;
}

/* Runs fn(arg) in a child; returns its wait status and its stderr. */
static inline int run_child(void (*fn)(void *), void *arg, char *buf,
			    size_t cap)
{
	int fds[2], status;
	size_t len = 0;
	ssize_t r;

	CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		alarm(20);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while (len < cap - 1 &&
	       ((r = read(fds[0], buf + len, cap - 1 - len)) > 0 ||
		(r < 0 && errno == EINTR)))
		if (r > 0)
			len += (size_t)r;
	buf[len] = 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/*
 * expect_death runs fn(arg) in a child and checks that the child dies of
 * SIGABRT with line (or, if other is not NULL, other) on stderr.
 */
static inline void expect_death_either(void (*fn)(void *), void *arg,
				       const char *line, const char *other)
{
	char buf[4096];
	int status = run_child(fn, arg, buf, sizeof buf);

	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	      "expected an abort with \"%s\", got status 0x%x and \"%s\"",
	      line, status, buf);
	CHECK(strstr(buf, line) != NULL || (other && strstr(buf, other)),
	      "expected \"%s\" on stderr, got \"%s\"", line, buf);
}

static inline void expect_death(void (*fn)(void *), void *arg,
				const char *line)
{
	expect_death_either(fn, arg, line, NULL);
}

static void test_watchdog(int sig)
{
	static const char msg[] = ": hang (watchdog)\n";
	(void)sig;
	if (write(2, test_current, strlen(test_current)) < 0 ||
	    write(2, msg, sizeof msg - 1) < 0)
		_exit(3);
	_exit(2);
}

static inline int test_run_one(const struct test_entry *t)
{
	test_current = t->name;
	signal(SIGALRM, test_watchdog);
	alarm(120);
	int64_t start = test_now();
	t->fn();
	alarm(0);
	printf("ok %s (%.1f ms)\n", t->name, (test_now() - start) / 1e6);
	fflush(stdout);
	return 0;
}

/* Runs every test, each in a child of its own, as ctest would. */
static inline int test_run_all(void)
{
	int failed = 0, status;

	for (int i = 0; i < test_count; i++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0)
			_exit(test_run_one(&test_table[i]));
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("FAIL %s\n", test_table[i].name);
			failed++;
		}
	}
	printf("%d passed, %d failed\n", test_count - failed, failed);
	return failed != 0;
}

static inline int test_main(int argc, char **argv)
{
	if (argc < 2)
		return test_run_all();
	for (int i = 0; i < test_count; i++)
		if (strcmp(argv[1], test_table[i].name) == 0)
			return test_run_one(&test_table[i]);
	fprintf(stderr, "no test named %s\n", argv[1]);
	return 1;
}

#define TEST_MAIN()                                                         \
	int main(int argc, char **argv)                                     \
	{                                                                   \
		return test_main(argc, argv);                               \
	}

#endif
