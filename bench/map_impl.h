/*
 * map_impl.h - the one small interface behind which bench_map drives
 * every concurrent map it compares: gosync's gs_map and the maps a C or
 * C++ programmer would pick instead. Keys are nonzero 64-bit integers
 * (gosync's map takes them as their 8 bytes), values are opaque
 * pointers that no map dereferences.
 *
 * Every operation may run on any thread at the same time as the others,
 * except where a field says otherwise; create and destroy run alone.
 * A map that runs out of memory ends the program (bench_die): a
 * benchmark has nothing sensible to do with ENOMEM.
 *
 * The implementations are built only where their library was found at
 * configure time; each is declared here under its HAVE_ macro.
 */
#ifndef GOSYNC_BENCH_MAP_IMPL_H
#define GOSYNC_BENCH_MAP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef bool (*map_range_fn)(uint64_t key, void *value, void *arg);

struct map_impl {
	const char *name;
	void *(*create)(void);
	void (*destroy)(void *m);
	bool (*load)(void *m, uint64_t key, void **value);
	void (*store)(void *m, uint64_t key, void *value);
	void (*del)(void *m, uint64_t key);
	/* Returns loaded; *actual is the value now under key. */
	bool (*load_or_store)(void *m, uint64_t key, void *value,
	                      void **actual);
	bool (*load_and_delete)(void *m, uint64_t key, void **value);
	/* fn may call the map's operations (most impls copy, then call). */
	void (*range)(void *m, map_range_fn fn, void *arg);
	/* Only one thread may use the map at a time. */
	bool one_thread;
	/* Its range is unsafe while another thread writes. */
	bool range_needs_quiet;
};

/* The C table behind pthread_rwlock (ctable.h): always built. */
extern const struct map_impl map_impl_ctable;
#ifdef HAVE_GS_MAP
extern const struct map_impl map_impl_gosync;
#endif
#ifdef HAVE_GLIB
extern const struct map_impl map_impl_glib;
#endif
#ifdef HAVE_CK
extern const struct map_impl map_impl_ck;
#endif
#ifdef HAVE_URCU
extern const struct map_impl map_impl_urcu;
#endif
#ifdef HAVE_TBB
extern const struct map_impl map_impl_tbb;
#endif
#ifdef HAVE_CUCKOO
extern const struct map_impl map_impl_cuckoo;
#endif
#ifdef HAVE_ABSL
extern const struct map_impl map_impl_absl;
#endif

/* map_impl_oom ends the program: a map could not allocate. */
void map_impl_oom(const char *who);

struct ctable_slot;

/*
 * map_call_each calls fn on the n copied entries until it returns
 * false, then frees them: the range of every map that copies under its
 * lock and calls outside it, as Go's RWMutexMap does.
 */
void map_call_each(struct ctable_slot *copy, size_t n, map_range_fn fn,
                   void *arg);

#ifdef __cplusplus
}
#endif

#endif
