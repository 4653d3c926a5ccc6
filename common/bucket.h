/*
 * bucket.h - a token bucket: holds up to burst tokens, gains rate tokens a second, and an
 * action takes one. Used for the daemon's requests per principal (daemon api) and for a
 * worker's posts per endpoint (workers/webhook/webhook_rate.c).
 *
 * A bucket may also be blocked until a moment (a server that asked for quiet). Times are
 * seconds on a monotonic clock, given by the caller; nothing here reads a clock.
 */
#ifndef THIDUA_BUCKET_H
#define THIDUA_BUCKET_H

struct bucket {
	double rate, burst;	/* tokens a second (> 0), most tokens held (>= 1) */
	double tokens;
	double stamp;		/* when tokens was last brought up to date */
	double blocked_until;	/* no token before then */
};

/* bucket_init - a full bucket; a rate <= 0 counts as 1 a second, a burst < 1 as 1 */
void bucket_init(struct bucket *b, double rate, double burst, double now);

/* bucket_set - new settings for a bucket in use (tokens kept, up to the new burst) */
void bucket_set(struct bucket *b, double rate, double burst, double now);

/* bucket_take - take a token: 0 when taken, else the seconds until one can be (> 0) */
double bucket_take(struct bucket *b, double now);
/* bucket_take_n - bucket_take of n tokens (a fraction of one too) */
double bucket_take_n(struct bucket *b, double now, double n);

/* bucket_block - no token before until (never shortens a block) */
void bucket_block(struct bucket *b, double until);

/* bucket_idle - full and not blocked at now: forgetting it would change nothing */
int bucket_idle(struct bucket *b, double now);

#endif
