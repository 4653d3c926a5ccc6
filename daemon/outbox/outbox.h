/*
 * outbox.h - the outbox (outbox.c): messages queued for a person, joined while pending,
 * and their deliveries through channels.
 */
#ifndef THIDUA_OUTBOX_H
#define THIDUA_OUTBOX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "templates.h"

struct channel;
struct daemon;
struct unit;

/* a message of the outbox: to whom, of which kind (what renders it), about what */
struct outbox_msg {
	const char *recipient, *kind, *report, *period, *step;
	int64_t moment;		/* the moment it is about (a ladder step's, a decision's) */
	int64_t created_at, send_after;
	int late;		/* made well after its moment */
};

int64_t outbox_join(struct daemon *d, const char *key, const char *own_key, const struct outbox_msg *m);

/* SUPERSEDED - SQL: a failed delivery replaced by another (a Zalo recipient out of reach,
 * the message sent to the unit's e-mail instead: detail.fallback names that delivery); it
 * does not make its message failed, and notifications.retry leaves it */
#define SUPERSEDED "(state = 'failed' AND json_valid(detail) AND json_extract(detail, '$.fallback') IS NOT NULL)"

/* outbox_settle - the message's state follows its deliveries (a superseded one aside) */
void outbox_settle(struct daemon *d, int64_t outbox);

/* deliveries_add_text - one delivery of a message through a channel, its payload given as
 * JSON text (an object); copied; it leaves in working hours. 0, or -1 when the row could
 * not be written. */
int deliveries_add_text(struct daemon *d, int64_t outbox, const struct channel *c, const char *payload,
			size_t len, int64_t expires_at);
/* deliveries_add_now - the same, leaving at any hour (an account invitation, asked for now) */
int deliveries_add_now(struct daemon *d, int64_t outbox, const struct channel *c, const char *payload,
		       size_t len, int64_t expires_at);
/* deliveries_add - a delivery that may leave at any hour (a test, an operator's notice),
 * the payload as a JSON object; steals payload */
int deliveries_add(struct daemon *d, int64_t outbox, const struct channel *c, json_t *payload, int64_t expires_at);

/* rendering: the outbox delivers what workflows queue and knows none of them; each
 * registers, at start-up, the renderer of its kinds of message (intake_init: the notices
 * about obligations, the default; proposals_init: "proposal"; inbox_init: "mail_answer"),
 * and replyto.c the Reply-To of a unit's notices */

/* a message as it leaves */
struct outbox_message {
	int64_t id, moment;
	const char *key, *recipient, *kind, *report, *period, *step;
	int late;
};

/* one unit a message is about, as the reader counts on the day the message leaves */
struct outbox_item {
	char *code;
	const char *name;	/* the unit's, or the code when it is gone from the registry */
	int32_t due_day;
	long days;		/* left before the due day, or late after it */
};

/* subject and body (malloc'd) of m for channel kind ch; to is the recipient unit (or
 * NULL), items the units it is about, today the reader's day */
typedef void (*outbox_render_fn)(struct daemon *d, const struct outbox_message *m, const struct unit *to,
				 const struct outbox_item *items, size_t n, int32_t today, enum tmpl_channel ch,
				 char **subject, char **body);

/* outbox_renderer - fn renders messages of kind (NULL: every kind without its own) */
void outbox_renderer(const char *kind, outbox_render_fn fn);
/* outbox_render - m rendered by the renderer of its kind; a message nobody renders has
 * subject "thidua" and an empty body */
void outbox_render(struct daemon *d, const struct outbox_message *m, const struct unit *to,
		   const struct outbox_item *items, size_t n, int32_t today, enum tmpl_channel ch,
		   char **subject, char **body);

/* the Reply-To of a message to a unit: "LOCAL+TOKEN@DOMAIN" into buf, 1; 0 when none */
typedef int (*outbox_reply_to_fn)(struct daemon *d, const char *kind, const char *report, const char *period,
				  const char *unit, char *buf, size_t size);
void outbox_reply_to_source(outbox_reply_to_fn fn);
int outbox_reply_to(struct daemon *d, const struct outbox_message *m, char *buf, size_t size);

#endif
