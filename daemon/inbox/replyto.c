/*
 * replyto.c - the Reply-To of a unit's notice: LOCAL+TOKEN@DOMAIN (daemon.reply_to), where
 * TOKEN names the obligation (report, period, unit) a reminder, an overdue notice or a
 * return is about, so that a reply with the report attached can be taken as its submission.
 *
 * TOKEN is the first 20 characters (100 bits) of the base32 (lower case, RFC 4648 alphabet:
 * mail servers may fold a local part's case) of HMAC-SHA256 under a key kept in
 * STATE_DIR/reply.key (0600, made at the first start, never in the database) of
 * "report\nperiod\nunit". It cannot be guessed without the key; the table reply_tokens maps
 * the tokens given out back to their obligation, and a lookup checks the MAC again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "store.h"
#include "thiduad.h"
#include "xalloc.h"

#define KEY_FILE "reply.key"
#define TOKEN_LEN 20

static struct hmac_sha256 reply_key;
static int have_key;

int replyto_init(struct daemon *d, char *err, size_t errsize)
{
	char text[128];

	if (!d->cfg->reply_local)
		return 0;
	if (state_key(d, KEY_FILE, "names the obligations in the Reply-To of reminders", text, err, errsize))
		return -1;
	hmac_sha256_key(&reply_key, text, 64);
	have_key = 1;
	return 0;
}

/* token - the obligation's token (TOKEN_LEN characters and a NUL) */
static void token(const char *report, const char *period, const char *unit, char out[TOKEN_LEN + 1])
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	struct sha256 c = reply_key.inner;
	unsigned char mac[32];
	unsigned acc = 0;
	int bits = 0, n = 0;

	sha256_update(&c, report, strlen(report));
	sha256_update(&c, "\n", 1);
	sha256_update(&c, period, strlen(period));
	sha256_update(&c, "\n", 1);
	sha256_update(&c, unit, strlen(unit));
	hmac_sha256_end(&reply_key, &c, mac);
	for (int i = 0; n < TOKEN_LEN; i++) {
		acc = (acc << 8) | mac[i];
		bits += 8;
		while (bits >= 5 && n < TOKEN_LEN) {
			out[n++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	out[n] = 0;
}

int replyto_address(struct daemon *d, const char *kind, const char *report, const char *period, const char *unit,
		    char *buf, size_t size)
{
	char t[TOKEN_LEN + 1];
	sqlite3_stmt *s;
	int ok;

	if (!have_key || !d->cfg->reply_local || !report || !*report || !period || !*period || !unit
	    || (strcmp(kind, "reminder") && strcmp(kind, "overdue") && strcmp(kind, "returned")))
		return 0;
	token(report, period, unit, t);
	s = store_stmt(d->store, "INSERT OR IGNORE INTO reply_tokens (token, report, period, unit, created) VALUES (?1, ?2, ?3, ?4, ?5)");
	sqlite3_bind_text(s, 1, t, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, report, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, period, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, clock_now(d));
	ok = sqlite3_step(s) == SQLITE_DONE;
	sqlite3_reset(s);
	if (!ok)
		return 0;	/* without its row the token would name nothing: no Reply-To */
	snprintf(buf, size, "%s+%s@%s", d->cfg->reply_local, t, d->cfg->reply_domain);
	return 1;
}

int replyto_lookup(struct daemon *d, const char *tok, char **report, char **period, char **unit)
{
	sqlite3_stmt *s;
	int rc = -1;
	char t[TOKEN_LEN + 1], low[TOKEN_LEN + 1];
	size_t n = strlen(tok);

	if (!have_key || n != TOKEN_LEN)
		return -1;
	for (size_t i = 0; i <= n; i++)
		low[i] = tok[i] >= 'A' && tok[i] <= 'Z' ? (char)(tok[i] - 'A' + 'a') : tok[i];
	s = store_stmt(d->store, "SELECT report, period, unit FROM reply_tokens WHERE token = ?1");
	sqlite3_bind_text(s, 1, low, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		token((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		      (const char *)sqlite3_column_text(s, 2), t);
		if (!strcmp(t, low)) {
			*report = xstrdup((const char *)sqlite3_column_text(s, 0));
			*period = xstrdup((const char *)sqlite3_column_text(s, 1));
			*unit = xstrdup((const char *)sqlite3_column_text(s, 2));
			rc = 0;
		}
	}
	sqlite3_reset(s);
	return rc;
}
