/*
 * ctable.c - the open-addressing table behind one rwlock that
 * ctable.h describes.
 */
#include "ctable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CTABLE_MIN_SLOTS 16

static size_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (size_t)k;
}

int ctable_init(struct ctable *t)
{
	int err = pthread_rwlock_init(&t->lock, NULL);

	if (err != 0)
		return err;
	t->slots = calloc(CTABLE_MIN_SLOTS, sizeof(t->slots[0]));
	if (t->slots == NULL) {
		pthread_rwlock_destroy(&t->lock);
		return ENOMEM;
	}
	t->mask = CTABLE_MIN_SLOTS - 1;
	t->len = 0;
	return 0;
}

void ctable_destroy(struct ctable *t)
{
	free(t->slots);
	t->slots = NULL;
	pthread_rwlock_destroy(&t->lock);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find(const struct ctable *t, uint64_t key)
{
	size_t i = mix(key) & t->mask;

	while (t->slots[i].key != key && t->slots[i].key != 0)
		i = (i + 1) & t->mask;
	return i;
}

static int grow(struct ctable *t)
{
	size_t cap = (t->mask + 1) * 2;
	struct ctable_slot *old = t->slots, *s = calloc(cap, sizeof(*s));
	size_t oldcap = t->mask + 1;

	if (s == NULL)
		return ENOMEM;
	t->slots = s;
	t->mask = cap - 1;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key != 0)
			s[find(t, old[i].key)] = old[i];
	free(old);
	return 0;
}

/* Inserts a key known to be absent, at slot i; the write lock is held. */
static int insert_at(struct ctable *t, size_t i, uint64_t key, void *value)
{
	if ((t->len + 1) * 2 > t->mask + 1) {
		if (grow(t) != 0)
			return ENOMEM;
		i = find(t, key);
	}
	t->slots[i].key = key;
	t->slots[i].value = value;
	t->len++;
	return 0;
}

/* Empties slot i and shifts back the run behind it. */
static void remove_at(struct ctable *t, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & t->mask;
		if (t->slots[j].key == 0)
			break;
		home = mix(t->slots[j].key) & t->mask;
		/* Move j back to i unless its home lies in (i, j]. */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].key = 0;
	t->slots[i].value = NULL;
	t->len--;
}

bool ctable_load(struct ctable *t, uint64_t key, void **value)
{
	size_t i;
	bool ok;

	pthread_rwlock_rdlock(&t->lock);
	i = find(t, key);
	ok = t->slots[i].key == key;
	if (ok && value != NULL)
		*value = t->slots[i].value;
	pthread_rwlock_unlock(&t->lock);
	return ok;
}

int ctable_store(struct ctable *t, uint64_t key, void *value)
{
	size_t i;
	int err = 0;

	pthread_rwlock_wrlock(&t->lock);
	i = find(t, key);
	if (t->slots[i].key == key)
		t->slots[i].value = value;
	else
		err = insert_at(t, i, key, value);
	pthread_rwlock_unlock(&t->lock);
	return err;
}

void ctable_delete(struct ctable *t, uint64_t key)
{
	size_t i;

	pthread_rwlock_wrlock(&t->lock);
	i = find(t, key);
	if (t->slots[i].key == key)
		remove_at(t, i);
	pthread_rwlock_unlock(&t->lock);
}

int ctable_load_or_store(struct ctable *t, uint64_t key, void *value,
                         void **actual, bool *loaded)
{
	size_t i;
	int err = 0;

	pthread_rwlock_wrlock(&t->lock);
	i = find(t, key);
	*loaded = t->slots[i].key == key;
	if (*loaded)
		*actual = t->slots[i].value;
	else if ((err = insert_at(t, i, key, value)) == 0)
		*actual = value;
	pthread_rwlock_unlock(&t->lock);
	return err;
}

bool ctable_load_and_delete(struct ctable *t, uint64_t key, void **value)
{
	size_t i;
	bool ok;

	pthread_rwlock_wrlock(&t->lock);
	i = find(t, key);
	ok = t->slots[i].key == key;
	if (ok) {
		if (value != NULL)
			*value = t->slots[i].value;
		remove_at(t, i);
	}
	pthread_rwlock_unlock(&t->lock);
	return ok;
}

struct ctable_slot *ctable_snapshot(struct ctable *t, size_t *count)
{
	struct ctable_slot *out = NULL;
	size_t n = 0;

	pthread_rwlock_rdlock(&t->lock);
	if (t->len > 0)
		out = malloc(t->len * sizeof(*out));
	if (out != NULL)
		for (size_t i = 0; i <= t->mask; i++)
			if (t->slots[i].key != 0)
				out[n++] = t->slots[i];
	pthread_rwlock_unlock(&t->lock);
	*count = n;
	return out;
}
