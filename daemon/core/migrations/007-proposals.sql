/* 7: approval workflows: proposals for titles and awards, their stages and the registry */
CREATE TABLE proposal_batches (	/* one proposals.import */
  id INTEGER PRIMARY KEY,
  programme TEXT NOT NULL,
  year INTEGER NOT NULL,
  level INTEGER NOT NULL,
  proposer TEXT NOT NULL,
  filename TEXT NOT NULL,
  sha256 TEXT NOT NULL,	/* the CSV (its content: column data) */
  rows INTEGER NOT NULL,
  principal TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE proposals (
  id INTEGER PRIMARY KEY,
  programme TEXT NOT NULL,
  year INTEGER NOT NULL,
  level INTEGER NOT NULL,
  nominee TEXT NOT NULL,	/* a unit code, or the nominee's code or name */
  nominee_name TEXT NOT NULL,
  nominee_kind TEXT NOT NULL,
  place TEXT NOT NULL DEFAULT '',	/* the hamlet (or unit) a household, clan or person belongs to */
  proposer TEXT NOT NULL,	/* the proposing unit */
  state TEXT NOT NULL DEFAULT 'draft'
    CHECK (state IN ('draft', 'submitted', 'returned', 'rejected', 'withdrawn', 'granted')),
  stage INTEGER NOT NULL DEFAULT 0,	/* 1-based while submitted; the returning stage while returned */
  decider TEXT,	/* the deciding unit of the current stage */
  stage_at INTEGER,	/* when the dossier reached it */
  due_at INTEGER,	/* the stage's time limit, last second */
  next_at INTEGER,	/* escalation moment; NULL: none */
  cycle INTEGER NOT NULL DEFAULT 0,	/* transitions so far */
  version INTEGER NOT NULL DEFAULT 1,	/* dossier version */
  self_scores TEXT,	/* JSON {criterion: value} */
  note TEXT,
  reason TEXT,	/* of the last return, rejection or withdrawal */
  decision_no TEXT,
  decision_day INTEGER,
  batch INTEGER REFERENCES proposal_batches (id),
  line INTEGER,	/* the CSV line of an imported proposal */
  principal TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX proposals_one ON proposals (programme, nominee, place, year, level)
  WHERE state IN ('draft', 'submitted', 'returned', 'granted');
CREATE INDEX proposals_next ON proposals (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX proposals_list ON proposals (programme, year, state);
CREATE INDEX proposals_batch ON proposals (batch, state) WHERE batch IS NOT NULL;
CREATE INDEX proposals_decider ON proposals (decider, state);
CREATE TABLE proposal_files (
  proposal INTEGER NOT NULL REFERENCES proposals (id),
  version INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (proposal, version, idx)
) WITHOUT ROWID;
CREATE TABLE proposal_events (	/* every transition and every stage's scores */
  id INTEGER PRIMARY KEY,
  proposal INTEGER NOT NULL REFERENCES proposals (id),
  at INTEGER NOT NULL,
  principal TEXT NOT NULL,
  action TEXT NOT NULL,	/* create, submit, approve, return, reject, withdraw, grant, score, escalate */
  stage INTEGER NOT NULL,
  decider TEXT,
  reason TEXT,
  scores TEXT,	/* JSON, as this stage scored */
  total REAL,
  passed INTEGER,
  override INTEGER NOT NULL DEFAULT 0,	/* approved below the threshold */
  decision_no TEXT,
  state TEXT NOT NULL	/* the state after */
);
CREATE INDEX proposal_events_proposal ON proposal_events (proposal, id);
CREATE TABLE proposal_notices (	/* which proposals a message is about */
  outbox INTEGER NOT NULL REFERENCES outbox (id),
  proposal INTEGER NOT NULL REFERENCES proposals (id),
  event INTEGER NOT NULL REFERENCES proposal_events (id),
  stage INTEGER NOT NULL,	/* the stage, and its time limit, the notice speaks of */
  due_at INTEGER,
  PRIMARY KEY (outbox, proposal, event)
) WITHOUT ROWID;
CREATE TABLE titles (	/* the registry of what was granted */
  id INTEGER PRIMARY KEY,
  proposal INTEGER NOT NULL UNIQUE REFERENCES proposals (id),
  programme TEXT NOT NULL,
  level INTEGER NOT NULL,
  year INTEGER NOT NULL,
  nominee TEXT NOT NULL,
  nominee_name TEXT NOT NULL,
  nominee_kind TEXT NOT NULL,
  place TEXT NOT NULL DEFAULT '',
  proposer TEXT NOT NULL,
  granted_by TEXT NOT NULL,	/* the deciding unit of the last stage */
  decision_no TEXT NOT NULL,
  decision_day INTEGER NOT NULL,
  valid_from INTEGER NOT NULL,	/* days */
  valid_to INTEGER NOT NULL,
  principal TEXT NOT NULL,
  granted_at INTEGER NOT NULL
);
CREATE INDEX titles_nominee ON titles (programme, nominee, place, level);
CREATE INDEX titles_valid ON titles (valid_to);
