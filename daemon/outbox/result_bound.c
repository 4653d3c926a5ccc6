/*
 * result_bound.c - what a worker's jobs result may make the daemon store and show: its
 * reason cut to RESULT_REASON_MAX bytes, and the frame kept as the delivery's detail
 * rebuilt from its known members when it is over RESULT_DETAIL_MAX.
 */
#include <string.h>

#include "jdump.h"
#include "thiduad.h"
#include "utf8.h"

#define RECIPIENTS_MAX 500

/* result_bound - bound msg's reason in place; *raw and *rawlen become the detail to store.
 * Returns what the caller frees (NULL when the frame is kept as it came). */
char *result_bound(json_t *msg, const char **raw, size_t *rawlen)
{
	static const char *const keep[] = { "type", "job", "status", "code", "reason", "retry_after", "disable" };
	json_t *r = json_object_get(msg, "reason"), *small, *rcpt;
	char *text;

	if (json_is_string(r) && strlen(json_string_value(r)) > RESULT_REASON_MAX) {
		const char *s = json_string_value(r);

		json_object_set_new(msg, "reason", json_stringn(s, utf8_clip(s, RESULT_REASON_MAX)));
	}
	if (*rawlen <= RESULT_DETAIL_MAX)
		return NULL;
	small = json_object();
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_get(msg, keep[i]))
			json_object_set(small, keep[i], json_object_get(msg, keep[i]));
	json_object_set_new(small, "frame_bytes", json_integer((json_int_t)*rawlen));
	rcpt = json_object_get(msg, "recipients");
	if (json_is_array(rcpt)) {
		json_t *part = json_array();

		for (size_t i = 0; i < json_array_size(rcpt) && i < RECIPIENTS_MAX; i++)
			json_array_append(part, json_array_get(rcpt, i));
		json_object_set_new(small, "recipients", part);
	}
	text = jdump(small, JSON_COMPACT);
	if (text && strlen(text) > RESULT_DETAIL_MAX) {	/* recipients of long texts: without them */
		free(text);
		json_object_del(small, "recipients");
		text = jdump(small, JSON_COMPACT);
	}
	json_decref(small);
	if (!text)
		return NULL;
	*raw = text;
	*rawlen = strlen(text);
	return text;
}
