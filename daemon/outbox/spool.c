/*
 * spool.c - outbox messages delivered as files in STATE_DIR/spool: a .eml (written by
 * common/mailmsg.c, as the mail worker writes the mail it sends) for a recipient with an
 * email address, a .json otherwise. This is the
 * embedded default when no channel is configured.
 *
 * Messages leave only in working hours (send_after). The body is rendered when the message
 * leaves, from all the notices attached to it, so a digest lists every late unit. A file
 * is named after the message's dedup key: writing it again after a crash replaces it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "calendar.h"
#include "clock.h"
#include "config.h"
#include "events.h"
#include "inflow.h"
#include "jdump.h"
#include "log.h"
#include "mailhdr.h"
#include "outbox.h"
#include "mailmsg.h"
#include "period_text.h"
#include "sha256.h"
#include "spool.h"
#include "store.h"
#include "templates.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

#define SPOOL_BATCH 500
#define FANOUT_BATCH 128		/* per run when channels are configured */

/* Payloads are written as text through common/jdump's writer (struct jw): in a fan-out of
 * thousands of messages, building jansson objects only to write them out again cost more
 * than the rest. The daemon's strings are valid UTF-8 (checked where they enter:
 * configuration, requests, CSV). */

/* field - "name":"value" in the object being written */
static void field(struct jw *w, const char *name, const char *value)
{
	jw_key(w, name);
	jw_str(w, value);
}

/* payload_end - "dedup_key":KEY,"event":{...}} : how every delivery payload ends */
static void payload_end(struct jw *w, const char *key, const struct buf *event)
{
	field(w, "dedup_key", key);
	jw_key(w, "event");
	jw_raw(w, event->p, event->len);
	jw_close(w, '}');
}

struct message {
	int64_t id, moment;
	char *key, *recipient, *kind, *report, *period, *step, *path;
	int late, ok, fanned;
};

static void items_free(struct outbox_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i].code);
	free(items);
}

/* render - subject and body of m for a channel kind, by the renderer its kind registered
 * (outbox_renderer) */
static void render(struct daemon *d, const struct message *m, const struct unit *to, const struct outbox_item *items,
		   size_t n, int32_t today, enum tmpl_channel ch, char **subject, char **body)
{
	struct outbox_message om = {
		.id = m->id, .moment = m->moment, .key = m->key, .recipient = m->recipient, .kind = m->kind,
		.report = m->report, .period = m->period, .step = m->step, .late = m->late,
	};

	outbox_render(d, &om, to, items, n, today, ch, subject, body);
}

/* message_items - the units a message is about, with due day and days left or late on the
 * day the message leaves (a deferred or caught-up message must not say "7 days left" on the
 * due day) */
static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct outbox_item *)a)->code, ((const struct outbox_item *)b)->code);
}

static struct outbox_item *message_items(struct daemon *d, const struct message *m, int64_t now, size_t *count)
{
	/* sorted here, not by ORDER BY: SQLite would build a temporary b-tree for each
	 * message, most of which are about one unit */
	sqlite3_stmt *s = store_stmt(d->store, "SELECT o.unit, o.due_at FROM notices n JOIN obligations o"
				     " ON o.id = n.obligation WHERE n.outbox = ?1");
	struct outbox_item *items = NULL;
	size_t n = 0, cap = 0;
	int32_t today = day_of_time(now, d->cfg->utc_offset);	/* as the reader sees it */

	sqlite3_bind_int64(s, 1, m->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(s, 0);
		const struct unit *u = unitset_find(d->units, code);
		int32_t due = day_of_time(sqlite3_column_int64(s, 1), d->cfg->utc_offset);

		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			items = xrealloc(items, cap * sizeof(*items));
		}
		items[n].code = xstrdup(code);
		items[n].name = u ? u->name : items[n].code;
		items[n].due_day = due;
		items[n].days = due >= today ? due - today : today - due;
		n++;
	}
	sqlite3_reset(s);
	if (n > 1)
		qsort(items, n, sizeof(*items), item_cmp);
	*count = n;
	return items;
}

/* items_json - the units as the .json spool file lists them */
static json_t *items_json(const struct outbox_item *items, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:I,s:I,s:o}", "unit", items[i].code, "name", items[i].name,
						   "due_day", (json_int_t)items[i].due_day, "days", (json_int_t)items[i].days,
						   "due_date", json_day(items[i].due_day)));
	return a;
}

/* mail_reply_to - the Reply-To of m (outbox_reply_to: replyto.c) into addr, and the line
 * that asks for the report by reply added to *body; 0 when m has none */
static int mail_reply_to(struct daemon *d, const struct message *m, char *addr, size_t size, char **body)
{
	static const char hint[] = "\n\nĐể nộp báo cáo: trả lời thư này và đính kèm tệp báo cáo "
				   "(không cần đổi tiêu đề hay địa chỉ nhận).\n";
	struct outbox_message om = {
		.kind = m->kind, .report = m->report, .period = m->period, .recipient = m->recipient,
	};
	char *b;

	if (!outbox_reply_to(d, &om, addr, size))
		return 0;
	b = xasprintf("%s%s", *body, hint);
	free(*body);
	*body = b;
	return 1;
}

/* write_file - the whole content to path via a temporary name */
static int write_file(const char *path, const char *data, size_t len)
{
	char tmp[4300];
	int fd;
	size_t done = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		done += (size_t)n;
	}
	if (close(fd) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* spool_one - write one message's file; 0 ok */
static int spool_one(struct daemon *d, const struct message *m, char *path, size_t pathsize)
{
	const struct unit *to = unitset_find(d->units, m->recipient);
	int64_t now = clock_now(d);
	size_t nitems;
	struct outbox_item *items = message_items(d, m, now, &nitems);
	int answer = !strcmp(m->kind, "mail_answer");	/* to an address, not a unit */
	int email = answer || (to && to->emails && to->emails[0]);
	struct buf out = { 0 };
	char *subject = NULL, *body = NULL, hex[65];
	int rc;

	render(d, m, to, items, nitems, day_of_time(now, d->cfg->utc_offset), email ? TC_MAIL : TC_ANY, &subject, &body);
	sha256_hex(m->key, strlen(m->key), hex);
	if (email) {
		/* the bytes the mail worker sends for the same message (common/mailmsg.c) */
		char msgid[MAILHDR_ID_MAX], reply[320], *text;
		int has_reply = mail_reply_to(d, m, reply, sizeof(reply), &body);
		size_t n = 0, len;
		struct mailmsg_rcpt *rcpts;

		while (!answer && to->emails[n])
			n++;
		rcpts = xcalloc(answer ? 1 : n, sizeof(*rcpts));
		for (size_t i = 0; i < (answer ? 1 : n); i++)
			rcpts[i].address = answer ? m->recipient : to->emails[i];
		mail_message_id(m->key, "thidua@localhost", msgid, sizeof(msgid));
		text = mailmsg_write(&(struct mailmsg){ .date = (time_t)now, .utc_offset = d->cfg->utc_offset,
				     .from = "thidua@localhost", .from_name = "thidua", .to = rcpts, .nto = answer ? 1 : n,
				     .reply_to = has_reply ? reply : NULL, .subject = subject, .message_id = msgid,
				     .dedup_key = m->key, .text = body, .encoding = MAILMSG_QP }, &len);
		buf_put(&out, text, len);
		free(text);
		free(rcpts);
		snprintf(path, pathsize, "%s/%.32s.eml", d->spool_dir, hex);
	} else {
		json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "dedup_key", m->key,
				      "to", m->recipient, "to_name", to ? to->name : m->recipient, "kind", m->kind,
				      "report", m->report, "period", m->period, "subject", subject,
				      "text", body, "units", items_json(items, nitems));
		char *text = jdump(j, JSON_INDENT(2));

		buf_printf(&out, "%s\n", text);
		free(text);
		json_decref(j);
		snprintf(path, pathsize, "%s/%.32s.json", d->spool_dir, hex);
	}
	rc = write_file(path, out.p, out.len);
	free(out.p);
	free(body);
	free(subject);
	items_free(items, nitems);
	return rc;
}

/* email_channel - the smtp channel for units' addresses: the named one, else the first */
static const struct channel *email_channel(const struct config *cfg)
{
	if (cfg->email_channel)
		return cfg_channel(cfg, cfg->email_channel);
	for (size_t i = 0; i < cfg->nchannels; i++)
		if (!strcmp(cfg->channels[i].kind, "smtp"))
			return &cfg->channels[i];
	return NULL;
}

/* event_json - the "event" of a delivery payload: what the message is about, for
 * structured receivers (docs/JOBS.md) */
static void event_json(struct buf *b, const struct message *m, const struct outbox_item *items, size_t n)
{
	struct jw w = JW_INIT(b);

	jw_open(&w, '{');
	field(&w, "kind", m->kind);
	field(&w, "report", m->report);
	field(&w, "period", m->period);
	field(&w, "step", m->step);
	jw_key(&w, "units");
	jw_open(&w, '[');
	for (size_t i = 0; i < n; i++) {
		jw_open(&w, '{');
		field(&w, "unit", items[i].code);
		field(&w, "name", items[i].name);
		jw_key(&w, "due_day");
		jw_int(&w, items[i].due_day);
		jw_key(&w, "days");
		jw_int(&w, items[i].days);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
}

/* channel_expiry - when a delivery through c gives up: the message's own end, or sooner
 * when the channel's expire_hours says so */
static int64_t channel_expiry(const struct channel *c, int64_t now, int64_t end)
{
	return c->expire_hours && now + (int64_t)c->expire_hours * 3600 < end ? now + (int64_t)c->expire_hours * 3600 : end;
}

/* reaches_by_zalo - the recipient names a zalo or zns channel: its e-mail is then the
 * fallback when Zalo cannot reach the person (spool_mail_fallback), not sent alongside */
static int reaches_by_zalo(const struct config *cfg, const struct unit *to)
{
	for (size_t i = 0; to && to->chats && to->chats[i]; i++) {
		const struct channel *c = cfg_channel(cfg, to->chats[i]);

		if (c && (!strcmp(c->kind, "zalo") || !strcmp(c->kind, "zns")))
			return 1;
	}
	return 0;
}

/* message_expiry - when the deliveries of m give up: 72 hours after now, or sooner for a
 * reminder, pointless after its due date */
static int64_t message_expiry(const struct daemon *d, const struct message *m, const struct outbox_item *items,
			      size_t nitems, int64_t now)
{
	int64_t expires = now + 72 * 3600;

	if (!strcmp(m->kind, "reminder") && nitems) {
		int64_t end = day_start(items[0].due_day + 1, d->cfg->utc_offset);

		if (end < expires)
			expires = end;
	}
	return expires;
}

/* mail_payload - the e-mail of m through the smtp channel mail, as the mail worker takes
 * it (docs/JOBS.md), into payload; to the unit's addresses, or to the address m->recipient
 * for an answer */
static void mail_payload(struct daemon *d, const struct message *m, const struct unit *to, const struct channel *mail,
			 const struct outbox_item *items, size_t nitems, int32_t today, const struct buf *event,
			 struct buf *payload)
{
	int answer = !strcmp(m->kind, "mail_answer");
	char msgid[MAILHDR_ID_MAX], reply[320], *subject = NULL, *body = NULL;
	int has_reply;
	struct jw jw = JW_INIT(payload);

	mail_message_id(m->key, mail->from, msgid, sizeof(msgid));
	render(d, m, to, items, nitems, today, TC_MAIL, &subject, &body);
	has_reply = mail_reply_to(d, m, reply, sizeof(reply), &body);
	payload->len = 0;
	jw_open(&jw, '{');
	field(&jw, "from", mail->from);
	field(&jw, "from_name", mail->from_name ? mail->from_name : "thidua");
	jw_key(&jw, "to");
	jw_open(&jw, '[');
	for (size_t i = 0; answer ? i < 1 : to->emails[i] != NULL; i++) {
		jw_open(&jw, '{');
		field(&jw, "address", answer ? m->recipient : to->emails[i]);
		if (!answer)
			field(&jw, "name", to->name);
		jw_close(&jw, '}');
	}
	jw_close(&jw, ']');
	field(&jw, "subject", subject);
	field(&jw, "text", body);
	jw_key(&jw, "html");
	jw_null(&jw);
	field(&jw, "message_id", msgid);
	if (has_reply)
		field(&jw, "reply_to", reply);
	payload_end(&jw, m->key, event);
	free(subject);
	free(body);
}

/* fan_out - a message whose recipient has configured channels becomes one delivery per
 * channel (its email through the smtp channel, each of its chat channels); 1 when it did,
 * 0 when the recipient has none and the message goes to the spool, -1 on error. The
 * payloads are written as JSON text directly (struct jw). A recipient reached through
 * Zalo gets its e-mail only when Zalo cannot reach it (spool_mail_fallback). */
static int fan_out(struct daemon *d, const struct message *m)
{
	const struct unit *to = unitset_find(d->units, m->recipient);
	const struct channel *mail = email_channel(d->cfg);
	int64_t now = clock_now(d), expires;
	struct outbox_item *items;
	size_t nitems;
	static struct buf event, payload;	/* kept from message to message: no regrowing */
	struct jw jw;
	char *subject = NULL, *body = NULL;
	int n = 0, chats = 0;
	int32_t today = day_of_time(now, d->cfg->utc_offset);
	sqlite3_stmt *s;

	int answer = !strcmp(m->kind, "mail_answer");	/* to an address, not a unit */
	int invite = !strcmp(m->kind, "account_invite");	/* a one-time link: mail only, at once */

	if (answer ? !mail : (!to || (!(mail && to->emails && to->emails[0]) && !(to->chats && to->chats[0]))))
		return 0;
	items = message_items(d, m, now, &nitems);
	expires = message_expiry(d, m, items, nitems, now);
	event.len = payload.len = 0;
	event_json(&event, m, items, nitems);
	for (size_t i = 0; !answer && to->chats && to->chats[i]; i++) {
		const struct channel *c = cfg_channel(d->cfg, to->chats[i]);

		chats += c && strcmp(c->kind, "smtp");
	}
	if (mail && (answer || (to->emails && to->emails[0] && (invite || !(chats && reaches_by_zalo(d->cfg, to)))))) {
		mail_payload(d, m, to, mail, items, nitems, today, &event, &payload);
		if ((invite ? deliveries_add_now : deliveries_add_text)(d, m->id, mail, payload.p, payload.len,
									channel_expiry(mail, now, expires)))
			n = -1;
		else
			n++;
	}
	/* an invitation's link goes to the unit's mail only, never to a group chat */
	for (size_t i = 0; n >= 0 && !answer && !invite && to->chats && to->chats[i]; i++) {
		const struct channel *c = cfg_channel(d->cfg, to->chats[i]);

		if (!c || !strcmp(c->kind, "smtp"))
			continue;
		if (!body) {	/* one text for every chat channel of the recipient */
			render(d, m, to, items, nitems, today, TC_CHAT, &subject, &body);
			payload.len = 0;
			jw = (struct jw)JW_INIT(&payload);
			jw_open(&jw, '{');
			field(&jw, "title", subject);
			field(&jw, "text", body);
			payload_end(&jw, m->key, &event);
		}
		if (deliveries_add_text(d, m->id, c, payload.p, payload.len, channel_expiry(c, now, expires)))
			n = -1;
		else
			n++;
	}
	items_free(items, nitems);
	free(subject);
	free(body);
	if (n > 0) {
		s = store_stmt(d->store, "UPDATE outbox SET state = 'queued', channel = 'workers' WHERE id = ?1");
		sqlite3_bind_int64(s, 1, m->id);
		if (sqlite3_step(s) != SQLITE_DONE)
			n = -1;
		sqlite3_reset(s);
		events_emit(d, "notification.queued", json_pack("{s:I,s:s,s:s}", "id", (json_int_t)m->id, "to", m->recipient,
								"kind", m->kind));
	}
	return n < 0 ? -1 : n > 0;
}

/* spool_mail_fallback - see spool.h */
int64_t spool_mail_fallback(struct daemon *d, int64_t outbox, const char **why)
{
	const struct channel *mail = email_channel(d->cfg);
	sqlite3_stmt *s = store_stmt(d->store, "SELECT id FROM deliveries WHERE outbox = ?1 AND kind = 'mail'"
				     " ORDER BY id LIMIT 1");
	struct message m = { .id = outbox };
	const struct unit *to = NULL;
	int64_t id = 0, now = clock_now(d);
	struct outbox_item *items;
	size_t nitems;
	struct buf event = { 0 }, payload = { 0 };
	int reached = 0;

	*why = NULL;
	sqlite3_bind_int64(s, 1, outbox);
	if (sqlite3_step(s) == SQLITE_ROW)	/* fallen back already (another recipient, a retry) */
		id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (id)
		return id;
	/* another person of the unit got it through Zalo: the unit was reached */
	s = store_stmt(d->store, "SELECT channel FROM deliveries WHERE outbox = ?1 AND state = 'sent' AND kind = 'webhook'");
	sqlite3_bind_int64(s, 1, outbox);
	while (!reached && sqlite3_step(s) == SQLITE_ROW) {
		const struct channel *c = cfg_channel(d->cfg, (const char *)sqlite3_column_text(s, 0));

		reached = c && (!strcmp(c->kind, "zalo") || !strcmp(c->kind, "zns"));
	}
	sqlite3_reset(s);
	if (reached) {
		*why = "another of the unit's Zalo recipients got the message";
		return 0;
	}
	s = store_stmt(d->store, "SELECT dedup_key, recipient, kind, report, period, step, moment, late FROM outbox"
		       " WHERE id = ?1");
	sqlite3_bind_int64(s, 1, outbox);
	if (sqlite3_step(s) == SQLITE_ROW) {
		m.key = xstrdup((const char *)sqlite3_column_text(s, 0));
		m.recipient = xstrdup((const char *)sqlite3_column_text(s, 1));
		m.kind = xstrdup((const char *)sqlite3_column_text(s, 2));
		m.report = xstrdup((const char *)sqlite3_column_text(s, 3));
		m.period = xstrdup((const char *)sqlite3_column_text(s, 4));
		m.step = xstrdup((const char *)sqlite3_column_text(s, 5));
		m.moment = sqlite3_column_int64(s, 6);
		m.late = sqlite3_column_int(s, 7);
	}
	sqlite3_reset(s);
	if (m.recipient)
		to = unitset_find(d->units, m.recipient);
	if (!m.key)
		*why = "the message is gone";
	else if (!to || !strcmp(m.kind, "test") || !strcmp(m.kind, "operator"))
		;	/* not to a unit (a test, an operator's notice): nothing to fall back to, nothing to say */
	else if (!to->emails || !to->emails[0])
		*why = "the unit has no e-mail address to send it to instead";
	else if (!mail)
		*why = "no smtp channel to send the unit's e-mail through";
	if (!*why && to && strcmp(m.kind, "test") && strcmp(m.kind, "operator")) {
		items = message_items(d, &m, now, &nitems);
		event_json(&event, &m, items, nitems);
		mail_payload(d, &m, to, mail, items, nitems, day_of_time(now, d->cfg->utc_offset), &event, &payload);
		if (deliveries_add_text(d, outbox, mail, payload.p, payload.len,
					channel_expiry(mail, now, message_expiry(d, &m, items, nitems, now))))
			*why = "the e-mail could not be queued";
		else
			id = sqlite3_last_insert_rowid(store_db(d->store));
		items_free(items, nitems);
	}
	free(event.p);
	free(payload.p);
	free(m.key);
	free(m.recipient);
	free(m.kind);
	free(m.report);
	free(m.period);
	free(m.step);
	return id;
}

static int64_t spool_next_due(struct daemon *d)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT min(send_after) FROM outbox WHERE state = 'pending'");
	int64_t next = INT64_MAX;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		next = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return next;
}

/* spool_run - one batch of messages whose time has come */
static void spool_run(struct daemon *d, int64_t now)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT id, dedup_key, recipient, kind, report, period, step, moment, late"
				     " FROM outbox WHERE state = 'pending' AND send_after <= ?1 ORDER BY send_after, id LIMIT ?2");
	/* with channels, most messages go to workers: smaller runs, so the loop feeds the
	 * workers between them instead of after thousands of messages */
	int limit = d->cfg->nchannels ? FANOUT_BATCH : SPOOL_BATCH;
	struct message *ms = xcalloc((size_t)limit, sizeof(*ms));
	size_t n = 0;

	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, limit);
	while (n < (size_t)limit && sqlite3_step(s) == SQLITE_ROW) {
		ms[n].id = sqlite3_column_int64(s, 0);
		ms[n].key = xstrdup((const char *)sqlite3_column_text(s, 1));
		ms[n].recipient = xstrdup((const char *)sqlite3_column_text(s, 2));
		ms[n].kind = xstrdup((const char *)sqlite3_column_text(s, 3));
		ms[n].report = xstrdup((const char *)sqlite3_column_text(s, 4));
		ms[n].period = xstrdup((const char *)sqlite3_column_text(s, 5));
		ms[n].step = xstrdup((const char *)sqlite3_column_text(s, 6));
		ms[n].moment = sqlite3_column_int64(s, 7);
		ms[n].late = sqlite3_column_int(s, 8);
		n++;
	}
	sqlite3_reset(s);
	/* files first, one flush for the batch, then the rows that say they were written */
	for (size_t i = 0; i < n; i++) {
		char path[4200];
		int fanned = fan_out(d, &ms[i]);

		if (fanned != 0) {	/* handed to the workers (or a database error: try again later) */
			ms[i].fanned = 1;
			ms[i].path = NULL;
			continue;
		}
		ms[i].ok = spool_one(d, &ms[i], path, sizeof(path)) == 0;
		ms[i].path = xstrdup(path);
		if (!ms[i].ok)
			log_err("spool: cannot write %s: %s; trying again in 5 minutes", path, strerror(errno));
	}
	int written = 0;

	for (size_t i = 0; i < n; i++)
		written |= !ms[i].fanned && ms[i].ok;
	if (written) {		/* one flush for the files of the batch; none when all went to workers */
		int fd = open(d->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || syncfs(fd)) {
			log_err("spool: flushing %s failed: %s", d->spool_dir, strerror(errno));
			for (size_t i = 0; i < n; i++)
				ms[i].ok = 0;
		}
		if (fd >= 0)
			close(fd);
	}
	for (size_t i = 0; i < n; i++) {
		const char *path = ms[i].path;
		int ok = ms[i].ok;

		if (ms[i].fanned)
			goto next;

		s = store_stmt(d->store, "UPDATE outbox SET state = ?2, channel = 'spool', path = ?3, sent_at = CASE WHEN ?6 THEN ?4 END,"
			       " attempts = attempts + 1, error = ?5, send_after = CASE WHEN ?6 THEN send_after ELSE ?4 + 300 END"
			       " WHERE id = ?1");
		sqlite3_bind_int64(s, 1, ms[i].id);
		sqlite3_bind_text(s, 2, ok ? "spooled" : "pending", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, ok ? path : NULL, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 4, now);
		sqlite3_bind_text(s, 5, ok ? NULL : "the spool file could not be written", -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, ok);
		if (sqlite3_step(s) != SQLITE_DONE)
			log_err("spool: message %lld: %s", (long long)ms[i].id, store_errmsg(d->store));
		sqlite3_reset(s);
		if (ok)
			events_emit(d, "notification.spooled", json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)ms[i].id,
								       "to", ms[i].recipient, "kind", ms[i].kind, "path", path));
next:
		free(ms[i].key);
		free(ms[i].recipient);
		free(ms[i].kind);
		free(ms[i].report);
		free(ms[i].period);
		free(ms[i].step);
		free(ms[i].path);
	}
	free(ms);
}

static const struct due_source spool_source = { "spool", spool_next_due, spool_run };

void spool_init(void)
{
	sched_register(&spool_source);
}
