/*
 * clock.c - gs_now, the monotonic clock in nanoseconds, and the CPU
 * count that the spin policy reads.
 *
 * CLOCK_MONOTONIC is read through the vDSO, about 20 ns, and never goes
 * back; 64-bit nanoseconds last 292 years from boot.
 */
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <gosync/runtime.h>

#include "runtime/platform.h"

int64_t gs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * GS_SECOND + ts.tv_nsec;
}

int gs__ncpu(void)
{
	static atomic_int cached;
	int n = atomic_load_explicit(&cached, memory_order_relaxed);

	if (n > 0)
		return n;
#ifdef CPU_COUNT
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
#endif
	if (n <= 0)
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	/* Relaxed: every thread computes the same value; any may store it. */
	atomic_store_explicit(&cached, n, memory_order_relaxed);
	return n;
}
