/*
 * ops_deliver.c - notifications.retry (a dead letter back to the queue) and notify.test
 * (a real test message through a channel, what an administrator runs while setting up).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mailhdr.h"
#include "templates.h"
#include "thiduad.h"
#include "xalloc.h"

/* op_notifications_retry - failed deliveries of a message go back to the queue */
int op_notifications_retry(struct daemon *d, struct request *rq, json_t *out)
{
	json_t *v = json_object_get(rq_body(rq), "notification");
	int64_t id, now = clock_now(d);
	sqlite3_stmt *s;
	int n;

	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return rq_error(rq, "invalid_field", "'notification' must be the id of a failed notification ('thiduactl notifications list --state failed')");
	id = (int64_t)json_integer_value(v);
	s = store_stmt(d->store, "UPDATE deliveries SET state = 'pending', attempts = 0, next_at = ?2, expires_at = ?3,"
		       " worker = NULL WHERE outbox = ?1 AND state = 'failed'");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, now + 72 * 3600);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return rq_error(rq, "internal", "the notification could not be queued again: %s", store_errmsg(d->store));
	}
	sqlite3_reset(s);
	n = sqlite3_changes(store_db(d->store));
	if (n == 0)
		return rq_error(rq, "not_failed", "notification %lld has no failed delivery to send again", (long long)id);
	outbox_settle(d, id);
	log_notice("notification %lld queued again (%d deliveries) by %s", (long long)id, n, rq_principal(rq));
	json_object_set_new(out, "notification", json_integer(id));
	json_object_set_new(out, "requeued", json_integer(n));
	return 0;
}

/* op_notify_test - one test message through a channel; the reply names the notification
 * whose delivery the client then watches (thiduactl notify test waits for the answer) */
int op_notify_test(struct daemon *d, struct request *rq, json_t *out)
{
	const char *name = rq_str(rq, "channel", 1), *to = rq_str(rq, "to", 0);
	const struct channel *c;
	int64_t now = clock_now(d), id;
	char key[160], *subject, *text;
	struct tmpl_values v = { .nunits = 0 };
	sqlite3_stmt *s;
	json_t *payload;

	if (!name || rq_failed(rq))
		return -1;
	c = cfg_channel(d->cfg, name);
	if (!c) {
		char names[512] = "";
		size_t used = 0;

		for (size_t i = 0; i < d->cfg->nchannels && used < sizeof(names); i++)
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", d->cfg->channels[i].name);
		return rq_error(rq, "unknown_channel", "there is no channel '%s'; the configured channels are: %s", name,
				used ? names : "none (add a channels section to the configuration)");
	}
	if (!strcmp(c->kind, "smtp") && (!to || !email_valid(to)))
		return rq_error(rq, "invalid_field", "--to must be an email address to send the test to");
	snprintf(key, sizeof(key), "test/%s/%lld/%s", c->name, (long long)now, rq_id(rq) ? rq_id(rq) : "-");
	s = store_stmt(d->store, "INSERT INTO outbox (dedup_key, recipient, kind, report, period, step, moment, created_at,"
		       " send_after, state, channel) VALUES (?1, ?2, 'test', '-', '-', 'test', ?3, ?3, ?3, 'queued', 'workers')");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, to ? to : c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return rq_error(rq, "internal", "the test could not be queued: %s", store_errmsg(d->store));
	}
	sqlite3_reset(s);
	id = sqlite3_last_insert_rowid(store_db(d->store));
	v.v[TV_CHANNEL] = c->name;
	v.v[TV_CHANNEL_KIND] = c->kind;
	v.v[TV_DEDUP_KEY] = key;
	v.v[TV_RECIPIENT_NAME] = to ? to : c->name;
	templates_render(d->cfg->templates, TE_TEST, !strcmp(c->kind, "smtp") ? TC_MAIL : TC_CHAT, &v, &subject, &text);
	if (!strcmp(c->kind, "smtp"))
		payload = json_pack("{s:s,s:s,s:[{s:s}],s:s,s:s,s:n,s:s,s:s}", "from", c->from,
				    "from_name", c->from_name ? c->from_name : "thidua", "to", "address", to,
				    "subject", subject, "text", text, "html", "message_id", "", "dedup_key", key);
	else
		payload = json_pack("{s:s,s:s,s:s}", "title", subject, "text", text, "dedup_key", key);
	if (!strcmp(c->kind, "smtp")) {
		char mid[MAILHDR_ID_MAX];

		mail_message_id(key, c->from, mid, sizeof(mid));
		json_object_set_new(payload, "message_id", json_string(mid));
	}
	free(subject);
	free(text);
	if (deliveries_add(d, id, c, payload, now + 600))
		return rq_error(rq, "internal", "the test could not be queued: %s", store_errmsg(d->store));
	json_object_set_new(out, "notification", json_integer(id));
	json_object_set_new(out, "channel", json_string(c->name));
	return 0;
}
