/* 10: the state rules written as OR chains, the same rules. For IN with three or more
 * constants SQLite builds a temporary index each time a statement evaluates it, so
 * every insert or state change of an obligation, a delivery or a proposal built one: a
 * quarter of the daemon's work per webhook delivery (bench/delivery). The tables are
 * rebuilt as https://sqlite.org/lang_altertable.html#otheralter says, foreign keys off. */
CREATE TABLE obligations_new (
  id INTEGER PRIMARY KEY,
  report TEXT NOT NULL,
  unit TEXT NOT NULL,
  period TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'open' CHECK (state = 'open' OR state = 'submitted'
    OR state = 'accepted' OR state = 'returned' OR state = 'waived'),
  on_time INTEGER,
  submitted_at INTEGER,
  receipt TEXT,
  version INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  updated_at INTEGER NOT NULL,
  next_at INTEGER,
  steps_through INTEGER NOT NULL DEFAULT 0,
  cycle INTEGER NOT NULL DEFAULT 0,
  UNIQUE (report, unit, period)
);
INSERT INTO obligations_new (id, report, unit, period, due_at, state, on_time, submitted_at, receipt,
  version, reason, updated_at, next_at, steps_through, cycle)
  SELECT id, report, unit, period, due_at, state, on_time, submitted_at, receipt,
  version, reason, updated_at, next_at, steps_through, cycle FROM obligations;
DROP TABLE obligations;
ALTER TABLE obligations_new RENAME TO obligations;
CREATE INDEX obligations_unit ON obligations (unit, report, period);
CREATE INDEX obligations_period ON obligations (report, period, state);
CREATE INDEX obligations_next ON obligations (next_at) WHERE next_at IS NOT NULL;
CREATE TABLE deliveries_new (
  id INTEGER PRIMARY KEY,
  outbox INTEGER NOT NULL REFERENCES outbox (id),
  channel TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state = 'pending' OR state = 'leased'
    OR state = 'sent' OR state = 'failed'),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  lease_until INTEGER,
  worker TEXT,
  code INTEGER,
  last_error TEXT,
  detail TEXT,
  sent_at INTEGER
);
INSERT INTO deliveries_new (id, outbox, channel, kind, payload, state, attempts, next_at, expires_at,
  lease_until, worker, code, last_error, detail, sent_at)
  SELECT id, outbox, channel, kind, payload, state, attempts, next_at, expires_at,
  lease_until, worker, code, last_error, detail, sent_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state = 'leased';
CREATE INDEX deliveries_outbox ON deliveries (outbox);
CREATE TABLE proposals_new (
  id INTEGER PRIMARY KEY,
  programme TEXT NOT NULL,
  year INTEGER NOT NULL,
  level INTEGER NOT NULL,
  nominee TEXT NOT NULL,
  nominee_name TEXT NOT NULL,
  nominee_kind TEXT NOT NULL,
  place TEXT NOT NULL DEFAULT '',
  proposer TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'draft' CHECK (state = 'draft' OR state = 'submitted'
    OR state = 'returned' OR state = 'rejected' OR state = 'withdrawn' OR state = 'granted'),
  stage INTEGER NOT NULL DEFAULT 0,
  decider TEXT,
  stage_at INTEGER,
  due_at INTEGER,
  next_at INTEGER,
  cycle INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  self_scores TEXT,
  note TEXT,
  reason TEXT,
  decision_no TEXT,
  decision_day INTEGER,
  batch INTEGER REFERENCES proposal_batches (id),
  line INTEGER,
  principal TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
INSERT INTO proposals_new (id, programme, year, level, nominee, nominee_name, nominee_kind, place,
  proposer, state, stage, decider, stage_at, due_at, next_at, cycle, version, self_scores, note,
  reason, decision_no, decision_day, batch, line, principal, created_at, updated_at)
  SELECT id, programme, year, level, nominee, nominee_name, nominee_kind, place,
  proposer, state, stage, decider, stage_at, due_at, next_at, cycle, version, self_scores, note,
  reason, decision_no, decision_day, batch, line, principal, created_at, updated_at FROM proposals;
DROP TABLE proposals;
ALTER TABLE proposals_new RENAME TO proposals;
CREATE UNIQUE INDEX proposals_one ON proposals (programme, nominee, place, year, level)
  WHERE (state = 'draft' OR state = 'submitted' OR state = 'returned' OR state = 'granted');
CREATE INDEX proposals_next ON proposals (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX proposals_list ON proposals (programme, year, state);
CREATE INDEX proposals_batch ON proposals (batch, state) WHERE batch IS NOT NULL;
CREATE INDEX proposals_decider ON proposals (decider, state);
