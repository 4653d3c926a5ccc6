/* 13: channels come back. A disabled channel remembers the fingerprint of the settings
 * that answered 410 (a new URL or new credentials enable it again) and each channel its
 * last error; a lease remembers the settings its job was sent with (a 410 counts only
 * for the URL the channel still has); a delivery that may leave at any hour (a test, an
 * operator's notice) says so: the others leave in working hours, retries included */
ALTER TABLE channel_state ADD COLUMN settings TEXT;
ALTER TABLE channel_state ADD COLUMN last_error TEXT;
ALTER TABLE channel_state ADD COLUMN last_error_at INTEGER;
ALTER TABLE deliveries ADD COLUMN settings TEXT;
ALTER TABLE deliveries ADD COLUMN anytime INTEGER NOT NULL DEFAULT 0;
