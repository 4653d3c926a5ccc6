/*
 * spool.c - outbox messages delivered as files in STATE_DIR/spool: a .eml (RFC 5322, UTF-8,
 * RFC 2047 subject) for a recipient with an email address, a .json otherwise. This is the
 * embedded default when no channel is configured.
 *
 * Messages leave only in working hours (send_after). The body is rendered when the message
 * leaves, from all the notices attached to it, so a digest lists every late unit. A file
 * is named after the message's dedup key: writing it again after a crash replaces it.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "log.h"
#include "proposals.h"
#include "sha256.h"
#include "templates.h"
#include "thiduad.h"
#include "timeutil.h"
#include "xalloc.h"

#define SPOOL_BATCH 500

struct buf {
	char *p;
	size_t len, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

/* vn_date - dd/mm/yyyy of a day */
static void vn_date(int32_t day, char *buf, size_t size)
{
	int y;
	unsigned m, dd;

	civil_from_days(day, &y, &m, &dd);
	snprintf(buf, size, "%02u/%02u/%04d", dd % 100u, m % 100u, y % 10000);
}

struct message {
	int64_t id, moment;
	char *key, *recipient, *kind, *report, *period, *step, *path;
	int late, ok, fanned;
};

#define LATE_NOTE "\n(Thông báo gửi muộn: hệ thống tạm ngừng vào thời điểm nhắc.)\n"

/* the text of one unit of a message: due date, days left and days late as the reader
 * counts them on the day the message leaves */
struct item_text {
	char due[16], left[16], late[16];
};

/* render_notices - subject and body from the templates (docs/CONFIG.md), Vietnamese by default,
 * for a channel kind: TC_MAIL for an email, TC_CHAT for chat posts, TC_ANY for a .json
 * spool file. A reminder or overdue notice speaks of one unit; an escalation lists them. */
static void render_notices(struct daemon *d, const struct message *m, const struct unit *to, json_t *items,
			   int32_t today, enum tmpl_channel ch, char **subject, char **body)
{
	const struct report_type *rt = cfg_report(d->cfg, m->report);
	const struct unit *recv = rt ? unitset_find(d->units, rt->receiver) : NULL;
	size_t n = json_array_size(items), i;
	struct tmpl_item *units = xcalloc(n ? n : 1, sizeof(*units));
	struct item_text *texts = xcalloc(n ? n : 1, sizeof(*texts));
	struct tmpl_values v = { .units = units, .nunits = n };
	enum tmpl_event ev = !strcmp(m->kind, "reminder") ? TE_REMINDER : !strcmp(m->kind, "overdue") ? TE_OVERDUE
			     : TE_ESCALATION;
	char count[24];
	json_t *it;

	json_array_foreach(items, i, it) {
		int32_t due = (int32_t)json_integer_value(json_object_get(it, "due_day"));

		vn_date(due, texts[i].due, sizeof(texts[i].due));
		snprintf(texts[i].left, sizeof(texts[i].left), "%ld", due > today ? (long)due - today : 0L);
		snprintf(texts[i].late, sizeof(texts[i].late), "%ld", today > due ? (long)today - due : 0L);
		units[i].v[TV_UNIT_NAME] = json_string_value(json_object_get(it, "name"));
		units[i].v[TV_UNIT_CODE] = json_string_value(json_object_get(it, "unit"));
		units[i].v[TV_DUE_DATE] = texts[i].due;
		units[i].v[TV_DAYS_LEFT] = texts[i].left;
		units[i].v[TV_DAYS_OVERDUE] = texts[i].late;
	}
	snprintf(count, sizeof(count), "%zu", n);
	v.v[TV_REPORT_NAME] = rt ? rt->name : m->report;
	v.v[TV_REPORT_CODE] = m->report;
	v.v[TV_PERIOD] = m->period;
	v.v[TV_RECEIVER_NAME] = recv ? recv->name : "đơn vị nhận";
	v.v[TV_RECIPIENT_NAME] = to ? to->name : m->recipient;
	v.v[TV_UNIT_COUNT] = count;
	v.v[TV_DEDUP_KEY] = m->key;
	v.v[TV_LATE_NOTE] = m->late ? LATE_NOTE : "";
	templates_render(d->cfg->templates, ev, ch, &v, subject, body);
	free(texts);
	free(units);
}

/* render - a message about proposals (kind 'proposal') is worded by proposals.c; the
 * others from the templates */
static void render(struct daemon *d, const struct message *m, const struct unit *to, json_t *items,
		   int32_t today, enum tmpl_channel ch, char **subject, char **body)
{
	if (!strcmp(m->kind, "proposal"))
		proposals_render(d, m->id, m->step, m->key, m->recipient, subject, body);
	else
		render_notices(d, m, to, items, today, ch, subject, body);
}

/* message_items - the units a message is about, with due day and days left or late on the
 * day the message leaves (a deferred or caught-up message must not say "7 days left" on the
 * due day) */
static json_t *message_items(struct daemon *d, const struct message *m, int64_t now)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT o.unit, o.due_at FROM notices n JOIN obligations o"
				     " ON o.id = n.obligation WHERE n.outbox = ?1 ORDER BY o.unit");
	json_t *items = json_array();
	int32_t today = day_of_time(now, d->cfg->utc_offset);	/* as the reader sees it */

	sqlite3_bind_int64(s, 1, m->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(s, 0);
		const struct unit *u = unitset_find(d->units, code);
		int32_t due = day_of_time(sqlite3_column_int64(s, 1), d->cfg->utc_offset);
		long days = due >= today ? due - today : today - due;

		json_array_append_new(items, json_pack("{s:s,s:s,s:I,s:I}", "unit", code, "name", u ? u->name : code,
						       "due_day", (json_int_t)due, "days", (json_int_t)days));
	}
	sqlite3_reset(s);
	return items;
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
	json_t *items = message_items(d, m, now);
	int email = to && to->emails && to->emails[0];
	struct buf out = { 0 };
	char *subject = NULL, *body = NULL, hex[65], date[64];
	int rc;

	render(d, m, to, items, day_of_time(now, d->cfg->utc_offset), email ? TC_MAIL : TC_ANY, &subject, &body);
	sha256_hex(m->key, strlen(m->key), hex);
	if (email) {
		char *enc = rfc2047_encode(subject);
		time_t t = (time_t)now;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		bprintf(&out, "Message-ID: <%.32s@thidua>\r\nDate: %s\r\nFrom: thidua <thidua@localhost>\r\nTo: ", hex, date);
		for (size_t i = 0; to->emails[i]; i++)
			bprintf(&out, "%s%s", i ? ", " : "", to->emails[i]);
		bprintf(&out, "\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
			"Content-Transfer-Encoding: 8bit\r\nX-Thidua-Dedup-Key: %s\r\n\r\n", enc, m->key);
		free(enc);
		for (size_t i = 0; body[i]; i++) {	/* CRLF line ends */
			if (body[i] == '\n')
				bprintf(&out, "\r\n");
			else
				bprintf(&out, "%c", body[i]);
		}
		snprintf(path, pathsize, "%s/%.32s.eml", d->spool_dir, hex);
	} else {
		size_t k;
		json_t *it, *j;

		json_array_foreach(items, k, it)	/* dates as people write them */
			json_object_set_new(it, "due_date", json_day((int32_t)json_integer_value(json_object_get(it, "due_day"))));
		j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O}", "dedup_key", m->key,
				      "to", m->recipient, "to_name", to ? to->name : m->recipient, "kind", m->kind,
				      "report", m->report, "period", m->period, "subject", subject,
				      "text", body, "units", items);
		char *text = json_dumps(j, JSON_INDENT(2));

		bprintf(&out, "%s\n", text);
		free(text);
		json_decref(j);
		snprintf(path, pathsize, "%s/%.32s.json", d->spool_dir, hex);
	}
	rc = write_file(path, out.p, out.len);
	free(out.p);
	free(body);
	free(subject);
	json_decref(items);
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

/* fan_out - a message whose recipient has configured channels becomes one delivery per
 * channel (its email through the smtp channel, each of its chat channels); 1 when it did,
 * 0 when the recipient has none and the message goes to the spool, -1 on error */
static int fan_out(struct daemon *d, const struct message *m)
{
	const struct unit *to = unitset_find(d->units, m->recipient);
	const struct channel *mail = email_channel(d->cfg);
	int64_t now = clock_now(d), expires = now + 72 * 3600;
	json_t *items, *event;
	char *subject = NULL, *body = NULL, hex[65], msgid[80];
	int n = 0;
	int32_t today = day_of_time(now, d->cfg->utc_offset);
	sqlite3_stmt *s;

	if (!to || (!(mail && to->emails && to->emails[0]) && !(to->chats && to->chats[0])))
		return 0;
	items = message_items(d, m, now);
	sha256_hex(m->key, strlen(m->key), hex);
	snprintf(msgid, sizeof(msgid), "<%.32s@thidua>", hex);
	/* a reminder is pointless after its due date: it expires then */
	if (!strcmp(m->kind, "reminder")) {
		int32_t due = (int32_t)json_integer_value(json_object_get(json_array_get(items, 0), "due_day"));
		int64_t end = day_start(due + 1, d->cfg->utc_offset);

		if (end < expires)
			expires = end;
	}
	event = json_pack("{s:s,s:s,s:s,s:s,s:O}", "kind", m->kind, "report", m->report, "period", m->period,
			  "step", m->step, "units", items);
	if (mail && to->emails && to->emails[0]) {
		json_t *rcpt = json_array();

		if (mail->expire_hours && now + (int64_t)mail->expire_hours * 3600 < expires)
			expires = now + (int64_t)mail->expire_hours * 3600;
		for (size_t i = 0; to->emails[i]; i++)
			json_array_append_new(rcpt, json_pack("{s:s,s:s}", "address", to->emails[i], "name", to->name));
		render(d, m, to, items, today, TC_MAIL, &subject, &body);
		if (deliveries_add(d, m->id, mail, json_pack("{s:s,s:s,s:o,s:s,s:s,s:n,s:s,s:s,s:O}",
			"from", mail->from, "from_name", mail->from_name ? mail->from_name : "thidua", "to", rcpt,
			"subject", subject, "text", body, "html", "message_id", msgid,
			"dedup_key", m->key, "event", event), expires))
			n = -1;
		else
			n++;
		free(subject);
		free(body);
		subject = body = NULL;
	}
	for (size_t i = 0; n >= 0 && to->chats && to->chats[i]; i++) {
		const struct channel *c = cfg_channel(d->cfg, to->chats[i]);

		if (!c || !strcmp(c->kind, "smtp"))
			continue;
		if (!body)	/* one text for every chat channel of the recipient */
			render(d, m, to, items, today, TC_CHAT, &subject, &body);
		if (deliveries_add(d, m->id, c, json_pack("{s:s,s:s,s:s,s:O}", "title", subject, "text",
			body, "dedup_key", m->key, "event", event), expires))
			n = -1;
		else
			n++;
	}
	json_decref(event);
	json_decref(items);
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
	struct message *ms = xcalloc(SPOOL_BATCH, sizeof(*ms));
	size_t n = 0;

	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, SPOOL_BATCH);
	while (sqlite3_step(s) == SQLITE_ROW) {
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
