/* 4: delivery through workers */
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  outbox INTEGER NOT NULL REFERENCES outbox (id),
  channel TEXT NOT NULL,
  kind TEXT NOT NULL,	/* mail, webhook */
  payload TEXT NOT NULL,	/* the job without the channel's settings */
  state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'leased', 'sent', 'failed')),
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
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state = 'leased';
CREATE INDEX deliveries_outbox ON deliveries (outbox);
CREATE TABLE channel_state (
  channel TEXT PRIMARY KEY,
  disabled_at INTEGER,
  reason TEXT,
  last_alert_at INTEGER
);
