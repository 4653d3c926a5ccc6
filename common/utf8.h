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

#endif
