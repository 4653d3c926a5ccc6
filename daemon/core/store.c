/*
 * store.c - SQLite open, pragmas, migrations and the prepared-statement cache.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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

/*
 * The migrations. Entry i brings the schema from version i to i+1. Never edit an entry
 * that has shipped; append a new one.
 */
static const char *const migrations[] = {
	/* 1: the foundation */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	");"
	"CREATE TABLE units ("		/* units added by units.import */
	"  code TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  level TEXT NOT NULL,"
	"  parent TEXT,"
	"  kind TEXT NOT NULL,"
	"  attached INTEGER NOT NULL DEFAULT 0,"
	"  emails TEXT,"		/* ';'-separated */
	"  chats TEXT,"
	"  active_from INTEGER,"	/* day number, NULL: always */
	"  active_to INTEGER,"
	"  successors TEXT,"
	"  source TEXT NOT NULL,"	/* file name and line it came from */
	"  line INTEGER NOT NULL,"
	"  imported_at INTEGER NOT NULL"
	");"
	"CREATE TABLE requests ("	/* replies to writes, for idempotent replay */
	"  id TEXT PRIMARY KEY,"
	"  op TEXT NOT NULL,"
	"  reply TEXT NOT NULL,"
	"  at INTEGER NOT NULL"
	");",

	/* 2: report intake */
	"CREATE TABLE periods ("		/* a period whose obligations exist */
	"  report TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  opens_at INTEGER NOT NULL,"
	"  due_at INTEGER NOT NULL,"
	"  PRIMARY KEY (report, period)"
	");"
	"CREATE TABLE obligations ("
	"  id INTEGER PRIMARY KEY,"
	"  report TEXT NOT NULL,"
	"  unit TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  due_at INTEGER NOT NULL,"		/* the last second it is on time */
	"  state TEXT NOT NULL DEFAULT 'open'"
	"    CHECK (state IN ('open', 'submitted', 'accepted', 'returned', 'waived')),"
	"  on_time INTEGER,"
	"  submitted_at INTEGER,"
	"  receipt TEXT,"
	"  version INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE (report, unit, period)"
	");"
	"CREATE INDEX obligations_unit ON obligations (unit, report, period);"
	"CREATE INDEX obligations_period ON obligations (report, period, state);"
	"CREATE TABLE counters ("
	"  name TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL"
	");"
	"CREATE TABLE submissions ("
	"  id INTEGER PRIMARY KEY,"
	"  receipt TEXT NOT NULL UNIQUE,"
	"  obligation INTEGER NOT NULL REFERENCES obligations (id),"
	"  version INTEGER NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  on_time INTEGER NOT NULL,"
	"  note TEXT,"
	"  principal TEXT NOT NULL,"
	"  request_id TEXT"
	");"
	"CREATE INDEX submissions_obligation ON submissions (obligation);"
	"CREATE TABLE submission_files ("
	"  submission INTEGER NOT NULL REFERENCES submissions (id),"
	"  idx INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  PRIMARY KEY (submission, idx)"
	");"
	"CREATE TABLE reviews ("
	"  id INTEGER PRIMARY KEY,"
	"  obligation INTEGER NOT NULL REFERENCES obligations (id),"
	"  action TEXT NOT NULL,"
	"  reason TEXT,"
	"  principal TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  due_at INTEGER"
	");",

	/* 3: deadlines, the outbox */
	"ALTER TABLE obligations ADD COLUMN next_at INTEGER;"	/* next ladder step, NULL: none */
	"ALTER TABLE obligations ADD COLUMN steps_through INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE obligations ADD COLUMN cycle INTEGER NOT NULL DEFAULT 0;"	/* returns so far */
	"CREATE INDEX obligations_next ON obligations (next_at) WHERE next_at IS NOT NULL;"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  dedup_key TEXT NOT NULL UNIQUE,"
	"  recipient TEXT NOT NULL,"		/* a unit code */
	"  kind TEXT NOT NULL,"			/* reminder, overdue, escalation; returned, accepted; proposal */
	"  report TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  step TEXT NOT NULL,"
	"  moment INTEGER NOT NULL,"		/* when the step fell due */
	"  created_at INTEGER NOT NULL,"
	"  send_after INTEGER NOT NULL,"	/* working hours */
	"  late INTEGER NOT NULL DEFAULT 0,"	/* caught up after downtime */
	"  state TEXT NOT NULL DEFAULT 'pending',"
	"  channel TEXT,"
	"  path TEXT,"
	"  sent_at INTEGER,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT"
	");"
	"CREATE INDEX outbox_pending ON outbox (send_after) WHERE state = 'pending';"
	"CREATE INDEX outbox_recipient ON outbox (recipient, id);"
	"CREATE TABLE notices ("		/* one per (obligation, ladder cycle, step, recipient) */
	"  obligation INTEGER NOT NULL REFERENCES obligations (id),"
	"  cycle INTEGER NOT NULL,"
	"  step TEXT NOT NULL,"
	"  recipient TEXT NOT NULL,"
	"  outbox INTEGER NOT NULL REFERENCES outbox (id),"
	"  PRIMARY KEY (obligation, cycle, step, recipient)"
	") WITHOUT ROWID;"
	"CREATE INDEX notices_outbox ON notices (outbox);",

	/* 4: delivery through workers */
	"CREATE TABLE deliveries ("
	"  id INTEGER PRIMARY KEY,"
	"  outbox INTEGER NOT NULL REFERENCES outbox (id),"
	"  channel TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"			/* mail, webhook */
	"  payload TEXT NOT NULL,"		/* the job without the channel's settings */
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending', 'leased', 'sent', 'failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  lease_until INTEGER,"
	"  worker TEXT,"
	"  code INTEGER,"
	"  last_error TEXT,"
	"  detail TEXT,"
	"  sent_at INTEGER"
	");"
	"CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';"
	"CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state = 'leased';"
	"CREATE INDEX deliveries_outbox ON deliveries (outbox);"
	"CREATE TABLE channel_state ("
	"  channel TEXT PRIMARY KEY,"
	"  disabled_at INTEGER,"
	"  reason TEXT,"
	"  last_alert_at INTEGER"
	");",

	/* 5: small submitted files live in the database: durable with the same commit */
	"CREATE TABLE blobs ("
	"  sha256 TEXT PRIMARY KEY,"
	"  size INTEGER NOT NULL,"
	"  data BLOB NOT NULL"
	");"
	"ALTER TABLE submissions ADD COLUMN due_at INTEGER;",	/* the due date the receipt stated */

	/* 6: the audit log, a hash chain */
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  principal TEXT NOT NULL,"
	"  op TEXT NOT NULL,"
	"  object TEXT,"
	"  unit TEXT,"
	"  detail TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL"
	");"
	"CREATE INDEX audit_unit ON audit (unit, seq);"
	"CREATE INDEX audit_principal ON audit (principal, seq);"
	"CREATE INDEX audit_object ON audit (object, seq);",

	/* 7: approval workflows: proposals for titles and awards, their stages and the registry */
	"CREATE TABLE proposal_batches ("	/* one proposals.import */
	"  id INTEGER PRIMARY KEY,"
	"  programme TEXT NOT NULL,"
	"  year INTEGER NOT NULL,"
	"  level INTEGER NOT NULL,"
	"  proposer TEXT NOT NULL,"
	"  filename TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"		/* the CSV (its content: column data) */
	"  rows INTEGER NOT NULL,"
	"  principal TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE proposals ("
	"  id INTEGER PRIMARY KEY,"
	"  programme TEXT NOT NULL,"
	"  year INTEGER NOT NULL,"
	"  level INTEGER NOT NULL,"
	"  nominee TEXT NOT NULL,"		/* a unit code, or the nominee's code or name */
	"  nominee_name TEXT NOT NULL,"
	"  nominee_kind TEXT NOT NULL,"
	"  place TEXT NOT NULL DEFAULT '',"	/* the hamlet (or unit) a household, clan or person belongs to */
	"  proposer TEXT NOT NULL,"		/* the proposing unit */
	"  state TEXT NOT NULL DEFAULT 'draft'"
	"    CHECK (state IN ('draft', 'submitted', 'returned', 'rejected', 'withdrawn', 'granted')),"
	"  stage INTEGER NOT NULL DEFAULT 0,"	/* 1-based while submitted; the returning stage while returned */
	"  decider TEXT,"			/* the deciding unit of the current stage */
	"  stage_at INTEGER,"			/* when the dossier reached it */
	"  due_at INTEGER,"			/* the stage's time limit, last second */
	"  next_at INTEGER,"			/* escalation moment; NULL: none */
	"  cycle INTEGER NOT NULL DEFAULT 0,"	/* transitions so far */
	"  version INTEGER NOT NULL DEFAULT 1,"	/* dossier version */
	"  self_scores TEXT,"			/* JSON {criterion: value} */
	"  note TEXT,"
	"  reason TEXT,"			/* of the last return, rejection or withdrawal */
	"  decision_no TEXT,"
	"  decision_day INTEGER,"
	"  batch INTEGER REFERENCES proposal_batches (id),"
	"  line INTEGER,"			/* the CSV line of an imported proposal */
	"  principal TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE UNIQUE INDEX proposals_one ON proposals (programme, nominee, place, year, level)"
	"  WHERE state IN ('draft', 'submitted', 'returned', 'granted');"
	"CREATE INDEX proposals_next ON proposals (next_at) WHERE next_at IS NOT NULL;"
	"CREATE INDEX proposals_list ON proposals (programme, year, state);"
	"CREATE INDEX proposals_batch ON proposals (batch, state) WHERE batch IS NOT NULL;"
	"CREATE INDEX proposals_decider ON proposals (decider, state);"
	"CREATE TABLE proposal_files ("
	"  proposal INTEGER NOT NULL REFERENCES proposals (id),"
	"  version INTEGER NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  PRIMARY KEY (proposal, version, idx)"
	") WITHOUT ROWID;"
	"CREATE TABLE proposal_events ("	/* every transition and every stage's scores */
	"  id INTEGER PRIMARY KEY,"
	"  proposal INTEGER NOT NULL REFERENCES proposals (id),"
	"  at INTEGER NOT NULL,"
	"  principal TEXT NOT NULL,"
	"  action TEXT NOT NULL,"		/* create, submit, approve, return, reject, withdraw, grant, score, escalate */
	"  stage INTEGER NOT NULL,"
	"  decider TEXT,"
	"  reason TEXT,"
	"  scores TEXT,"			/* JSON, as this stage scored */
	"  total REAL,"
	"  passed INTEGER,"
	"  override INTEGER NOT NULL DEFAULT 0,"	/* approved below the threshold */
	"  decision_no TEXT,"
	"  state TEXT NOT NULL"			/* the state after */
	");"
	"CREATE INDEX proposal_events_proposal ON proposal_events (proposal, id);"
	"CREATE TABLE proposal_notices ("	/* which proposals a message is about */
	"  outbox INTEGER NOT NULL REFERENCES outbox (id),"
	"  proposal INTEGER NOT NULL REFERENCES proposals (id),"
	"  event INTEGER NOT NULL REFERENCES proposal_events (id),"
	"  stage INTEGER NOT NULL,"		/* the stage, and its time limit, the notice speaks of */
	"  due_at INTEGER,"
	"  PRIMARY KEY (outbox, proposal, event)"
	") WITHOUT ROWID;"
	"CREATE TABLE titles ("			/* the registry of what was granted */
	"  id INTEGER PRIMARY KEY,"
	"  proposal INTEGER NOT NULL UNIQUE REFERENCES proposals (id),"
	"  programme TEXT NOT NULL,"
	"  level INTEGER NOT NULL,"
	"  year INTEGER NOT NULL,"
	"  nominee TEXT NOT NULL,"
	"  nominee_name TEXT NOT NULL,"
	"  nominee_kind TEXT NOT NULL,"
	"  place TEXT NOT NULL DEFAULT '',"
	"  proposer TEXT NOT NULL,"
	"  granted_by TEXT NOT NULL,"		/* the deciding unit of the last stage */
	"  decision_no TEXT NOT NULL,"
	"  decision_day INTEGER NOT NULL,"
	"  valid_from INTEGER NOT NULL,"	/* days */
	"  valid_to INTEGER NOT NULL,"
	"  principal TEXT NOT NULL,"
	"  granted_at INTEGER NOT NULL"
	");"
	"CREATE INDEX titles_nominee ON titles (programme, nominee, place, level);"
	"CREATE INDEX titles_valid ON titles (valid_to);",

	/* 8: indexes that cost intake more than they served. Each of these put every
	 * submission at one of as many places as there are units, so a commit of a hundred
	 * submissions wrote some sixty pages more (bench/intake). No query read the audit
	 * ones (audit list scans newest first: it wants the latest rows), and no query looks
	 * submissions up by obligation (nor are obligations ever deleted, for which the
	 * foreign key would need it). */
	"DROP INDEX audit_unit;"
	"DROP INDEX audit_principal;"
	"DROP INDEX audit_object;"
	"DROP INDEX submissions_obligation;",

	/* 9: a small file lives in the row that names it. The blobs table, keyed by content
	 * hash, put every submission's file at a random place of its index: one more page
	 * written per submission, which cost a quarter of intake's speed (bench/intake) */
	"ALTER TABLE submission_files ADD COLUMN data BLOB;"	/* NULL: under files/ */
	"ALTER TABLE proposal_files ADD COLUMN data BLOB;"
	"ALTER TABLE proposal_batches ADD COLUMN data BLOB;"
	"UPDATE submission_files SET data = (SELECT b.data FROM blobs b WHERE b.sha256 = submission_files.sha256);"
	"UPDATE proposal_files SET data = (SELECT b.data FROM blobs b WHERE b.sha256 = proposal_files.sha256);"
	"UPDATE proposal_batches SET data = (SELECT b.data FROM blobs b WHERE b.sha256 = proposal_batches.sha256);"
	"DROP TABLE blobs;",

	/* 10: the state rules written as OR chains, the same rules. For IN with three or more
	 * constants SQLite builds a temporary index each time a statement evaluates it, so
	 * every insert or state change of an obligation, a delivery or a proposal built one: a
	 * quarter of the daemon's work per webhook delivery (bench/delivery). The tables are
	 * rebuilt as https://sqlite.org/lang_altertable.html#otheralter says, foreign keys off. */
	"CREATE TABLE obligations_new ("
	"  id INTEGER PRIMARY KEY,"
	"  report TEXT NOT NULL,"
	"  unit TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  due_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'open' CHECK (state = 'open' OR state = 'submitted'"
	"    OR state = 'accepted' OR state = 'returned' OR state = 'waived'),"
	"  on_time INTEGER,"
	"  submitted_at INTEGER,"
	"  receipt TEXT,"
	"  version INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT,"
	"  updated_at INTEGER NOT NULL,"
	"  next_at INTEGER,"
	"  steps_through INTEGER NOT NULL DEFAULT 0,"
	"  cycle INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (report, unit, period)"
	");"
	"INSERT INTO obligations_new (id, report, unit, period, due_at, state, on_time, submitted_at, receipt,"
	"  version, reason, updated_at, next_at, steps_through, cycle)"
	"  SELECT id, report, unit, period, due_at, state, on_time, submitted_at, receipt,"
	"  version, reason, updated_at, next_at, steps_through, cycle FROM obligations;"
	"DROP TABLE obligations;"
	"ALTER TABLE obligations_new RENAME TO obligations;"
	"CREATE INDEX obligations_unit ON obligations (unit, report, period);"
	"CREATE INDEX obligations_period ON obligations (report, period, state);"
	"CREATE INDEX obligations_next ON obligations (next_at) WHERE next_at IS NOT NULL;"
	"CREATE TABLE deliveries_new ("
	"  id INTEGER PRIMARY KEY,"
	"  outbox INTEGER NOT NULL REFERENCES outbox (id),"
	"  channel TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  payload TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state = 'pending' OR state = 'leased'"
	"    OR state = 'sent' OR state = 'failed'),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  lease_until INTEGER,"
	"  worker TEXT,"
	"  code INTEGER,"
	"  last_error TEXT,"
	"  detail TEXT,"
	"  sent_at INTEGER"
	");"
	"INSERT INTO deliveries_new (id, outbox, channel, kind, payload, state, attempts, next_at, expires_at,"
	"  lease_until, worker, code, last_error, detail, sent_at)"
	"  SELECT id, outbox, channel, kind, payload, state, attempts, next_at, expires_at,"
	"  lease_until, worker, code, last_error, detail, sent_at FROM deliveries;"
	"DROP TABLE deliveries;"
	"ALTER TABLE deliveries_new RENAME TO deliveries;"
	"CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';"
	"CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state = 'leased';"
	"CREATE INDEX deliveries_outbox ON deliveries (outbox);"
	"CREATE TABLE proposals_new ("
	"  id INTEGER PRIMARY KEY,"
	"  programme TEXT NOT NULL,"
	"  year INTEGER NOT NULL,"
	"  level INTEGER NOT NULL,"
	"  nominee TEXT NOT NULL,"
	"  nominee_name TEXT NOT NULL,"
	"  nominee_kind TEXT NOT NULL,"
	"  place TEXT NOT NULL DEFAULT '',"
	"  proposer TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'draft' CHECK (state = 'draft' OR state = 'submitted'"
	"    OR state = 'returned' OR state = 'rejected' OR state = 'withdrawn' OR state = 'granted'),"
	"  stage INTEGER NOT NULL DEFAULT 0,"
	"  decider TEXT,"
	"  stage_at INTEGER,"
	"  due_at INTEGER,"
	"  next_at INTEGER,"
	"  cycle INTEGER NOT NULL DEFAULT 0,"
	"  version INTEGER NOT NULL DEFAULT 1,"
	"  self_scores TEXT,"
	"  note TEXT,"
	"  reason TEXT,"
	"  decision_no TEXT,"
	"  decision_day INTEGER,"
	"  batch INTEGER REFERENCES proposal_batches (id),"
	"  line INTEGER,"
	"  principal TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"INSERT INTO proposals_new (id, programme, year, level, nominee, nominee_name, nominee_kind, place,"
	"  proposer, state, stage, decider, stage_at, due_at, next_at, cycle, version, self_scores, note,"
	"  reason, decision_no, decision_day, batch, line, principal, created_at, updated_at)"
	"  SELECT id, programme, year, level, nominee, nominee_name, nominee_kind, place,"
	"  proposer, state, stage, decider, stage_at, due_at, next_at, cycle, version, self_scores, note,"
	"  reason, decision_no, decision_day, batch, line, principal, created_at, updated_at FROM proposals;"
	"DROP TABLE proposals;"
	"ALTER TABLE proposals_new RENAME TO proposals;"
	"CREATE UNIQUE INDEX proposals_one ON proposals (programme, nominee, place, year, level)"
	"  WHERE " PROPOSAL_ACTIVE ";"
	"CREATE INDEX proposals_next ON proposals (next_at) WHERE next_at IS NOT NULL;"
	"CREATE INDEX proposals_list ON proposals (programme, year, state);"
	"CREATE INDEX proposals_batch ON proposals (batch, state) WHERE batch IS NOT NULL;"
	"CREATE INDEX proposals_decider ON proposals (decider, state);",

	/* 11: a replayable reply the database holds anyway (a receipt) is kept as its key, not
	 * as text: half a kilobyte less per submission to write (bench/intake) */
	"ALTER TABLE requests ADD COLUMN key TEXT;",	/* reply '' then */

	/* 12: request ids are each principal's own: another principal's request with the same
	 * id is a new request, not a replay of the first. Rows from before are given the
	 * principal their audit row names (the audit detail holds the request's id); one with
	 * none is the local administrator's. */
	"CREATE TEMP TABLE request_principals AS SELECT"
	"  CASE WHEN json_valid(detail) THEN json_extract(detail, '$.id') END AS id, op, principal, max(seq) AS seq"
	"  FROM audit GROUP BY 1, 2;"
	"CREATE INDEX temp.request_principals_id ON request_principals (id, op);"
	"CREATE TABLE requests_new ("
	"  principal TEXT NOT NULL,"		/* who sent it: a principal's name, or admin */
	"  id TEXT NOT NULL,"
	"  op TEXT NOT NULL,"
	"  reply TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  key TEXT,"
	"  PRIMARY KEY (principal, id)"
	");"
	"INSERT INTO requests_new (principal, id, op, reply, at, key)"
	"  SELECT coalesce((SELECT p.principal FROM temp.request_principals p WHERE p.id = r.id AND p.op = r.op), 'admin'),"
	"  r.id, r.op, r.reply, r.at, r.key FROM requests r WHERE r.id IS NOT NULL;"
	"DROP TABLE requests;"
	"ALTER TABLE requests_new RENAME TO requests;"
	"DROP TABLE temp.request_principals;",

	/* 13: channels come back. A disabled channel remembers the fingerprint of the settings
	 * that answered 410 (a new URL or new credentials enable it again) and each channel its
	 * last error; a lease remembers the settings its job was sent with (a 410 counts only
	 * for the URL the channel still has); a delivery that may leave at any hour (a test, an
	 * operator's notice) says so: the others leave in working hours, retries included */
	"ALTER TABLE channel_state ADD COLUMN settings TEXT;"
	"ALTER TABLE channel_state ADD COLUMN last_error TEXT;"
	"ALTER TABLE channel_state ADD COLUMN last_error_at INTEGER;"
	"ALTER TABLE deliveries ADD COLUMN settings TEXT;"
	"ALTER TABLE deliveries ADD COLUMN anytime INTEGER NOT NULL DEFAULT 0;",

	/* 14: a Zalo Official Account's token pair, per app. The refresh token works once: the
	 * pair a refresh returns replaces the old one in one statement before any job uses it;
	 * seed is the configured refresh_token it came from (a new one in the config is a new
	 * authorisation); one refresh at a time, held until lease_until */
	"CREATE TABLE zalo_tokens ("
	"  app_id TEXT PRIMARY KEY,"
	"  access_token TEXT,"
	"  refresh_token TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  seed TEXT NOT NULL,"
	"  lease_until INTEGER NOT NULL DEFAULT 0,"
	"  refreshed_at INTEGER"
	");",

	/* 15: the tokens of the Reply-To addresses given out (replyto.c), each naming the
	 * obligation a reply submits for; the inbox of the replies */
	"CREATE TABLE reply_tokens ("
	"  token TEXT PRIMARY KEY,"
	"  report TEXT NOT NULL,"
	"  period TEXT NOT NULL,"
	"  unit TEXT NOT NULL,"
	"  created INTEGER NOT NULL"
	") WITHOUT ROWID;"
	/* every message units sent in (inbox.c): the raw file kept in STATE_DIR/inbox, what
	 * it said and what became of it */
	"CREATE TABLE inbox ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  sender TEXT,"
	"  return_path TEXT,"
	"  message_id TEXT,"
	"  token TEXT,"
	"  report TEXT,"
	"  period TEXT,"
	"  unit TEXT,"
	"  outcome TEXT NOT NULL,"		/* submitted, held, refused */
	"  code TEXT,"
	"  detail TEXT,"
	"  receipt TEXT,"
	"  note TEXT,"
	"  files TEXT,"
	"  size INTEGER,"
	"  automatic INTEGER NOT NULL DEFAULT 0,"
	"  answered INTEGER NOT NULL DEFAULT 0"	/* an answer went to the outbox (kind mail_answer) */
	");",

	/* 16: accounts of the web page (daemon/accounts): a principal's password (Argon2id,
	 * libsodium's string), its invitations and sessions (tokens stored only as their
	 * SHA-256), and the failed logins that throttle an account and an address */
	"CREATE TABLE accounts ("
	"  name TEXT PRIMARY KEY,"		/* a principal of the configuration */
	"  hash TEXT,"				/* NULL: no password yet */
	"  locked INTEGER NOT NULL DEFAULT 0,"	/* by an administrator (account.lock) */
	"  failures INTEGER NOT NULL DEFAULT 0,"	/* failed logins in a row */
	"  locked_until INTEGER,"		/* after too many failures */
	"  last_login INTEGER,"
	"  password_at INTEGER"
	") WITHOUT ROWID;"
	"CREATE TABLE invites ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"	/* never reused: names its outbox message */
	"  hash TEXT NOT NULL UNIQUE,"		/* SHA-256 of the token */
	"  nonce TEXT NOT NULL,"		/* the token is HMAC(invite.key, nonce): the mail renders it */
	"  name TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER,"
	"  created_by TEXT NOT NULL"
	");"
	"CREATE INDEX invites_name ON invites (name);"
	"CREATE TABLE sessions ("
	"  hash TEXT PRIMARY KEY,"		/* SHA-256 of the token */
	"  name TEXT NOT NULL,"
	"  csrf TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  seen_at INTEGER NOT NULL,"
	"  address TEXT"
	") WITHOUT ROWID;"
	"CREATE INDEX sessions_name ON sessions (name);"
	"CREATE TABLE login_failures ("
	"  address TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  at INTEGER NOT NULL"
	");"
	"CREATE INDEX login_failures_address ON login_failures (address, at);"
	"CREATE INDEX login_failures_name ON login_failures (name, at);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

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

/* migrate - apply the migrations the database has not seen, each in its transaction.
 * Foreign keys are off meanwhile, as rebuilding a table needs (dropping the old one must
 * not touch the rows that refer to it), and each migration is checked before it commits. */
static int migrate(struct store *st, char *err, size_t errsize)
{
	int version = pragma_int(st->db, "PRAGMA user_version"), rc = 0;

	if (version > NMIGRATIONS) {
		snprintf(err, errsize, "the database %s has schema version %d, newer than this thiduad knows (%d): use a newer thiduad",
			 st->path, version, NMIGRATIONS);
		return -1;
	}
	if (version < NMIGRATIONS)
		sqlite3_exec(st->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	for (; version < NMIGRATIONS; version++) {
		char pragma[64];
		char *msg = NULL;

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK
		    || sqlite3_exec(st->db, migrations[version], NULL, NULL, &msg) != SQLITE_OK
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
