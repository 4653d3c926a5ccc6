/*
 * jload.h - json_loadb() with a fast path for the common case.
 *
 * jansson's parser reads one character at a time through several calls; for the jobs,
 * results and requests thiduad and its workers exchange (a kilobyte of mostly Vietnamese
 * text) that was the largest single cost of a webhook delivery. jload() parses the plain
 * shape of JSON itself - objects, arrays, strings with the short escapes, integers that
 * fit in 18 digits, true, false, null - and builds the same jansson values. Anything
 * else (a \u escape, a real number it cannot hand on, an error of any kind, nesting
 * deeper than 64) it gives to json_loadb() whole, so the answer, and every error
 * message, is jansson's own.
 *
 * Flags: 0, JSON_REJECT_DUPLICATES and JSON_DECODE_ANY as json_loadb() takes them; any
 * other flag sends the text to json_loadb(). On success *err is left as it was.
 */
#ifndef THIDUA_JLOAD_H
#define THIDUA_JLOAD_H

#include <jansson.h>
#include <stddef.h>

json_t *jload(const char *buf, size_t len, size_t flags, json_error_t *err);

/* jload_fast - the fast path alone: the value, or NULL when it leaves the text to
 * json_loadb() (for tests: what it returns must be what json_loadb() returns) */
json_t *jload_fast(const char *buf, size_t len, size_t flags);

#endif
