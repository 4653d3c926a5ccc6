/*
 * clock.h - the daemon's one clock, and the scheduler of work that falls due.
 */
#ifndef THIDUA_CLOCK_H
#define THIDUA_CLOCK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;

int64_t clock_now(const struct daemon *d);	/* UTC seconds */
int64_t clock_mono_ms(void);
int clock_set(struct daemon *d, int64_t t, char *err, size_t errsize);
#define CLOCK_MIN 0				/* 1970-01-01T00:00:00Z */
#define CLOCK_MAX_LOCAL INT64_C(253402300799)	/* 9999-12-31T23:59:59, as local seconds */
int clock_range_problem(const struct daemon *d, int64_t t, char *err, size_t errsize);

struct due_source {
	const char *name;
	int64_t (*next_due)(struct daemon *d);	/* INT64_MAX when nothing is due */
	void (*run)(struct daemon *d, int64_t now);
};

int64_t sched_next_due(struct daemon *d);
void sched_run_due(struct daemon *d);
int sched_advance_to(struct daemon *d, int64_t target);
void sched_register(const struct due_source *src);

/* deliveries that fall due as the fake clock moves (jobs.c): sched_advance_to stops at
 * their moments and lets the workers take them (settle) within a deadline */
struct settle_source {
	int64_t (*next_due)(struct daemon *d);	/* INT64_MAX when nothing is due */
	void (*settle)(struct daemon *d, int64_t deadline_ms);
};

void sched_register_settle(const struct settle_source *src);

/* shared formatting */
json_t *json_time(const struct daemon *d, int64_t t);
json_t *json_day(int32_t day);

#endif
