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

/* utf8_clip - the length of the longest prefix of s of at most max bytes that does not
 * end inside a character: for quoting a bounded part of what a peer sent */
size_t utf8_clip(const char *s, size_t max);

#endif
