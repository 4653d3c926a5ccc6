/* 16: accounts of the web page (daemon/accounts): a principal's password (Argon2id,
 * libsodium's string), its invitations and sessions (tokens stored only as their SHA-256),
 * and the failed logins that throttle an account and an address */
CREATE TABLE accounts (
  name TEXT PRIMARY KEY,	/* a principal of the configuration */
  hash TEXT,	/* NULL: no password yet */
  locked INTEGER NOT NULL DEFAULT 0,	/* by an administrator (account.lock) */
  failures INTEGER NOT NULL DEFAULT 0,	/* failed logins in a row */
  locked_until INTEGER,	/* after too many failures */
  last_login INTEGER,
  password_at INTEGER
) WITHOUT ROWID;
CREATE TABLE invites (
  id INTEGER PRIMARY KEY AUTOINCREMENT,	/* never reused: names its outbox message */
  hash TEXT NOT NULL UNIQUE,	/* SHA-256 of the token */
  nonce TEXT NOT NULL,	/* the token is HMAC(invite.key, nonce): the mail renders it */
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  created_by TEXT NOT NULL
);
CREATE INDEX invites_name ON invites (name);
CREATE TABLE sessions (
  hash TEXT PRIMARY KEY,	/* SHA-256 of the token */
  name TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  seen_at INTEGER NOT NULL,
  address TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_name ON sessions (name);
CREATE TABLE login_failures (
  address TEXT NOT NULL,
  name TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX login_failures_address ON login_failures (address, at);
CREATE INDEX login_failures_name ON login_failures (name, at);
