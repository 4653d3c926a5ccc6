/*
 * jdump.c - json_dumps() with a fast path for compact output (jdump.h).
 *
 * Held to jansson's text by tests/fuzz/fuzz_jload.c, which dumps every value it parses
 * both ways.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jdump.h"
#include "utf8.h"

#define JDUMP_DEPTH 64

char *jdump_jansson(const json_t *v, size_t flags)
{
	json_malloc_t m;
	json_free_t f;
	char *text = json_dumps(v, flags), *copy;

	json_get_alloc_funcs(&m, &f);
	if (!text || f == free)
		return text;
	copy = strdup(text);
	f(text);
	return copy;
}

/* string - s[0..n) quoted; -1 when it is not UTF-8 (jansson refuses it then) */
static int string(struct buf *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80) {
			if (!utf8_valid(s, n))
				return -1;
			break;
		}
	buf_json_str(o, s, n);
	return 0;
}

static int value(struct buf *o, const json_t *v, int depth)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		size_t klen;
		json_t *m;
		int first = 1;

		if (depth >= JDUMP_DEPTH)
			return -1;
		buf_putc(o, '{');
		json_object_keylen_foreach((json_t *)v, key, klen, m) {
			if (!first)
				buf_putc(o, ',');
			first = 0;
			if (string(o, key, klen) < 0)
				return -1;
			buf_putc(o, ':');
			if (value(o, m, depth + 1) < 0)
				return -1;
		}
		buf_putc(o, '}');
		return 0;
	}
	case JSON_ARRAY:
		if (depth >= JDUMP_DEPTH)
			return -1;
		buf_putc(o, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				buf_putc(o, ',');
			if (value(o, json_array_get(v, i), depth + 1) < 0)
				return -1;
		}
		buf_putc(o, ']');
		return 0;
	case JSON_STRING:
		return string(o, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		buf_int(o, json_integer_value(v));
		return 0;
	case JSON_REAL: {
		char *text = jdump_jansson(v, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!text)
			return -1;
		buf_put(o, text, strlen(text));
		free(text);
		return 0;
	}
	case JSON_TRUE:
		buf_put(o, "true", 4);
		return 0;
	case JSON_FALSE:
		buf_put(o, "false", 5);
		return 0;
	case JSON_NULL:
		buf_put(o, "null", 4);
		return 0;
	}
	return -1;
}

char *jdump_fast(const json_t *v, size_t flags)
{
	struct buf o = { 0 };

	if (!v || (flags & ~(size_t)(JSON_COMPACT | JSON_ENCODE_ANY)) || !(flags & JSON_COMPACT)
	    || (!(flags & JSON_ENCODE_ANY) && !json_is_object(v) && !json_is_array(v)))
		return NULL;
	if (value(&o, v, 0) < 0) {
		free(o.p);
		return NULL;
	}
	return o.p;
}

char *jdump(const json_t *v, size_t flags)
{
	char *text = jdump_fast(v, flags);

	return text ? text : jdump_jansson(v, flags);
}
