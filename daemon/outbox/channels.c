/*
 * channels.c - whether a delivery channel sends, and why not.
 *
 * A webhook endpoint that answers 410 Gone disables its channel (jobs.c decides when a
 * result may do that). Disabled is not forever: the deliveries of a disabled channel wait
 * in the queue (until they expire), and the channel comes back when an operator enables
 * it (channels.enable) or when the configuration gives it another url or other
 * credentials (a reload or a restart: the fingerprint of the settings that answered 410
 * is kept). Both changes are told to the operator channel. Each channel also keeps its
 * last error, for channels.list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels.h"
#include "jdump.h"
#include "jobs.h"
#include "log.h"
#include "sha256.h"
#include "xalloc.h"

int channel_is_disabled(struct daemon *d, const char *name)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT 1 FROM channel_state WHERE channel = ?1 AND disabled_at IS NOT NULL");
	int r;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return r;
}

/* operator_notice - the message goes through its own outbox row, as notify.test's does */
void operator_notice(struct daemon *d, enum tmpl_event ev, const char *channel, const char *reason,
		     int64_t notification)
{
	const struct channel *op = d->cfg->operator_channel ? cfg_channel(d->cfg, d->cfg->operator_channel) : NULL;
	const struct channel *about = cfg_channel(d->cfg, channel);
	struct tmpl_values v = { .nunits = 0 };
	int64_t now = clock_now(d), id;
	char key[256], idtext[24], *title, *text;
	sqlite3_stmt *s;
	json_t *payload;

	if (!op)
		return;
	s = store_stmt(d->store, "SELECT max(id) FROM outbox");	/* the key is unique with the next id */
	sqlite3_step(s);
	snprintf(key, sizeof(key), "operator/%s/%s/%lld/%lld", tmpl_event_name(ev), channel, (long long)now,
		 (long long)sqlite3_column_int64(s, 0) + 1);
	sqlite3_reset(s);
	s = store_stmt(d->store, "INSERT INTO outbox (dedup_key, recipient, kind, report, period, step, moment, created_at,"
		       " send_after, state, channel) VALUES (?1, ?2, 'operator', '-', '-', ?3, ?4, ?4, ?4, 'queued', 'workers')");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, op->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, tmpl_event_name(ev), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		log_err("the notice to the operator about channel %s could not be queued: %s", channel, store_errmsg(d->store));
		return;
	}
	sqlite3_reset(s);
	id = sqlite3_last_insert_rowid(store_db(d->store));
	snprintf(idtext, sizeof(idtext), "%lld", (long long)notification);
	v.v[TV_REASON] = reason;
	v.v[TV_CHANNEL] = channel;
	v.v[TV_CHANNEL_KIND] = about ? about->kind : "";
	v.v[TV_NOTIFICATION] = notification ? idtext : NULL;
	v.v[TV_DEDUP_KEY] = key;
	templates_render(d->cfg->templates, ev, !strcmp(op->kind, "smtp") ? TC_MAIL : TC_CHAT, &v, &title, &text);
	payload = json_pack("{s:s,s:s,s:s,s:s}", "title", title, "subject", title, "text", text, "dedup_key", key);
	if (!strcmp(op->kind, "smtp")) {
		char hex[65], *mid;

		sha256_hex(key, strlen(key), hex);
		mid = xasprintf("<%.32s@thidua>", hex);
		json_object_set_new(payload, "to", json_pack("[{s:s}]", "address", op->from));
		json_object_set_new(payload, "from", json_string(op->from));
		json_object_set_new(payload, "message_id", json_string(mid));
		free(mid);
	}
	free(title);
	free(text);
	deliveries_add(d, id, op, payload, now + (int64_t)(op->expire_hours ? op->expire_hours : 72) * 3600);
}

void channel_disable(struct daemon *d, const struct channel *c, const char *settings, const char *reason)
{
	sqlite3_stmt *s = store_stmt(d->store, "INSERT INTO channel_state (channel, disabled_at, reason, settings)"
				     " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel) DO UPDATE SET"
				     " disabled_at = excluded.disabled_at, reason = excluded.reason, settings = excluded.settings");

	sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, clock_now(d));
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, settings, -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_reset(s);
	log_err("channel %s disabled: %s; its messages wait until it is enabled again (a new url or credentials"
		" and config reload, or thiduactl channels enable %s)", c->name, reason, c->name);
	operator_notice(d, TE_CHANNEL_DISABLED, c->name, reason, 0);
	events_emit(d, "channel.disabled", json_pack("{s:s,s:s}", "channel", c->name, "reason", reason));
}

int channel_enable(struct daemon *d, const struct channel *c, const char *why)
{
	sqlite3_stmt *s;

	if (!channel_is_disabled(d, c->name))
		return 0;
	s = store_stmt(d->store, "UPDATE channel_state SET disabled_at = NULL, settings = NULL, reason = ?2 WHERE channel = ?1");
	sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, why, -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_reset(s);
	log_notice("channel %s enabled again: %s", c->name, why);
	operator_notice(d, TE_CHANNEL_ENABLED, c->name, why, 0);
	events_emit(d, "channel.enabled", json_pack("{s:s,s:s}", "channel", c->name, "reason", why));
	return 1;
}

void channel_note_error(struct daemon *d, const char *name, const char *error)
{
	sqlite3_stmt *s = store_stmt(d->store, "INSERT INTO channel_state (channel, last_error, last_error_at) VALUES (?1, ?2, ?3)"
				     " ON CONFLICT (channel) DO UPDATE SET last_error = excluded.last_error,"
				     " last_error_at = excluded.last_error_at");

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, clock_now(d));
	sqlite3_step(s);
	sqlite3_reset(s);
}

void channels_reconcile(struct daemon *d)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT channel, settings FROM channel_state WHERE disabled_at IS NOT NULL");
	char **names = NULL;
	int *unknown = NULL;
	size_t n = 0;

	while (sqlite3_step(s) == SQLITE_ROW) {
		const struct channel *c = cfg_channel(d->cfg, (const char *)sqlite3_column_text(s, 0));
		const char *was = (const char *)sqlite3_column_text(s, 1);
		char now[CHANNEL_PRINT];

		if (!c)
			continue;	/* gone from the configuration: nothing is sent through it anyway */
		channel_fingerprint(c, now);
		if (was && !strcmp(was, now))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		unknown = xrealloc(unknown, (n + 1) * sizeof(*unknown));
		unknown[n] = !was;
		names[n++] = xstrdup(c->name);
	}
	sqlite3_reset(s);
	for (size_t i = 0; i < n; i++) {
		const struct channel *c = cfg_channel(d->cfg, names[i]);

		/* disabled by a version that kept no fingerprint: it gets its chance again */
		channel_enable(d, c, unknown[i] ? "disabled before its settings were recorded; trying it again"
			       : "its url or credentials changed in the configuration");
		free(names[i]);
	}
	free(names);
	free(unknown);
}
