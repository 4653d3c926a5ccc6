/*
 * spool.h - outbox messages delivered as files in STATE_DIR/spool: a .eml (RFC 5322, UTF-8,
 * RFC 2047 subject) for a recipient with an email address, a .json otherwise. This is the
 * embedded default when no channel is configured.
 */
#ifndef THIDUA_SPOOL_H
#define THIDUA_SPOOL_H

#include <stdint.h>

struct daemon;

void spool_init(void);

/* spool_mail_fallback - a Zalo delivery of message outbox could not reach its recipient
 * (-230, -213, -201): the same message to the unit's e-mail, a new delivery through the
 * smtp channel (or the one made before for this message). Its id, or 0 with *why saying
 * why there is none (NULL for a message not to a unit: a test, an operator's notice). */
int64_t spool_mail_fallback(struct daemon *d, int64_t outbox, const char **why);

#endif
