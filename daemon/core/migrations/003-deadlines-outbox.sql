/* 3: deadlines, the outbox */
ALTER TABLE obligations ADD COLUMN next_at INTEGER;	/* next ladder step, NULL: none */
ALTER TABLE obligations ADD COLUMN steps_through INTEGER NOT NULL DEFAULT 0;
ALTER TABLE obligations ADD COLUMN cycle INTEGER NOT NULL DEFAULT 0;	/* returns so far */
CREATE INDEX obligations_next ON obligations (next_at) WHERE next_at IS NOT NULL;
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  dedup_key TEXT NOT NULL UNIQUE,
  recipient TEXT NOT NULL,	/* a unit code */
  kind TEXT NOT NULL,	/* reminder, overdue, escalation; returned, accepted; proposal */
  report TEXT NOT NULL,
  period TEXT NOT NULL,
  step TEXT NOT NULL,
  moment INTEGER NOT NULL,	/* when the step fell due */
  created_at INTEGER NOT NULL,
  send_after INTEGER NOT NULL,	/* working hours */
  late INTEGER NOT NULL DEFAULT 0,	/* caught up after downtime */
  state TEXT NOT NULL DEFAULT 'pending',
  channel TEXT,
  path TEXT,
  sent_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
CREATE INDEX outbox_pending ON outbox (send_after) WHERE state = 'pending';
CREATE INDEX outbox_recipient ON outbox (recipient, id);
CREATE TABLE notices (	/* one per (obligation, ladder cycle, step, recipient) */
  obligation INTEGER NOT NULL REFERENCES obligations (id),
  cycle INTEGER NOT NULL,
  step TEXT NOT NULL,
  recipient TEXT NOT NULL,
  outbox INTEGER NOT NULL REFERENCES outbox (id),
  PRIMARY KEY (obligation, cycle, step, recipient)
) WITHOUT ROWID;
CREATE INDEX notices_outbox ON notices (outbox);
