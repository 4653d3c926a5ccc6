/*
 * request.c - the request frame decoder (see request.h). No sockets and no database: a
 * pure function from bytes to a JSON body or an error code and message.
 */
#include <stdlib.h>

#include "jload.h"
#include "proto.h"
#include "request.h"
#include "utf8.h"
#include "xalloc.h"

/* decode_fail - set the error outputs; returns -1 for "return decode_fail(...)" */
static int decode_fail(const char **code, char **msg, const char *c, char *m)
{
	*code = c;
	*msg = m;
	return -1;
}

/* json_kind - "a string", "a number"... for telling a client what it sent */
static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "true or false";
	case JSON_NULL:
		return "null";
	default:
		return "an object";
	}
}

/* parse_error - jansson's account of a parse error, in words for a person: its text may
 * name a flag of the library (JSON_ALLOW_NUL), which means nothing to a client */
static char *parse_error(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return xasprintf("the request holds \\u0000 (the NUL character) in a string at line %d column %d: "
				 "text in a request may not contain it", jerr->line, jerr->column);
	case json_error_stack_overflow:
		return xasprintf("the request nests arrays and objects more than %d deep (at line %d column %d); "
				 "no request needs more than a few levels", REQUEST_DEPTH_MAX, jerr->line, jerr->column);
	default:
		return xasprintf("the request is not valid JSON: %s at line %d column %d", jerr->text, jerr->line,
				 jerr->column);
	}
}

/* drop_nulls - a member given as null is absent, for every op: one rule, applied here */
static void drop_nulls(json_t *body)
{
	const char *key;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(body, tmp, key, v)
		if (json_is_null(v))
			json_object_del(body, key);
}

/* request_decode - the frame checks, in the order a client should fix them */
int request_decode(const char *data, size_t size, json_t **body, const char **op,
		   const char **id, const char **code, char **msg)
{
	json_error_t jerr;
	json_t *v;

	*body = NULL;
	*op = *id = NULL;
	if (!utf8_valid(data, size))
		return decode_fail(code, msg, ERR_INVALID_UTF8, xstrdup("the request frame is not valid UTF-8 text"));
	/* any JSON value parses: one that is not an object is a bad request, not bad JSON */
	*body = jload(data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!*body) {
		/* jansson's text quotes the input and may stop inside a character */
		char *m = parse_error(&jerr);

		utf8_sanitize(m);
		return decode_fail(code, msg, ERR_INVALID_JSON, m);
	}
	if (!json_is_object(*body))
		return decode_fail(code, msg, ERR_BAD_REQUEST,
				   xasprintf("the request is %s, not a JSON object: send {\"op\": ..., \"id\": ...}",
					     json_kind(*body)));
	drop_nulls(*body);
	v = json_object_get(*body, "id");
	if (v && !json_is_string(v))
		return decode_fail(code, msg, ERR_INVALID_FIELD,
				   xstrdup("'id' must be a string (the client's request id)"));
	if (v && (json_string_length(v) == 0 || json_string_length(v) > REQUEST_ID_MAX))
		return decode_fail(code, msg, ERR_INVALID_FIELD,
				   xasprintf("'id' must be 1 to %d bytes of UTF-8; this one is %zu bytes", REQUEST_ID_MAX,
					     json_string_length(v)));
	*id = v ? json_string_value(v) : NULL;
	v = json_object_get(*body, "op");
	if (!v || !json_is_string(v))
		return decode_fail(code, msg, ERR_BAD_REQUEST,
				   xstrdup("the request has no 'op' string: say what to do, e.g. {\"op\": \"status\"}"));
	*op = json_string_value(v);
	return 0;
}
