/*
 * sessions.c - logging in (session.login, session.redeem), the session of a web request
 * (session_resolve), session.show and session.logout; the throttling of failed logins.
 *
 * A session token is 256 random bits (64 hex digits) given once, in the reply that opens
 * it; the database keeps its SHA-256. It ends when idle longer than web.idle_minutes, when
 * older than web.max_hours (the daemon's clock), at logout, and when its account is
 * locked or gets a new password.
 *
 * Failed logins are rows of login_failures (address, name, at). An account with
 * ACCOUNT_FAILURES_MAX of them in FAILURE_WINDOW is locked until FAILURE_WINDOW after the
 * last; an address with ADDRESS_FAILURES_MAX is refused as long. Names are counted
 * whether or not such a principal exists, and the reply to a failure is the same for an
 * unknown name and a wrong password: nothing tells which names exist. A failure is a
 * refusal, whose changes the api undoes: its row and its audit entry are written after
 * that (rq_on_failure).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "config.h"
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

/* a hash to verify against when the name has no password: the same work either way */
static char dummy_hash[crypto_pwhash_STRBYTES];

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* failures_since - failed logins of a name or an address after t, and the latest one */
static int failures_since(struct daemon *d, int by_address, const char *who, int64_t t, int64_t *last)
{
	sqlite3_stmt *s = store_stmt(d->store, by_address ? "SELECT count(*), max(at) FROM login_failures WHERE address = ?1 AND at > ?2"
				     : "SELECT count(*), max(at) FROM login_failures WHERE name = ?1 AND at > ?2");
	int n = 0;

	sqlite3_bind_text(s, 1, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, t);
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_int(s, 0);
		*last = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return n;
}

/* failure_record - after a failed login is undone: its row, its audit entry, and the
 * lockout it brings about (arg: {name, address, why}) */
static void failure_record(struct daemon *d, json_t *arg)
{
	const char *name = json_string_value(json_object_get(arg, "name"));
	const char *address = json_string_value(json_object_get(arg, "address"));
	int64_t now = clock_now(d), last = 0;
	sqlite3_stmt *s = store_stmt(d->store, "INSERT INTO login_failures (address, name, at) VALUES (?1, ?2, ?3)");

	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_step(s);
	sqlite3_reset(s);
	audit_append(d, *name ? name : "web", "session.failed", *name ? name : NULL, NULL, json_incref(arg));
	if (*name && failures_since(d, 0, name, now - FAILURE_WINDOW, &last) == ACCOUNT_FAILURES_MAX) {
		s = store_stmt(d->store, "UPDATE accounts SET locked_until = ?2, failures = ?3 WHERE name = ?1");
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now + FAILURE_WINDOW);
		sqlite3_bind_int(s, 3, ACCOUNT_FAILURES_MAX);
		sqlite3_step(s);
		sqlite3_reset(s);
		audit_append(d, name, "session.lockout", name, NULL,
			     json_pack("{s:s,s:s,s:o}", "name", name, "address", address, "until", json_time(d, now + FAILURE_WINDOW)));
	}
	if (failures_since(d, 1, address, now - FAILURE_WINDOW, &last) == ADDRESS_FAILURES_MAX)
		audit_append(d, *name ? name : "web", "session.lockout", NULL, NULL,
			     json_pack("{s:s,s:o}", "address", address, "until", json_time(d, now + FAILURE_WINDOW)));
}

static void failed(struct request *rq, const char *name, const char *address, const char *why)
{
	rq_on_failure(rq, failure_record, json_pack("{s:s,s:s,s:s}", "name", name, "address", address, "why", why));
}

static int login_failed(struct request *rq, const char *name, const char *address, const char *why)
{
	failed(rq, name, address, why);
	return rq_error(rq, ERR_LOGIN_FAILED, "Tên đăng nhập hoặc mật khẩu không đúng. / The name or the password is wrong.");
}

/* throttled - refused before any password is looked at: the address or the account has
 * failed too often lately; 0 when neither */
static int throttled(struct daemon *d, struct request *rq, const char *name, const char *address)
{
	int64_t now = clock_now(d), last = 0;
	char when[64];

	if (failures_since(d, 1, address, now - FAILURE_WINDOW, &last) >= ADDRESS_FAILURES_MAX) {
		time_format(last + FAILURE_WINDOW, d->cfg->utc_offset, when, sizeof(when));
		return rq_error(rq, ERR_LOGIN_THROTTLED, "Quá nhiều lần đăng nhập sai từ địa chỉ này; thử lại sau %s. "
				"/ Too many failed logins from this address: try again after %s.", when, when);
	}
	if (name && failures_since(d, 0, name, now - FAILURE_WINDOW, &last) >= ACCOUNT_FAILURES_MAX) {
		time_format(last + FAILURE_WINDOW, d->cfg->utc_offset, when, sizeof(when));
		return rq_error(rq, ERR_ACCOUNT_LOCKED, "Tài khoản tạm khóa do đăng nhập sai nhiều lần, đến %s; thử lại sau thời điểm đó"
				" hoặc đề nghị quản trị hệ thống mở khóa. / The account is locked after too many failed logins until %s:"
				" try again then, or ask the administrator to unlock it.", when, when);
	}
	return 0;
}

/* principal_json - who a session is */
static json_t *principal_json(struct daemon *d, const struct principal *p)
{
	const struct unit *u = unitset_find(d->units, p->unit);
	json_t *roles = json_array();

	for (unsigned bit = 1; bit <= ROLE_AUDITOR; bit <<= 1)
		if (p->roles & bit)
			json_array_append_new(roles, json_string(cfg_role_name(bit)));
	return json_pack("{s:s,s:s,s:s,s:s,s:o}", "name", p->name, "display_name", p->display_name, "unit", p->unit,
			 "unit_name", u ? u->name : p->unit, "roles", roles);
}

static void session_json(struct daemon *d, const struct principal *p, const char *csrf, int64_t created, int64_t seen,
			 json_t *out)
{
	int64_t idle = seen + (int64_t)d->cfg->web_idle_minutes * 60, end = created + (int64_t)d->cfg->web_max_hours * 3600;

	json_object_set_new(out, "principal", principal_json(d, p));
	json_object_set_new(out, "csrf", json_string(csrf));
	json_object_set_new(out, "idle_expires_at", json_time(d, idle < end ? idle : end));
	json_object_set_new(out, "expires_at", json_time(d, end));
}

/* purge - sessions and failures past their time, invitations long gone */
static void purge(struct daemon *d, int64_t now)
{
	sqlite3_stmt *s = store_stmt(d->store, "DELETE FROM sessions WHERE seen_at < ?1 OR created_at < ?2");

	sqlite3_bind_int64(s, 1, now - (int64_t)d->cfg->web_idle_minutes * 60);
	sqlite3_bind_int64(s, 2, now - (int64_t)d->cfg->web_max_hours * 3600);
	sqlite3_step(s);
	sqlite3_reset(s);
	s = store_stmt(d->store, "DELETE FROM login_failures WHERE at <= ?1");
	sqlite3_bind_int64(s, 1, now - FAILURE_WINDOW);
	sqlite3_step(s);
	sqlite3_reset(s);
	s = store_stmt(d->store, "DELETE FROM invites WHERE expires_at < ?1");
	sqlite3_bind_int64(s, 1, now - 30 * 86400);
	sqlite3_step(s);
	sqlite3_reset(s);
}

/* session_open - a new session for name (whose password was just proved): its token and
 * csrf in out, with who it is; the login audited */
int session_open(struct daemon *d, struct request *rq, const char *name, const char *address, json_t *out)
{
	const struct principal *p = principal_now(d, name);
	int64_t now = clock_now(d);
	char token[65], csrf[65], hash[65];
	sqlite3_stmt *s;
	int rc;

	random_hex(token, 32);
	random_hex(csrf, 32);
	sha256_hex(token, 64, hash);
	s = store_stmt(d->store, "INSERT INTO sessions (hash, name, csrf, created_at, seen_at, address) VALUES (?1, ?2, ?3, ?4, ?4, ?5)");
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, csrf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_text(s, 5, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	s = store_stmt(d->store, "UPDATE accounts SET last_login = ?2, failures = 0, locked_until = NULL WHERE name = ?1");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_step(s);
	sqlite3_reset(s);
	s = store_stmt(d->store, "DELETE FROM login_failures WHERE name = ?1");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE
	    || audit_append(d, name, "session.login", name, p->unit, json_pack("{s:s,s:s}", "name", name, "address", address)))
		return rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL, "the session could not be stored: %s",
				store_errmsg(d->store));
	json_object_set_new(out, "session", json_string(token));
	session_json(d, p, csrf, now, now, out);
	sodium_memzero(token, sizeof(token));
	return 0;
}

/* login_caller - session.login and session.redeem come from the web socket (the
 * gateway, for whoever is at the keyboard) or from the local administrator, never from a
 * principal's own connection: 0, or -1 forbidden */
static int login_caller(struct request *rq)
{
	if (rq_web(rq) || !strcmp(rq_principal(rq), "admin"))
		return 0;
	return rq_error(rq, ERR_FORBIDDEN, "%s may not call %s: logins come from the web socket (thidua-web) or the local administrator",
			rq_principal(rq), rq_op(rq));
}

/* rq_address - the client's address as the gateway saw it ("-" when not given) */
static const char *rq_address(struct request *rq)
{
	const char *a = rq_str(rq, "address", 0);

	if (rq_failed(rq))
		return NULL;
	if (a && strlen(a) > 64)
		return rq_error(rq, ERR_INVALID_FIELD, "'address' must be an IP address (at most 64 bytes)"), NULL;
	return a && *a ? a : "-";
}

int op_session_login(struct daemon *d, struct request *rq, json_t *out)
{
	const char *name = login_caller(rq) ? NULL : rq_str(rq, "name", 1);
	const char *password = name ? rq_str(rq, "password", 1) : NULL;
	const char *address = password ? rq_address(rq) : NULL;
	const struct principal *p;
	const char *hash = NULL;
	sqlite3_stmt *s;
	int locked = 0, ok;

	if (!address)
		return -1;
	purge(d, clock_now(d));
	if (strlen(name) > 128)
		return login_failed(rq, "", address, "name too long");
	if (throttled(d, rq, name, address) || account_budget(rq))
		return -1;
	p = principal_now(d, name);
	s = store_stmt(d->store, "SELECT hash, locked FROM accounts WHERE name = ?1");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (p && sqlite3_step(s) == SQLITE_ROW) {
		hash = col(s, 0) ? xstrdup(col(s, 0)) : NULL;
		locked = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	if (!hash && !dummy_hash[0] && crypto_pwhash_str(dummy_hash, "thidua: no such account", 23, 2, 19u << 20))
		dummy_hash[0] = 0;
	ok = crypto_pwhash_str_verify(hash ? hash : dummy_hash, password, strlen(password)) == 0 && hash;
	free((char *)hash);
	if (!ok)
		return login_failed(rq, name, address, p ? "wrong password" : "unknown name");
	if (locked) {
		failed(rq, name, address, "locked");
		return rq_error(rq, ERR_ACCOUNT_LOCKED, "Tài khoản %s đang bị khóa; đề nghị quản trị hệ thống mở khóa (thiduactl principals unlock %s). "
				"/ The account %s is locked: ask the administrator to unlock it.", name, name, name);
	}
	if (principal_refusal(d, rq, cfg_principal_at(d->cfg, name, registry_today(d))))
		return -1;
	return session_open(d, rq, p->name, address, out);
}

int op_session_redeem(struct daemon *d, struct request *rq, json_t *out)
{
	const char *token = login_caller(rq) ? NULL : rq_str(rq, "token", 1);
	const char *password = token ? rq_str(rq, "password", 1) : NULL;
	const char *address = password ? rq_address(rq) : NULL;
	const struct principal *p = NULL;
	char thash[65], phash[crypto_pwhash_STRBYTES], *name = NULL;
	int64_t now = clock_now(d), expires = 0, id = 0, used = 0;
	int ended = 0, rc;
	sqlite3_stmt *s;

	if (!address)
		return -1;
	if (throttled(d, rq, NULL, address))
		return -1;
	sha256_hex(token, strlen(token), thash);
	s = store_stmt(d->store, "SELECT id, name, expires_at, used_at IS NOT NULL FROM invites WHERE hash = ?1");
	sqlite3_bind_text(s, 1, thash, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		name = xstrdup(col(s, 1));
		expires = sqlite3_column_int64(s, 2);
		used = sqlite3_column_int(s, 3);
	}
	sqlite3_reset(s);
	if (name)
		p = principal_now(d, name);
	free(name);
	if (!p || used) {
		failed(rq, "", address, "invitation unknown or used");
		return rq_error(rq, ERR_INVITE_INVALID, "Liên kết mời không hợp lệ hoặc đã được dùng; đề nghị quản trị hệ thống gửi thư mời mới. "
				"/ This invitation link is not valid or was already used: ask the administrator for a new one.");
	}
	if (now > expires) {
		char when[64];

		time_format(expires, d->cfg->utc_offset, when, sizeof(when));
		return rq_error(rq, ERR_INVITE_EXPIRED, "Liên kết mời đã hết hạn lúc %s; đề nghị quản trị hệ thống gửi thư mời mới. "
				"/ This invitation expired at %s: ask the administrator for a new one.", when, when);
	}
	if (account_password_check(d, rq, p->name, password) || account_hash(rq, password, phash, sizeof(phash)))
		return -1;
	s = store_stmt(d->store, "INSERT INTO accounts (name, hash, password_at) VALUES (?1, ?2, ?3)"
		       " ON CONFLICT (name) DO UPDATE SET hash = ?2, password_at = ?3");
	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, phash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	s = store_stmt(d->store, "UPDATE invites SET used_at = ?2 WHERE id = ?1");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	if (rc != SQLITE_DONE || sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL, "the password could not be stored: %s",
				store_errmsg(d->store));
	}
	sqlite3_reset(s);
	account_ends_sessions(d, p->name, &ended);
	if (audit_append(d, p->name, "account.redeem", p->name, p->unit,
			 json_pack("{s:s,s:s,s:i}", "name", p->name, "address", address, "sessions_ended", ended)))
		return rq_error(rq, ERR_INTERNAL, "the audit log could not be written: %s", store_errmsg(d->store));
	s = store_stmt(d->store, "SELECT locked FROM accounts WHERE name = ?1");
	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (rc) {	/* the password is set (the reply says so), but no session */
		json_object_set_new(out, "name", json_string(p->name));
		json_object_set_new(out, "session", json_null());
		json_object_set_new(out, "locked", json_true());
		return 0;
	}
	return session_open(d, rq, p->name, address, out);
}

/* session_find - the open session of a token: its name, csrf, created and seen times;
 * 0 found (and current), -1 with session_expired */
static int session_find(struct daemon *d, struct request *rq, const char *token, char hash[65], const struct principal **p,
			char csrf[65], int64_t *created, int64_t *seen)
{
	int64_t now = clock_now(d);
	sqlite3_stmt *s;
	int found = 0, current = 0;

	if (strlen(token) != 64 || strspn(token, "0123456789abcdef") != 64)
		return rq_error(rq, ERR_SESSION_EXPIRED, "Phiên làm việc không hợp lệ hoặc đã hết hạn; vui lòng đăng nhập lại. "
				"/ The session is not valid or has expired: log in again.");
	sha256_hex(token, 64, hash);
	s = store_stmt(d->store, "SELECT name, csrf, created_at, seen_at FROM sessions WHERE hash = ?1");
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		found = 1;
		*p = principal_now(d, col(s, 0));
		xstrlcpy(csrf, col(s, 1), 65);
		*created = sqlite3_column_int64(s, 2);
		*seen = sqlite3_column_int64(s, 3);
		current = *p && now - *seen <= (int64_t)d->cfg->web_idle_minutes * 60
			  && now - *created <= (int64_t)d->cfg->web_max_hours * 3600;
	}
	sqlite3_reset(s);
	if (current)
		return 0;
	if (found) {
		s = store_stmt(d->store, "DELETE FROM sessions WHERE hash = ?1");
		sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
		sqlite3_step(s);
		sqlite3_reset(s);
	}
	return rq_error(rq, ERR_SESSION_EXPIRED, "Phiên làm việc đã hết hạn; vui lòng đăng nhập lại. / The session has expired: log in again.");
}

int session_resolve(struct daemon *d, struct request *rq, const char *token, const char **name)
{
	const struct principal *p = NULL;
	char hash[65], csrf[65];
	int64_t created, seen;
	sqlite3_stmt *s;

	if (session_find(d, rq, token, hash, &p, csrf, &created, &seen))
		return -1;
	s = store_stmt(d->store, "UPDATE sessions SET seen_at = ?2 WHERE hash = ?1");
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, clock_now(d));
	sqlite3_step(s);
	sqlite3_reset(s);
	*name = p->name;
	return 0;
}

/* rq_session - the session member (on the web socket api.c has resolved it already) */
static int rq_session(struct daemon *d, struct request *rq, char hash[65], const struct principal **p, char csrf[65],
		      int64_t *created, int64_t *seen)
{
	const char *token = rq_str(rq, "session", 1);

	if (!token)
		return -1;
	return session_find(d, rq, token, hash, p, csrf, created, seen);
}

int op_session_show(struct daemon *d, struct request *rq, json_t *out)
{
	const struct principal *p;
	char hash[65], csrf[65];
	int64_t created, seen;

	if (rq_session(d, rq, hash, &p, csrf, &created, &seen))
		return -1;
	session_json(d, p, csrf, created, seen, out);
	return 0;
}

int op_session_logout(struct daemon *d, struct request *rq, json_t *out)
{
	const struct principal *p;
	char hash[65], csrf[65];
	int64_t created, seen;
	sqlite3_stmt *s;

	if (rq_session(d, rq, hash, &p, csrf, &created, &seen))
		return -1;
	s = store_stmt(d->store, "DELETE FROM sessions WHERE hash = ?1");
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_reset(s);
	json_object_set_new(out, "name", json_string(p->name));
	if (audit_append(d, p->name, "session.logout", p->name, p->unit, json_pack("{s:s}", "name", p->name)))
		return rq_error(rq, ERR_INTERNAL, "the audit log could not be written: %s", store_errmsg(d->store));
	return 0;
}
