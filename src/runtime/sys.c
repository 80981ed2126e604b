/*
 * sys.c - layer 1's random source, which seeds the map's hash (the
 * asymmetric barrier, the other system call the map relies on, is in
 * fence.c).
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
#include <sys/random.h>
#endif

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
