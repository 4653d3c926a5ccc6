/*
 * audit.c - the audit log: append-only, each row carrying the hash of the one before, so
 * `thiduactl audit verify` can prove that no row was edited or removed.
 *
 * A row's hash covers the previous row's hash and every column of the row. Rows written
 * since the anchoring (meta audit_v2_from onwards) hash each field as a netstring, its
 * byte length, ':', its bytes, ',' (a NULL as '~'), after the netstring "2": a NULL and
 * an empty text differ, and no field can spill into the next. Rows written before by an
 * older thiduad keep their former hash (the fields joined by newlines, NULL as ''), and
 * verify as they were; `audit verify` counts them as legacy_rows.
 *
 * Anyone who can write the database could still cut rows off the end, or rewrite a row
 * and every hash after it. Two things outside the database catch that:
 *  - the head (last row and hash, kept in meta with the rows) carries an HMAC-SHA256 with
 *    a key kept in STATE_DIR/audit.key (0600), never in the database;
 *  - the head is anchored in STATE_DIR/audit.anchor (written atomically and flushed, with
 *    its own HMAC) and in the log, at start, at most once a second while rows are added,
 *    after each successful verify and at stop. The anchor only moves forward, and only
 *    while the rows still hold the hash it anchored.
 * Rows are appended in the same transaction as the change they record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "buf.h"
#include "jdump.h"
#include "log.h"
#include "sha256.h"
#include "utf8.h"
#include "thiduad.h"
#include "xalloc.h"
#include "audit.h"
#include "clock.h"
#include "config.h"
#include "page.h"
#include "rq.h"
#include "statedir.h"
#include "store.h"
#include "units.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define ANCHOR_FILE "audit.anchor"
#define KEY_FILE "audit.key"
#define ANCHOR_EVERY_MS 1000

static struct hmac_sha256 audit_key;	/* from KEY_FILE */
static int64_t v2_from = 1;		/* the first row hashed as netstrings */
static int64_t anchored_seq;		/* the anchor as this process last wrote or read it */
static char anchored_hash[65];
static int anchor_frozen;		/* the rows no longer hold the anchor: never move it */
static int anchor_asap;			/* a verify found the chain whole: anchor its head */
static int64_t anchored_ms;

/* row_hash_v1 - the former link: SHA-256 of the fields, each but the last ended by a
 * newline, a NULL hashed as '' */
static void row_hash_v1(const char *prev, int64_t seq, int64_t at, const char *principal, const char *op,
			const char *object, const char *unit, const char *detail, char out[65])
{
	const char *field[] = { prev, NULL, NULL, principal, op, object, unit, detail };
	char nums[2][24];
	struct sha256 c;

	int_text(nums[0], seq);
	int_text(nums[1], at);
	field[1] = nums[0];
	field[2] = nums[1];
	sha256_init(&c);
	for (size_t i = 0; i < sizeof(field) / sizeof(field[0]); i++) {
		if (field[i])
			sha256_update(&c, field[i], strlen(field[i]));
		if (i + 1 < sizeof(field) / sizeof(field[0]))
			sha256_update(&c, "\n", 1);
	}
	sha256_final_hex(&c, out);
}

/* netstring - one field into the hash: "len:bytes," or "~" for NULL */
static void netstring(struct sha256 *c, const char *v)
{
	char len[24];
	size_t n;

	if (!v) {
		sha256_update(c, "~", 1);
		return;
	}
	n = strlen(v);
	sha256_update(c, len, int_text(len, (long long)n));
	sha256_update(c, ":", 1);
	sha256_update(c, v, n);
	sha256_update(c, ",", 1);
}

/* row_hash - the chain link of one row: every column, as netstrings (no copy of the detail) */
static void row_hash(const char *prev, int64_t seq, int64_t at, const char *principal, const char *op,
		     const char *object, const char *unit, const char *detail, char out[65])
{
	char nums[2][24];
	struct sha256 c;

	int_text(nums[0], seq);
	int_text(nums[1], at);
	sha256_init(&c);
	netstring(&c, "2");
	netstring(&c, prev);
	netstring(&c, nums[0]);
	netstring(&c, nums[1]);
	netstring(&c, principal);
	netstring(&c, op);
	netstring(&c, object);
	netstring(&c, unit);
	netstring(&c, detail);
	sha256_final_hex(&c, out);
}

/* head_mac - the key's HMAC of a head: "seq:hash:v2_from" */
static void head_mac(int64_t seq, const char *hash, int64_t from, const char *extra, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	char msg[256];
	unsigned char mac[32];
	struct sha256 c = audit_key.inner;

	snprintf(msg, sizeof(msg), "%" PRId64 ":%s:%" PRId64 "%s", seq, hash, from, extra ? extra : "");
	sha256_update(&c, msg, strlen(msg));
	hmac_sha256_end(&audit_key, &c, mac);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[64] = 0;
}

/* parse_head - "seq:hash" or "seq:hash:mac" (meta audit_head); the seq, or -1 */
static int64_t parse_head(const char *text, char hash[65], char mac[65])
{
	char *end;
	int64_t seq = strtoll(text, &end, 10);

	mac[0] = 0;
	if (end == text || *end != ':' || strlen(end + 1) < 64 || (end[65] && end[65] != ':'))
		return -1;
	memcpy(hash, end + 1, 64);
	hash[64] = 0;
	if (end[65] == ':' && strlen(end + 66) == 64)
		memcpy(mac, end + 66, 65);
	return seq;
}

/* audit_head - the sequence number and hash of the last row: kept in memory for the rest
 * of a transaction once it has written a row, read from the table otherwise */
static int64_t audit_head(struct daemon *d, char prev[65])
{
	sqlite3_stmt *s;
	char head[192], mac[65];
	int64_t seq = 0;

	if (store_meta_pending(d->store, "audit_head", head, sizeof(head)) == 0
	    && (seq = parse_head(head, prev, mac)) >= 0)
		return seq;
	seq = 0;
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
	char prev[65] = GENESIS, hash[65], mac[65], head[192];
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
	if (!store_in_txn(d->store)) {
		head_mac(seq, hash, v2_from, NULL, mac);
		snprintf(head, sizeof(head), "%" PRId64 ":%s:%s", seq, hash, mac);
	} else {		/* signed once, at the commit (head_sign) */
		snprintf(head, sizeof(head), "%" PRId64 ":%s", seq, hash);
	}
	return store_meta_later(d->store, "audit_head", head);
}

/* head_sign - at a commit: the head the transaction leaves, signed */
static void head_sign(struct store *st, void *arg)
{
	char head[192], hash[65], mac[65];
	int64_t seq;

	(void)arg;
	if (store_meta_pending(st, "audit_head", head, sizeof(head)) || (seq = parse_head(head, hash, mac)) < 0 || *mac)
		return;
	head_mac(seq, hash, v2_from, NULL, mac);
	snprintf(head, sizeof(head), "%" PRId64 ":%s:%s", seq, hash, mac);
	store_meta_later(st, "audit_head", head);
}

/* row_hash_at - the stored hash of row seq, into hash; 0 found, -1 not there */
static int row_hash_at(struct daemon *d, int64_t seq, char hash[65])
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT hash FROM audit WHERE seq = ?1");
	int rc = -1;

	sqlite3_bind_int64(s, 1, seq);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
		xstrlcpy(hash, (const char *)sqlite3_column_text(s, 0), 65);
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

/* anchor_read - the anchor file: 1 read and signed, 0 none, -1 there but not signed by
 * this key or unreadable (why says which) */
static int anchor_read(struct daemon *d, int64_t *seq, char hash[65], int64_t *from, int64_t *at,
		       char *why, size_t whysize)
{
	char text[512], mac[65], mine[65], extra[32];
	long long s_, f_, a_;

	if (state_read_file(d, ANCHOR_FILE, text, sizeof(text)) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whysize, "the anchor %s/%s cannot be read: %s", d->state_dir, ANCHOR_FILE, strerror(errno));
		return -1;
	}
	if (sscanf(text, "thidua audit anchor: row %lld hash %64[0-9a-f] from %lld at %lld mac %64[0-9a-f]",
		   &s_, hash, &f_, &a_, mac) != 5) {
		snprintf(why, whysize, "the anchor %s/%s is not in its form: it was altered", d->state_dir, ANCHOR_FILE);
		return -1;
	}
	*seq = s_;
	*from = f_;
	*at = a_;
	snprintf(extra, sizeof(extra), ":%lld", a_);
	head_mac(*seq, hash, *from, extra, mine);
	if (strcmp(mine, mac)) {
		snprintf(why, whysize, "the anchor %s/%s is not signed with this daemon's key (%s): it was altered, or the key replaced",
			 d->state_dir, ANCHOR_FILE, KEY_FILE);
		return -1;
	}
	return 1;
}

/* key_load - the HMAC key from KEY_FILE, made (32 random bytes, 0600) the first time */
static int key_load(struct daemon *d, char *err, size_t errsize)
{
	char text[128];

	if (state_key(d, KEY_FILE, "signs the log's head and anchor", text, err, errsize))
		return -1;
	hmac_sha256_key(&audit_key, text, 64);
	return 0;
}

/* audit_init - the key, the first row of the netstring form and the anchor; check that
 * the rows still hold what was anchored, then anchor the head. 0, -1 with err */
int audit_init(struct daemon *d, char *err, size_t errsize)
{
	char buf[192], hash[65], why[512];
	int64_t from, at, seq;
	int a;

	anchored_seq = anchored_ms = 0;
	anchored_hash[0] = 0;
	anchor_frozen = anchor_asap = 0;
	if (key_load(d, err, errsize))
		return -1;
	store_before_commit(d->store, head_sign, NULL);
	if (store_meta_get(d->store, "audit_v2_from", buf, sizeof(buf)) == 0) {
		v2_from = strtoll(buf, NULL, 10);
	} else {
		v2_from = audit_head(d, hash) + 1;
		snprintf(buf, sizeof(buf), "%" PRId64, v2_from);
		if (store_meta_set(d->store, "audit_v2_from", buf)) {
			snprintf(err, errsize, "cannot write to the database: %s", store_errmsg(d->store));
			return -1;
		}
		if (v2_from > 1)
			log_notice("audit: rows 1 to %" PRId64 " keep their former hash; rows from %" PRId64
				   " on cover NULL apart from '' and are anchored", v2_from - 1, v2_from);
	}
	a = anchor_read(d, &seq, anchored_hash, &from, &at, why, sizeof(why));
	if (a > 0) {
		anchored_seq = seq;
		if (row_hash_at(d, seq, hash) || strcmp(hash, anchored_hash) || from != v2_from) {
			anchor_frozen = 1;
			log_err("audit: the log no longer holds row %" PRId64 " as anchored in %s/%s: rows were removed or"
				" rewritten; the anchor is kept (thiduactl audit verify)", seq, d->state_dir, ANCHOR_FILE);
		}
	} else if (a < 0) {
		anchor_frozen = 1;
		log_err("audit: %s; the anchor is kept (thiduactl audit verify)", why);
	}
	audit_anchor(d, 1);
	return 0;
}

/* audit_anchor - write the committed head to the anchor file and the log, if it moved
 * since the last anchor and now (or a second has passed, or a verify asked). Outside
 * transactions only: an anchor never names a row that a rollback could take back */
void audit_anchor(struct daemon *d, int now)
{
	char head[192], hash[65], mac[65], held[65], text[512], extra[32];
	int64_t seq, mono = clock_mono_ms(), at;

	if (anchor_frozen || store_in_txn(d->store))
		return;
	if (!now && !anchor_asap && mono - anchored_ms < ANCHOR_EVERY_MS)
		return;
	anchor_asap = 0;
	anchored_ms = mono;
	if (store_meta_get(d->store, "audit_head", head, sizeof(head)) || (seq = parse_head(head, hash, mac)) <= anchored_seq)
		return;
	/* forward only, over the rows anchored before */
	if (anchored_seq && (row_hash_at(d, anchored_seq, held) || strcmp(held, anchored_hash))) {
		anchor_frozen = 1;
		log_err("audit: row %" PRId64 " no longer holds the hash anchored: the anchor is kept (thiduactl audit verify)",
			anchored_seq);
		return;
	}
	at = clock_now(d);
	snprintf(extra, sizeof(extra), ":%" PRId64, at);
	head_mac(seq, hash, v2_from, extra, mac);
	snprintf(text, sizeof(text), "thidua audit anchor: row %" PRId64 " hash %s from %" PRId64 " at %" PRId64 " mac %s\n",
		 seq, hash, v2_from, at, mac);
	if (state_write_file(d, ANCHOR_FILE, text, 0640)) {
		log_err("audit: cannot write the anchor %s/%s: %s", d->state_dir, ANCHOR_FILE, strerror(errno));
		return;
	}
	anchored_seq = seq;
	xstrlcpy(anchored_hash, hash, sizeof(anchored_hash));
	log_notice("audit anchor: row %" PRId64 " hash %s", seq, hash);
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
	json_object_del(detail, "session");	/* a web session's token is never recorded */
	json_object_del(detail, "access_token");	/* zalo.store: the tokens are credentials, */
	json_object_del(detail, "refresh_token");	/* kept in zalo_tokens only */
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

/* verify_fail - the first break found: its row and why */
static void verify_fail(int64_t *bad, char *why, size_t whysize, int64_t row, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void verify_fail(int64_t *bad, char *why, size_t whysize, int64_t row, const char *fmt, ...)
{
	va_list ap;

	if (*bad)
		return;
	*bad = row;
	va_start(ap, fmt);
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
}

/* op_audit_verify - walk the chain; check its end against the signed head and the anchor;
 * name the first row altered or removed */
int op_audit_verify(struct daemon *d, struct request *rq, json_t *out)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT seq, at, principal, op, object, unit, detail, prev_hash, hash"
				     " FROM audit ORDER BY seq");
	char prev[65] = GENESIS, hash[65], head[192] = "", why[512] = "", at_anchor[65] = "";
	char ahash[65] = "", hhash[65], hmac[65], mine[65], awhy[512] = "";
	int64_t expect = 1, bad = 0, n = 0, legacy = 0, aseq = 0, afrom = 0, aat = 0, hseq;
	int a = anchor_read(d, &aseq, ahash, &afrom, &aat, awhy, sizeof(awhy));

	(void)rq;
	while (!bad && sqlite3_step(s) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(s, 0);
		const char *stored_prev = (const char *)sqlite3_column_text(s, 7);
		const char *stored = (const char *)sqlite3_column_text(s, 8);

		n++;
		if (seq != expect) {
			verify_fail(&bad, why, sizeof(why), expect, "row %lld is missing: the chain jumps from %lld to %lld",
				    (long long)expect, (long long)expect - 1, (long long)seq);
			break;
		}
		(seq < v2_from ? row_hash_v1 : row_hash)(prev, seq, sqlite3_column_int64(s, 1),
			(const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
			(const char *)sqlite3_column_text(s, 4), (const char *)sqlite3_column_text(s, 5),
			(const char *)sqlite3_column_text(s, 6), hash);
		legacy += seq < v2_from;
		if (!stored_prev || !stored || strcmp(stored_prev, prev) || strcmp(stored, hash)) {
			verify_fail(&bad, why, sizeof(why), seq, "row %lld was altered: its content does not match its hash",
				    (long long)seq);
			break;
		}
		if (seq == aseq)
			xstrlcpy(at_anchor, stored, sizeof(at_anchor));
		xstrlcpy(prev, stored, sizeof(prev));
		expect++;
	}
	sqlite3_reset(s);
	n = expect - 1;
	/* the head kept with the rows, signed with the key */
	if (!bad && store_meta_get(d->store, "audit_head", head, sizeof(head)) == 0) {
		/* a head this turn wrote is signed at its commit (head_sign) */
		int unsigned_ok = store_meta_pending(d->store, "audit_head", mine, sizeof(mine)) == 0;

		hseq = parse_head(head, hhash, hmac);
		if (hseq != n || strcmp(hhash, prev))
			verify_fail(&bad, why, sizeof(why), hseq > n ? hseq : n, "the log ends at row %lld but row %lld was written:"
				    " rows were removed from the end", (long long)n, (long long)(hseq > n ? hseq : n));
		else if (n >= v2_from && !(unsigned_ok && !*hmac)
			 && (head_mac(hseq, hhash, v2_from, NULL, mine), strcmp(mine, hmac)))
			verify_fail(&bad, why, sizeof(why), n, "the head (row %lld) is not signed with this daemon's key (%s):"
				    " the log was rewritten or cut outside thiduad", (long long)n, KEY_FILE);
	} else if (!bad && n >= v2_from) {
		verify_fail(&bad, why, sizeof(why), n, "the head record of the log is missing from the database:"
			    " it was removed outside thiduad");
	}
	/* the anchor, outside the database */
	if (!bad && a < 0)
		verify_fail(&bad, why, sizeof(why), n ? n : 1, "%s", awhy);
	if (!bad && a > 0) {
		if (aseq > n)
			verify_fail(&bad, why, sizeof(why), aseq, "the log ends at row %lld but row %lld was anchored"
				    " (%s): rows were removed from the end", (long long)n, (long long)aseq, ANCHOR_FILE);
		else if (strcmp(at_anchor, ahash))
			verify_fail(&bad, why, sizeof(why), aseq, "row %lld does not hold the hash anchored (%s):"
				    " the log was rewritten up to there", (long long)aseq, ANCHOR_FILE);
		else if (afrom != v2_from)
			verify_fail(&bad, why, sizeof(why), afrom < v2_from ? afrom : v2_from, "the rows hashed in the"
				    " former way end at row %lld, not at row %lld as anchored: the log was rewritten",
				    (long long)v2_from - 1, (long long)afrom - 1);
	}
	json_object_set_new(out, "valid", json_boolean(!bad));
	json_object_set_new(out, "rows", json_integer(n));
	json_object_set_new(out, "legacy_rows", json_integer(legacy));
	json_object_set_new(out, "anchor", a > 0 ? json_pack("{s:I,s:s,s:o}", "row", (json_int_t)aseq, "hash", ahash,
							     "at", json_time(d, aat)) : json_null());
	if (bad) {
		json_object_set_new(out, "first_bad", json_integer(bad));
		json_object_set_new(out, "reason", json_string(why));
		log_err("audit verify: %s", why);
	} else {
		anchor_asap = 1;	/* whole: anchor this head once the turn has committed */
	}
	return 0;
}
