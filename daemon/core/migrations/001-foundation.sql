/* 1: the foundation */
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE units (	/* units added by units.import */
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  level TEXT NOT NULL,
  parent TEXT,
  kind TEXT NOT NULL,
  attached INTEGER NOT NULL DEFAULT 0,
  emails TEXT,	/* ';'-separated */
  chats TEXT,
  active_from INTEGER,	/* day number, NULL: always */
  active_to INTEGER,
  successors TEXT,
  source TEXT NOT NULL,	/* file name and line it came from */
  line INTEGER NOT NULL,
  imported_at INTEGER NOT NULL
);
CREATE TABLE requests (	/* replies to writes, for idempotent replay */
  id TEXT PRIMARY KEY,
  op TEXT NOT NULL,
  reply TEXT NOT NULL,
  at INTEGER NOT NULL
);
