/*
 * sys.c - layer 1's other system calls: the asymmetric memory barrier
 * that lets epoch readers run without a fence, and the random source
 * that seeds the map's hash.
 *
 * The barrier is Linux's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED):
 * every thread of the process that is running takes a full barrier
 * (an interrupt), and one that is not running has had one in its
 * context switch. Where the kernel lacks it (or a sandbox refuses it),
 * gs__barrier_init says so and the epoch's readers fence instead.
 *
 * Limits: with no getrandom, the seed falls back to the clock, an
 * address and a counter: enough to vary between maps and runs, not
 * enough against a determined attacker.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "runtime/platform.h"

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/random.h>
#include <sys/syscall.h>
#endif

bool gs__barrier_init(void)
{
#if defined(__linux__) && defined(SYS_membarrier)
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return false;
	return syscall(SYS_membarrier,
		       MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
	return false;
#endif
}

void gs__barrier_all(void)
{
#if defined(__linux__) && defined(SYS_membarrier)
	/* Registered by gs__barrier_init; it cannot fail after that. */
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0,
		    0) == 0)
		return;
#endif
	gs__misuse("epoch", "asymmetric barrier unavailable");
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	return x ^ (x >> 33);
}

uint64_t gs__random64(void)
{
	static _Atomic uint64_t counter;
	struct timespec ts;
	uint64_t r;

#if defined(__linux__)
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
		return r;
#endif
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	r ^= (uint64_t)(uintptr_t)&ts;
	r += atomic_fetch_add(&counter, 0x9e3779b97f4a7c15ull);
	return mix64(r);
}
