/*
 * ops_deliver.h - notifications.retry (a dead letter back to the queue) and notify.test (a
 * real test message through a channel, what an administrator runs while setting up).
 */
#ifndef THIDUA_OPS_DELIVER_H
#define THIDUA_OPS_DELIVER_H

#include <jansson.h>

struct daemon;
struct request;

int op_notifications_retry(struct daemon *d, struct request *rq, json_t *out);
int op_notify_test(struct daemon *d, struct request *rq, json_t *out);

#endif
