/*
 * executor.h - layer 3: the pool of threads behind gs_go.
 */
#ifndef GS_RUNTIME_EXECUTOR_H
#define GS_RUNTIME_EXECUTOR_H

#include <pthread.h>
#include <stdint.h>

/* A function pointer of no particular type; cast back before calling. */
typedef void (*gs__fnptr)(void);

/*
 * A job: run(job) is called on a pool thread with a copy of the job.
 * fn, arg and data are the caller's to interpret; wrappers such as the
 * waitgroup's use them to add work around the user's function.
 */
struct gs__job {
	void (*run)(const struct gs__job *job);
	gs__fnptr fn;
	void *arg;
	void *data;
};

/*
 * gs__spawn copies job and runs it on a pool thread. Returns 0, ENOMEM,
 * or EAGAIN when no thread can be had; after an error the job never
 * runs.
 */
int gs__spawn(const struct gs__job *job);

/* Pool threads alive, idle among them, and started since the start. */
void gs__executor_stats(int *threads, int *idle, uint64_t *created);

/* How long a thread may stay idle before it retires (tests shorten it). */
void gs__executor_set_idle_timeout(int64_t ns);

/*
 * gs__thread_create starts a detached thread with every signal blocked,
 * so that gosync's own threads never take a signal meant for the
 * program. Returns 0 or the pthread_create error.
 */
int gs__thread_create(void *(*fn)(void *), void *arg);

#endif
