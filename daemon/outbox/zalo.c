/*
 * zalo.c - the token pair of a Zalo Official Account (zalo.h).
 *
 * The access token lives about 25 hours, the refresh token about three months and works
 * once: the pair a renewal returns must be kept before anything else happens, or the OA
 * has to be authorised again. So the daemon holds the pair (table zalo_tokens), and a
 * renewal is a step of one job: the job that finds the access token due (less than an hour
 * left, or refused by Zalo) and the renewal free takes it (lease_until), the worker renews
 * and answers retry with the new pair without posting, the pair is stored in one statement,
 * and the next attempt of that job and every later job carry the new access token.
 */
#include <string.h>

#include "clock.h"
#include "config.h"
#include "jdump.h"
#include "jload.h"
#include "log.h"
#include "rq.h"
#include "store.h"
#include "xalloc.h"
#include "zalo.h"

#define RENEW_BEFORE 3600	/* seconds before expiry when the access token is renewed */
#define RENEW_LEASE 120		/* a renewal not answered by then is offered to another job */

int zalo_managed(const struct channel *c)
{
	return c && c->app_id && (!strcmp(c->kind, "zalo") || !strcmp(c->kind, "zns"));
}

/* seed - the row of the app from the configuration, when there is none or the configured
 * refresh token is a new one (a new authorisation); the configured secret, if any, as an
 * access token of unknown age (renewed first) */
static void seed(struct daemon *d, const struct channel *c)
{
	sqlite3_stmt *s;

	if (!c->refresh_token)	/* the pair comes from thiduactl zalo authorize (op_zalo_store) */
		return;
	s = store_stmt(d->store,
		"INSERT INTO zalo_tokens (app_id, access_token, refresh_token, expires_at, seed) VALUES (?1, ?2, ?3, 0, ?3)"
		" ON CONFLICT (app_id) DO UPDATE SET access_token = ?2, refresh_token = ?3, expires_at = 0, seed = ?3,"
		" lease_until = 0 WHERE seed <> ?3");

	sqlite3_bind_text(s, 1, c->app_id, -1, SQLITE_STATIC);
	if (c->secret)
		sqlite3_bind_text(s, 2, c->secret, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c->refresh_token, -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_reset(s);
	if (sqlite3_changes(store_db(d->store)))
		log_info("zalo: app %s: token pair taken from the configuration (channel %s)", c->app_id, c->name);
}

char *zalo_channel_text(struct daemon *d, const struct channel *c, const char *settings)
{
	int64_t now = clock_now(d);
	json_t *o = jload(settings, strlen(settings), 0, NULL), *refresh = NULL;
	sqlite3_stmt *s;
	char *text;

	if (!o)
		return xstrdup(settings);
	seed(d, c);
	s = store_stmt(d->store, "SELECT access_token, refresh_token, expires_at, lease_until FROM zalo_tokens"
		       " WHERE app_id = ?1");
	sqlite3_bind_text(s, 1, c->app_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *access = (const char *)sqlite3_column_text(s, 0);

		if (access)
			json_object_set_new(o, "secret", json_string(access));
		if ((!access || sqlite3_column_int64(s, 2) - now < RENEW_BEFORE) && sqlite3_column_int64(s, 3) <= now)
			refresh = json_pack("{s:s,s:s,s:s,s:s}", "url", c->oauth_url, "app_id", c->app_id,
					    "app_secret", c->app_secret, "refresh_token",
					    (const char *)sqlite3_column_text(s, 1));
		else if (!access || sqlite3_column_int64(s, 2) <= now)
			/* another job is renewing: this one waits for the pair rather than post with
			 * a token Zalo refused (or of unknown age) */
			json_object_set_new(o, "renewing", json_true());
	} else if (!c->secret) {	/* no pair yet: the OA waits for its first authorisation */
		json_object_set_new(o, "unauthorised", json_true());
	}
	sqlite3_reset(s);
	if (refresh) {
		s = store_stmt(d->store, "UPDATE zalo_tokens SET lease_until = ?2 WHERE app_id = ?1");
		sqlite3_bind_text(s, 1, c->app_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now + RENEW_LEASE);
		sqlite3_step(s);
		sqlite3_reset(s);
		json_object_set_new(o, "refresh", refresh);
		log_info("zalo: app %s: the access token is due; renewed through the next job of channel %s", c->app_id,
			 c->name);
	}
	text = jdump(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

int zalo_result(struct daemon *d, const char *chname, json_t *msg, int64_t dispatched)
{
	int renewed = 0;

	const struct channel *c = cfg_channel(d->cfg, chname);
	json_t *tok = json_object_get(msg, "zalo_token");
	const char *access = json_string_value(json_object_get(tok, "access_token"));
	const char *refresh = json_string_value(json_object_get(tok, "refresh_token"));
	json_t *expires_in = json_object_get(tok, "expires_in");
	sqlite3_stmt *s;

	if (!zalo_managed(c))
		return 0;
	if (access && *access && refresh && *refresh && json_is_integer(expires_in)) {
		s = store_stmt(d->store, "UPDATE zalo_tokens SET access_token = ?2, refresh_token = ?3, expires_at = ?4,"
			       " lease_until = 0, refreshed_at = ?5 WHERE app_id = ?1");
		sqlite3_bind_text(s, 1, c->app_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, access, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, refresh, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, clock_now(d) + json_integer_value(expires_in));
		sqlite3_bind_int64(s, 5, clock_now(d));
		if (sqlite3_step(s) != SQLITE_DONE)
			log_err("zalo: app %s: the renewed token pair could not be stored: %s", c->app_id,
				  sqlite3_errmsg(store_db(d->store)));
		else if ((renewed = 1))
			log_info("zalo: app %s: token pair renewed, valid %lld s", c->app_id,
				 (long long)json_integer_value(expires_in));
		sqlite3_reset(s);
	} else if (json_object_get(msg, "zalo_refresh_failed")) {
		s = store_stmt(d->store, "UPDATE zalo_tokens SET lease_until = 0 WHERE app_id = ?1");
		sqlite3_bind_text(s, 1, c->app_id, -1, SQLITE_STATIC);
		sqlite3_step(s);
		sqlite3_reset(s);
		log_err("zalo: app %s: the token could not be renewed (%s); if the refresh token was used or has expired,"
			  " authorise the OA again and put the new refresh_token in channel %s", c->app_id,
			  json_string_value(json_object_get(msg, "reason")) ? json_string_value(json_object_get(msg, "reason"))
			  : "?", c->name);
	} else if (json_is_true(json_object_get(msg, "token_rejected"))) {
		/* the token the job carried, unless a pair was stored since it left: a refusal of
		 * the old token does not send the new one for renewal */
		s = store_stmt(d->store, "UPDATE zalo_tokens SET expires_at = 0 WHERE app_id = ?1"
			       " AND coalesce(refreshed_at, 0) <= ?2");
		sqlite3_bind_text(s, 1, c->app_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, dispatched);
		sqlite3_step(s);
		sqlite3_reset(s);
	}
	return renewed;
}

/* op_channel - the request's channel: a zalo or zns one whose tokens thidua holds; NULL
 * once the error is set */
static const struct channel *op_channel(struct daemon *d, struct request *rq)
{
	const char *name = rq_str(rq, "channel", 1);
	const struct channel *c;

	if (!name || rq_failed(rq))
		return NULL;
	c = cfg_channel(d->cfg, name);
	if (!c) {
		rq_error(rq, ERR_UNKNOWN_CHANNEL, "there is no channel '%.64s'; 'thiduactl channels list' shows the configured ones",
			 name);
		return NULL;
	}
	if (!zalo_managed(c)) {
		rq_error(rq, ERR_INVALID_FIELD, "channel %s is not a zalo or zns channel with app_id and app_secret: thidua holds no"
			 " Zalo tokens for it (docs/CONFIG.md, \"Zalo Official Account\")", c->name);
		return NULL;
	}
	return c;
}

int op_zalo_app(struct daemon *d, struct request *rq, json_t *out)
{
	const struct channel *c = op_channel(d, rq);
	sqlite3_stmt *s;

	if (!c)
		return -1;
	json_object_set_new(out, "channel", json_string(c->name));
	json_object_set_new(out, "kind", json_string(c->kind));
	json_object_set_new(out, "app_id", json_string(c->app_id));
	json_object_set_new(out, "app_secret", json_string(c->app_secret));
	json_object_set_new(out, "oauth_url", json_string(c->oauth_url));
	json_object_set_new(out, "authorised", json_false());
	json_object_set_new(out, "expires_at", json_null());
	json_object_set_new(out, "refreshed_at", json_null());
	s = store_stmt(d->store, "SELECT expires_at, refreshed_at FROM zalo_tokens WHERE app_id = ?1");
	sqlite3_bind_text(s, 1, c->app_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		json_object_set_new(out, "authorised", json_true());
		if (sqlite3_column_int64(s, 0))
			json_object_set_new(out, "expires_at", json_time(d, sqlite3_column_int64(s, 0)));
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			json_object_set_new(out, "refreshed_at", json_time(d, sqlite3_column_int64(s, 1)));
	}
	sqlite3_reset(s);
	return 0;
}

/* token_field - a token of the request: a non-empty printable ASCII string of at most 2048
 * bytes (Zalo's tokens are a few hundred); NULL once the error is set */
static const char *token_field(struct request *rq, const char *key)
{
	const char *v = rq_str(rq, key, 1);

	if (!v || rq_failed(rq))
		return NULL;
	if (!*v || strlen(v) > 2048 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/=")
	    != strlen(v)) {
		rq_error(rq, ERR_INVALID_FIELD, "'%s' must be the token as Zalo gave it: 1 to 2048 letters, digits and -_.~+/=",
			 key);
		return NULL;
	}
	return v;
}

int op_zalo_store(struct daemon *d, struct request *rq, json_t *out)
{
	const struct channel *c = op_channel(d, rq);
	const char *access = c ? token_field(rq, "access_token") : NULL;
	const char *refresh = access ? token_field(rq, "refresh_token") : NULL;
	json_t *ei = json_object_get(rq_body(rq), "expires_in");
	int64_t now = clock_now(d), expires;
	sqlite3_stmt *s;
	int rc;

	if (!refresh)
		return -1;
	if (!json_is_integer(ei) || json_integer_value(ei) < 60 || json_integer_value(ei) > 30 * 86400)
		return rq_error(rq, ei ? ERR_INVALID_FIELD : ERR_MISSING_FIELD, "'expires_in' must be the access token's life in"
				" seconds as Zalo gave it, a whole number from 60 to 2592000");
	expires = now + (int64_t)json_integer_value(ei);
	/* one statement: the pair replaces whatever was stored, the renewal is free, and the
	 * configured refresh_token stays the seed, so only a new one in the file replaces it */
	s = store_stmt(d->store, "INSERT INTO zalo_tokens (app_id, access_token, refresh_token, expires_at, seed, lease_until,"
		       " refreshed_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6) ON CONFLICT (app_id) DO UPDATE SET"
		       " access_token = ?2, refresh_token = ?3, expires_at = ?4, seed = ?5, lease_until = 0, refreshed_at = ?6");
	sqlite3_bind_text(s, 1, c->app_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, access, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, refresh, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, expires);
	sqlite3_bind_text(s, 5, c->refresh_token ? c->refresh_token : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rq_error(rq, ERR_INTERNAL, "the token pair could not be stored: %s", store_errmsg(d->store));
	log_notice("zalo: app %s: a new authorisation stored by %s (channel %s), access token valid %lld s", c->app_id,
		   rq_principal(rq), c->name, (long long)json_integer_value(ei));
	json_object_set_new(out, "channel", json_string(c->name));
	json_object_set_new(out, "app_id", json_string(c->app_id));
	json_object_set_new(out, "expires_at", json_time(d, expires));
	return 0;
}

int zalo_token_refused(struct daemon *d, int64_t id, const char *chname)
{
	sqlite3_stmt *s;
	int before = 0;

	if (!zalo_managed(cfg_channel(d->cfg, chname)))
		return 0;
	s = store_stmt(d->store, "SELECT json_extract(payload, '$.token_refused') FROM deliveries WHERE id = ?1"
		       " AND json_valid(payload)");
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		before = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (before)
		return 2;
	s = store_stmt(d->store, "UPDATE deliveries SET payload = json_set(payload, '$.token_refused', 1) WHERE id = ?1"
		       " AND json_valid(payload)");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_step(s);
	sqlite3_reset(s);
	return 1;
}
