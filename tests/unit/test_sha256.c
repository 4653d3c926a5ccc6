/* test_sha256.c - FIPS 180-4 test vectors */
#include <stdlib.h>

#include "b64.h"
#include "sha256.h"
#include "t.h"

int main(void)
{
	char hex[65];
	char *million = malloc(1000000);

	sha256_hex("", 0, hex);
	T_STREQ("sha256 empty", hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	T_STREQ("sha256 abc", hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	T_STREQ("sha256 two blocks", hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', 1000000);
	sha256_hex(million, 1000000, hex);
	T_STREQ("sha256 million a", hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
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
		T_STREQ("hmac-sha256 rfc4231 case 2", hexmac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	}
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
