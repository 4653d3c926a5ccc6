/*
 * results.h - the workers of the jobs socket as jobs.c keeps them, and what their results
 * do to deliveries (results.c).
 */
#ifndef THIDUA_RESULTS_H
#define THIDUA_RESULTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LEASE_SECONDS 120

struct daemon;

struct worker {
	unsigned char id[256];
	size_t idlen;
	char hex[520];			/* the id as stored in deliveries.worker */
	char kind[16];
	char name[64];
	int capacity, inflight;
	long pid;
	int64_t last_seen_ms;
	int64_t quiet_from_ms;		/* a job was handed to it then and it has said nothing since; 0: heard */
};

/* jobs_result - a worker's result for one of its jobs: the delivery sent, retried or dead,
 * its message settled; raw is the frame as received (its detail) */
void jobs_result(struct daemon *d, struct worker *w, json_t *msg, const char *raw, size_t rawlen);

/* delivery_dead_letter - give up on a delivery: failed, visible, reported */
void delivery_dead_letter(struct daemon *d, int64_t id, int64_t outbox, const char *channel, const char *why);

#endif
