/*
 * gosync/map.h - gs_map_t, Go's sync.Map: a concurrent map from byte
 * strings to pointers whose reads never take a lock and never block.
 *
 * Keys are byte strings of any length (a zero length included), copied
 * into the map on insertion; values are the caller's void pointers,
 * which the map stores and returns but never dereferences or frees.
 * Hashing is seeded per map, from the system's random source, so no
 * one can choose keys that collide without knowing the seed.
 *
 * An all-zero map (or GS_MAP_INIT) is empty and ready; it allocates on
 * its first insertion. Every operation may run concurrently with every
 * other, gs_map_destroy excepted; any of them may be called from inside
 * a gs_map_range callback. An operation that has to allocate returns
 * ENOMEM when it cannot and leaves the map as it was.
 *
 *	static gs_map_t users = GS_MAP_INIT;
 *	void *u;
 *
 *	if (gs_map_store(&users, "ada", 3, ada) != 0)
 *		handle_enomem();
 *	if (gs_map_load(&users, "ada", 3, &u))
 *		greet(u);
 */
#ifndef GOSYNC_MAP_H
#define GOSYNC_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gs_map {
	/* Private: src/sync/map.c's state, allocated on first insertion. */
	void *impl_;
} gs_map_t;

#define GS_MAP_INIT {0}

/*
 * gs_map_load returns true and sets *value (if value is not NULL) when
 * key is present, and returns false otherwise. Never locks or blocks.
 */
bool gs_map_load(gs_map_t *m, const void *key, size_t len, void **value);

/* gs_map_store sets key's value; 0, or ENOMEM (the map unchanged). */
int gs_map_store(gs_map_t *m, const void *key, size_t len, void *value);

/*
 * gs_map_load_or_store sets *actual to key's value and *loaded to true
 * if key is present; otherwise it stores value, sets *actual to value
 * and *loaded to false. Either out pointer may be NULL. Returns 0, or
 * ENOMEM (the map unchanged, *loaded false).
 */
int gs_map_load_or_store(gs_map_t *m, const void *key, size_t len,
                         void *value, void **actual, bool *loaded);

/*
 * gs_map_load_and_delete removes key; returns true and sets *value to
 * the value it had if it was present.
 */
bool gs_map_load_and_delete(gs_map_t *m, const void *key, size_t len,
                            void **value);

/* gs_map_delete removes key if present. */
void gs_map_delete(gs_map_t *m, const void *key, size_t len);

/*
 * gs_map_swap stores value and sets *previous and *loaded to the value
 * key had and whether it was present. Returns 0, or ENOMEM (unchanged).
 */
int gs_map_swap(gs_map_t *m, const void *key, size_t len, void *value,
                void **previous, bool *loaded);

/*
 * gs_map_compare_and_swap stores new_value only if key is present with
 * the value old_value (pointer equality); returns whether it did. A
 * missing key never matches, not even old_value NULL.
 */
bool gs_map_compare_and_swap(gs_map_t *m, const void *key, size_t len,
                             void *old_value, void *new_value);

/*
 * gs_map_compare_and_delete removes key only if it is present with the
 * value old_value; returns whether it did.
 */
bool gs_map_compare_and_delete(gs_map_t *m, const void *key, size_t len,
                               void *old_value);

/*
 * gs_map_range calls fn(key, len, value, arg) for the map's entries
 * until fn returns false. Every key present for the whole walk is
 * visited exactly once; a key stored or deleted during the walk may or
 * may not be (and one deleted and stored again may be seen twice). fn
 * may call any operation on m, and runs on the caller's thread with no
 * lock held; a long fn delays the freeing of every map's removed
 * entries. The key bytes passed to fn are valid only until fn returns.
 */
void gs_map_range(gs_map_t *m,
                  bool (*fn)(const void *key, size_t len, void *value,
                             void *arg),
                  void *arg);

/* gs_map_clear removes every entry. */
void gs_map_clear(gs_map_t *m);

/*
 * gs_map_len returns the number of entries. Under concurrent changes it
 * is a value the count had at some moment during the call.
 */
size_t gs_map_len(gs_map_t *m);

/*
 * gs_map_compute replaces key's entry atomically with what fn decides.
 * fn(value, present, arg) is called with *present telling whether key
 * is there and *value its value (NULL if absent); on return, the map
 * holds *value under key if fn left *present true and no entry if fn
 * left it false. No other change to key happens in between. fn runs
 * with the key's part of the map locked, so it must be short and must
 * not call into m. Returns 0, or ENOMEM when an entry had to be created
 * and could not be (the map unchanged).
 */
int gs_map_compute(gs_map_t *m, const void *key, size_t len,
                   void (*fn)(void **value, bool *present, void *arg),
                   void *arg);

/*
 * gs_map_destroy frees everything the map allocated (values are the
 * caller's) and leaves m as GS_MAP_INIT. Nothing may use m concurrently.
 */
void gs_map_destroy(gs_map_t *m);

#ifdef __cplusplus
}
#endif

#endif
