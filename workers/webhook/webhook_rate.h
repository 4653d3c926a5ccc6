/*
 * webhook_rate.h - one token bucket per endpoint, so a burst of reminders reaches a chat
 * service at the pace it accepts instead of earning 429s.
 *
 * A bucket (common/bucket.h) holds up to burst tokens and gains rate tokens a second; a post
 * takes one. A server that asked to wait (429 with Retry-After) blocks its bucket until then. Buckets are
 * found by key (the URL; for Telegram the URL and the chat) in a small hash table and are
 * dropped once idle and full. Times are seconds on a monotonic clock, given by the caller.
 */
#ifndef THIDUA_WEBHOOK_RATE_H
#define THIDUA_WEBHOOK_RATE_H

#include <stddef.h>

#include "bucket.h"

struct rate_bucket {
	char *key;
	struct bucket tb;	/* the tokens, and the server's request for quiet */
	double last_used;	/* last rate_get or rate_take */
	unsigned refs;		/* jobs that hold the bucket */
	unsigned running;	/* its posts under way (webhook_job.c keeps the count) */
	struct rate_bucket *next;
};

struct rate_table;

struct rate_table *rate_table_new(void);
void rate_table_destroy(struct rate_table **t_p);

/* rate_get - the bucket for key, made (full) when new; rate and burst follow the latest job's
 * channel settings. Takes a reference: give it back with rate_put. */
struct rate_bucket *rate_get(struct rate_table *t, const char *key, double rate, double burst, double now);
void rate_put(struct rate_bucket *b);

/* rate_take - take a token: 0 when taken, else the seconds until one can be (> 0) */
double rate_take(struct rate_bucket *b, double now);

/* rate_block - hold the bucket until the given time (never shortens a block) */
void rate_block(struct rate_bucket *b, double until);

/* rate_expire - drop buckets nobody holds that have been full for a while; returns how many
 * are left */
size_t rate_expire(struct rate_table *t, double now);

#endif
