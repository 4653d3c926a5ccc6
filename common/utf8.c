/*
 * utf8.c - strict UTF-8 validation (RFC 3629): rejects overlong forms, surrogates,
 * code points above U+10FFFF and embedded NUL bytes.
 */
#include <stdio.h>
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

/* utf8_is_mark - see utf8.h */
int utf8_is_mark(unsigned cp)
{
	return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF)
	       || (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* utf8_next - one character, checked as utf8_valid checks it */
size_t utf8_next(const char *str, size_t len, unsigned *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c, min;
	size_t n;

	if (!len)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 2; *cp = c & 0x1F; min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3; *cp = c & 0x0F; min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4; *cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[k] & 0x3F);
	}
	if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return n;
}

/* is_space - a space of any width: ASCII, no-break, the U+2000 block, ideographic */
static int is_space(unsigned cp)
{
	return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F
	       || cp == 0x205F || cp == 0x3000;
}

/* char_problem - why a character may not stand in a file name shown to a reviewer, or
 * NULL: it hides what the name is (U+202E turns "\u202egpj.exe" into what reads as
 * exe.jpg), breaks a line of a list or a log, or is invisible */
static const char *char_problem(unsigned c)
{
	if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
		return "contains a control character";
	if (c == 0x2028 || c == 0x2029)
		return "contains a line or paragraph separator";
	if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C)
		return "contains a bidirectional control, which makes a name read otherwise than it is";
	if ((c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF)
		return "contains an invisible zero-width character";
	return NULL;
}

/* utf8_name_problem - the first refused character, else spaces only */
const char *utf8_name_problem(const char *s, unsigned *cp)
{
	size_t len = strlen(s), i = 0, n;
	int spaces_only = 1;
	const char *why;

	while (i < len && (n = utf8_next(s + i, len - i, cp)) > 0) {
		if ((why = char_problem(*cp)))
			return why;
		spaces_only &= is_space(*cp);
		i += n;
	}
	*cp = 0;
	if (i < len)
		return "is not valid UTF-8";
	if (spaces_only && len)
		return "is only spaces";
	return NULL;
}

/* utf8_name_shown - s for a message, each character utf8_name_problem refuses written as
 * <U+XXXX> and each byte that is not UTF-8 as '?': what a reader sees is what was sent */
void utf8_name_shown(const char *s, char *buf, size_t size)
{
	size_t len = strlen(s), i = 0, o = 0, n;
	unsigned cp;

	if (!size)
		return;
	while (i < len) {
		char tmp[16];
		const char *add = tmp;
		size_t addn;

		n = utf8_next(s + i, len - i, &cp);
		if (!n) {
			add = "?";
			addn = 1;
			n = 1;
		} else if (char_problem(cp)) {
			addn = (size_t)snprintf(tmp, sizeof(tmp), "<U+%04X>", cp);
		} else {
			add = s + i;
			addn = n;
		}
		if (o + addn >= size)
			break;
		memcpy(buf + o, add, addn);
		o += addn;
		i += n;
	}
	buf[o] = 0;
}

/* utf8_clip - see utf8.h */
size_t utf8_clip(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len <= max)
		return len;
	for (len = max; len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80; len--)
		;
	return len;
}
