/*
 * outbox.c - the outbox: the messages workflows queue for a person (a row of outbox each),
 * joined while still pending, and the deliveries through channels that carry them. Every
 * writer of outbox and deliveries rows goes through here: the deadline engine, proposals,
 * intake, the inbox, channels, the spool and the jobs socket. What a message says is
 * rendered when it leaves (spool.c), by the renderer its kind registered.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "jdump.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "thiduad.h"
#include "xalloc.h"

/* outbox_join - the message a notice joins: the one of key while it is still pending;
 * once that one has left, the follow-up message of own_key (whatever its state), so a
 * notice is never attached to something already sent. Its id, or -1. */
int64_t outbox_join(struct daemon *d, const char *key, const char *own_key, const struct outbox_msg *m)
{
	int64_t outbox = -1;

	for (int attempt = 0; attempt < 2 && outbox < 0; attempt++) {
		/* no RETURNING: SQLite runs it through a temporary table, at every call */
		sqlite3_stmt *s = store_stmt(d->store,
			"INSERT INTO outbox (dedup_key, recipient, kind, report, period, step, moment,"
			" created_at, send_after, late) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
			" ON CONFLICT (dedup_key) DO NOTHING");
		const char *k = attempt ? own_key : key;
		int rc;

		sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, m->recipient, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, m->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, m->report, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, m->period, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, m->step, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, m->moment);
		sqlite3_bind_int64(s, 8, m->created_at);
		sqlite3_bind_int64(s, 9, m->send_after);
		sqlite3_bind_int(s, 10, m->late);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return -1;
		if (sqlite3_changes(store_db(d->store)) == 1) {	/* a new message */
			outbox = sqlite3_last_insert_rowid(store_db(d->store));
			break;
		}
		/* the message exists: joined while it is still pending (or, the second time, the
		 * follow-up, whatever its state) */
		s = store_stmt(d->store, "SELECT id, state FROM outbox WHERE dedup_key = ?1");
		sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_reset(s);
			return -1;
		}
		if (attempt == 1 || !strcmp((const char *)sqlite3_column_text(s, 1), "pending"))
			outbox = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	return outbox;
}

/* outbox_settle - the message's state follows its deliveries (a superseded one aside) */
void outbox_settle(struct daemon *d, int64_t outbox)
{
	sqlite3_stmt *s = store_stmt(d->store,
		"UPDATE outbox SET state = CASE"
		" WHEN EXISTS (SELECT 1 FROM deliveries WHERE outbox = ?1 AND state IN ('pending', 'leased')) THEN 'queued'"
		" WHEN EXISTS (SELECT 1 FROM deliveries WHERE outbox = ?1 AND state = 'failed' AND NOT " SUPERSEDED ")"
		" THEN 'failed' ELSE 'sent' END,"
		" sent_at = CASE WHEN NOT EXISTS (SELECT 1 FROM deliveries WHERE outbox = ?1 AND state <> 'sent'"
		" AND NOT " SUPERSEDED ") THEN ?2 END,"
		" error = (SELECT last_error FROM deliveries WHERE outbox = ?1 AND state = 'failed' AND NOT " SUPERSEDED
		" LIMIT 1)"
		" WHERE id = ?1 AND state NOT IN ('pending', 'spooled')");

	sqlite3_bind_int64(s, 1, outbox);
	sqlite3_bind_int64(s, 2, clock_now(d));
	sqlite3_step(s);
	sqlite3_reset(s);
}

/* deliveries_insert - one delivery row; anytime: it may leave outside working hours */
static int deliveries_insert(struct daemon *d, int64_t outbox, const struct channel *c, const char *payload,
			     size_t len, int64_t expires_at, int anytime)
{
	sqlite3_stmt *s = store_stmt(d->store, "INSERT INTO deliveries (outbox, channel, kind, payload, next_at, expires_at, anytime)"
				     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	int rc;

	sqlite3_bind_int64(s, 1, outbox);
	sqlite3_bind_text(s, 2, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, !strcmp(c->kind, "smtp") ? "mail" : "webhook", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, payload, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, clock_now(d));
	sqlite3_bind_int64(s, 6, expires_at);
	sqlite3_bind_int(s, 7, anytime);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* deliveries_add_text - one delivery of a message through a channel, payload as text; it
 * leaves in working hours, every attempt */
int deliveries_add_text(struct daemon *d, int64_t outbox, const struct channel *c, const char *payload,
			size_t len, int64_t expires_at)
{
	return deliveries_insert(d, outbox, c, payload, len, expires_at, 0);
}

int deliveries_add_now(struct daemon *d, int64_t outbox, const struct channel *c, const char *payload,
		       size_t len, int64_t expires_at)
{
	return deliveries_insert(d, outbox, c, payload, len, expires_at, 1);
}

/* deliveries_add - a delivery that may leave at any hour (a test, an operator's notice),
 * the payload as a JSON object; steals payload */
int deliveries_add(struct daemon *d, int64_t outbox, const struct channel *c, json_t *payload, int64_t expires_at)
{
	char *text = jdump(payload, JSON_COMPACT);
	int rc = text ? deliveries_insert(d, outbox, c, text, strlen(text), expires_at, 1) : -1;

	free(text);
	json_decref(payload);
	return rc;
}

/* renderers ------------------------------------------------------------------------------ */

static struct {
	const char *kind;
	outbox_render_fn fn;
} renderers[8];
static size_t nrenderers;
static outbox_render_fn default_renderer;
static outbox_reply_to_fn reply_to_fn;

void outbox_renderer(const char *kind, outbox_render_fn fn)
{
	if (!kind) {
		default_renderer = fn;
		return;
	}
	for (size_t i = 0; i < nrenderers; i++)
		if (!strcmp(renderers[i].kind, kind)) {
			renderers[i].fn = fn;
			return;
		}
	if (nrenderers == sizeof(renderers) / sizeof(renderers[0]))
		fatal("outbox_renderer: too many kinds");
	renderers[nrenderers].kind = kind;
	renderers[nrenderers++].fn = fn;
}

void outbox_render(struct daemon *d, const struct outbox_message *m, const struct unit *to,
		   const struct outbox_item *items, size_t n, int32_t today, enum tmpl_channel ch,
		   char **subject, char **body)
{
	outbox_render_fn fn = default_renderer;

	for (size_t i = 0; i < nrenderers; i++)
		if (!strcmp(renderers[i].kind, m->kind))
			fn = renderers[i].fn;
	if (fn) {
		fn(d, m, to, items, n, today, ch, subject, body);
	} else {
		*subject = xstrdup("thidua");
		*body = xstrdup("");
	}
}

void outbox_reply_to_source(outbox_reply_to_fn fn)
{
	reply_to_fn = fn;
}

int outbox_reply_to(struct daemon *d, const struct outbox_message *m, char *buf, size_t size)
{
	return reply_to_fn ? reply_to_fn(d, m->kind, m->report, m->period, m->recipient, buf, size) : 0;
}
