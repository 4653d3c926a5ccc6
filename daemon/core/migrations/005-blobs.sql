/* 5: small submitted files live in the database: durable with the same commit */
CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  data BLOB NOT NULL
);
ALTER TABLE submissions ADD COLUMN due_at INTEGER;	/* the due date the receipt stated */
