/*
 * audit.c - the audit log: append-only, each row carrying the hash of the one before, so
 * `thiduactl audit verify` can prove that no row was edited or removed.
 *
 * hash = SHA-256 over the previous hash and the row's fields, each on its own line. The
 * head (last sequence number and hash) is also kept in meta, so cutting rows off the end
 * is found too. Rows are appended in the same transaction as the change they record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jdump.h"
#include "log.h"
#include "sha256.h"
#include "utf8.h"
#include "thiduad.h"
#include "xalloc.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* row_hash - the chain link of one row: SHA-256 of its fields, each but the last ended
 * by a newline, hashed as they are (no copy of the detail) */
static void row_hash(const char *prev, int64_t seq, int64_t at, const char *principal, const char *op,
		     const char *object, const char *unit, const char *detail, char out[65])
{
	const char *field[] = { prev, NULL, NULL, principal, op, object ? object : "", unit ? unit : "", detail };
	char nums[2][24];
	struct sha256 c;

	int_text(nums[0], seq);
	int_text(nums[1], at);
	field[1] = nums[0];
	field[2] = nums[1];
	sha256_init(&c);
	for (size_t i = 0; i < sizeof(field) / sizeof(field[0]); i++) {
		sha256_update(&c, field[i], strlen(field[i]));
		if (i + 1 < sizeof(field) / sizeof(field[0]))
			sha256_update(&c, "\n", 1);
	}
	sha256_final_hex(&c, out);
}

/* audit_head - the sequence number and hash of the last row: kept in memory for the rest
 * of a transaction once it has written a row, read from the table otherwise */
static int64_t audit_head(struct daemon *d, char prev[65])
{
	sqlite3_stmt *s;
	char head[96];
	char *colon;
	int64_t seq = 0;

	if (store_meta_pending(d->store, "audit_head", head, sizeof(head)) == 0
	    && (colon = strchr(head, ':')) && strlen(colon + 1) == 64) {
		memcpy(prev, colon + 1, 65);
		return strtoll(head, NULL, 10);
	}
	s = store_stmt(d->store, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
	if (sqlite3_step(s) == SQLITE_ROW) {
		seq = sqlite3_column_int64(s, 0);
		xstrlcpy(prev, (const char *)sqlite3_column_text(s, 1), 65);
	}
	sqlite3_reset(s);
	return seq;
}

/* audit_append - one row; detail is stolen. 0 ok, -1 database error */
int audit_append(struct daemon *d, const char *principal, const char *op, const char *object,
		 const char *unit, json_t *detail)
{
	sqlite3_stmt *s;
	char prev[65] = GENESIS, hash[65], head[96];
	int64_t seq, now = clock_now(d);
	char *text = jdump(detail, JSON_COMPACT);
	int rc;

	json_decref(detail);
	seq = audit_head(d, prev) + 1;
	row_hash(prev, seq, now, principal, op, object, unit, text, hash);
	s = store_stmt(d->store, "INSERT INTO audit (seq, at, principal, op, object, unit, detail, prev_hash, hash)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, principal, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, object, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, text, -1, free);
	sqlite3_bind_text(s, 8, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	snprintf(head, sizeof(head), "%lld:%s", (long long)seq, hash);
	return store_meta_later(d->store, "audit_head", head);
}

/* audit_request - the generic record of an api write: who, what, on which unit */
int audit_request(struct daemon *d, const char *principal, const char *op, json_t *body, json_t *reply)
{
	const char *unit = json_string_value(json_object_get(body, "unit"));
	json_t *detail = json_object(), *r;
	char object[256] = "";

	if (!unit)
		unit = json_string_value(json_object_get(body, "code"));
	json_object_update(detail, body);	/* shares the values: detail is only written out */
	json_object_del(detail, "op");
	if (json_object_get(body, "report") && json_object_get(body, "period"))
		snprintf(object, sizeof(object), "%s/%s", json_string_value(json_object_get(body, "report")),
			 json_string_value(json_object_get(body, "period")) ? json_string_value(json_object_get(body, "period")) : "");
	/* what the change produced, for the record */
	if ((r = json_object_get(json_object_get(reply, "receipt"), "number")))
		json_object_set(detail, "receipt", r);
	if ((r = json_object_get(json_object_get(reply, "obligation"), "state")))
		json_object_set(detail, "state", r);
	if ((r = json_object_get(reply, "units")) && json_is_array(r))
		json_object_set(detail, "units", r);
	if ((r = json_object_get(reply, "notification")) && json_is_integer(r)) {
		json_object_set(detail, "notification", r);
		if (!*object)
			snprintf(object, sizeof(object), "notification/%lld", (long long)json_integer_value(r));
	}
	if ((r = json_object_get(reply, "proposal")) && json_object_get(r, "id")) {
		json_object_set(detail, "proposal", json_object_get(r, "id"));
		if (json_object_get(r, "state"))
			json_object_set(detail, "state", json_object_get(r, "state"));
		if (!unit)	/* the proposing unit: audit list --unit finds its proposals */
			unit = json_string_value(json_object_get(r, "proposer"));
		snprintf(object, sizeof(object), "proposal/%lld", (long long)json_integer_value(json_object_get(r, "id")));
	}
	utf8_sanitize(object);		/* snprintf may have cut a character */
	return audit_append(d, principal, op, *object ? object : NULL, unit, detail);
}

/* op_audit_list - rows filtered by unit, principal, object and time, newest first */
int op_audit_list(struct daemon *d, struct request *rq, json_t *out)
{
	const char *unit = rq_str(rq, "unit", 0), *principal = rq_str(rq, "principal", 0);
	const char *object = rq_str(rq, "object", 0);
	int64_t since = 0, until = INT64_MAX;
	json_t *rows;
	long long limit, before;
	size_t bytes = 0;
	int more = 0;
	sqlite3_stmt *s;

	if (rq_failed(rq) || rq_time(rq, "since", 0, &since) < 0 || rq_time(rq, "until", 0, &until) < 0
	    || page_limit(rq, 200, &limit) < 0 || page_cursor(rq, "before", &before) < 0)
		return -1;
	s = store_stmt(d->store, "SELECT seq, at, principal, op, object, unit, detail, hash FROM audit"
		       " WHERE (?1 IS NULL OR unit = ?1) AND (?2 IS NULL OR principal = ?2)"
		       " AND (?3 IS NULL OR object = ?3 OR object LIKE ?3 || '/%') AND at >= ?4 AND at <= ?5"
		       " AND (?7 IS NULL OR seq < ?7) ORDER BY seq DESC LIMIT ?6");
	sqlite3_bind_text(s, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, principal, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, object, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, since);
	sqlite3_bind_int64(s, 5, until);
	sqlite3_bind_int64(s, 6, limit + 1);	/* one more says whether there are more */
	if (before)
		sqlite3_bind_int64(s, 7, before);
	rows = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *detail;

		if ((long long)json_array_size(rows) == limit || page_full(&bytes, page_row_bytes(s))) {
			more = 1;
			break;
		}
		detail = json_loads((const char *)sqlite3_column_text(s, 6), 0, NULL);
		json_t *row = json_pack("{s:I,s:o,s:s,s:s,s:s?,s:s?,s:o,s:s}",
					"seq", (json_int_t)sqlite3_column_int64(s, 0),
					"at", json_time(d, sqlite3_column_int64(s, 1)),
					"principal", (const char *)sqlite3_column_text(s, 2),
					"op", (const char *)sqlite3_column_text(s, 3),
					"object", (const char *)sqlite3_column_text(s, 4),
					"unit", (const char *)sqlite3_column_text(s, 5),
					"detail", detail ? detail : json_null(),
					"hash", (const char *)sqlite3_column_text(s, 7));

		json_array_append_new(rows, row);
	}
	sqlite3_reset(s);
	json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(rows)));
	json_object_set_new(out, "more", json_boolean(more));
	json_object_set_new(out, "rows", rows);
	return 0;
}

/* op_audit_verify - walk the chain; name the first row altered or removed */
int op_audit_verify(struct daemon *d, struct request *rq, json_t *out)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT seq, at, principal, op, object, unit, detail, prev_hash, hash"
				     " FROM audit ORDER BY seq");
	char prev[65] = GENESIS, hash[65], head[96] = "", why[256] = "";
	int64_t expect = 1, bad = 0, n = 0;

	(void)rq;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(s, 0);
		const char *stored_prev = (const char *)sqlite3_column_text(s, 7);
		const char *stored = (const char *)sqlite3_column_text(s, 8);

		n++;
		if (seq != expect) {
			bad = expect;
			snprintf(why, sizeof(why), "row %lld is missing: the chain jumps from %lld to %lld",
				 (long long)expect, (long long)expect - 1, (long long)seq);
			break;
		}
		row_hash(prev, seq, sqlite3_column_int64(s, 1), (const char *)sqlite3_column_text(s, 2),
			 (const char *)sqlite3_column_text(s, 3), (const char *)sqlite3_column_text(s, 4),
			 (const char *)sqlite3_column_text(s, 5), (const char *)sqlite3_column_text(s, 6), hash);
		if (strcmp(stored_prev, prev) || strcmp(stored, hash)) {
			bad = seq;
			snprintf(why, sizeof(why), "row %lld was altered: its content does not match its hash", (long long)seq);
			break;
		}
		xstrlcpy(prev, stored, sizeof(prev));
		expect++;
	}
	sqlite3_reset(s);
	if (!bad && store_meta_get(d->store, "audit_head", head, sizeof(head)) == 0) {
		char mine[96];

		snprintf(mine, sizeof(mine), "%lld:%s", (long long)expect - 1, prev);
		if (strcmp(head, mine)) {
			bad = strtoll(head, NULL, 10);
			snprintf(why, sizeof(why), "the log ends at row %lld but row %lld was written: rows were removed from the end",
				 (long long)expect - 1, (long long)bad);
		}
	}
	json_object_set_new(out, "valid", json_boolean(!bad));
	json_object_set_new(out, "rows", json_integer(n));
	if (bad) {
		json_object_set_new(out, "first_bad", json_integer(bad));
		json_object_set_new(out, "reason", json_string(why));
		log_err("audit verify: %s", why);
	}
	return 0;
}
