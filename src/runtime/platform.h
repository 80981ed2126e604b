/*
 * platform.h - layer 1 beside the wait layer: the misuse helper, thread
 * identity, and the spin policy.
 */
#ifndef GS_RUNTIME_PLATFORM_H
#define GS_RUNTIME_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

/*
 * gs__misuse reports misuse the way Go panics: one line,
 * "gs: <module>: <what>", on stderr in a single write, then abort(). It
 * is the only way gosync reports misuse.
 */
_Noreturn void gs__misuse(const char *module, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * gs__thread_id returns a number unique to the calling thread among the
 * threads alive, never 0. Cheap: a thread-local load after the first
 * call.
 */
uint32_t gs__thread_id(void);

/* gs__ncpu returns the number of CPUs the process may run on, cached. */
int gs__ncpu(void);

/*
 * gs__random64 returns 64 bits from the system's random source, or, if
 * it fails, a mix of the clock, an address and a counter.
 */
uint64_t gs__random64(void);

/* gs__spin_pause tells the CPU that the caller is spinning. */
static inline void gs__spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif
