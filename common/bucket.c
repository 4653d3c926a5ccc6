/*
 * bucket.c - a token bucket (bucket.h).
 */
#include "bucket.h"

/* refill - bring tokens up to now */
static void refill(struct bucket *b, double now)
{
	if (now > b->stamp) {
		b->tokens += (now - b->stamp) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->stamp = now;
	}
}

void bucket_set(struct bucket *b, double rate, double burst, double now)
{
	refill(b, now);
	b->rate = rate > 0 ? rate : 1;
	b->burst = burst >= 1 ? burst : 1;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
}

void bucket_init(struct bucket *b, double rate, double burst, double now)
{
	*b = (struct bucket){ .stamp = now };
	bucket_set(b, rate, burst, now);
	b->tokens = b->burst;
}

double bucket_take(struct bucket *b, double now)
{
	return bucket_take_n(b, now, 1);
}

double bucket_take_n(struct bucket *b, double now, double n)
{
	refill(b, now);
	if (now < b->blocked_until)
		return b->blocked_until - now;
	if (b->tokens >= n) {
		b->tokens -= n;
		return 0;
	}
	return (n - b->tokens) / b->rate;
}

void bucket_block(struct bucket *b, double until)
{
	if (until > b->blocked_until)
		b->blocked_until = until;
}

int bucket_idle(struct bucket *b, double now)
{
	refill(b, now);
	return b->tokens >= b->burst && now >= b->blocked_until;
}
