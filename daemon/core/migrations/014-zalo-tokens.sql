/* 14: a Zalo Official Account's token pair, per app. The refresh token works once: the
 * pair a refresh returns replaces the old one in one statement before any job uses it;
 * seed is the configured refresh_token it came from (a new one in the config is a new
 * authorisation); one refresh at a time, held until lease_until */
CREATE TABLE zalo_tokens (
  app_id TEXT PRIMARY KEY,
  access_token TEXT,
  refresh_token TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  seed TEXT NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0,
  refreshed_at INTEGER
);
