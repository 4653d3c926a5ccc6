/*
 * store.h - the SQLite database: the only place state lives, opened by thiduad alone.
 *
 * WAL mode, synchronous=FULL, foreign keys on; the schema is applied by numbered
 * migrations recorded in PRAGMA user_version. Statements are prepared once and cached by
 * the address of their SQL text, so callers write store_stmt(st, "SELECT ...") inline and
 * every query is a prepared statement with bound parameters.
 *
 * Transactions: the api loop opens one transaction per turn (group commit) with
 * store_begin()/store_commit(). A request that may fail after writing runs inside a
 * savepoint, so it rolls back alone; one whose failure the caller can undo otherwise runs
 * without one, between store_keep() and store_unkeep() (see api.c).
 */
#ifndef THIDUA_STORE_H
#define THIDUA_STORE_H

#include <sqlite3.h>
#include <stdint.h>

struct store;

/* the proposal states that hold a nominee's place (index proposals_one). A query repeats
 * this text to use the index; an OR chain, not IN (see migration 10) */
#define PROPOSAL_ACTIVE "(state = 'draft' OR state = 'submitted' OR state = 'returned' OR state = 'granted')"

struct store *store_open(const char *path, char *err, size_t errsize);
void store_close(struct store **self_p);
sqlite3 *store_db(struct store *st);
const char *store_path(const struct store *st);
int store_schema_version(struct store *st);

/* store_stmt - the cached prepared statement for sql (a string literal), reset and with
 * its bindings cleared. Failure to prepare is a programming error: fatal. */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);

int store_exec(struct store *st, const char *sql);	/* no parameters, no rows */
int store_begin(struct store *st);
/* the same, deferred: the write lock is taken only by the first statement that writes, and
 * a commit that wrote nothing only ends the read (for turns that mostly only look) */
int store_begin_deferred(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
int store_in_txn(struct store *st);
int store_savepoint(struct store *st);
void store_release(struct store *st);
void store_rollback_to(struct store *st);
void store_keep(struct store *st);
void store_unkeep(struct store *st);
int64_t store_changes(struct store *st);
void store_checkpoint(struct store *st);

/* store_full - the last failure was SQLITE_FULL (the disk is full) */
int store_last_full(struct store *st);

const char *store_errmsg(struct store *st);

/* meta: small key/value settings kept in the database */
int store_meta_get(struct store *st, const char *key, char *buf, size_t size);
int store_meta_set(struct store *st, const char *key, const char *value);
int store_meta_later(struct store *st, const char *key, const char *value);
int store_meta_pending(struct store *st, const char *key, char *buf, size_t size);
void store_before_commit(struct store *st, void (*fn)(struct store *st, void *arg), void *arg);
int64_t store_counter_next(struct store *st, const char *name);

#endif
