/*
 * sha256.h - SHA-256 (FIPS 180-4), for content-addressed files and hash chains.
 */
#ifndef THIDUA_SHA256_H
#define THIDUA_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t nbuf;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[32]);
void sha256_final_hex(struct sha256 *c, char out[65]);
void sha256_hex(const void *data, size_t len, char out[65]);

/* sha256_accel - use the processor's SHA instructions when it has them (on, the default)
 * or the portable code (0); 1 when they are in use. For tests and benchmarks. */
int sha256_accel(int on);

/* hmac_sha256 - RFC 2104 HMAC with SHA-256 */
void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen, unsigned char out[32]);

/* A key's two padded states, computed once for many messages: hash a message into a copy
 * of inner (struct sha256 c = h.inner; sha256_update(&c, ...)), then hmac_sha256_end */
struct hmac_sha256 {
	struct sha256 inner, outer;
};

void hmac_sha256_key(struct hmac_sha256 *h, const void *key, size_t keylen);
void hmac_sha256_end(const struct hmac_sha256 *h, struct sha256 *c, unsigned char out[32]);

#endif
