/*
 * utf8.c - strict UTF-8 validation (RFC 3629): rejects overlong forms, surrogates,
 * code points above U+10FFFF and embedded NUL bytes.
 */
#include <string.h>

#include "utf8.h"

/* utf8_valid - walk the bytes, checking each sequence's length and range */
int utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp, min;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			n = 1; cp = c & 0x1F; min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2; cp = c & 0x0F; min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* utf8_valid_str - validate a C string */
int utf8_valid_str(const char *s)
{
	return utf8_valid(s, strlen(s));
}

/* utf8_sanitize - replace what utf8_valid would refuse, one byte at a time */
void utf8_sanitize(char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;

		if (n && i + n <= len && utf8_valid(s + i, n)) {
			i += n;
		} else {
			s[i] = '?';
			i++;
		}
	}
}

size_t utf8_clip(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len <= max)
		return len;
	for (len = max; len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80; len--)
		;
	return len;
}
