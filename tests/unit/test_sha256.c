/* test_sha256.c - FIPS 180-4 test vectors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "sha256.h"
#include "t.h"

/* same_both_ways - every length from 0 to 300 bytes, hashed whole and in pieces, by the
 * portable code and (where the processor has them) the SHA instructions */
static void same_both_ways(void)
{
	unsigned char data[300], whole[2][32], pieces[2][32];
	int differ = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131 + 7);
	for (size_t len = 0; len <= sizeof(data); len++) {
		for (int accel = 0; accel < 2; accel++) {
			struct sha256 c;

			sha256_accel(accel);
			sha256_init(&c);
			sha256_update(&c, data, len);
			sha256_final(&c, whole[accel]);
			sha256_init(&c);
			for (size_t off = 0; off < len; off += 7)
				sha256_update(&c, data + off, len - off < 7 ? len - off : 7);
			sha256_final(&c, pieces[accel]);
		}
		differ += memcmp(whole[0], whole[1], 32) != 0 || memcmp(whole[0], pieces[0], 32) != 0
			  || memcmp(whole[1], pieces[1], 32) != 0;
	}
	T_CHECK("sha256: the same digest whole and in pieces, portable and accelerated, 0 to 300 bytes", differ == 0);
	sha256_accel(1);
}

/* vectors - FIPS 180-4 and RFC 4231 */
static void vectors(const char *how)
{
	char hex[65], name[128];
	char *million = malloc(1000000);

#define NAME(what) (snprintf(name, sizeof(name), "%s (%s)", (what), how), name)
	sha256_hex("", 0, hex);
	T_STREQ(NAME("sha256 empty"), hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	T_STREQ(NAME("sha256 abc"), hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	T_STREQ(NAME("sha256 two blocks"), hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', 1000000);
	sha256_hex(million, 1000000, hex);
	T_STREQ(NAME("sha256 million a"), hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
	{
		/* RFC 4231 test case 2 */
		unsigned char mac[32];
		char hexmac[65];
		static const char hx[] = "0123456789abcdef";

		hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
		for (int i = 0; i < 32; i++) {
			hexmac[2 * i] = hx[mac[i] >> 4];
			hexmac[2 * i + 1] = hx[mac[i] & 15];
		}
		hexmac[64] = 0;
		T_STREQ(NAME("hmac-sha256 rfc4231 case 2"), hexmac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	}
#undef NAME
}

int main(void)
{
	sha256_accel(0);
	vectors("portable");
	if (sha256_accel(1))
		vectors("SHA instructions");
	else
		printf("PASS sha256: this processor has no SHA instructions; the portable code serves\n");
	same_both_ways();
	{
		char *e = b64_encode("Phú Hòa Đông", strlen("Phú Hòa Đông"));
		size_t n;
		unsigned char *d = b64_decode(e, &n);

		T_CHECK("base64 round trip", d && n == strlen("Phú Hòa Đông") && !memcmp(d, "Phú Hòa Đông", n));
		T_STREQ("base64 of abc", e = (free(e), b64_encode("abcd", 4)), "YWJjZA==");
		free(e);
		free(d);
		T_CHECK("base64 rejects junk", b64_decode("ab$d", &n) == NULL);
	}
	return t_failed ? 1 : 0;
}
