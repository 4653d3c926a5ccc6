/*
 * jobs.h - the jobs socket (jobs.c): workers, their leases, and the deliveries they take.
 */
#ifndef THIDUA_JOBS_H
#define THIDUA_JOBS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;

int jobs_open(struct daemon *d, char *err, size_t errsize);
void jobs_close(struct daemon *d);
void jobs_turn(struct daemon *d);
long jobs_timeout_ms(struct daemon *d);
int64_t jobs_next_due(struct daemon *d);
void jobs_settle(struct daemon *d, int64_t deadline_ms);
void jobs_worker_exited(struct daemon *d, long pid);
json_t *jobs_workers_json(void);

#endif
