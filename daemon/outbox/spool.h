/*
 * spool.h - outbox messages delivered as files in STATE_DIR/spool: a .eml (RFC 5322, UTF-8,
 * RFC 2047 subject) for a recipient with an email address, a .json otherwise. This is the
 * embedded default when no channel is configured.
 */
#ifndef THIDUA_SPOOL_H
#define THIDUA_SPOOL_H

void spool_init(void);

#endif
