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

/* The calling thread's number once it has one, else 0 (thread.c). */
extern _Thread_local uint32_t gs__thread_number
	__attribute__((tls_model("initial-exec")));

uint32_t gs__thread_id_first(void);

/*
 * gs__thread_id returns a number unique to the calling thread among the
 * threads alive, never 0. Inline: a thread-local load after the first
 * call.
 */
static inline uint32_t gs__thread_id(void)
{
	uint32_t id = gs__thread_number;

	return __builtin_expect(id != 0, 1) ? id : gs__thread_id_first();
}

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
