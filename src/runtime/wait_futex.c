/*
 * wait_futex.c - layer 1 on Linux: gs__wait and gs__wake are the
 * futex(2) FUTEX_WAIT_BITSET and FUTEX_WAKE operations on a
 * process-private word.
 *
 * Deadlines are absolute CLOCK_MONOTONIC times, which is what
 * FUTEX_WAIT_BITSET takes without FUTEX_CLOCK_REALTIME, so a deadline
 * never drifts however often a sleep is interrupted and resumed.
 * Deadlines already past return ETIMEDOUT before any system call, and
 * GS_NEVER sleeps without a timeout; any other deadline is a valid
 * timespec, up to the year 2262 of the monotonic clock. Limits: Linux
 * only; the portable build uses wait_parking.c.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <gosync/runtime.h>

#include "runtime/wait.h"

_Thread_local void (*gs__wait_hook)(bool blocking);

int gs__wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline)
{
	void (*hook)(bool) = gs__wait_hook;
	struct timespec ts, *tsp = NULL;
	long r;

	if (deadline != GS_NEVER) {
		if (deadline <= gs_now())
			return ETIMEDOUT;
		ts.tv_sec = (time_t)(deadline / GS_SECOND);
		ts.tv_nsec = (long)(deadline % GS_SECOND);
		tsp = &ts;
	}
	if (hook)
		hook(true);
	r = syscall(SYS_futex, (uint32_t *)word,
		    FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, tsp, NULL,
		    FUTEX_BITSET_MATCH_ANY);
	if (r != 0)
		r = errno;
	if (hook)
		hook(false);
	if (r == ETIMEDOUT || r == EAGAIN)
		return (int)r;
	return 0; /* woken, or EINTR: a spurious wakeup, the caller loops */
}

void gs__wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
		n, NULL, NULL, 0);
}
