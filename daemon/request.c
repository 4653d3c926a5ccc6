/*
 * request.c - the request frame decoder (see request.h). No sockets and no database: a
 * pure function from bytes to a JSON body or an error code and message.
 */
#include <stdlib.h>

#include "jload.h"
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

/* request_decode - the frame checks, in the order a client should fix them */
int request_decode(const char *data, size_t size, json_t **body, const char **op,
		   const char **id, const char **code, char **msg)
{
	json_error_t jerr;
	json_t *v;

	*body = NULL;
	*op = *id = NULL;
	if (!utf8_valid(data, size))
		return decode_fail(code, msg, "invalid_utf8", xstrdup("the request frame is not valid UTF-8 text"));
	*body = jload(data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!*body) {
		/* jansson's text quotes the input and may stop inside a character */
		char *m = xasprintf("the request is not valid JSON: %s at line %d column %d",
				    jerr.text, jerr.line, jerr.column);

		utf8_sanitize(m);
		return decode_fail(code, msg, "invalid_json", m);
	}
	if (!json_is_object(*body))
		return decode_fail(code, msg, "bad_request",
				   xstrdup("the request must be a JSON object {\"op\": ..., \"id\": ...}"));
	v = json_object_get(*body, "id");
	if (v && !json_is_string(v))
		return decode_fail(code, msg, "invalid_field",
				   xstrdup("'id' must be a string (the client's request id)"));
	if (v && (json_string_length(v) == 0 || json_string_length(v) > REQUEST_ID_MAX))
		return decode_fail(code, msg, "invalid_field", xstrdup("'id' must be 1 to 128 characters"));
	*id = v ? json_string_value(v) : NULL;
	v = json_object_get(*body, "op");
	if (!v || !json_is_string(v))
		return decode_fail(code, msg, "bad_request",
				   xstrdup("the request has no 'op' string: say what to do, e.g. {\"op\": \"status\"}"));
	*op = json_string_value(v);
	return 0;
}
