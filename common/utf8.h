/*
 * utf8.h - UTF-8 validation at the edges (config, requests, CSV, file names).
 */
#ifndef THIDUA_UTF8_H
#define THIDUA_UTF8_H

#include <stddef.h>

/* utf8_valid - 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates, NUL) */
int utf8_valid(const char *s, size_t len);

/* utf8_valid_str - utf8_valid over a NUL-terminated string */
int utf8_valid_str(const char *s);

/* utf8_sanitize - make s valid UTF-8 in place: each byte that does not start a
 * well-formed sequence becomes '?'. For text cut by a byte bound, or quoted from input. */
void utf8_sanitize(char *s);

/* utf8_is_mark - a combining mark (U+0300-036F, 1DC0-1DFF, 20D0-20FF, FE20-FE2F): it belongs
 * with the character before it (Vietnamese in decomposed form carries its tones so), so
 * text is never cut just before one */
int utf8_is_mark(unsigned cp);

/* utf8_next - decode the character at s[0..len): its length (1 to 4), the code point in
 * *cp; 0 when the bytes there are not well-formed UTF-8 (or len is 0) */
size_t utf8_next(const char *s, size_t len, unsigned *cp);

/* utf8_name_problem - why s, valid UTF-8, cannot name a file shown to people, or NULL:
 * a C0 or C1 control (U+0085 too), a line or paragraph separator, a bidirectional
 * control (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), a zero-width
 * character (U+200B-U+200D, U+2060, U+FEFF), or nothing but spaces. *cp is the code
 * point found (0 for spaces only). */
const char *utf8_name_problem(const char *s, unsigned *cp);

/* utf8_name_shown - s for an error message, into buf (always terminated): what
 * utf8_name_problem refuses written as <U+XXXX>, bytes that are not UTF-8 as '?' */
void utf8_name_shown(const char *s, char *buf, size_t size);

/* utf8_clip - the length of the longest prefix of s of at most max bytes that does not
 * end inside a character: for quoting a bounded part of what a peer sent */
size_t utf8_clip(const char *s, size_t max);

#endif
