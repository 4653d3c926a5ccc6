/*
 * jdump.h - the one JSON writer of thidua: json_dumps() with a fast path for compact
 * output, and the same writer for text built member by member (struct jw).
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

/*
 * struct jw - compact JSON written straight into a struct buf, for what is never a jansson
 * tree (a fan-out of thousands of delivery payloads; a job frame made of stored text): the
 * writer places the commas and colons, strings are escaped as jansson escapes them, a
 * json_t value is written as jdump() writes it. The caller vouches that strings are
 * UTF-8 (the daemon checks them where they enter) and that spliced text is JSON.
 *
 *	struct jw w = JW_INIT(&buf);
 *	jw_open(&w, '{'); jw_key(&w, "to"); jw_str(&w, addr); jw_close(&w, '}');
 */
#define JW_DEPTH 66		/* jdump's 64 levels, and the top */

struct buf;

struct jw {
	struct buf *b;
	int depth;
	int after_key;			/* a key was written: its value takes no comma */
	unsigned char more[JW_DEPTH];	/* something was written at this level: a comma is due */
};

#define JW_INIT(buf) { .b = (buf) }

/* jw_open - '{' or '[' as the next value; jw_close - '}' or ']' */
void jw_open(struct jw *w, char c);
void jw_close(struct jw *w, char c);

/* jw_key - "name": inside an object, before its value */
void jw_key(struct jw *w, const char *name);
void jw_keyn(struct jw *w, const char *name, size_t n);

/* values */
void jw_str(struct jw *w, const char *s);	/* NULL: null */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, long long v);
void jw_null(struct jw *w);
int jw_json(struct jw *w, const json_t *v);	/* as jdump() writes it; -1 when it cannot */

/* jw_raw - text that is one JSON value already (a stored payload, a cached object) */
void jw_raw(struct jw *w, const char *text, size_t n);

/* jw_members - the members of a JSON object given as text ("{...}"), into the object being
 * written, after what it holds already */
void jw_members(struct jw *w, const char *object, size_t n);

#endif
