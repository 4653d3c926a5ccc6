/* test_sha256.c - FIPS 180-4 test vectors */
#include <stdlib.h>

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
	return t_failed ? 1 : 0;
}
