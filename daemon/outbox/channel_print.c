/*
 * channel_print.c - the fingerprint of a channel's settings, apart from the rest of
 * channels.c so that what uses it alone (a unit test) links nothing of the daemon's loop.
 */
#include <string.h>

#include "channels.h"
#include "sha256.h"

/* channel_fingerprint - sha256 over the settings that name the endpoint, cut to 64 bits */
void channel_fingerprint(const struct channel *c, char out[CHANNEL_PRINT])
{
	const char *parts[] = { c->kind, c->url, c->username, c->password, c->secret, c->chat_id };
	struct sha256 h;
	char hex[65];

	sha256_init(&h);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const char *p = parts[i] ? parts[i] : "";

		sha256_update(&h, p, strlen(p) + 1);	/* with its NUL: "ab","c" differs from "a","bc" */
	}
	sha256_final_hex(&h, hex);
	memcpy(out, hex, CHANNEL_PRINT - 1);
	out[CHANNEL_PRINT - 1] = 0;
}
