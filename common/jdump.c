/*
 * jdump.c - json_dumps() with a fast path for compact output (jdump.h).
 *
 * Held to jansson's text by tests/fuzz/fuzz_jload.c, which dumps every value it parses
 * both ways.
 */
#include <stdlib.h>
#include <string.h>

#include "jdump.h"
#include "utf8.h"
#include "xalloc.h"

#define JDUMP_DEPTH 64

struct out {
	char *p;
	size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->p = xrealloc(o->p, o->cap);
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* string - s[0..n) quoted; -1 when it is not UTF-8 (jansson refuses it then) */
static int string(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run = s, *end = s + n;
	int high = 0;

	put(o, "\"", 1);
	for (const char *p = s; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
		size_t elen = 2;

		high |= c & 0x80;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(o, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		put(o, esc, elen);
	}
	put(o, run, (size_t)(end - run));
	put(o, "\"", 1);
	return high && !utf8_valid(s, n) ? -1 : 0;
}

static int value(struct out *o, const json_t *v, int depth)
{
	char num[32];
	int n;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		size_t klen;
		json_t *m;
		int first = 1;

		if (depth >= JDUMP_DEPTH)
			return -1;
		put(o, "{", 1);
		json_object_keylen_foreach((json_t *)v, key, klen, m) {
			if (!first)
				put(o, ",", 1);
			first = 0;
			if (string(o, key, klen) < 0)
				return -1;
			put(o, ":", 1);
			if (value(o, m, depth + 1) < 0)
				return -1;
		}
		put(o, "}", 1);
		return 0;
	}
	case JSON_ARRAY:
		if (depth >= JDUMP_DEPTH)
			return -1;
		put(o, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				put(o, ",", 1);
			if (value(o, json_array_get(v, i), depth + 1) < 0)
				return -1;
		}
		put(o, "]", 1);
		return 0;
	case JSON_STRING:
		return string(o, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		put(o, num, (size_t)n);
		return 0;
	case JSON_REAL: {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!text)
			return -1;
		put(o, text, strlen(text));
		free(text);
		return 0;
	}
	case JSON_TRUE:
		put(o, "true", 4);
		return 0;
	case JSON_FALSE:
		put(o, "false", 5);
		return 0;
	case JSON_NULL:
		put(o, "null", 4);
		return 0;
	}
	return -1;
}

char *jdump_fast(const json_t *v, size_t flags)
{
	struct out o = { NULL, 0, 0 };

	if (!v || (flags & ~(size_t)(JSON_COMPACT | JSON_ENCODE_ANY)) || !(flags & JSON_COMPACT)
	    || (!(flags & JSON_ENCODE_ANY) && !json_is_object(v) && !json_is_array(v)))
		return NULL;
	if (value(&o, v, 0) < 0) {
		free(o.p);
		return NULL;
	}
	o.p[o.len] = 0;
	return o.p;
}

char *jdump(const json_t *v, size_t flags)
{
	char *text = jdump_fast(v, flags);

	return text ? text : json_dumps(v, flags);
}
