/*
 * rq.c - the request object's helpers for op handlers (rq.h): its members read with one
 * error message everywhere, its files and their names, and the error reply.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "rq.h"
#include "thiduad.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"

#define RQ_NAME_MAX 255		/* a submitted file's name, in bytes */

const char *rq_op(const struct request *rq)
{
	return rq->op;
}

json_t *rq_body(const struct request *rq)
{
	return rq->body;
}

size_t rq_nfiles(const struct request *rq)
{
	return rq->nframes ? rq->nframes - 1 : 0;
}

const void *rq_file(const struct request *rq, size_t i, size_t *size)
{
	zmq_msg_t *m = (zmq_msg_t *)&rq->frames[i + 1];

	*size = zmq_msg_size(m);
	return zmq_msg_data(m);
}

int rq_files_set(struct request *rq, size_t n, const void *const *data, const size_t *size)
{
	if (n + 1 > RQ_FRAMES_MAX)
		return -1;
	for (size_t i = 1; i < rq->nframes; i++)
		zmq_msg_close(&rq->frames[i]);
	rq->nframes = 1;
	for (size_t i = 0; i < n; i++) {
		zmq_msg_init_size(&rq->frames[i + 1], size[i]);
		if (size[i])
			memcpy(zmq_msg_data(&rq->frames[i + 1]), data[i], size[i]);
		rq->nframes++;
	}
	return 0;
}

const char *rq_id(const struct request *rq)
{
	return rq->id;
}

int rq_failed(const struct request *rq)
{
	return rq->failed;
}

/* rq_principal - who acts: the principal named by "as" (or a web session's), else the
 * local administrator; "web" for a request on the web socket without a session */
const char *rq_principal(const struct request *rq)
{
	return rq->principal ? rq->principal : rq->web ? "web" : "admin";
}

int rq_web(const struct request *rq)
{
	return rq->web;
}

void rq_on_failure(struct request *rq, void (*fn)(struct daemon *d, json_t *arg), json_t *arg)
{
	json_decref(rq->failure_arg);
	rq->on_failure = fn;
	rq->failure_arg = arg;
}

void rq_reply_file(struct request *rq, void *data, size_t size)
{
	free(rq->file);
	rq->file = data;
	rq->file_size = size;
}

/* rq_error - make the reply an error; returns -1 for "return rq_error(...)" */
int rq_error(struct request *rq, const char *code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	/* a message may quote what the client sent, cut by a bound or by a parser inside a
	 * character: it must still be valid UTF-8 for the reply (never a reason to stop) */
	utf8_sanitize(msg);
	if (strlen(msg) > RQ_MESSAGE_MAX)	/* cut where a character ends, then "…" */
		memcpy(msg + utf8_clip(msg, RQ_MESSAGE_MAX - 3), "\xe2\x80\xa6", 4);
	json_decref(rq->reply);
	free(rq->reply_text);
	rq->reply_text = NULL;
	rq->reply = json_pack("{s:O?,s:b,s:{s:s,s:s}}", "id", json_object_get(rq->body, "id"),
			      "ok", 0, "error", "code", code, "message", msg);
	if (!rq->reply)		/* invalid UTF-8 cannot reach here: messages are ours */
		fatal("rq_error: cannot build the reply for %s", code);
	rq->failed = 1;
	free(msg);
	return -1;
}

int rq_error_take(struct request *rq, char *code, size_t codesize, char *msg, size_t msgsize)
{
	json_t *e = json_object_get(rq->reply, "error");
	const char *c = json_string_value(json_object_get(e, "code"));

	if (!rq->failed || !c || !strcmp(c, ERR_INTERNAL) || !strcmp(c, ERR_STORAGE_FULL))
		return -1;
	snprintf(code, codesize, "%s", c);
	snprintf(msg, msgsize, "%s", json_string_value(json_object_get(e, "message")) ? json_string_value(json_object_get(e, "message")) : "");
	json_decref(rq->reply);
	rq->reply = NULL;
	rq->failed = 0;
	return 0;
}

/* rq_error_set - add a detail (such as the list of bad rows) to an error reply */
void rq_error_set(struct request *rq, const char *key, json_t *value)
{
	json_object_set_new(json_object_get(rq->reply, "error"), key, value);
}

/* rq_str - a string field; NULL when absent (an error reply when required or not a string) */
const char *rq_str(struct request *rq, const char *key, int required)
{
	json_t *v = json_object_get(rq->body, key);

	if (!v || json_is_null(v)) {
		if (required)
			rq_error(rq, ERR_MISSING_FIELD, "the request has no '%s' field, which %s needs", key, rq->op);
		return NULL;
	}
	if (!json_is_string(v)) {
		rq_error(rq, ERR_INVALID_FIELD, "'%s' must be a string", key);
		return NULL;
	}
	return json_string_value(v);
}

/* rq_time - an ISO 8601 time field (a bare date is local midnight) */
int rq_time(struct request *rq, const char *key, int required, int64_t *t)
{
	const char *s = rq_str(rq, key, required);

	if (!s)
		return rq->failed ? -1 : 1;
	if (time_parse(s, rq->d->cfg->utc_offset, t) == 0)
		return 0;
	return rq_error(rq, ERR_INVALID_FIELD, "'%s' = \"%.*s\" is not a time: write 2024-11-10T09:00:00+07:00 or a date 2024-11-10",
			key, (int)utf8_clip(s, RQ_QUOTE_MAX), s);
}

/* rq_day - a YYYY-MM-DD field */
int rq_day(struct request *rq, const char *key, int required, int32_t *day)
{
	const char *s = rq_str(rq, key, required);

	if (!s)
		return rq->failed ? -1 : 1;
	if (date_parse(s, day) == 0)
		return 0;
	return rq_error(rq, ERR_INVALID_FIELD, "'%s' = \"%.*s\" is not a date: write YYYY-MM-DD, e.g. 2025-07-01",
			key, (int)utf8_clip(s, RQ_QUOTE_MAX), s);
}

/* rq_bool - a true/false member: 0 with *out set; 1 absent or null (*out untouched); -1
 * with invalid_field for anything else ("yes", 1, "true" are not booleans) */
int rq_bool(struct request *rq, const char *key, int *out)
{
	json_t *v = json_object_get(rq->body, key);

	if (!v || json_is_null(v))
		return 1;
	if (!json_is_boolean(v))
		return rq_error(rq, ERR_INVALID_FIELD, "'%s' must be true or false (a JSON boolean, not a string or a number)", key);
	*out = json_is_true(v);
	return 0;
}

/* rq_int - a whole-number member within [min, max]: a JSON integer, or a string of
 * decimal digits (as a command line passes it). 0 with *out set; 1 absent or null and not
 * required; -1 with missing_field or invalid_field. */
int rq_int(struct request *rq, const char *key, int required, long long min, long long max, long long *out)
{
	json_t *v = json_object_get(rq->body, key);
	long long x;

	if (!v || json_is_null(v)) {
		if (required)
			return rq_error(rq, ERR_MISSING_FIELD, "the request has no '%s' field, which %s needs", key, rq->op);
		return 1;
	}
	if (json_is_integer(v)) {
		x = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *text = json_string_value(v);
		char *end;

		errno = 0;
		x = strtoll(text, &end, 10);
		if (end == text || *end || errno || (*text != '-' && (*text < '0' || *text > '9')))
			return rq_error(rq, ERR_INVALID_FIELD, "'%s' = \"%s\" is not a whole number", key, text);
	} else {
		return rq_error(rq, ERR_INVALID_FIELD, "'%s' must be a whole number", key);
	}
	if (x < min || x > max)
		return rq_error(rq, ERR_INVALID_FIELD, "'%s' = %lld is out of range (%lld to %lld)", key, x, min, max);
	*out = x;
	return 0;
}

/* file_name_problem - why a submitted file name is refused, or NULL; *cp the character
 * at fault (0 when none is) */
static const char *file_name_problem(const char *name, unsigned *cp)
{
	size_t n = strlen(name);

	*cp = 0;
	if (n == 0)
		return "is empty";
	if (n > RQ_NAME_MAX)
		return "is longer than 255 bytes";
	if (!utf8_valid(name, n))
		return "is not valid UTF-8";
	if (strchr(name, '/') || strchr(name, '\\'))
		return "contains a path: send the file's own name only";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "is not a file name";
	return utf8_name_problem(name, cp);
}

/* file_name_refused - 0 when name is a proper file name; else -1 with invalid_file_name
 * naming where it was (a field, an item) and the character at fault */
static int file_name_refused(struct request *rq, const char *where, const char *name)
{
	char shown[RQ_NAME_MAX * 8 + 1];
	const char *why;
	unsigned cp;

	if (!(why = file_name_problem(name, &cp)))
		return 0;
	utf8_name_shown(name, shown, sizeof(shown));
	if (cp)
		return rq_error(rq, ERR_INVALID_FILE_NAME, "%s, the name \"%s\", %s (U+%04X); rename the file", where, shown, why, cp);
	return rq_error(rq, ERR_INVALID_FILE_NAME, "%s, the name \"%s\", %s; rename the file", where, shown, why);
}

/* rq_file_name - the file name in the member key (the name of an imported CSV file), as
 * rq_str reads it, refused as the names of submitted files are */
const char *rq_file_name(struct request *rq, const char *key)
{
	const char *name = rq_str(rq, key, 0);
	char where[80];

	snprintf(where, sizeof(where), "'%s'", key);
	return name && file_name_refused(rq, where, name) ? NULL : name;
}

/* rq_file_names - the request's "files": one name per file frame, each a proper file name
 * and none twice (reports and dossiers). 0, or -1 with the error naming the field and
 * the file. */
int rq_file_names(struct request *rq)
{
	json_t *names = json_object_get(rq_body(rq), "files");
	size_t nfiles = rq_nfiles(rq);
	char shown[RQ_NAME_MAX * 8 + 1];

	if (!json_is_array(names) || json_array_size(names) != nfiles)
		return rq_error(rq, ERR_INVALID_FIELD, "'files' must list one name for each of the %zu file frame%s, in order",
				nfiles, nfiles == 1 ? "" : "s");
	for (size_t i = 0; i < nfiles; i++) {
		const char *name = json_string_value(json_array_get(names, i));
		char where[48];

		if (!name)
			return rq_error(rq, ERR_INVALID_FIELD, "'files' item %zu must be a string, the file's name", i + 1);
		snprintf(where, sizeof(where), "'files' item %zu", i + 1);
		if (file_name_refused(rq, where, name))
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(name, json_string_value(json_array_get(names, j))))
				continue;
			utf8_name_shown(name, shown, sizeof(shown));
			return rq_error(rq, ERR_INVALID_FILE_NAME, "'files' items %zu and %zu are both named \"%s\"; each file of one submission needs its own name",
					j + 1, i + 1, shown);
		}
	}
	return 0;
}
