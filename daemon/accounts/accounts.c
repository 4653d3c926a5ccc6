/*
 * accounts.c - passwords and invitations of the principals who use the web page, and the
 * administrator's ops on them (account.invite, account.passwd, account.lock,
 * account.unlock, accounts.list).
 *
 * A password is kept as libsodium's crypto_pwhash_str string: Argon2id, opslimit 2,
 * memlimit 19 MiB (OWASP's smallest recommended setting: thiduad stays within its memory
 * bound). One computation takes about 50-75 ms on the 2-core machine the project is
 * measured on, all of it on the main loop, so a turn computes at most VERIFY_PER_TURN of
 * them and refuses the rest login_throttled: a burst of logins delays the other requests
 * of a turn by at most ~0.3 s, whatever its size. Failed logins are counted per account
 * and per address (sessions.c).
 *
 * An invitation's token is HMAC-SHA256(invite.key, nonce): the database keeps the nonce
 * and the token's SHA-256, never the token; the mail renders it again from the nonce
 * (invite_render), so a copy of the database alone cannot redeem an invitation.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "audit.h"
#include "authz.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "outbox.h"
#include "registry.h"
#include "reorg.h"
#include "rq.h"
#include "sha256.h"
#include "statedir.h"
#include "store.h"
#include "templates.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"
#include "utf8.h"
#include "xalloc.h"

#define INVITE_KEY_FILE "invite.key"
#define PWHASH_OPS 2
#define PWHASH_MEM (19u << 20)

static unsigned char invite_key[32];
static int verifications;		/* Argon2id computations this turn */

/* render_invite - the outbox's renderer of kind "account_invite" */
static void render_invite(struct daemon *d, const struct outbox_message *m, const struct unit *to,
			  const struct outbox_item *items, size_t n, int32_t today, enum tmpl_channel ch,
			  char **subject, char **body)
{
	(void)to;
	(void)items;
	(void)n;
	(void)today;
	(void)ch;
	if (invite_render(d, m->step, subject, body)) {
		*subject = xstrdup("[thidua] Thư mời đã được thay thế");
		*body = xstrdup("Thư mời đặt mật khẩu này đã được thay thế bằng thư mời mới hoặc đã được dùng.\n");
	}
}

int accounts_init(struct daemon *d, char *err, size_t errsize)
{
	char text[130];

	outbox_renderer("account_invite", render_invite);
	if (sodium_init() < 0) {
		snprintf(err, errsize, "libsodium cannot start (sodium_init)");
		return -1;
	}
	if (state_key(d, INVITE_KEY_FILE, "makes the tokens of account invitations", text, err, errsize))
		return -1;
	if (sodium_hex2bin(invite_key, sizeof(invite_key), text, 64, NULL, NULL, NULL)) {
		snprintf(err, errsize, "%s/%s is not a key: restore it from a backup", d->state_dir, INVITE_KEY_FILE);
		return -1;
	}
	sodium_memzero(text, sizeof(text));
	return 0;
}

void accounts_turn(void)
{
	verifications = 0;
}

/* account_budget - one more Argon2id computation this turn; -1 login_throttled when the
 * turn has had its share (the client tries again in a moment) */
int account_budget(struct request *rq)
{
	if (verifications >= VERIFY_PER_TURN)
		return rq_error(rq, ERR_LOGIN_THROTTLED, "Máy chủ đang bận kiểm tra đăng nhập, vui lòng thử lại sau vài giây. "
				"/ The server is busy checking other logins: try again in a few seconds.");
	verifications++;
	return 0;
}

void random_hex(char *out, size_t bytes)
{
	unsigned char raw[64];

	randombytes_buf(raw, bytes);
	sodium_bin2hex(out, 2 * bytes + 1, raw, bytes);
	sodium_memzero(raw, sizeof(raw));
}

/* account_password_check - the rules of a new password: 10 to 128 bytes of UTF-8, not
 * the login name; -1 invalid_field naming the rule */
int account_password_check(struct daemon *d, struct request *rq, const char *name, const char *password)
{
	size_t n = strlen(password);

	(void)d;
	if (n < PASSWORD_MIN || n > PASSWORD_MAX)
		return rq_error(rq, ERR_INVALID_FIELD, "'password': mật khẩu phải dài từ %d đến %d byte (hiện có %zu) / the password must be %d to %d bytes long (it has %zu)",
				PASSWORD_MIN, PASSWORD_MAX, n, PASSWORD_MIN, PASSWORD_MAX, n);
	if (!utf8_valid(password, n))
		return rq_error(rq, ERR_INVALID_FIELD, "'password': mật khẩu phải là văn bản UTF-8 / the password must be UTF-8 text");
	if (!strcasecmp(password, name))
		return rq_error(rq, ERR_INVALID_FIELD, "'password': mật khẩu không được trùng tên đăng nhập / the password must not be the login name");
	return 0;
}

/* account_hash - the Argon2id string of password into out (crypto_pwhash_STRBYTES) */
int account_hash(struct request *rq, const char *password, char *out, size_t outsize)
{
	if (outsize < crypto_pwhash_STRBYTES)
		return rq_error(rq, ERR_INTERNAL, "account_hash: buffer too small");
	if (account_budget(rq))
		return -1;
	if (crypto_pwhash_str(out, password, strlen(password), PWHASH_OPS, PWHASH_MEM))
		return rq_error(rq, ERR_INTERNAL, "the password could not be hashed (out of memory?): try again");
	return 0;
}

/* principal_now - the post of name in force today (a principal may have several, one
 * after another: principals[].from/until), else its first; NULL: no such principal */
const struct principal *principal_now(struct daemon *d, const char *name)
{
	const struct principal *p = cfg_principal_at(d->cfg, name, registry_today(d));

	return p ? p : cfg_principal(d->cfg, name);
}

/* account_ends_sessions - every open session of name ends */
void account_ends_sessions(struct daemon *d, const char *name, int *ended)
{
	sqlite3_stmt *s = store_stmt(d->store, "DELETE FROM sessions WHERE name = ?1");

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_reset(s);
	if (ended)
		*ended = sqlite3_changes(store_db(d->store));
}

/* rq_account - the principal a request names in 'name'; NULL with an error */
static const struct principal *rq_account(struct daemon *d, struct request *rq)
{
	const char *name = rq_str(rq, "name", 1);
	const struct principal *p;

	if (!name)
		return NULL;
	p = principal_now(d, name);
	if (!p)
		rq_error(rq, ERR_UNKNOWN_PRINCIPAL, "there is no principal '%.*s' in %s: accounts are those of the principals listed there (thiduactl principals list)",
			 (int)utf8_clip(name, 64), name, d->cfg->path);
	return p;
}

static int exec_name(struct daemon *d, const char *sql, const char *name, int64_t t)
{
	sqlite3_stmt *s = store_stmt(d->store, sql);
	int rc;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, t);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(s);
	return rc;
}

static int storage_error(struct daemon *d, struct request *rq)
{
	return rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL, "the account could not be stored: %s",
			store_errmsg(d->store));
}

/* invite_token - the token of the invitation with this nonce (64 hex digits) */
static void invite_token(const char *nonce, char out[65])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(mac, (const unsigned char *)nonce, strlen(nonce), invite_key);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
}

int op_account_invite(struct daemon *d, struct request *rq, json_t *out)
{
	const struct principal *p = rq_account(d, rq);
	const struct unit *u;
	int64_t now = clock_now(d), expires = now + (int64_t)d->cfg->web_invite_hours * 3600, id;
	char nonce[65], token[65], hash[65], key[64], step[48];
	json_t *sent = json_array();
	sqlite3_stmt *s;
	char *link;

	if (!p) {
		json_decref(sent);
		return -1;
	}
	u = unitset_find(d->units, p->unit);
	random_hex(nonce, 32);
	invite_token(nonce, token);
	sha256_hex(token, 64, hash);
	if (exec_name(d, "DELETE FROM invites WHERE name = ?1 AND used_at IS NULL AND ?2 = ?2", p->name, 0)) {
		json_decref(sent);
		return storage_error(d, rq);
	}
	s = store_stmt(d->store, "INSERT INTO invites (hash, nonce, name, created_at, expires_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, expires);
	sqlite3_bind_text(s, 6, rq_principal(rq), -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		json_decref(sent);
		return storage_error(d, rq);
	}
	sqlite3_reset(s);
	id = sqlite3_last_insert_rowid(store_db(d->store));
	if (u && u->emails && u->emails[0]) {
		snprintf(key, sizeof(key), "account_invite/%lld", (long long)id);
		snprintf(step, sizeof(step), "invite/%lld", (long long)id);
		s = store_stmt(d->store, "INSERT INTO outbox (dedup_key, recipient, kind, report, period, step, moment,"
			       " created_at, send_after, late) VALUES (?1, ?2, 'account_invite', '', '', ?3, ?4, ?4, ?4, 0)");
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, u->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, step, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, now);
		if (sqlite3_step(s) != SQLITE_DONE) {
			sqlite3_reset(s);
			json_decref(sent);
			return storage_error(d, rq);
		}
		sqlite3_reset(s);
		for (size_t i = 0; u->emails[i]; i++)
			json_array_append_new(sent, json_string(u->emails[i]));
	}
	link = xasprintf("%s/moi/%s", d->cfg->web_url, token);
	json_object_set_new(out, "name", json_string(p->name));
	json_object_set_new(out, "link", json_string(link));
	json_object_set_new(out, "expires_at", json_time(d, expires));
	json_object_set(out, "sent_to", sent);
	free(link);
	sodium_memzero(token, sizeof(token));
	if (audit_append(d, rq_principal(rq), "account.invite", p->name, p->unit,
			 json_pack("{s:s,s:o,s:o}", "name", p->name, "expires_at", json_time(d, expires), "sent_to", sent)))
		return storage_error(d, rq);
	return 0;
}

int invite_render(struct daemon *d, const char *step, char **subject, char **body)
{
	long long id = strncmp(step, "invite/", 7) ? 0 : atoll(step + 7);
	sqlite3_stmt *s = store_stmt(d->store, "SELECT nonce, name, expires_at FROM invites WHERE id = ?1 AND used_at IS NULL");
	int rc = -1;

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 1);
		const struct principal *p = principal_now(d, name);
		const struct unit *u = p ? unitset_find(d->units, p->unit) : NULL;
		struct tmpl_values v = { 0 };
		char token[65], when[64], *link;
		time_t t = (time_t)(sqlite3_column_int64(s, 2) + d->cfg->utc_offset);
		struct tm tm;

		invite_token((const char *)sqlite3_column_text(s, 0), token);
		gmtime_r(&t, &tm);	/* local time of the movement's zone, as people read it */
		snprintf(when, sizeof(when), "%02d:%02d ngày %02d/%02d/%04d", tm.tm_hour, tm.tm_min, tm.tm_mday, tm.tm_mon + 1,
			 tm.tm_year + 1900);
		link = xasprintf("%s/moi/%s", d->cfg->web_url, token);
		v.v[TV_RECIPIENT_NAME] = p ? p->display_name : name;
		v.v[TV_ACCOUNT] = name;
		v.v[TV_UNIT_NAME] = u ? u->name : p ? p->unit : "";
		v.v[TV_UNIT_CODE] = p ? p->unit : "";
		v.v[TV_EXPIRES_AT] = when;
		v.v[TV_LINK] = link;
		templates_render(d->cfg->templates, TE_ACCOUNT_INVITE, TC_MAIL, &v, subject, body);
		sodium_memzero(link, strlen(link));
		free(link);
		sodium_memzero(token, sizeof(token));
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

int op_account_passwd(struct daemon *d, struct request *rq, json_t *out)
{
	const struct principal *p = rq_account(d, rq);
	const char *password = p ? rq_str(rq, "password", 1) : NULL;
	char hash[crypto_pwhash_STRBYTES];
	int ended = 0;
	sqlite3_stmt *s;

	if (!p || !password || account_password_check(d, rq, p->name, password) || account_hash(rq, password, hash, sizeof(hash)))
		return -1;
	s = store_stmt(d->store, "INSERT INTO accounts (name, hash, password_at) VALUES (?1, ?2, ?3)"
		       " ON CONFLICT (name) DO UPDATE SET hash = ?2, password_at = ?3, failures = 0, locked_until = NULL");
	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, clock_now(d));
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return storage_error(d, rq);
	}
	sqlite3_reset(s);
	exec_name(d, "DELETE FROM login_failures WHERE name = ?1 AND ?2 = ?2", p->name, 0);
	account_ends_sessions(d, p->name, &ended);
	json_object_set_new(out, "name", json_string(p->name));
	json_object_set_new(out, "sessions_ended", json_integer(ended));
	if (audit_append(d, rq_principal(rq), "account.passwd", p->name, p->unit,
			 json_pack("{s:s,s:i}", "name", p->name, "sessions_ended", ended)))
		return storage_error(d, rq);
	return 0;
}

int op_account_lock(struct daemon *d, struct request *rq, json_t *out)
{
	const struct principal *p = rq_account(d, rq);
	int lock = !strcmp(rq_op(rq), "account.lock"), ended = 0;

	if (!p)
		return -1;
	if (exec_name(d, lock ? "INSERT INTO accounts (name, locked) VALUES (?1, 1) ON CONFLICT (name) DO UPDATE SET locked = 1 WHERE ?2 = ?2"
		      : "INSERT INTO accounts (name, locked) VALUES (?1, 0) ON CONFLICT (name) DO UPDATE SET locked = 0, failures = 0,"
			" locked_until = NULL WHERE ?2 = ?2", p->name, 0))
		return storage_error(d, rq);
	if (lock)
		account_ends_sessions(d, p->name, &ended);
	else
		exec_name(d, "DELETE FROM login_failures WHERE name = ?1 AND ?2 = ?2", p->name, 0);
	json_object_set_new(out, "name", json_string(p->name));
	json_object_set_new(out, "locked", json_boolean(lock));
	if (lock)
		json_object_set_new(out, "sessions_ended", json_integer(ended));
	return 0;
}

int op_accounts_list(struct daemon *d, struct request *rq, json_t *out)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT hash IS NOT NULL, locked, locked_until, last_login,"
				     " (SELECT count(*) FROM login_failures f WHERE f.name = ?1 AND f.at > ?2)"
				     " FROM accounts WHERE name = ?1");
	int64_t now = clock_now(d);
	json_t *rows = json_array();

	(void)rq;
	for (size_t i = 0; i < d->cfg->nprincipals; i++) {
		const struct principal *p = principal_now(d, d->cfg->principals[i].name);
		const struct unit *u = unitset_find(d->units, p->unit);
		json_t *roles;
		json_t *row;
		int64_t until = 0;

		if (cfg_principal(d->cfg, p->name) != &d->cfg->principals[i])
			continue;	/* one account per name: its post in force today */
		roles = json_array();

		for (unsigned bit = 1; bit <= ROLE_AUDITOR; bit <<= 1)
			if (p->roles & bit)
				json_array_append_new(roles, json_string(cfg_role_name(bit)));
		row = json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:b,s:i,s:n,s:n}", "name", p->name, "display_name", p->display_name,
				"unit", p->unit, "unit_name", u ? u->name : p->unit, "roles", roles, "has_password", 0,
				"locked", 0, "failed_logins", 0, "locked_until", "last_login");
		sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now - FAILURE_WINDOW);
		if (sqlite3_step(s) == SQLITE_ROW) {
			json_object_set_new(row, "has_password", json_boolean(sqlite3_column_int(s, 0)));
			json_object_set_new(row, "locked", json_boolean(sqlite3_column_int(s, 1)));
			until = sqlite3_column_int64(s, 2);
			if (until > now)
				json_object_set_new(row, "locked_until", json_time(d, until));
			if (sqlite3_column_type(s, 3) != SQLITE_NULL)
				json_object_set_new(row, "last_login", json_time(d, sqlite3_column_int64(s, 3)));
			json_object_set_new(row, "failed_logins", json_integer(sqlite3_column_int(s, 4)));
		}
		sqlite3_reset(s);
		json_array_append_new(rows, row);
	}
	json_object_set_new(out, "accounts", rows);
	return 0;
}
