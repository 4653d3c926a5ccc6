/*
 * webhook_rate.c - token buckets (common/bucket.c) per endpoint in a chained hash table.
 *
 * The table owns its buckets and their keys; jobs hold counted references.
 */
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "webhook_rate.h"

#define RATE_SLOTS 256
#define RATE_IDLE 600.0		/* seconds a full, unused bucket is kept */

struct rate_table {
	struct rate_bucket *slot[RATE_SLOTS];
	size_t count;
};

/* rate_hash - FNV-1a of the key */
static unsigned rate_hash(const char *key)
{
	unsigned h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % RATE_SLOTS;
}

/* rate_table_new - an empty table */
struct rate_table *rate_table_new(void)
{
	return xcalloc(1, sizeof(struct rate_table));
}

/* rate_table_destroy - free every bucket, clear the caller's pointer */
void rate_table_destroy(struct rate_table **t_p)
{
	struct rate_table *t = t_p ? *t_p : NULL;

	if (!t)
		return;
	for (size_t i = 0; i < RATE_SLOTS; i++)
		while (t->slot[i]) {
			struct rate_bucket *b = t->slot[i];

			t->slot[i] = b->next;
			free(b->key);
			free(b);
		}
	free(t);
	*t_p = NULL;
}

/* rate_get - find or make the bucket of key */
struct rate_bucket *rate_get(struct rate_table *t, const char *key, double rate, double burst, double now)
{
	unsigned h = rate_hash(key);
	struct rate_bucket *b;

	for (b = t->slot[h]; b; b = b->next)
		if (!strcmp(b->key, key))
			break;
	if (!b) {
		b = xcalloc(1, sizeof(*b));
		b->key = xstrdup(key);
		bucket_init(&b->tb, rate, burst, now);
		b->next = t->slot[h];
		t->slot[h] = b;
		t->count++;
	}
	bucket_set(&b->tb, rate, burst, now);
	b->last_used = now;
	b->refs++;
	return b;
}

/* rate_put - give back a reference */
void rate_put(struct rate_bucket *b)
{
	if (b && b->refs > 0)
		b->refs--;
}

/* rate_take - one token, or how long until there is one */
double rate_take(struct rate_bucket *b, double now)
{
	b->last_used = now;
	return bucket_take(&b->tb, now);
}

/* rate_block - a server asked for quiet */
void rate_block(struct rate_bucket *b, double until)
{
	bucket_block(&b->tb, until);
}

/* rate_expire - forget idle buckets */
size_t rate_expire(struct rate_table *t, double now)
{
	for (size_t i = 0; i < RATE_SLOTS; i++) {
		struct rate_bucket **pp = &t->slot[i];

		while (*pp) {
			struct rate_bucket *b = *pp;

			if (!b->refs && bucket_idle(&b->tb, now) && now - b->last_used >= RATE_IDLE) {
				*pp = b->next;
				free(b->key);
				free(b);
				t->count--;
			} else {
				pp = &b->next;
			}
		}
	}
	return t->count;
}
