/*
 * b64.c - base64 and RFC 2047 encoded-words.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "xalloc.h"

/* b64_encode - standard alphabet with padding */
char *b64_encode(const void *data, size_t len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0)
			     | (i + 2 < len ? p[i + 2] : 0);

		*o++ = tbl[v >> 18 & 63];
		*o++ = tbl[v >> 12 & 63];
		*o++ = i + 1 < len ? tbl[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? tbl[v & 63] : '=';
	}
	*o = 0;
	return out;
}

/* b64_decode - the inverse of b64_encode; rejects characters outside the alphabet */
unsigned char *b64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text), o = 0;
	unsigned char *out = xmalloc(n / 4 * 3 + 3);
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		int v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=' && i + 2 >= n)
			break;
		else {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*len = o;
	return out;
}

/* needs_encoding - anything but printable ASCII, or text that looks like an encoded-word */
static int needs_encoding(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return 1;
	return strstr(s, "=?") != NULL;
}

/* rfc2047_encode - split on character boundaries so each word holds at most 45 bytes
 * (60 base64 characters plus the 12 of "=?UTF-8?B??=" stay under 75) */
char *rfc2047_encode(const char *text)
{
	size_t len = strlen(text), cap = len * 2 + 64, used = 0, i = 0;
	char *out;

	if (!needs_encoding(text))
		return xstrdup(text);
	out = xmalloc(cap);
	out[0] = 0;
	while (i < len) {
		size_t n = 0;
		char *enc;
		size_t elen;

		/* take whole UTF-8 characters up to 45 bytes */
		while (i + n < len) {
			size_t c = 1;
			unsigned char b = (unsigned char)text[i + n];

			if (b >= 0xF0)
				c = 4;
			else if (b >= 0xE0)
				c = 3;
			else if (b >= 0xC0)
				c = 2;
			if (n + c > 45)
				break;
			n += c;
		}
		if (n == 0)
			n = 1;
		enc = b64_encode(text + i, n);
		elen = strlen(enc);
		if (used + elen + 16 >= cap) {
			cap = (used + elen + 16) * 2;
			out = xrealloc(out, cap);
		}
		if (used) {
			memcpy(out + used, "\r\n ", 3);	/* folded: the next word on a continuation line */
			used += 3;
		}
		memcpy(out + used, "=?UTF-8?B?", 10);
		used += 10;
		memcpy(out + used, enc, elen);
		used += elen;
		memcpy(out + used, "?=", 3);
		used += 2;
		free(enc);
		i += n;
	}
	return out;
}
