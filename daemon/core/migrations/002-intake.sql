/* 2: report intake */
CREATE TABLE periods (	/* a period whose obligations exist */
  report TEXT NOT NULL,
  period TEXT NOT NULL,
  opens_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  PRIMARY KEY (report, period)
);
CREATE TABLE obligations (
  id INTEGER PRIMARY KEY,
  report TEXT NOT NULL,
  unit TEXT NOT NULL,
  period TEXT NOT NULL,
  due_at INTEGER NOT NULL,	/* the last second it is on time */
  state TEXT NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'submitted', 'accepted', 'returned', 'waived')),
  on_time INTEGER,
  submitted_at INTEGER,
  receipt TEXT,
  version INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  updated_at INTEGER NOT NULL,
  UNIQUE (report, unit, period)
);
CREATE INDEX obligations_unit ON obligations (unit, report, period);
CREATE INDEX obligations_period ON obligations (report, period, state);
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE submissions (
  id INTEGER PRIMARY KEY,
  receipt TEXT NOT NULL UNIQUE,
  obligation INTEGER NOT NULL REFERENCES obligations (id),
  version INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  on_time INTEGER NOT NULL,
  note TEXT,
  principal TEXT NOT NULL,
  request_id TEXT
);
CREATE INDEX submissions_obligation ON submissions (obligation);
CREATE TABLE submission_files (
  submission INTEGER NOT NULL REFERENCES submissions (id),
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (submission, idx)
);
CREATE TABLE reviews (
  id INTEGER PRIMARY KEY,
  obligation INTEGER NOT NULL REFERENCES obligations (id),
  action TEXT NOT NULL,
  reason TEXT,
  principal TEXT NOT NULL,
  at INTEGER NOT NULL,
  due_at INTEGER
);
