/*
 * map_peers_cxx.cpp - bench_map's C++ peers behind map_impl.h:
 * tbb::concurrent_hash_map, libcuckoo's cuckoohash_map, and
 * absl::flat_hash_map, which has no lock and is the one-thread limit.
 * Each is used through its documented interface with its default hash.
 *
 * Limits: tbb's iteration is not safe while another thread writes, so
 * its range (a copy, then the calls) is marked range_needs_quiet and
 * bench_map skips it where other threads write; libcuckoo ranges
 * through lock_table, copying, then calls outside the lock; absl's
 * range copies as well, so that fn may change the map.
 */
#include "map_impl.h"

#include "ctable.h"

#include <cstdlib>
#include <new>
#include <vector>

namespace {

[[maybe_unused]] ctable_slot *copy_of(const std::vector<ctable_slot> &v)
{
	ctable_slot *c = static_cast<ctable_slot *>(
	        std::malloc((v.size() + 1) * sizeof(ctable_slot)));

	if (c == nullptr)
		map_impl_oom("range");
	for (size_t i = 0; i < v.size(); i++)
		c[i] = v[i];
	return c;
}

/* Ranges over a copy taken from the map's iterators. */
template <typename It>
[[maybe_unused]] void range_copy(It first, It last, map_range_fn fn,
                                 void *arg)
{
	std::vector<ctable_slot> v;

	for (; first != last; ++first)
		v.push_back(ctable_slot{first->first, first->second});
	map_call_each(copy_of(v), v.size(), fn, arg);
}

} // namespace

#ifdef HAVE_TBB
#include <tbb/concurrent_hash_map.h>

namespace {

using tbb_map = tbb::concurrent_hash_map<uint64_t, void *>;

void *tbb_create()
{
	return new tbb_map();
}

void tbb_destroy(void *m)
{
	delete static_cast<tbb_map *>(m);
}

bool tbb_load(void *m, uint64_t key, void **value)
{
	tbb_map::const_accessor a;

	if (!static_cast<tbb_map *>(m)->find(a, key))
		return false;
	if (value != nullptr)
		*value = a->second;
	return true;
}

void tbb_store(void *m, uint64_t key, void *value)
{
	tbb_map::accessor a;

	static_cast<tbb_map *>(m)->insert(a, key);
	a->second = value;
}

void tbb_del(void *m, uint64_t key)
{
	static_cast<tbb_map *>(m)->erase(key);
}

bool tbb_load_or_store(void *m, uint64_t key, void *value, void **actual)
{
	tbb_map::const_accessor a;
	bool inserted = static_cast<tbb_map *>(m)->insert(
	        a, tbb_map::value_type(key, value));

	*actual = a->second;
	return !inserted;
}

bool tbb_load_and_delete(void *m, uint64_t key, void **value)
{
	tbb_map *t = static_cast<tbb_map *>(m);
	tbb_map::accessor a;

	if (!t->find(a, key))
		return false;
	if (value != nullptr)
		*value = a->second;
	return t->erase(a);
}

void tbb_range(void *m, map_range_fn fn, void *arg)
{
	tbb_map *t = static_cast<tbb_map *>(m);

	range_copy(t->begin(), t->end(), fn, arg);
}

} // namespace

extern "C" const struct map_impl map_impl_tbb = {
        "tbb::concurrent_hash_map", tbb_create, tbb_destroy, tbb_load,
        tbb_store, tbb_del, tbb_load_or_store, tbb_load_and_delete,
        tbb_range, false, true,
};
#endif

#ifdef HAVE_CUCKOO
#include <libcuckoo/cuckoohash_map.hh>

namespace {

using cuckoo_map = libcuckoo::cuckoohash_map<uint64_t, void *>;

void *cu_create()
{
	return new cuckoo_map();
}

void cu_destroy(void *m)
{
	delete static_cast<cuckoo_map *>(m);
}

bool cu_load(void *m, uint64_t key, void **value)
{
	void *v;

	if (!static_cast<cuckoo_map *>(m)->find(key, v))
		return false;
	if (value != nullptr)
		*value = v;
	return true;
}

void cu_store(void *m, uint64_t key, void *value)
{
	static_cast<cuckoo_map *>(m)->insert_or_assign(key, value);
}

void cu_del(void *m, uint64_t key)
{
	static_cast<cuckoo_map *>(m)->erase(key);
}

bool cu_load_or_store(void *m, uint64_t key, void *value, void **actual)
{
	void *seen = value;
	bool inserted = static_cast<cuckoo_map *>(m)->uprase_fn(
	        key,
	        [&seen](void *&v) {
		        seen = v;
		        return false;
	        },
	        value);

	*actual = seen;
	return !inserted;
}

bool cu_load_and_delete(void *m, uint64_t key, void **value)
{
	return static_cast<cuckoo_map *>(m)->erase_fn(key, [value](void *&v) {
		if (value != nullptr)
			*value = v;
		return true;
	});
}

void cu_range(void *m, map_range_fn fn, void *arg)
{
	std::vector<ctable_slot> v;

	{
		auto lt = static_cast<cuckoo_map *>(m)->lock_table();

		for (const auto &e : lt)
			v.push_back(ctable_slot{e.first, e.second});
	}
	map_call_each(copy_of(v), v.size(), fn, arg);
}

} // namespace

extern "C" const struct map_impl map_impl_cuckoo = {
        "libcuckoo cuckoohash_map", cu_create, cu_destroy, cu_load,
        cu_store, cu_del, cu_load_or_store, cu_load_and_delete,
        cu_range, false, false,
};
#endif

#ifdef HAVE_ABSL
#include <absl/container/flat_hash_map.h>

namespace {

using absl_map = absl::flat_hash_map<uint64_t, void *>;

void *ab_create()
{
	return new absl_map();
}

void ab_destroy(void *m)
{
	delete static_cast<absl_map *>(m);
}

bool ab_load(void *m, uint64_t key, void **value)
{
	absl_map *t = static_cast<absl_map *>(m);
	auto it = t->find(key);

	if (it == t->end())
		return false;
	if (value != nullptr)
		*value = it->second;
	return true;
}

void ab_store(void *m, uint64_t key, void *value)
{
	(*static_cast<absl_map *>(m))[key] = value;
}

void ab_del(void *m, uint64_t key)
{
	static_cast<absl_map *>(m)->erase(key);
}

bool ab_load_or_store(void *m, uint64_t key, void *value, void **actual)
{
	auto r = static_cast<absl_map *>(m)->try_emplace(key, value);

	*actual = r.first->second;
	return !r.second;
}

bool ab_load_and_delete(void *m, uint64_t key, void **value)
{
	absl_map *t = static_cast<absl_map *>(m);
	auto it = t->find(key);

	if (it == t->end())
		return false;
	if (value != nullptr)
		*value = it->second;
	t->erase(it);
	return true;
}

void ab_range(void *m, map_range_fn fn, void *arg)
{
	absl_map *t = static_cast<absl_map *>(m);

	range_copy(t->begin(), t->end(), fn, arg);
}

} // namespace

extern "C" const struct map_impl map_impl_absl = {
        "absl::flat_hash_map (1 thread only)", ab_create, ab_destroy,
        ab_load, ab_store, ab_del, ab_load_or_store, ab_load_and_delete,
        ab_range, true, true,
};
#endif
