/*
 * fuzz_request.c - libFuzzer target: the input is the JSON frame of a request, decoded by
 * request_decode() as api.c does, then every field through the checks the handlers make
 * (rq_str, rq_time, rq_day, clock.advance's duration), and the replies built from it.
 *
 * Properties: no crash, leak or undefined behaviour; every error reply can be built (an
 * error message that is not UTF-8 would make rq_error() end the daemon); an accepted
 * request has an 'op' string and an 'id' of 1 to 128 bytes; what the time parsers
 * accept they format back to the same value, and a duration clock.advance accepts keeps
 * the clock within the years thidua reads and writes.
 */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "request.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"

#define UTC_OFFSET (7 * 3600)	/* the shipped configuration's zone */
#define NOW INT64_C(1731204000)	/* 2024-11-10T09:00:00+07:00, the tests' fake clock */

/* error_reply - what rq_error() builds; NULL there is fatal() */
static void error_reply(json_t *body, const char *code, const char *msg)
{
	json_t *reply = json_pack("{s:O?,s:b,s:{s:s,s:s}}", "id", json_object_get(body, "id"),
				  "ok", 0, "error", "code", code, "message", msg);
	char *text;

	FUZZ_ASSERT(reply != NULL);
	text = json_dumps(reply, JSON_COMPACT);
	FUZZ_ASSERT(text != NULL);
	free(text);
	json_decref(reply);
}

/* check_field - one string field through every parser a handler may apply to it */
static void check_field(json_t *body, const char *key, const char *s)
{
	int64_t t, t2, secs;
	int32_t day, day2;
	int minutes, off;
	char buf[64], *msg;

	if (time_parse(s, UTC_OFFSET, &t) == 0) {
		time_format(t, UTC_OFFSET, buf, sizeof(buf));
		FUZZ_ASSERT(time_parse(buf, UTC_OFFSET, &t2) == 0 && t2 == t);
	} else {
		msg = xasprintf("'%s' = \"%s\" is not a time: write 2024-11-10T09:00:00+07:00 or a date 2024-11-10", key, s);
		error_reply(body, "invalid_field", msg);
		free(msg);
	}
	if (date_parse(s, &day) == 0) {
		date_format(day, buf, sizeof(buf));
		FUZZ_ASSERT(strcmp(buf, s) == 0);
		FUZZ_ASSERT(date_parse(buf, &day2) == 0 && day2 == day);
	}
	/* clock.advance: a duration, then clock_now() + secs, which must stay a time thidua
	 * can write and read back */
	if (duration_parse(s, &secs) == 0) {
		FUZZ_ASSERT(secs >= 0 && secs <= INT64_MAX - NOW);
		duration_format(secs, buf, sizeof(buf));
		time_format(NOW + secs, UTC_OFFSET, buf, sizeof(buf));
		FUZZ_ASSERT(time_parse(buf, UTC_OFFSET, &t2) == 0 && t2 == NOW + secs);
	}
	if (hhmm_parse(s, &minutes) == 0)
		FUZZ_ASSERT(minutes >= 0 && minutes <= 24 * 60);
	if (tz_offset_parse(s, &off) == 0) {
		tz_offset_format(off, buf, sizeof(buf));
		FUZZ_ASSERT(strcmp(buf, s) == 0 || (off == 0 && strcmp(s, "-00:00") == 0));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body, *v;
	const char *op, *id, *code, *key;
	char *msg = NULL, *text;

	if (request_decode((const char *)data, size, &body, &op, &id, &code, &msg)) {
		/* the decoder's own text is UTF-8: rq_error() would only hide a cut with '?' */
		FUZZ_ASSERT(code && msg && utf8_valid_str(msg));
		error_reply(body, code, msg);
		free(msg);
		json_decref(body);
		return 0;
	}
	FUZZ_ASSERT(json_is_object(body) && op && utf8_valid_str(op));
	FUZZ_ASSERT(!id || (strlen(id) >= 1 && json_string_length(json_object_get(body, "id")) <= 128));
	json_object_foreach(body, key, v) {
		FUZZ_ASSERT(utf8_valid_str(key));
		if (json_is_string(v))
			check_field(body, key, json_string_value(v));
	}
	/* unknown_op and missing_field replies quote the op and the key */
	msg = xasprintf("unknown op '%s'; the ops are listed in docs/PROTOCOL.md", op);
	error_reply(body, "unknown_op", msg);
	free(msg);
	/* a write's body is kept in the audit log and its reply in the requests table */
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	FUZZ_ASSERT(text != NULL);
	free(text);
	json_decref(body);
	return 0;
}
