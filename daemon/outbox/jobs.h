/*
 * jobs.h - what jobs.c offers the modules that make deliveries (spool.c), beyond the
 * jobs interface in thiduad.h.
 */
#ifndef THIDUA_JOBS_H
#define THIDUA_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "thiduad.h"

/* deliveries_add_text - one delivery of a message through a channel, its payload given as
 * JSON text (an object); copied. 0, or -1 when the row could not be written. */
int deliveries_add_text(struct daemon *d, int64_t outbox, const struct channel *c, const char *payload,
			size_t len, int64_t expires_at);
/* deliveries_add_now - the same, leaving at any hour (an account invitation, asked for now) */
int deliveries_add_now(struct daemon *d, int64_t outbox, const struct channel *c, const char *payload,
		       size_t len, int64_t expires_at);

/* SUPERSEDED - SQL: a failed delivery replaced by another (a Zalo recipient out of reach,
 * the message sent to the unit's e-mail instead: detail.fallback names that delivery); it
 * does not make its message failed, and notifications.retry leaves it */
#define SUPERSEDED "(state = 'failed' AND json_valid(detail) AND json_extract(detail, '$.fallback') IS NOT NULL)"

/* spool_mail_fallback - a Zalo delivery of message outbox could not reach its recipient
 * (-230, -213, -201): the same message to the unit's e-mail, a new delivery through the
 * smtp channel (or the one made before for this message). Its id, or 0 with *why saying
 * why there is none (NULL for a message not to a unit: a test, an operator's notice). */
int64_t spool_mail_fallback(struct daemon *d, int64_t outbox, const char **why);

#endif
