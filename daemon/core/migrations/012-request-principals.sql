/* 12: request ids are each principal's own: another principal's request with the same
 * id is a new request, not a replay of the first. Rows from before are given the
 * principal their audit row names (the audit detail holds the request's id); one with
 * none is the local administrator's. */
CREATE TEMP TABLE request_principals AS SELECT
  CASE WHEN json_valid(detail) THEN json_extract(detail, '$.id') END AS id, op, principal, max(seq) AS seq
  FROM audit GROUP BY 1, 2;
CREATE INDEX temp.request_principals_id ON request_principals (id, op);
CREATE TABLE requests_new (
  principal TEXT NOT NULL,	/* who sent it: a principal's name, or admin */
  id TEXT NOT NULL,
  op TEXT NOT NULL,
  reply TEXT NOT NULL,
  at INTEGER NOT NULL,
  key TEXT,
  PRIMARY KEY (principal, id)
);
INSERT INTO requests_new (principal, id, op, reply, at, key)
  SELECT coalesce((SELECT p.principal FROM temp.request_principals p WHERE p.id = r.id AND p.op = r.op), 'admin'),
  r.id, r.op, r.reply, r.at, r.key FROM requests r WHERE r.id IS NOT NULL;
DROP TABLE requests;
ALTER TABLE requests_new RENAME TO requests;
DROP TABLE temp.request_principals;
