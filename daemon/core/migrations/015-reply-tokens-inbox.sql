/* 15: the tokens of the Reply-To addresses given out (replyto.c), each naming the
 * obligation a reply submits for; the inbox of the replies */
CREATE TABLE reply_tokens (
  token TEXT PRIMARY KEY,
  report TEXT NOT NULL,
  period TEXT NOT NULL,
  unit TEXT NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
/* every message units sent in (inbox.c): the raw file kept in STATE_DIR/inbox, what
 * it said and what became of it */
CREATE TABLE inbox (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  sender TEXT,
  return_path TEXT,
  message_id TEXT,
  token TEXT,
  report TEXT,
  period TEXT,
  unit TEXT,
  outcome TEXT NOT NULL,	/* submitted, held, refused */
  code TEXT,
  detail TEXT,
  receipt TEXT,
  note TEXT,
  files TEXT,
  size INTEGER,
  automatic INTEGER NOT NULL DEFAULT 0,
  answered INTEGER NOT NULL DEFAULT 0	/* an answer went to the outbox (kind mail_answer) */
);
