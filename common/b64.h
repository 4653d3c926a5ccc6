/*
 * b64.h - base64 (RFC 4648) and RFC 2047 encoded-words for mail headers.
 */
#ifndef THIDUA_B64_H
#define THIDUA_B64_H

#include <stddef.h>

/* b64_encode - encode len bytes; returns a fresh string */
char *b64_encode(const void *data, size_t len);

/* b64_decode - decode standard base64 (padding optional); NULL on bad input */
unsigned char *b64_decode(const char *text, size_t *len);

/* rfc2047_encode - unstructured header text (Subject) as UTF-8 "B" encoded-words, each at
 * most 75 characters, ending at a space where one fits (the space inside the word), never
 * inside a character nor before a combining mark, one a line; printable ASCII without
 * "=?" is returned as is */
char *rfc2047_encode(const char *text);

/* rfc2047_phrase - a display name (RFC 5322 phrase) as encoded-words and atoms, no two
 * encoded-words side by side, so that every reader shows the same spaces; folded near 76
 * columns, starting at column col. Printable ASCII without "=?" is returned as is (the
 * caller quotes it if it holds specials). Fresh string. */
char *rfc2047_phrase(const char *text, size_t col);

#endif
