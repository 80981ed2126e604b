/*
 * map_peers.c - bench_map's C peers behind map_impl.h: the C table plus
 * pthread_rwlock (ctable.c), GLib's GHashTable plus GRWLock, Concurrency
 * Kit's ck_ht with one writer mutex, and liburcu's rculfhash (memb
 * flavour). Each is used the way its documentation intends, with no
 * tuning beyond that.
 *
 * Limits, peer by peer:
 * - GHashTable uses g_direct_hash on the key as a pointer, the fastest
 *   of GLib's own hashes for integer keys (it keeps the low 32 bits).
 * - ck_ht is single-writer: writers take one mutex, readers take
 *   nothing. CK leaves freeing an old table to the caller's safe-memory
 *   scheme; here deferred frees wait in a list until a table is
 *   destroyed, which bench_map only does when no thread is inside any
 *   table. Its range copies under the writer mutex.
 * - rculfhash needs every thread that touches it registered with RCU:
 *   a thread registers on first use and unregisters at exit (a
 *   pthread key's destructor). Removed nodes are freed by call_rcu; a
 *   table is emptied and a grace period waited out before it is freed;
 *   callbacks still queued at exit are not waited for.
 *   It resizes itself (CDS_LFHT_AUTO_RESIZE) from one bucket, as the
 *   anchors ran it.
 */
#include "map_impl.h"

#include "ctable.h"
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

void map_impl_oom(const char *who)
{
	bench_die(who, ENOMEM);
}

void map_call_each(struct ctable_slot *copy, size_t n, map_range_fn fn,
                   void *arg)
{
	for (size_t i = 0; i < n; i++)
		if (!fn(copy[i].key, copy[i].value, arg))
			break;
	free(copy);
}

/* The C table plus pthread_rwlock. */

static void *ct_create(void)
{
	struct ctable *t = malloc(sizeof(*t));

	if (t == NULL || ctable_init(t) != 0)
		map_impl_oom("ctable");
	return t;
}

static void ct_destroy(void *m)
{
	ctable_destroy(m);
	free(m);
}

static bool ct_load(void *m, uint64_t key, void **value)
{
	return ctable_load(m, key, value);
}

static void ct_store(void *m, uint64_t key, void *value)
{
	if (ctable_store(m, key, value) != 0)
		map_impl_oom("ctable");
}

static void ct_del(void *m, uint64_t key)
{
	ctable_delete(m, key);
}

static bool ct_load_or_store(void *m, uint64_t key, void *value,
                             void **actual)
{
	bool loaded;

	if (ctable_load_or_store(m, key, value, actual, &loaded) != 0)
		map_impl_oom("ctable");
	return loaded;
}

static bool ct_load_and_delete(void *m, uint64_t key, void **value)
{
	return ctable_load_and_delete(m, key, value);
}

static void ct_range(void *m, map_range_fn fn, void *arg)
{
	size_t n;
	struct ctable_slot *copy = ctable_snapshot(m, &n);

	map_call_each(copy, n, fn, arg);
}

const struct map_impl map_impl_ctable = {
        .name = "C table + pthread_rwlock",
        .create = ct_create,
        .destroy = ct_destroy,
        .load = ct_load,
        .store = ct_store,
        .del = ct_del,
        .load_or_store = ct_load_or_store,
        .load_and_delete = ct_load_and_delete,
        .range = ct_range,
};

#ifdef HAVE_GLIB
#include <glib.h>

struct gmap {
	GRWLock lock;
	GHashTable *h;
};

static void *gl_create(void)
{
	struct gmap *g = g_new(struct gmap, 1);

	g_rw_lock_init(&g->lock);
	g->h = g_hash_table_new(g_direct_hash, g_direct_equal);
	return g;
}

static void gl_destroy(void *m)
{
	struct gmap *g = m;

	g_hash_table_destroy(g->h);
	g_rw_lock_clear(&g->lock);
	g_free(g);
}

#define GKEY(k) ((gpointer)(uintptr_t)(k))

static bool gl_load(void *m, uint64_t key, void **value)
{
	struct gmap *g = m;
	bool ok;

	g_rw_lock_reader_lock(&g->lock);
	ok = g_hash_table_lookup_extended(g->h, GKEY(key), NULL, value);
	g_rw_lock_reader_unlock(&g->lock);
	return ok;
}

static void gl_store(void *m, uint64_t key, void *value)
{
	struct gmap *g = m;

	g_rw_lock_writer_lock(&g->lock);
	g_hash_table_insert(g->h, GKEY(key), value);
	g_rw_lock_writer_unlock(&g->lock);
}

static void gl_del(void *m, uint64_t key)
{
	struct gmap *g = m;

	g_rw_lock_writer_lock(&g->lock);
	g_hash_table_remove(g->h, GKEY(key));
	g_rw_lock_writer_unlock(&g->lock);
}

static bool gl_load_or_store(void *m, uint64_t key, void *value,
                             void **actual)
{
	struct gmap *g = m;
	bool loaded;

	g_rw_lock_writer_lock(&g->lock);
	loaded = g_hash_table_lookup_extended(g->h, GKEY(key), NULL, actual);
	if (!loaded) {
		g_hash_table_insert(g->h, GKEY(key), value);
		*actual = value;
	}
	g_rw_lock_writer_unlock(&g->lock);
	return loaded;
}

static bool gl_load_and_delete(void *m, uint64_t key, void **value)
{
	struct gmap *g = m;
	bool ok;

	g_rw_lock_writer_lock(&g->lock);
	ok = g_hash_table_steal_extended(g->h, GKEY(key), NULL, value);
	g_rw_lock_writer_unlock(&g->lock);
	return ok;
}

static void gl_range(void *m, map_range_fn fn, void *arg)
{
	struct gmap *g = m;
	struct ctable_slot *copy;
	GHashTableIter it;
	gpointer k, v;
	size_t n = 0;

	g_rw_lock_reader_lock(&g->lock);
	copy = malloc((g_hash_table_size(g->h) + 1) * sizeof(*copy));
	if (copy == NULL)
		map_impl_oom("GHashTable range");
	g_hash_table_iter_init(&it, g->h);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		copy[n].key = (uint64_t)(uintptr_t)k;
		copy[n++].value = v;
	}
	g_rw_lock_reader_unlock(&g->lock);
	map_call_each(copy, n, fn, arg);
}

const struct map_impl map_impl_glib = {
        .name = "GLib GHashTable + GRWLock",
        .create = gl_create,
        .destroy = gl_destroy,
        .load = gl_load,
        .store = gl_store,
        .del = gl_del,
        .load_or_store = gl_load_or_store,
        .load_and_delete = gl_load_and_delete,
        .range = gl_range,
};
#endif

#ifdef HAVE_CK
#include <ck_ht.h>

struct ckmap {
	pthread_mutex_t writer;
	ck_ht_t ht;
};

/* Frees CK deferred: kept until a table is destroyed (see the top). */
struct deferred {
	struct deferred *next;
	void *p;
};

static pthread_mutex_t ck_deferred_lock = PTHREAD_MUTEX_INITIALIZER;
static struct deferred *ck_deferred;

static void *ck_malloc_fn(size_t n)
{
	return malloc(n);
}

static void *ck_realloc_fn(void *p, size_t old, size_t n, bool defer)
{
	(void)old;
	(void)defer;
	return realloc(p, n);
}

static void ck_free_fn(void *p, size_t n, bool defer)
{
	struct deferred *d;

	(void)n;
	if (!defer) {
		free(p);
		return;
	}
	d = malloc(sizeof(*d));
	if (d == NULL)
		map_impl_oom("ck_ht");
	d->p = p;
	pthread_mutex_lock(&ck_deferred_lock);
	d->next = ck_deferred;
	ck_deferred = d;
	pthread_mutex_unlock(&ck_deferred_lock);
}

static struct ck_malloc ck_alloc = {
        .malloc = ck_malloc_fn,
        .realloc = ck_realloc_fn,
        .free = ck_free_fn,
};

static void *ck_create(void)
{
	struct ckmap *c = malloc(sizeof(*c));

	if (c == NULL)
		map_impl_oom("ck_ht");
	pthread_mutex_init(&c->writer, NULL);
	if (!ck_ht_init(&c->ht, CK_HT_MODE_DIRECT, NULL, &ck_alloc, 8,
	                0x676f73796e63ULL))
		map_impl_oom("ck_ht");
	return c;
}

static void ck_destroy(void *m)
{
	struct ckmap *c = m;
	struct deferred *d;

	ck_ht_destroy(&c->ht);
	pthread_mutex_destroy(&c->writer);
	free(c);
	pthread_mutex_lock(&ck_deferred_lock);
	while ((d = ck_deferred) != NULL) {
		ck_deferred = d->next;
		free(d->p);
		free(d);
	}
	pthread_mutex_unlock(&ck_deferred_lock);
}

static bool ck_load(void *m, uint64_t key, void **value)
{
	struct ckmap *c = m;
	ck_ht_entry_t e;
	ck_ht_hash_t h;

	ck_ht_hash_direct(&h, &c->ht, (uintptr_t)key);
	ck_ht_entry_key_set_direct(&e, (uintptr_t)key);
	if (!ck_ht_get_spmc(&c->ht, h, &e))
		return false;
	if (value != NULL)
		*value = (void *)ck_ht_entry_value_direct(&e);
	return true;
}

static void ck_store(void *m, uint64_t key, void *value)
{
	struct ckmap *c = m;
	ck_ht_entry_t e;
	ck_ht_hash_t h;

	ck_ht_hash_direct(&h, &c->ht, (uintptr_t)key);
	ck_ht_entry_set_direct(&e, h, (uintptr_t)key, (uintptr_t)value);
	pthread_mutex_lock(&c->writer);
	if (!ck_ht_set_spmc(&c->ht, h, &e))
		map_impl_oom("ck_ht");
	pthread_mutex_unlock(&c->writer);
}

/* Removes key under the writer mutex; returns whether it was there. */
static bool ck_remove(struct ckmap *c, uint64_t key, void **value)
{
	ck_ht_entry_t e;
	ck_ht_hash_t h;
	bool ok;

	ck_ht_hash_direct(&h, &c->ht, (uintptr_t)key);
	ck_ht_entry_key_set_direct(&e, (uintptr_t)key);
	pthread_mutex_lock(&c->writer);
	ok = ck_ht_remove_spmc(&c->ht, h, &e);
	pthread_mutex_unlock(&c->writer);
	if (ok && value != NULL)
		*value = (void *)ck_ht_entry_value_direct(&e);
	return ok;
}

static void ck_del(void *m, uint64_t key)
{
	ck_remove(m, key, NULL);
}

static bool ck_load_or_store(void *m, uint64_t key, void *value,
                             void **actual)
{
	struct ckmap *c = m;
	ck_ht_entry_t e;
	ck_ht_hash_t h;
	bool loaded;

	ck_ht_hash_direct(&h, &c->ht, (uintptr_t)key);
	pthread_mutex_lock(&c->writer);
	ck_ht_entry_key_set_direct(&e, (uintptr_t)key);
	loaded = ck_ht_get_spmc(&c->ht, h, &e);
	if (loaded) {
		*actual = (void *)ck_ht_entry_value_direct(&e);
	} else {
		ck_ht_entry_set_direct(&e, h, (uintptr_t)key,
		                       (uintptr_t)value);
		if (!ck_ht_put_spmc(&c->ht, h, &e))
			map_impl_oom("ck_ht");
		*actual = value;
	}
	pthread_mutex_unlock(&c->writer);
	return loaded;
}

static bool ck_load_and_delete(void *m, uint64_t key, void **value)
{
	return ck_remove(m, key, value);
}

static void ck_range(void *m, map_range_fn fn, void *arg)
{
	struct ckmap *c = m;
	ck_ht_iterator_t it = CK_HT_ITERATOR_INITIALIZER;
	struct ctable_slot *copy;
	ck_ht_entry_t *e;
	size_t n = 0;

	pthread_mutex_lock(&c->writer);
	copy = malloc((ck_ht_count(&c->ht) + 1) * sizeof(*copy));
	if (copy == NULL)
		map_impl_oom("ck_ht range");
	while (ck_ht_next(&c->ht, &it, &e)) {
		copy[n].key = (uint64_t)ck_ht_entry_key_direct(e);
		copy[n++].value = (void *)ck_ht_entry_value_direct(e);
	}
	pthread_mutex_unlock(&c->writer);
	map_call_each(copy, n, fn, arg);
}

const struct map_impl map_impl_ck = {
        .name = "CK ck_ht (writer mutex)",
        .create = ck_create,
        .destroy = ck_destroy,
        .load = ck_load,
        .store = ck_store,
        .del = ck_del,
        .load_or_store = ck_load_or_store,
        .load_and_delete = ck_load_and_delete,
        .range = ck_range,
};
#endif

#ifdef HAVE_URCU
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

struct unode {
	struct cds_lfht_node node;
	uint64_t key;
	void *value;
	struct rcu_head rcu;
};

static pthread_key_t urcu_key;
static pthread_once_t urcu_key_once = PTHREAD_ONCE_INIT;
static _Thread_local bool urcu_registered;

static void urcu_unregister(void *p)
{
	(void)p;
	urcu_memb_unregister_thread();
}

static void urcu_make_key(void)
{
	if (pthread_key_create(&urcu_key, urcu_unregister) != 0)
		bench_die("pthread_key_create", EAGAIN);
}

/* Registers the calling thread with RCU once; it leaves at exit. */
static void urcu_join(void)
{
	if (urcu_registered)
		return;
	pthread_once(&urcu_key_once, urcu_make_key);
	urcu_memb_register_thread();
	pthread_setspecific(urcu_key, &urcu_registered);
	urcu_registered = true;
}

static unsigned long uhash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (unsigned long)k;
}

static int umatch(struct cds_lfht_node *node, const void *key)
{
	const struct unode *u = caa_container_of(node, struct unode, node);

	return u->key == *(const uint64_t *)key;
}

static struct unode *unode_new(uint64_t key, void *value)
{
	struct unode *u = malloc(sizeof(*u));

	if (u == NULL)
		map_impl_oom("rculfhash");
	cds_lfht_node_init(&u->node);
	u->key = key;
	u->value = value;
	return u;
}

static void unode_free(struct rcu_head *head)
{
	free(caa_container_of(head, struct unode, rcu));
}

static void *ur_create(void)
{
	struct cds_lfht *ht;

	urcu_join();
	ht = cds_lfht_new_flavor(1, 1, 0,
	                         CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
	                         &urcu_memb_flavor, NULL);
	if (ht == NULL)
		map_impl_oom("rculfhash");
	return ht;
}

static void ur_destroy(void *m)
{
	struct cds_lfht *ht = m;
	struct cds_lfht_iter it;
	struct unode *u, *dead = NULL;

	urcu_join();
	urcu_memb_read_lock();
	cds_lfht_for_each_entry(ht, &it, u, node) {
		if (cds_lfht_del(ht, &u->node) == 0) {
			/* The value field carries the list once u is out. */
			u->value = dead;
			dead = u;
		}
	}
	urcu_memb_read_unlock();
	if (dead != NULL)
		urcu_memb_synchronize_rcu();
	while (dead != NULL) {
		u = dead;
		dead = u->value;
		free(u);
	}
	if (cds_lfht_destroy(ht, NULL) != 0)
		bench_die("cds_lfht_destroy", EBUSY);
}

static bool ur_load(void *m, uint64_t key, void **value)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	urcu_join();
	urcu_memb_read_lock();
	cds_lfht_lookup(m, uhash(key), umatch, &key, &it);
	n = cds_lfht_iter_get_node(&it);
	if (n != NULL && value != NULL)
		*value = caa_container_of(n, struct unode, node)->value;
	urcu_memb_read_unlock();
	return n != NULL;
}

static void ur_store(void *m, uint64_t key, void *value)
{
	struct unode *u = unode_new(key, value);
	struct cds_lfht_node *old;

	urcu_join();
	urcu_memb_read_lock();
	old = cds_lfht_add_replace(m, uhash(key), umatch, &key, &u->node);
	urcu_memb_read_unlock();
	if (old != NULL)
		urcu_memb_call_rcu(
		        &caa_container_of(old, struct unode, node)->rcu,
		        unode_free);
}

static bool ur_load_and_delete(void *m, uint64_t key, void **value)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;
	struct unode *u = NULL;

	urcu_join();
	urcu_memb_read_lock();
	cds_lfht_lookup(m, uhash(key), umatch, &key, &it);
	n = cds_lfht_iter_get_node(&it);
	if (n != NULL && cds_lfht_del(m, n) == 0) {
		u = caa_container_of(n, struct unode, node);
		if (value != NULL)
			*value = u->value;
	}
	urcu_memb_read_unlock();
	if (u != NULL)
		urcu_memb_call_rcu(&u->rcu, unode_free);
	return u != NULL;
}

static void ur_del(void *m, uint64_t key)
{
	ur_load_and_delete(m, key, NULL);
}

static bool ur_load_or_store(void *m, uint64_t key, void *value,
                             void **actual)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;
	struct unode *u;

	urcu_join();
	urcu_memb_read_lock();
	cds_lfht_lookup(m, uhash(key), umatch, &key, &it);
	n = cds_lfht_iter_get_node(&it);
	if (n == NULL) {
		u = unode_new(key, value);
		n = cds_lfht_add_unique(m, uhash(key), umatch, &key,
		                        &u->node);
		if (n != &u->node)
			free(u);
		else
			n = NULL;
	}
	*actual = n != NULL ? caa_container_of(n, struct unode, node)->value
	                    : value;
	urcu_memb_read_unlock();
	return n != NULL;
}

static void ur_range(void *m, map_range_fn fn, void *arg)
{
	struct cds_lfht_iter it;
	struct unode *u;

	urcu_join();
	urcu_memb_read_lock();
	cds_lfht_for_each_entry(m, &it, u, node) {
		if (!fn(u->key, u->value, arg))
			break;
	}
	urcu_memb_read_unlock();
}

const struct map_impl map_impl_urcu = {
        .name = "liburcu rculfhash (memb)",
        .create = ur_create,
        .destroy = ur_destroy,
        .load = ur_load,
        .store = ur_store,
        .del = ur_del,
        .load_or_store = ur_load_or_store,
        .load_and_delete = ur_load_and_delete,
        .range = ur_range,
};
#endif
