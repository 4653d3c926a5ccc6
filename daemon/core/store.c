/*
 * store.c - SQLite open, pragmas, migrations and the prepared-statement cache.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "migrations.h"
#include "store.h"
#include "xalloc.h"

struct stmt_slot {
	const char *sql;	/* key: the address of the literal */
	sqlite3_stmt *stmt;
};

/*
 * Values written once per transaction, at its commit, however many requests of the turn
 * changed them: the audit head (meta) and the receipt counters. Each request's savepoint
 * snapshots them and its rollback restores the snapshot, as SQLite does for the rows.
 */
#define NDEFERRED 4

struct deferred {
	int counter;		/* 1: counters.name = n; 0: meta.key = text */
	char key[32];
	char text[192];		/* the audit head: seq:hash:mac */
	int64_t n;
};

struct store {
	sqlite3 *db;
	char *path;
	struct stmt_slot *slots;
	size_t nslots, used;
	int in_txn;
	int last_rc;
	struct deferred dv[NDEFERRED], dv_saved[NDEFERRED];
	size_t ndv, ndv_saved;
	void (*before_commit)(struct store *st, void *arg);	/* finishes the deferred values */
	void *before_commit_arg;
};


/* pragma_int - read an integer pragma */
static int pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* fk_broken - 1 when a row refers to one that is not there (PRAGMA foreign_key_check) */
static int fk_broken(sqlite3 *db)
{
	sqlite3_stmt *s;
	int broken = 1;

	if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &s, NULL) != SQLITE_OK)
		return 1;
	broken = sqlite3_step(s) != SQLITE_DONE;
	sqlite3_finalize(s);
	return broken;
}

/* migrate - apply the migrations the database has not seen (daemon/core/migrations/NNN-name.sql,
 * migrations.h), each in its transaction.
 * Foreign keys are off meanwhile, as rebuilding a table needs (dropping the old one must
 * not touch the rows that refer to it), and each migration is checked before it commits. */
static int migrate(struct store *st, char *err, size_t errsize)
{
	int version = pragma_int(st->db, "PRAGMA user_version"), rc = 0;

	if (version > store_nmigrations) {
		snprintf(err, errsize, "the database %s has schema version %d, newer than this thiduad knows (%d): use a newer thiduad",
			 st->path, version, store_nmigrations);
		return -1;
	}
	if (version < store_nmigrations)
		sqlite3_exec(st->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	for (; version < store_nmigrations; version++) {
		char pragma[64];
		char *msg = NULL;

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK
		    || sqlite3_exec(st->db, store_migrations[version], NULL, NULL, &msg) != SQLITE_OK
		    || (fk_broken(st->db) && (msg = sqlite3_mprintf("a row refers to one that is not there"), 1))
		    || sqlite3_exec(st->db, pragma, NULL, NULL, &msg) != SQLITE_OK
		    || sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errsize, "schema migration to version %d failed: %s", version + 1,
				 msg ? msg : "?");
			sqlite3_free(msg);
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			rc = -1;
			break;
		}
		log_info("database schema migrated to version %d", version + 1);
	}
	sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return rc;
}

/* store_open - open or create the database and bring its schema up to date */
struct store *store_open(const char *path, char *err, size_t errsize)
{
	struct store *st = xcalloc(1, sizeof(*st));
	static const char *const pragmas[] = {
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = FULL",
		"PRAGMA foreign_keys = ON",
		"PRAGMA busy_timeout = 5000",
		"PRAGMA cache_size = -8000",		/* pages are only held as they are used */
		"PRAGMA temp_store = MEMORY",		/* savepoint journals stay off the disk */
		"PRAGMA wal_autocheckpoint = 10000",	/* checkpoint in idle moments, not in every commit */
	};

	/* one thread uses SQLite and nothing reads its memory statistics: without them every
	 * allocation SQLite makes skips a global mutex (refused, harmlessly, once initialized) */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
			    | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "cannot open the database %s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(&st);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
		if (sqlite3_exec(st->db, pragmas[i], NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(err, errsize, "database %s: %s failed: %s", path, pragmas[i],
				 sqlite3_errmsg(st->db));
			store_close(&st);
			return NULL;
		}
	}
	if (migrate(st, err, errsize)) {
		store_close(&st);
		return NULL;
	}
	st->nslots = 256;
	st->slots = xcalloc(st->nslots, sizeof(*st->slots));
	return st;
}

/* store_close - finalize every cached statement and close; accepts NULL */
void store_close(struct store **self_p)
{
	struct store *st = *self_p;

	if (!st)
		return;
	for (size_t i = 0; i < st->nslots; i++)
		if (st->slots[i].stmt)
			sqlite3_finalize(st->slots[i].stmt);
	free(st->slots);
	if (st->db && sqlite3_close(st->db) != SQLITE_OK)
		log_err("closing the database: %s", sqlite3_errmsg(st->db));
	free(st->path);
	free(st);
	*self_p = NULL;
}

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

const char *store_path(const struct store *st)
{
	return st->path;
}

int store_schema_version(struct store *st)
{
	return pragma_int(st->db, "PRAGMA user_version");
}

/* grow - double the statement cache */
static void grow(struct store *st)
{
	struct stmt_slot *old = st->slots;
	size_t oldn = st->nslots;

	st->nslots *= 2;
	st->slots = xcalloc(st->nslots, sizeof(*st->slots));
	for (size_t i = 0; i < oldn; i++) {
		if (!old[i].sql)
			continue;
		size_t h = ((uintptr_t)old[i].sql >> 3) & (st->nslots - 1);

		while (st->slots[h].sql)
			h = (h + 1) & (st->nslots - 1);
		st->slots[h] = old[i];
	}
	free(old);
}

/* store_stmt - find or prepare the statement for this literal */
sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
	size_t h;

	if (st->used * 2 >= st->nslots)
		grow(st);
	h = ((uintptr_t)sql >> 3) & (st->nslots - 1);
	while (st->slots[h].sql && st->slots[h].sql != sql)
		h = (h + 1) & (st->nslots - 1);
	if (!st->slots[h].sql) {
		if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &st->slots[h].stmt, NULL) != SQLITE_OK)
			fatal("cannot prepare statement: %s: %s", sqlite3_errmsg(st->db), sql);
		st->slots[h].sql = sql;
		st->used++;
		return st->slots[h].stmt;
	}
	sqlite3_reset(st->slots[h].stmt);
	sqlite3_clear_bindings(st->slots[h].stmt);
	return st->slots[h].stmt;
}

/* store_exec - run a fixed statement; returns 0 or -1 with the reason logged */
int store_exec(struct store *st, const char *sql)
{
	char *msg = NULL;

	st->last_rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
	if (st->last_rc != SQLITE_OK) {
		log_err("database: %s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int step_fixed(struct store *st, const char *sql);

static int begin_with(struct store *st, const char *sql)
{
	if (step_fixed(st, sql))
		return -1;
	st->in_txn = 1;
	st->ndv = st->ndv_saved = 0;
	return 0;
}

int store_begin(struct store *st)
{
	return begin_with(st, "BEGIN IMMEDIATE");
}

/* store_begin_deferred - the only writer is this connection (backup writes its own
 * snapshot file), so the upgrade to a write lock at the first write cannot be refused */
int store_begin_deferred(struct store *st)
{
	return begin_with(st, "BEGIN DEFERRED");
}

static int counter_write(struct store *st, const char *name, int64_t n);

/* deferred_flush - write the values kept for the commit */
static int deferred_flush(struct store *st)
{
	for (size_t i = 0; i < st->ndv; i++) {
		struct deferred *v = &st->dv[i];

		if (v->counter ? counter_write(st, v->key, v->n) : store_meta_set(st, v->key, v->text))
			return -1;
	}
	st->ndv = st->ndv_saved = 0;
	return 0;
}

/* store_before_commit - fn runs at each commit, before the deferred values are written:
 * what is computed once per transaction (the audit head's signature) is computed there */
void store_before_commit(struct store *st, void (*fn)(struct store *st, void *arg), void *arg)
{
	st->before_commit = fn;
	st->before_commit_arg = arg;
}

int store_commit(struct store *st)
{
	if (st->before_commit && st->ndv)
		st->before_commit(st, st->before_commit_arg);
	st->in_txn = 0;		/* from here on the values are written, not kept */
	if (deferred_flush(st) || step_fixed(st, "COMMIT")) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

void store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_txn = 0;
	st->ndv = st->ndv_saved = 0;
}

int store_in_txn(struct store *st)
{
	return st->in_txn;
}

/* the savepoint statements are prepared once, like every other statement */
static int step_fixed(struct store *st, const char *sql)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	st->last_rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (st->last_rc != SQLITE_DONE) {
		log_err("database: %s: %s", sql, sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

/* store_keep - snapshot the deferred values, for store_unkeep */
void store_keep(struct store *st)
{
	memcpy(st->dv_saved, st->dv, st->ndv * sizeof(st->dv[0]));
	st->ndv_saved = st->ndv;
}

/* store_unkeep - the deferred values as store_keep saw them */
void store_unkeep(struct store *st)
{
	memcpy(st->dv, st->dv_saved, st->ndv_saved * sizeof(st->dv[0]));
	st->ndv = st->ndv_saved;
}

/* store_changes - rows inserted, updated or deleted since the database was opened (by
 * statements that completed); -1 when the transaction is gone (SQLite rolled it back) */
int64_t store_changes(struct store *st)
{
	if (st->in_txn && sqlite3_get_autocommit(st->db))
		return -1;
	return sqlite3_total_changes64(st->db);
}

int store_savepoint(struct store *st)
{
	store_keep(st);
	return step_fixed(st, "SAVEPOINT req");
}

void store_release(struct store *st)
{
	step_fixed(st, "RELEASE req");
}

void store_rollback_to(struct store *st)
{
	step_fixed(st, "ROLLBACK TO req");
	step_fixed(st, "RELEASE req");
	store_unkeep(st);
}

/* store_checkpoint - a passive WAL checkpoint, when the loop has nothing else to do */
void store_checkpoint(struct store *st)
{
	int log = 0, done = 0;

	if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK && done)
		log_debug("checkpoint: %d of %d WAL frames written back", done, log);
}

int store_last_full(struct store *st)
{
	int rc = st->last_rc & 0xff;
	int ext = sqlite3_extended_errcode(st->db) & 0xff;

	return rc == SQLITE_FULL || ext == SQLITE_FULL || rc == SQLITE_IOERR;
}

const char *store_errmsg(struct store *st)
{
	return sqlite3_errmsg(st->db);
}

/* deferred_find - the value kept for key in this transaction, or NULL; add one when asked */
static struct deferred *deferred_find(struct store *st, int counter, const char *key, int add)
{
	for (size_t i = 0; i < st->ndv; i++)
		if (st->dv[i].counter == counter && !strcmp(st->dv[i].key, key))
			return &st->dv[i];
	if (!add || st->ndv == NDEFERRED || strlen(key) >= sizeof(st->dv[0].key))
		return NULL;
	memset(&st->dv[st->ndv], 0, sizeof(st->dv[0]));
	st->dv[st->ndv].counter = counter;
	xstrlcpy(st->dv[st->ndv].key, key, sizeof(st->dv[0].key));
	return &st->dv[st->ndv++];
}

/* store_meta_pending - the value store_meta_later keeps for the commit; 0 found, -1 none */
int store_meta_pending(struct store *st, const char *key, char *buf, size_t size)
{
	struct deferred *v = st->in_txn ? deferred_find(st, 0, key, 0) : NULL;

	if (!v)
		return -1;
	xstrlcpy(buf, v->text, size);
	return 0;
}

/* store_meta_later - set a meta value at the commit of this transaction (at once outside
 * one, or when the value does not fit what is kept) */
int store_meta_later(struct store *st, const char *key, const char *value)
{
	struct deferred *v;

	if (!st->in_txn || strlen(value) >= sizeof(st->dv[0].text) || !(v = deferred_find(st, 0, key, 1)))
		return store_meta_set(st, key, value);
	xstrlcpy(v->text, value, sizeof(v->text));
	return 0;
}

static int counter_write(struct store *st, const char *name, int64_t n)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO counters (name, value) VALUES (?1, ?2)"
				     " ON CONFLICT (name) DO UPDATE SET value = excluded.value");

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n);
	st->last_rc = sqlite3_step(s);
	sqlite3_reset(s);
	return st->last_rc == SQLITE_DONE ? 0 : -1;
}

/* store_counter_next - the next value of a counter (1 first), never handed out twice:
 * in a transaction it is counted in memory and written at the commit. -1 on errors */
int64_t store_counter_next(struct store *st, const char *name)
{
	sqlite3_stmt *s;
	struct deferred *v = st->in_txn ? deferred_find(st, 1, name, 0) : NULL;
	int64_t n = 0;

	if (v)
		return ++v->n;
	s = store_stmt(st, "SELECT value FROM counters WHERE name = ?1");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	st->last_rc = sqlite3_step(s);
	if (st->last_rc == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (st->last_rc != SQLITE_ROW && st->last_rc != SQLITE_DONE)
		return -1;
	n++;
	if (st->in_txn && (v = deferred_find(st, 1, name, 1))) {
		v->n = n;
		return n;
	}
	return counter_write(st, name, n) ? -1 : n;
}

/* store_meta_get - copy a meta value into buf (the one kept for the commit first); 0 found,
 * -1 absent */
int store_meta_get(struct store *st, const char *key, char *buf, size_t size)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT value FROM meta WHERE key = ?1");
	int rc = -1;

	if (store_meta_pending(st, key, buf, size) == 0)
		return 0;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		xstrlcpy(buf, (const char *)sqlite3_column_text(s, 0), size);
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

/* store_meta_set - insert or replace a meta value */
int store_meta_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO meta(key, value) VALUES (?1, ?2) "
				     "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	int rc;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	st->last_rc = rc;
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}
