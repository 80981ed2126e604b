/*
 * ctable.h - the C programmer's plain answer to a concurrent map: an
 * open-addressing hash table from 64-bit keys to pointers behind one
 * pthread_rwlock_t, the C counterpart of Go's builtin map plus
 * RWMutex. bench_map and examples/map-bench set gosync's map beside it.
 *
 * Linear probing over (key, value) slots, grown to twice the size at
 * half full, deletion by backward shift (no tombstones), keys mixed by
 * a 64-bit finaliser. Loads take the read lock, everything else the
 * write lock.
 *
 * Limits: key 0 marks an empty slot and cannot be stored; the table
 * never shrinks; an allocation failure returns ENOMEM and leaves the
 * table as it was.
 */
#ifndef GOSYNC_BENCH_CTABLE_H
#define GOSYNC_BENCH_CTABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctable_slot {
	uint64_t key;
	void *value;
};

struct ctable {
	pthread_rwlock_t lock;
	struct ctable_slot *slots;
	size_t mask;
	size_t len;
};

/* ctable_init returns 0 or an errno. */
int ctable_init(struct ctable *t);
void ctable_destroy(struct ctable *t);

bool ctable_load(struct ctable *t, uint64_t key, void **value);
/* ctable_store sets key's value: 0, or ENOMEM. */
int ctable_store(struct ctable *t, uint64_t key, void *value);
void ctable_delete(struct ctable *t, uint64_t key);
/* Sets *loaded; 0, or ENOMEM (nothing stored, *loaded false). */
int ctable_load_or_store(struct ctable *t, uint64_t key, void *value,
                         void **actual, bool *loaded);
bool ctable_load_and_delete(struct ctable *t, uint64_t key, void **value);

/*
 * ctable_snapshot copies the entries under the read lock into a new
 * array (free it) and returns how many; NULL with 0 if empty or out of
 * memory. Go's RWMutexMap ranges the same way: copy, then call.
 */
struct ctable_slot *ctable_snapshot(struct ctable *t, size_t *count);

#endif
