/*
 * b64.c - base64 and RFC 2047 encoded-words.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "buf.h"
#include "utf8.h"
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

#define EW_TEXT_MAX 45	/* bytes in one encoded-word: 60 base64 characters and the 12 of "=?UTF-8?B??=" make 72 */
#define EW_PHRASE_MAX 600	/* bytes in one encoded-word of a display name: its line stays far below 998 */

/* char_at - length of the UTF-8 character at s (1 for a stray byte), its code point in *cp */
static size_t char_at(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;

	if (len > n)
		len = 1;
	*cp = len == 1 ? s[0] : s[0] & (0x7F >> len);
	for (size_t k = 1; k < len; k++)
		*cp = (*cp << 6) | (s[k] & 0x3F);
	return len;
}

/* ew_end - where the encoded-word starting at text[i] ends, holding at most max bytes:
 * everything left if it fits; else just after the last space that fits (the space stays
 * inside the word, so the text reads the same whether a reader drops the folding white
 * space between encoded-words, as RFC 2047 section 6.2 says, or not); else, for one word
 * longer than max, at the last character boundary that does not put a combining mark first */
static size_t ew_end(const char *text, size_t len, size_t i, size_t max)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = 0, space = 0, cut;

	if (len - i <= max)
		return len;
	while (i + n < len) {
		unsigned cp;
		size_t c = char_at(s + i + n, len - i - n, &cp);

		if (n + c > max)
			break;
		n += c;
		if (cp == ' ')
			space = n;
	}
	if (space)
		return i + space;
	for (cut = i + n; cut > i; ) {
		unsigned cp;

		char_at(s + cut, len - cut, &cp);
		if (!utf8_is_mark(cp))	/* no encoded-word starts with a combining mark */
			break;
		do
			cut--;
		while (cut > i && (s[cut] & 0xC0) == 0x80);
	}
	return cut > i ? cut : i + (n ? n : 1);
}

/* ew_put - text[0..n) as one "B" encoded-word */
static void ew_put(struct buf *b, const char *text, size_t n)
{
	char *enc = b64_encode(text, n);

	BUF_PUT(b, "=?UTF-8?B?");
	buf_put(b, enc, strlen(enc));
	BUF_PUT(b, "?=");
	free(enc);
}

/* rfc2047_encode - unstructured text (Subject) as encoded-words of at most 45 bytes each,
 * each ending at a space when one fits (ew_end), one a line */
char *rfc2047_encode(const char *text)
{
	size_t len = strlen(text), i = 0;
	struct buf b = { 0 };

	if (!needs_encoding(text))
		return xstrdup(text);
	while (i < len) {
		size_t end = ew_end(text, len, i, EW_TEXT_MAX);

		if (i)
			BUF_PUT(&b, "\r\n ");	/* folded: the next word on a continuation line */
		ew_put(&b, text + i, end - i);
		i = end;
	}
	return b.p;
}

/* plain_word - a word of a phrase that can go as an atom: printable ASCII atext, not
 * looking like an encoded-word */
static int plain_word(const char *w, size_t n)
{
	if (!n)
		return 0;
	for (size_t k = 0; k < n; k++) {
		char c = w[k];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		      || strchr("!#$%&'*+-/=?^_`{|}~", c)))
			return 0;
		if (c == '=' && k + 1 < n && w[k + 1] == '?')
			return 0;
	}
	return 1;
}

/* phrase_put - one token of a phrase, after a space or a fold that keeps lines near 76 */
static void phrase_put(struct buf *b, size_t *col, const char *tok, size_t n, int first)
{
	if (!first) {
		if (*col + 1 + n > 76) {
			BUF_PUT(b, "\r\n ");
			*col = 1;
		} else {
			buf_putc(b, ' ');
			(*col)++;
		}
	}
	buf_put(b, tok, n);
	*col += n;
}

/* rfc2047_phrase - a display name as a phrase. Two encoded-words side by side are read
 * differently by different readers: RFC 2047 drops the white space between them, Python's
 * email (before 3.14) and others keep it as a space; so none ever stand side by side here.
 * Each run of words that need encoding becomes ONE encoded-word, its inner spaces
 * included, up to 600 bytes (longer than the 75 characters RFC 2047 section 2 asks, which
 * readers accept; better than a name read wrong); words of plain ASCII stay atoms between
 * them, and the separating spaces are real. Only a run over 600 bytes is split, at a space
 * inside the first word, as in rfc2047_encode. col: the column the phrase starts at. */
char *rfc2047_phrase(const char *text, size_t col)
{
	size_t len = strlen(text), m = 1, k = 0;
	size_t *start, *wlen;
	unsigned char *plain;
	struct buf b = { 0 };
	int first = 1;

	if (!needs_encoding(text))
		return xstrdup(text);
	for (size_t i = 0; i < len; i++)
		m += text[i] == ' ';
	start = xcalloc(m, sizeof(*start));
	wlen = xcalloc(m, sizeof(*wlen));
	plain = xcalloc(m, 1);
	for (size_t i = 0, w = 0; w < m; w++) {
		start[w] = i;
		wlen[w] = strcspn(text + i, " ");
		i += wlen[w] + 1;
	}
	/* a plain word beside an empty one (two spaces, a space at an end) is not plain: those
	 * spaces go inside an encoded-word, where they are kept exactly */
	for (size_t w = 0; w < m; w++)
		plain[w] = plain_word(text + start[w], wlen[w]) && (w == 0 || wlen[w - 1]) && (w + 1 == m || wlen[w + 1]);
	while (k < m) {
		size_t l = k, run, end;

		if (plain[k]) {
			phrase_put(&b, &col, text + start[k], wlen[k], first);
			first = 0;
			k++;
			continue;
		}
		while (l + 1 < m && !plain[l + 1])
			l++;
		run = start[k];
		end = start[l] + wlen[l];
		while (run < end) {
			size_t cut = ew_end(text, end, run, EW_PHRASE_MAX);
			struct buf one = { 0 };

			ew_put(&one, text + run, cut - run);
			phrase_put(&b, &col, one.p, one.len, first);
			free(one.p);
			first = 0;
			run = cut;
		}
		k = l + 1;
	}
	free(start);
	free(wlen);
	free(plain);
	return b.p;
}
