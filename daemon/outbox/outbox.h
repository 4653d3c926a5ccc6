/*
 * outbox.h - the outbox (outbox.c): messages queued for a person, joined while pending,
 * and their deliveries through channels.
 */
#ifndef THIDUA_OUTBOX_H
#define THIDUA_OUTBOX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct channel;
struct daemon;

/* a message of the outbox: to whom, of which kind (what renders it), about what */
struct outbox_msg {
	const char *recipient, *kind, *report, *period, *step;
	int64_t moment;		/* the moment it is about (a ladder step's, a decision's) */
	int64_t created_at, send_after;
	int late;		/* made well after its moment */
};

int64_t outbox_join(struct daemon *d, const char *key, const char *own_key, const struct outbox_msg *m);

/* outbox_settle - the message's state follows its deliveries */
void outbox_settle(struct daemon *d, int64_t outbox);

/* deliveries_add_text - one delivery of a message through a channel, its payload given as
 * JSON text (an object); copied; it leaves in working hours. 0, or -1 when the row could
 * not be written. */
int deliveries_add_text(struct daemon *d, int64_t outbox, const struct channel *c, const char *payload,
			size_t len, int64_t expires_at);
/* deliveries_add - a delivery that may leave at any hour (a test, an operator's notice),
 * the payload as a JSON object; steals payload */
int deliveries_add(struct daemon *d, int64_t outbox, const struct channel *c, json_t *payload, int64_t expires_at);

#endif
