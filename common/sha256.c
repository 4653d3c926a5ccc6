/*
 * sha256.c - SHA-256: a straightforward one, and on x86-64 processors with the SHA
 * extensions (Intel since Goldmont and Ice Lake, AMD since Zen) the same compression with
 * their instructions, about ten times fewer. Every submission's files and every audit row
 * are hashed, and every signed webhook post, so the hash was a tenth of the daemon's work
 * per submission. Both are checked against the FIPS 180-4 test vectors and each other in
 * tests/unit/test_sha256.c.
 */
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "sha256.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* blocks_c - compress n 64-byte blocks into h */
static void blocks_c(uint32_t hs[8], const unsigned char *p, size_t n)
{
	for (; n; n--, p += 64) {
		uint32_t w[64], a, b, cc, d, e, f, g, h;

		for (int i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16
			       | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		a = hs[0]; b = hs[1]; cc = hs[2]; d = hs[3];
		e = hs[4]; f = hs[5]; g = hs[6]; h = hs[7];
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
			uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));

			h = g; g = f; f = e; e = d + t1;
			d = cc; cc = b; b = a; a = t1 + t2;
		}
		hs[0] += a; hs[1] += b; hs[2] += cc; hs[3] += d;
		hs[4] += e; hs[5] += f; hs[6] += g; hs[7] += h;
	}
}

#ifdef SHA256_NI
/* blocks_ni - the same with SHA-NI: the state as ABEF and CDGH, four rounds per step,
 * the message schedule of the next four words computed while these are used */
__attribute__((target("sha,sse4.1")))
static void blocks_ni(uint32_t hs[8], const unsigned char *p, size_t n)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&hs[0]), 0xB1);	/* CDAB */
	__m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&hs[4]), 0x1B);	/* EFGH */
	__m128i s0 = _mm_alignr_epi8(t, s1, 8);						/* ABEF */

	s1 = _mm_blend_epi16(s1, t, 0xF0);						/* CDGH */
	for (; n; n--, p += 64) {
		__m128i abef = s0, cdgh = s1, m[4];

		for (int i = 0; i < 4; i++)
			m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), swap);
		for (int i = 0; i < 16; i++) {
			__m128i msg = _mm_add_epi32(m[i & 3], _mm_loadu_si128((const __m128i *)&K[4 * i]));

			s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(msg, 0x0E));
			if (i < 12) {	/* words 4i+16..4i+19 replace 4i..4i+3 */
				__m128i w = _mm_sha256msg1_epu32(m[i & 3], m[(i + 1) & 3]);

				w = _mm_add_epi32(w, _mm_alignr_epi8(m[(i + 3) & 3], m[(i + 2) & 3], 4));
				m[i & 3] = _mm_sha256msg2_epu32(w, m[(i + 3) & 3]);
			}
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	t = _mm_shuffle_epi32(s0, 0x1B);							/* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xB1);						/* DCHG */
	_mm_storeu_si128((__m128i *)&hs[0], _mm_blend_epi16(t, s1, 0xF0));		/* DCBA */
	_mm_storeu_si128((__m128i *)&hs[4], _mm_alignr_epi8(s1, t, 8));		/* HGFE */
}

/* has_sha_ni - the processor has SHA, SSSE3 and SSE4.1 */
static int has_sha_ni(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

static void (*blocks)(uint32_t hs[8], const unsigned char *p, size_t n) = blocks_c;

/* chosen once, before main(): no thread ever sees it change */
__attribute__((constructor)) static void choose_blocks(void)
{
	sha256_accel(1);
}

int sha256_accel(int on)
{
#ifdef SHA256_NI
	blocks = on && has_sha_ni() ? blocks_ni : blocks_c;
	return blocks == blocks_ni;
#else
	(void)on;
	return 0;
#endif
}

void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->nbuf = 0;
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->len += len;
	if (c->nbuf) {
		size_t take = 64 - c->nbuf < len ? 64 - c->nbuf : len;

		memcpy(c->buf + c->nbuf, p, take);
		c->nbuf += take;
		p += take;
		len -= take;
		if (c->nbuf == 64) {
			blocks(c->h, c->buf, 1);
			c->nbuf = 0;
		}
	}
	if (len >= 64) {
		blocks(c->h, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	memcpy(c->buf, p, len);
	c->nbuf += len;
}

void sha256_final(struct sha256 *c, unsigned char out[32])
{
	uint64_t bits = c->len * 8;
	unsigned char pad[72] = { 0x80 };
	size_t n = (c->nbuf < 56 ? 56 : 120) - c->nbuf;	/* 0x80, zeros, to 56 mod 64 */

	for (int i = 0; i < 8; i++)
		pad[n + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(c, pad, n + 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

/* sha256_final_hex - sha256_final as lower-case hex */
void sha256_final_hex(struct sha256 *c, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];

	sha256_final(c, d);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = 0;
}

/* sha256_hex - the lower-case hex digest of a buffer */
void sha256_hex(const void *data, size_t len, char out[65])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final_hex(&c, out);
}

/* hmac_sha256_key - the inner and outer states of a key; keys longer than a block are
 * hashed first. The padded key is wiped. */
void hmac_sha256_key(struct hmac_sha256 *h, const void *key, size_t keylen)
{
	unsigned char k[64] = { 0 }, pad[64];
	struct sha256 c;

	if (keylen > 64) {
		sha256_init(&c);
		sha256_update(&c, key, keylen);
		sha256_final(&c, k);
	} else {
		memcpy(k, key, keylen);
	}
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&h->inner);
	sha256_update(&h->inner, pad, 64);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&h->outer);
	sha256_update(&h->outer, pad, 64);
	memset(k, 0, sizeof(k));
	memset(pad, 0, sizeof(pad));
}

/* hmac_sha256_end - the MAC of what was hashed into c (a copy of h->inner) */
void hmac_sha256_end(const struct hmac_sha256 *h, struct sha256 *c, unsigned char out[32])
{
	unsigned char inner[32];
	struct sha256 o = h->outer;

	sha256_final(c, inner);
	sha256_update(&o, inner, 32);
	sha256_final(&o, out);
}

void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen, unsigned char out[32])
{
	struct hmac_sha256 h;
	struct sha256 c;

	hmac_sha256_key(&h, key, keylen);
	c = h.inner;
	sha256_update(&c, msg, msglen);
	hmac_sha256_end(&h, &c, out);
}
