/*
 * ops_notify.h - the notification ops (ops_notify.c): schedule, what the deadline engine
 * will send to or about a unit and when; notifications.list and notifications.show, the
 * outbox as it stands. Read-only; api.c dispatches them.
 */
#ifndef THIDUA_OPS_NOTIFY_H
#define THIDUA_OPS_NOTIFY_H

#include <jansson.h>

struct daemon;
struct request;

int op_schedule(struct daemon *d, struct request *rq, json_t *out);	/* {"unit"} */
int op_notifications_list(struct daemon *d, struct request *rq, json_t *out);
	/* {"state"?,"unit"?,"report"?,"period"?,"limit"?} */
int op_notifications_show(struct daemon *d, struct request *rq, json_t *out);	/* {"notification": N} */

#endif
