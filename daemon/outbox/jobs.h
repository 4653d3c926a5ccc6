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

#endif
