/*
 * jdump.h - json_dumps() with a fast path for compact output.
 *
 * jansson writes through a callback per piece and checks every character of every string
 * one call at a time; the replies, audit details and events thiduad writes per request
 * spent more on that than on the request itself. jdump() writes the compact form of
 * objects, arrays, strings, integers, true, false and null itself, exactly as jansson
 * writes them (members in their order, the same escapes: \" \\ \b \f \n \r \t and \u00XX
 * for the other control characters, UTF-8 as it is). A real number is written by jansson;
 * anything it is not sure of (a string that is not valid UTF-8, nesting deeper than 64)
 * and any other flag than JSON_COMPACT and JSON_ENCODE_ANY send the whole value to
 * json_dumps(), so the text, or the NULL, is jansson's. Free the result with free().
 */
#ifndef THIDUA_JDUMP_H
#define THIDUA_JDUMP_H

#include <jansson.h>
#include <stddef.h>

char *jdump(const json_t *v, size_t flags);

/* jdump_jansson - json_dumps() itself, in memory of malloc() whatever allocator jansson
 * was given (jalloc.c): free the result with free() */
char *jdump_jansson(const json_t *v, size_t flags);

/* jdump_fast - the fast path alone: the text, or NULL when it leaves the value to
 * json_dumps() (for tests: what it returns must be what json_dumps() returns) */
char *jdump_fast(const json_t *v, size_t flags);

#endif
