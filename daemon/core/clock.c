/*
 * clock.c - the daemon's one clock, and the scheduler of work that falls due.
 *
 * With --fake-clock the time stands still except through clock.set and clock.advance; the
 * fake time is kept in the database so a restarted test daemon continues its timeline.
 * Modules that have work at a moment register a due_source; the loop sleeps until the
 * earliest next_due (each source reads it from an index, never by scanning).
 */
#include <stdio.h>
#include <time.h>

#include "timeutil.h"

#include "log.h"
#include "thiduad.h"

static const struct due_source *sources[8];
static size_t nsources;

/* clock_now - UTC seconds, real or fake */
int64_t clock_now(const struct daemon *d)
{
	if (d->fake_clock)
		return d->fake_now;
	return (int64_t)time(NULL);
}

/* clock_mono_ms - monotonic milliseconds, for timeouts and uptime */
int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* clock_range_problem - 0 when t lies between 1970-01-01T00:00:00Z and the last second of
 * 9999 in the movement's zone (beyond, no time can be written, read or stored back);
 * else -1 with why in err */
int clock_range_problem(const struct daemon *d, int64_t t, char *err, size_t errsize)
{
	if (t >= CLOCK_MIN && t <= CLOCK_MAX_LOCAL - d->cfg->utc_offset)
		return 0;
	snprintf(err, errsize, "the fake clock runs from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59 local time, and this would take it %s",
		 t < CLOCK_MIN ? "before 1970" : "past the year 9999");
	return -1;
}

/* clock_set - move the fake clock; it never goes backwards (steps already fired stay) */
int clock_set(struct daemon *d, int64_t t, char *err, size_t errsize)
{
	char buf[32];

	if (clock_range_problem(d, t, err, errsize))
		return -1;
	if (t < d->fake_now) {
		time_format(d->fake_now, d->cfg->utc_offset, buf, sizeof(buf));
		snprintf(err, errsize, "the clock cannot go back: it is already %s", buf);
		return -1;
	}
	d->fake_now = t;
	snprintf(buf, sizeof(buf), "%lld", (long long)t);
	return store_meta_set(d->store, "fake_clock", buf);
}

/* sched_register - add a source of due work (at start-up) */
void sched_register(const struct due_source *src)
{
	if (nsources == sizeof(sources) / sizeof(sources[0]))
		fatal("sched_register: too many due sources");
	sources[nsources++] = src;
}

/* sched_next_due - the earliest moment any source has work */
int64_t sched_next_due(struct daemon *d)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < nsources; i++) {
		int64_t t = sources[i]->next_due(d);

		if (t < next)
			next = t;
	}
	return next;
}

/* sched_run_due - run every source whose work is due now */
void sched_run_due(struct daemon *d)
{
	int64_t now = clock_now(d);

	for (size_t i = 0; i < nsources; i++)
		if (sources[i]->next_due(d) <= now)
			sources[i]->run(d, now);
}

/* sched_advance_to - move the fake clock to target, stopping at every due moment on the
 * way so work runs at the time it was due, in order. At the target itself every source
 * runs once; batches still due there (a spool of thousands of messages) are left to the
 * loop's next turns, as with the real clock, so workers are fed while they are made. The
 * clock does not move before they are done: a later advance runs them first.
 * Deliveries are attempted on the way too, as the real clock would give them time to: the
 * moments deliveries fall due at (first attempts, retries) are steps of their own, and at
 * each step before the target the workers get what is due and their results are awaited
 * (jobs_settle), within SETTLE_TOTAL_MS of real time for the whole move. */
#define SETTLE_TOTAL_MS 6000

int sched_advance_to(struct daemon *d, int64_t target)
{
	char err[128];
	int ran_at_target = 0;
	int64_t deadline_ms = clock_mono_ms() + SETTLE_TOTAL_MS;

	if (d->fake_now < target && jobs_next_due(d) <= d->fake_now)
		jobs_settle(d, deadline_ms);	/* what is due before the clock moves goes first */
	for (int guard = 0; guard < 10000000; guard++) {
		int64_t next = sched_next_due(d), jobs = jobs_next_due(d);

		if (jobs > d->fake_now && jobs < next)	/* those due now were settled already */
			next = jobs;
		if (next > target)
			break;
		if (next > d->fake_now) {
			if (clock_set(d, next, err, sizeof(err)))
				return -1;
		} else if (ran_at_target) {
			break;
		}
		sched_run_due(d);
		ran_at_target = d->fake_now == target;
		if (!ran_at_target && sched_next_due(d) > d->fake_now)	/* the moment's messages are all made */
			jobs_settle(d, deadline_ms);
	}
	return clock_set(d, target, err, sizeof(err));
}
