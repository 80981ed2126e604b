/*
 * consumer.c - a program that uses an installed gosync as any outside
 * project would: through <gosync.h> and the installed library only.
 *
 * Eight tasks started with gs_waitgroup_go add their numbers to a sum
 * under a gs_mutex_t, and each calls gs_once_do on one once; then a
 * context with a past deadline reports ETIMEDOUT. It prints one line,
 * "consumer: 8 tasks, sum 36, once ran 1 time, deadline ETIMEDOUT",
 * and exits 0 only if every figure is that one.
 */
#include <errno.h>
#include <stdio.h>

#include <gosync.h>

static gs_mutex_t mu = GS_MUTEX_INIT;
static gs_once_t once = GS_ONCE_INIT;
static int sum, once_runs;
static int numbers[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static void count_once(void *arg)
{
	(void)arg;
	once_runs++;
}

static void task(void *arg)
{
	gs_once_do(&once, count_once, NULL);
	gs_mutex_lock(&mu);
	sum += *(int *)arg;
	gs_mutex_unlock(&mu);
}

int main(void)
{
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	gs_ctx_t *ctx;
	int err;

	for (int i = 0; i < 8; i++)
		if ((err = gs_waitgroup_go(&wg, task, &numbers[i])) != 0)
			return 1;
	gs_waitgroup_wait(&wg);

	if (gs_ctx_with_deadline(NULL, gs_now() - 1, &ctx) != 0)
		return 1;
	gs_ctx_wait(ctx);
	err = gs_ctx_err(ctx);
	gs_ctx_unref(ctx);

	printf("consumer: 8 tasks, sum %d, once ran %d time, deadline %s\n",
	       sum, once_runs, err == ETIMEDOUT ? "ETIMEDOUT" : "wrong");
	return !(sum == 36 && once_runs == 1 && err == ETIMEDOUT);
}
