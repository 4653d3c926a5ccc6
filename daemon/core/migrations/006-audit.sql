/* 6: the audit log, a hash chain */
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  principal TEXT NOT NULL,
  op TEXT NOT NULL,
  object TEXT,
  unit TEXT,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_unit ON audit (unit, seq);
CREATE INDEX audit_principal ON audit (principal, seq);
CREATE INDEX audit_object ON audit (object, seq);
