/*
 * jobs.h - the jobs socket (jobs.c): workers, their leases, and the deliveries they take.
 */
#ifndef THIDUA_JOBS_H
#define THIDUA_JOBS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct channel;
struct daemon;

/* deliveries_add_text - one delivery of a message through a channel, its payload given as
 * JSON text (an object); copied. 0, or -1 when the row could not be written. */
int deliveries_add_text(struct daemon *d, int64_t outbox, const struct channel *c, const char *payload,
			size_t len, int64_t expires_at);

int jobs_open(struct daemon *d, char *err, size_t errsize);
void jobs_close(struct daemon *d);
void jobs_turn(struct daemon *d);
long jobs_timeout_ms(struct daemon *d);
int64_t jobs_next_due(struct daemon *d);
void jobs_settle(struct daemon *d, int64_t deadline_ms);
void jobs_worker_exited(struct daemon *d, long pid);
json_t *jobs_workers_json(void);
int deliveries_add(struct daemon *d, int64_t outbox, const struct channel *c, json_t *payload, int64_t expires_at);
void outbox_settle(struct daemon *d, int64_t outbox);

#endif
