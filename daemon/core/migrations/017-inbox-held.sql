/* 17: mail held for the receiving office (inbox.c): the request id a message came with
 * (its submission keeps it when the office accepts it), the office's decision, how often
 * it was run again, and the files of a message that waits (held, or refused for a reason
 * that may pass) so that accepting or retrying it needs no mail parsing: kept like a
 * receipt's (in the row up to 1 MiB, else under files/), dropped once the message is
 * submitted or rejected */
ALTER TABLE inbox ADD COLUMN request TEXT;
ALTER TABLE inbox ADD COLUMN decided_by TEXT;
ALTER TABLE inbox ADD COLUMN decided_at INTEGER;
ALTER TABLE inbox ADD COLUMN reason TEXT;
ALTER TABLE inbox ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
CREATE TABLE inbox_files (
  inbox INTEGER NOT NULL REFERENCES inbox(id),
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  data BLOB,
  PRIMARY KEY (inbox, idx)
) WITHOUT ROWID;
