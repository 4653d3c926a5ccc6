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

/* utf8_ok - jansson refuses a string that is not UTF-8: then so does the fast path */
static int utf8_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return utf8_valid(s, n);
	return 1;
}

/* value - v through the writer; -1 when it leaves v to json_dumps() */
static int value(struct jw *w, const json_t *v, int depth)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		size_t klen;
		json_t *m;

		if (depth >= JDUMP_DEPTH)
			return -1;
		jw_open(w, '{');
		json_object_keylen_foreach((json_t *)v, key, klen, m) {
			if (!utf8_ok(key, klen))
				return -1;
			jw_keyn(w, key, klen);
			if (value(w, m, depth + 1) < 0)
				return -1;
		}
		jw_close(w, '}');
		return 0;
	}
	case JSON_ARRAY:
		if (depth >= JDUMP_DEPTH)
			return -1;
		jw_open(w, '[');
		for (size_t i = 0; i < json_array_size(v); i++)
			if (value(w, json_array_get(v, i), depth + 1) < 0)
				return -1;
		jw_close(w, ']');
		return 0;
	case JSON_STRING:
		if (!utf8_ok(json_string_value(v), json_string_length(v)))
			return -1;
		jw_strn(w, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		jw_int(w, json_integer_value(v));
		return 0;
	case JSON_REAL: {
		char *text = jdump_jansson(v, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!text)
			return -1;
		jw_raw(w, text, strlen(text));
		free(text);
		return 0;
	}
	case JSON_TRUE:
		jw_raw(w, "true", 4);
		return 0;
	case JSON_FALSE:
		jw_raw(w, "false", 5);
		return 0;
	case JSON_NULL:
		jw_null(w);
		return 0;
	}
	return -1;
}

char *jdump_fast(const json_t *v, size_t flags)
{
	struct buf o = { 0 };
	struct jw w = JW_INIT(&o);

	if (!v || (flags & ~(size_t)(JSON_COMPACT | JSON_ENCODE_ANY)) || !(flags & JSON_COMPACT)
	    || (!(flags & JSON_ENCODE_ANY) && !json_is_object(v) && !json_is_array(v)))
		return NULL;
	if (value(&w, v, 0) < 0) {
		free(o.p);
		return NULL;
	}
	return o.p;
}

/* -- struct jw -- */

/* next - before a key, or a value that follows no key: a comma when something came
 * before it at this level */
static void next(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->more[w->depth])
		buf_putc(w->b, ',');
	w->more[w->depth] = 1;
}

void jw_open(struct jw *w, char c)
{
	next(w);
	buf_putc(w->b, c);
	if (w->depth + 1 < JW_DEPTH)
		w->depth++;
	w->more[w->depth] = 0;
}

void jw_close(struct jw *w, char c)
{
	buf_putc(w->b, c);
	if (w->depth > 0)
		w->depth--;
}

void jw_keyn(struct jw *w, const char *name, size_t n)
{
	next(w);
	buf_json_str(w->b, name, n);
	buf_putc(w->b, ':');
	w->after_key = 1;
}

void jw_key(struct jw *w, const char *name)
{
	jw_keyn(w, name, strlen(name));
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	next(w);
	buf_json_str(w->b, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

void jw_int(struct jw *w, long long v)
{
	next(w);
	buf_int(w->b, v);
}

void jw_null(struct jw *w)
{
	next(w);
	buf_put(w->b, "null", 4);
}

void jw_raw(struct jw *w, const char *text, size_t n)
{
	next(w);
	buf_put(w->b, text, n);
}

int jw_json(struct jw *w, const json_t *v)
{
	char *text = jdump(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!text)
		return -1;
	jw_raw(w, text, strlen(text));
	free(text);
	return 0;
}

void jw_members(struct jw *w, const char *object, size_t n)
{
	size_t i = 1, end = n;

	while (end > 0 && object[end - 1] != '}')
		end--;
	if (end > 0)
		end--;		/* the closing brace */
	while (i < end && strchr(" \t\r\n", object[i]))
		i++;
	if (i >= end)
		return;		/* {} */
	next(w);
	buf_put(w->b, object + i, end - i);
}

char *jdump(const json_t *v, size_t flags)
{
	char *text = jdump_fast(v, flags);

	return text ? text : jdump_jansson(v, flags);
}
