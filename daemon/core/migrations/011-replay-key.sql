/* 11: a replayable reply the database holds anyway (a receipt) is kept as its key, not
 * as text: half a kilobyte less per submission to write (bench/intake) */
ALTER TABLE requests ADD COLUMN key TEXT;	/* reply '' then */
