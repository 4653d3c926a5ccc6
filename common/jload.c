/*
 * jload.c - json_loadb() with a fast path for the common case (jload.h).
 *
 * The fast path must never accept what jansson refuses nor build anything but what
 * jansson would: whenever it is not sure it gives up, and json_loadb() reads the whole
 * text again. tests/fuzz/fuzz_jload.c holds it to that.
 */
#include <string.h>

#include "jload.h"
#include "utf8.h"
#include "xalloc.h"

#define JLOAD_DEPTH 64	/* deeper: json_loadb() (its own limit is 2048) */

struct jp {
	const char *p, *end;
	size_t flags;
	int depth;
	char *buf;		/* a string with escapes, unescaped */
	size_t cap;
};

static json_t *value(struct jp *j);

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

/* unescape - the rest of a string from its first backslash at j->p into j->buf, whose
 * first 'done' bytes are already there; 0, or -1 for a \u escape, a control character,
 * a bad escape or the end of the text */
static int unescape(struct jp *j, size_t done, size_t *n, int *high)
{
	size_t len = done;

	for (;;) {
		unsigned char c;

		if (j->p >= j->end)
			return -1;
		c = (unsigned char)*j->p++;
		if (c == '"')
			break;
		if (c == '\\') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *e;

			if (j->p >= j->end || !*j->p || !(e = strchr(from, *j->p)))
				return -1;	/* \u, or not an escape */
			c = (unsigned char)to[e - from];
			j->p++;
		} else if (c < 0x20) {
			return -1;
		}
		*high |= c & 0x80;
		if (len == j->cap) {
			j->cap = j->cap ? j->cap * 2 : 256;
			j->buf = xrealloc(j->buf, j->cap);
		}
		j->buf[len++] = (char)c;
	}
	*n = len;
	return 0;
}

/* string - the string whose opening quote is at j->p: *s and *n point into the text
 * when it has no escape (*copied 0), else into j->buf (*copied 1); 0 or -1 */
static int string(struct jp *j, const char **s, size_t *n, int *copied)
{
	const char *start = ++j->p;
	int high = 0;

	*copied = 0;
	for (;;) {
		unsigned char c;

		if (j->p >= j->end)
			return -1;
		c = (unsigned char)*j->p;
		if (c == '"')
			break;
		if (c == '\\') {
			size_t done = (size_t)(j->p - start);

			if (done >= j->cap) {
				j->cap = done * 2 + 256;
				j->buf = xrealloc(j->buf, j->cap);
			}
			memcpy(j->buf, start, done);
			if (unescape(j, done, n, &high))
				return -1;
			*s = j->buf;
			*copied = 1;
			return high && !utf8_valid(*s, *n) ? -1 : 0;
		}
		if (c < 0x20)
			return -1;
		high |= c & 0x80;
		j->p++;
	}
	*s = start;
	*n = (size_t)(j->p - start);
	j->p++;
	return high && !utf8_valid(*s, *n) ? -1 : 0;
}

/* number - an integer of up to 18 digits here; any other number as jansson reads it */
static json_t *number(struct jp *j)
{
	const char *start = j->p, *d = start + (*start == '-');
	json_int_t v = 0;
	int plain = 1;

	while (j->p < j->end && *j->p && strchr("0123456789-+.eE", *j->p)) {
		if ((*j->p < '0' || *j->p > '9') && j->p != start)
			plain = 0;
		j->p++;
	}
	if (!plain)
		return json_loadb(start, (size_t)(j->p - start), JSON_DECODE_ANY, NULL);
	if (j->p == d || j->p - d > 18 || (*d == '0' && j->p - d > 1))
		return NULL;
	for (; d < j->p; d++)
		v = v * 10 + (*d - '0');
	return json_integer(*start == '-' ? -v : v);
}

/* literal - true, false or null, not followed by more letters (jansson reads a word) */
static json_t *literal(struct jp *j, const char *word, size_t len, json_t *v)
{
	const char *after = j->p + len;

	if ((size_t)(j->end - j->p) < len || memcmp(j->p, word, len)
	    || (after < j->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z'))))
		return NULL;
	j->p = after;
	return v;
}

/* eat - the character c (after spaces) taken: 1, else 0 */
static int eat(struct jp *j, char c)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		skip_ws(j);
		return 1;
	}
	return 0;
}

/* member - one "key":value of an object into o; keys with an escape are left to jansson
 * (j->buf is reused by the value). 0 or -1 */
static int member(struct jp *j, json_t *o)
{
	const char *k;
	size_t kn;
	int copied;
	json_t *v;

	if (j->p >= j->end || *j->p != '"' || string(j, &k, &kn, &copied) || copied || !eat(j, ':')
	    || !(v = value(j)))
		return -1;
	if ((j->flags & JSON_REJECT_DUPLICATES) && json_object_getn(o, k, kn)) {
		json_decref(v);
		return -1;
	}
	return json_object_setn_new_nocheck(o, k, kn, v);
}

/* container - the object or array whose opening character is at j->p: members or
 * elements separated by ',' up to the closing one */
static json_t *container(struct jp *j)
{
	int obj = *j->p == '{';
	char close = obj ? '}' : ']';
	json_t *c = obj ? json_object() : json_array();

	j->p++;
	if (eat(j, close))
		return c;
	for (;;) {
		json_t *v;

		if (obj ? member(j, c) != 0 : !(v = value(j)) || json_array_append_new(c, v))
			break;
		if (eat(j, close))
			return c;
		if (!eat(j, ','))
			break;
	}
	json_decref(c);
	return NULL;
}

static json_t *value(struct jp *j)
{
	json_t *v = NULL;
	const char *s;
	size_t n;
	int copied;

	if (j->p >= j->end)
		return NULL;
	switch (*j->p) {
	case '{':
	case '[':
		if (j->depth >= JLOAD_DEPTH)
			return NULL;
		j->depth++;
		v = container(j);
		j->depth--;
		return v;
	case '"':
		return string(j, &s, &n, &copied) ? NULL : json_stringn_nocheck(s, n);
	case 't':
		return literal(j, "true", 4, json_true());
	case 'f':
		return literal(j, "false", 5, json_false());
	case 'n':
		return literal(j, "null", 4, json_null());
	default:
		return *j->p == '-' || (*j->p >= '0' && *j->p <= '9') ? number(j) : NULL;
	}
}

json_t *jload_fast(const char *buf, size_t len, size_t flags)
{
	struct jp j = { buf, buf + len, flags, 0, NULL, 0 };
	json_t *v = NULL;

	if (buf && !(flags & ~(size_t)(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY))) {
		skip_ws(&j);
		if (j.p < j.end && ((flags & JSON_DECODE_ANY) || *j.p == '{' || *j.p == '['))
			v = value(&j);
		skip_ws(&j);
		if (v && j.p != j.end) {
			json_decref(v);
			v = NULL;
		}
	}
	free(j.buf);
	return v;
}

json_t *jload(const char *buf, size_t len, size_t flags, json_error_t *err)
{
	json_t *v = jload_fast(buf, len, flags);

	return v ? v : json_loadb(buf, len, flags, err);
}
