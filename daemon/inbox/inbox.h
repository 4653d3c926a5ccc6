/*
 * inbox.h - mail that units send in (thidua-mailin, op inbox.deliver), and the office's
 * view of it (inbox.list, inbox.show) and decisions on it (inbox.accept, inbox.reject,
 * inbox.retry).
 */
#ifndef THIDUA_INBOX_H
#define THIDUA_INBOX_H

#include <jansson.h>

struct daemon;
struct request;

int op_inbox_deliver(struct daemon *d, struct request *rq, json_t *out);
int op_inbox_list(struct daemon *d, struct request *rq, json_t *out);
int op_inbox_show(struct daemon *d, struct request *rq, json_t *out);
int op_inbox_decide(struct daemon *d, struct request *rq, json_t *out);	/* inbox.accept, inbox.reject */
int op_inbox_retry(struct daemon *d, struct request *rq, json_t *out);

/* inbox_answer_render - subject and body (Vietnamese, malloc'd) of the answer whose outbox
 * step is "answer/ID"; -1 when the message is unknown */
int inbox_answer_render(struct daemon *d, const char *step, char **subject, char **body);

/* inbox_init - register the renderer of the answers to mail in (at start-up) */
void inbox_init(void);

#endif
