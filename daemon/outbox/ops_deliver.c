/*
 * ops_deliver.c - notifications.retry (a dead letter back to the queue) and notify.test
 * (a real test message through a channel, what an administrator runs while setting up).
 */
#include <stdio.h>
#include <string.h>

#include "channels.h"
#include "clock.h"
#include "config.h"
#include "jdump.h"
#include "jobs.h"
#include "log.h"
#include "mailhdr.h"
#include "ops_deliver.h"
#include "outbox.h"
#include "rq.h"
#include "store.h"
#include "templates.h"
#include "thiduad.h"
#include "units.h"
#include "xalloc.h"

/* rq_channel_unknown - the error for a channel name the configuration does not have */
static int rq_channel_unknown(struct request *rq, const struct config *cfg, const char *name)
{
	char names[512] = "";
	size_t used = 0;

	for (size_t i = 0; i < cfg->nchannels && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", cfg->channels[i].name);
	return rq_error(rq, ERR_UNKNOWN_CHANNEL, "there is no channel '%.64s'; the configured channels are: %s", name,
			used ? names : "none (add a channels section to the configuration)");
}

/* op_notifications_retry - failed deliveries of a message go back to the queue */
int op_notifications_retry(struct daemon *d, struct request *rq, json_t *out)
{
	json_t *v = json_object_get(rq_body(rq), "notification");
	int64_t id, now = clock_now(d);
	sqlite3_stmt *s;
	json_t *hours;
	char *text;
	int n;

	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return rq_error(rq, ERR_INVALID_FIELD, "'notification' must be the id of a failed notification ('thiduactl notifications list --state failed')");
	id = (int64_t)json_integer_value(v);
	/* each delivery gets its channel's expire_hours again (72 for a channel gone from
	 * the configuration: it fails at once, saying so) */
	s = store_stmt(d->store, "UPDATE deliveries SET state = 'pending', attempts = 0, next_at = ?2,"
		       " expires_at = ?2 + 3600 * coalesce((SELECT value FROM json_each(?3) WHERE key = deliveries.channel), 72),"
		       " worker = NULL WHERE outbox = ?1 AND state = 'failed' AND NOT " SUPERSEDED);
	hours = json_object();
	for (size_t i = 0; i < d->cfg->nchannels; i++)
		json_object_set_new(hours, d->cfg->channels[i].name, json_integer(d->cfg->channels[i].expire_hours
										   ? d->cfg->channels[i].expire_hours : 72));
	text = jdump(hours, JSON_COMPACT);
	json_decref(hours);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, text, -1, free);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return rq_error(rq, ERR_INTERNAL, "the notification could not be queued again: %s", store_errmsg(d->store));
	}
	sqlite3_reset(s);
	n = sqlite3_changes(store_db(d->store));
	if (n == 0)
		return rq_error(rq, ERR_NOT_FAILED, "notification %lld has no failed delivery to send again", (long long)id);
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
	if (!c)
		return rq_channel_unknown(rq, d->cfg, name);
	if (!strcmp(c->kind, "smtp") && (!to || !email_valid(to)))
		return rq_error(rq, ERR_INVALID_FIELD, "--to must be an email address to send the test to");
	snprintf(key, sizeof(key), "test/%s/%lld/%s", c->name, (long long)now, rq_id(rq) ? rq_id(rq) : "-");
	s = store_stmt(d->store, "INSERT INTO outbox (dedup_key, recipient, kind, report, period, step, moment, created_at,"
		       " send_after, state, channel) VALUES (?1, ?2, 'test', '-', '-', 'test', ?3, ?3, ?3, 'queued', 'workers')");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, to ? to : c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return rq_error(rq, ERR_INTERNAL, "the test could not be queued: %s", store_errmsg(d->store));
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
		return rq_error(rq, ERR_INTERNAL, "the test could not be queued: %s", store_errmsg(d->store));
	json_object_set_new(out, "notification", json_integer(id));
	json_object_set_new(out, "channel", json_string(c->name));
	return 0;
}

/* channels_disabled_json - the disabled channels, for status */
json_t *channels_disabled_json(struct daemon *d)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT channel, disabled_at, reason FROM channel_state"
				     " WHERE disabled_at IS NOT NULL ORDER BY channel");
	json_t *a = json_array();

	while (sqlite3_step(s) == SQLITE_ROW) {
		const struct channel *c = cfg_channel(d->cfg, (const char *)sqlite3_column_text(s, 0));

		json_array_append_new(a, json_pack("{s:s,s:s,s:o,s:s?}", "name", (const char *)sqlite3_column_text(s, 0),
						   "kind", c ? c->kind : "", "disabled_at", json_time(d, sqlite3_column_int64(s, 1)),
						   "reason", (const char *)sqlite3_column_text(s, 2)));
	}
	sqlite3_reset(s);
	return a;
}

/* op_channels_list - every configured channel: state, since when and why, last error,
 * how many deliveries wait for it */
int op_channels_list(struct daemon *d, struct request *rq, json_t *out)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT disabled_at, reason, last_error, last_error_at,"
				     " (SELECT count(*) FROM deliveries WHERE state = 'pending' AND channel = ?1),"
				     " (SELECT count(*) FROM deliveries WHERE state = 'leased' AND channel = ?1)"
				     " FROM (SELECT 1) LEFT JOIN channel_state ON channel = ?1");
	json_t *list = json_array();

	(void)rq;
	for (size_t i = 0; i < d->cfg->nchannels; i++) {
		const struct channel *c = &d->cfg->channels[i];
		json_t *o;
		int disabled;

		sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_reset(s);
			json_decref(list);
			return rq_error(rq, ERR_INTERNAL, "the channels could not be read: %s", store_errmsg(d->store));
		}
		disabled = sqlite3_column_type(s, 0) != SQLITE_NULL;
		o = json_pack("{s:s,s:s,s:s,s:b,s:I,s:I}", "name", c->name, "kind", c->kind,
			      "state", disabled ? "disabled" : "enabled",
			      "operator", d->cfg->operator_channel && !strcmp(d->cfg->operator_channel, c->name),
			      "queued", (json_int_t)sqlite3_column_int64(s, 4), "in_flight", (json_int_t)sqlite3_column_int64(s, 5));
		json_object_set_new(o, "disabled_at", disabled ? json_time(d, sqlite3_column_int64(s, 0)) : json_null());
		/* the reason of the last change: why it was disabled, or what enabled it again */
		json_object_set_new(o, "reason", sqlite3_column_type(s, 1) != SQLITE_NULL
				    ? json_string((const char *)sqlite3_column_text(s, 1)) : json_null());
		json_object_set_new(o, "last_error", sqlite3_column_type(s, 2) != SQLITE_NULL
				    ? json_string((const char *)sqlite3_column_text(s, 2)) : json_null());
		json_object_set_new(o, "last_error_at", sqlite3_column_type(s, 3) != SQLITE_NULL
				    ? json_time(d, sqlite3_column_int64(s, 3)) : json_null());
		json_array_append_new(list, o);
		sqlite3_reset(s);
	}
	json_object_set_new(out, "channels", list);
	return 0;
}

/* op_channels_enable - an operator sends through a disabled channel again */
int op_channels_enable(struct daemon *d, struct request *rq, json_t *out)
{
	const char *name = rq_str(rq, "channel", 1);
	const struct channel *c;
	char *why;
	int was;

	if (!name || rq_failed(rq))
		return -1;
	c = cfg_channel(d->cfg, name);
	if (!c)
		return rq_channel_unknown(rq, d->cfg, name);
	why = xasprintf("enabled by %s", rq_principal(rq));
	was = channel_enable(d, c, why);
	free(why);
	json_object_set_new(out, "channel", json_string(c->name));
	json_object_set_new(out, "was_disabled", json_boolean(was));
	return 0;
}
