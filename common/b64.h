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

/* rfc2047_encode - a header value as UTF-8 "B" encoded-words, each at most 75 characters
 * and never splitting a character; ASCII text without specials is returned as is */
char *rfc2047_encode(const char *text);

#endif
