/*
 * ops_core.c - status, the clock ops and config.reload.
 */
#include <stdio.h>
#include <string.h>

#include "calwarn.h"
#include "channels.h"
#include "clock.h"
#include "config.h"
#include "jobs.h"
#include "log.h"
#include "ops_core.h"
#include "proto.h"
#include "registry.h"
#include "reload.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"

/* op_status - what an operator checks first */
int op_status(struct daemon *d, struct request *rq, json_t *out)
{
	int32_t today = registry_today(d);
	json_t *counts = json_object(), *attached = json_object();
	char off[8];

	(void)rq;
	for (size_t l = 0; l < d->units->nlevels; l++) {
		json_int_t n = 0, a = 0;

		for (size_t i = 0; i < d->units->nunits; i++)
			if (d->units->units[i]->level == (int)l && unit_active_at(d->units->units[i], today)) {
				n++;
				a += d->units->units[i]->attached;
			}
		json_object_set_new(counts, d->units->levels[l].code, json_integer(n));
		if (a)
			json_object_set_new(attached, d->units->levels[l].code, json_integer(a));
	}
	tz_offset_format(d->cfg->utc_offset, off, sizeof(off));
	json_object_set_new(out, "version", json_string(THIDUA_VERSION));
	json_object_set_new(out, "protocol", json_integer(THIDUA_PROTOCOL_VERSION));
	json_object_set_new(out, "uptime_seconds", json_integer((clock_mono_ms() - d->started_mono_ms) / 1000));
	json_object_set_new(out, "config", json_string(d->cfg->path));
	json_object_set_new(out, "state_dir", json_string(d->state_dir));
	json_object_set_new(out, "database", json_string(store_path(d->store)));
	json_object_set_new(out, "schema_version", json_integer(store_schema_version(d->store)));
	json_object_set_new(out, "api", json_string(d->api_endpoint));
	json_object_set_new(out, "events", json_string(d->events_endpoint));
	if (d->cfg->movement_name)
		json_object_set_new(out, "movement", json_string(d->cfg->movement_name));
	if (d->cfg->doc_template || d->cfg->doc_place)
		json_object_set_new(out, "documents", json_pack("{s:s?,s:s?}", "template", d->cfg->doc_template,
								"place", d->cfg->doc_place));
	json_object_set_new(out, "clock", json_pack("{s:o,s:b,s:s,s:s}",
		"now", json_time(d, clock_now(d)), "fake", d->fake_clock,
		"timezone", d->cfg->timezone ? d->cfg->timezone : "", "utc_offset", off));
	json_object_set_new(out, "workers", jobs_workers_json());
	json_object_set_new(out, "disabled_channels", channels_disabled_json(d));
	json_object_set_new(out, "jobs", json_string(d->jobs_endpoint));
	json_object_set_new(out, "web", json_string(d->web_endpoint));
	json_object_set_new(out, "units", json_pack("{s:I,s:o,s:o}", "total",
		(json_int_t)d->units->nunits, "active_by_level", counts, "attached_by_level", attached));
	json_object_set_new(out, "calendar_unconfirmed", calwarn_json(d->cfg, today));
	return 0;
}

/* op_clock_show - the time now, and whether it is fake */
int op_clock_show(struct daemon *d, struct request *rq, json_t *out)
{
	(void)rq;
	json_object_set_new(out, "now", json_time(d, clock_now(d)));
	json_object_set_new(out, "fake", json_boolean(d->fake_clock));
	json_object_set_new(out, "timezone", json_string(d->cfg->timezone ? d->cfg->timezone : ""));
	return 0;
}

/* clock_refused - a move out of the clock's range: refused, the clock where it was */
static int clock_refused(struct daemon *d, struct request *rq, const char *key, const char *why)
{
	char now[40];

	time_format(clock_now(d), d->cfg->utc_offset, now, sizeof(now));
	return rq_error(rq, ERR_CLOCK_OUT_OF_RANGE, "'%s' = \"%s\": %s; the clock stays at %s", key,
			rq_str(rq, key, 1), why, now);
}

/* op_clock_set - move the fake clock to "to", running what falls due on the way */
int op_clock_set(struct daemon *d, struct request *rq, json_t *out)
{
	int64_t t;
	char buf[40], err[256];

	if (rq_time(rq, "to", 1, &t))
		return -1;
	if (clock_range_problem(d, t, err, sizeof(err)))
		return clock_refused(d, rq, "to", err);
	if (t < clock_now(d)) {
		time_format(clock_now(d), d->cfg->utc_offset, buf, sizeof(buf));
		return rq_error(rq, ERR_CLOCK_BACKWARDS, "the fake clock cannot go back: it is already %s", buf);
	}
	if (sched_advance_to(d, t))
		return rq_error(rq, ERR_INTERNAL, "the clock could not be moved: %s", store_errmsg(d->store));
	return op_clock_show(d, rq, out);
}

/* op_clock_advance - move the fake clock forward by "by" (90m, 36h, 3d) */
int op_clock_advance(struct daemon *d, struct request *rq, json_t *out)
{
	const char *by = rq_str(rq, "by", 1);
	int64_t secs;
	char err[256];

	if (!by)
		return -1;
	if (duration_parse(by, &secs) || secs < 0)
		return rq_error(rq, ERR_INVALID_FIELD, "'by' = \"%s\" is not a duration: write e.g. 90m, 36h, 3d or 1w", by);
	/* durations stop at two centuries, so the sum cannot overflow */
	if (clock_range_problem(d, clock_now(d) + secs, err, sizeof(err)))
		return clock_refused(d, rq, "by", err);
	if (sched_advance_to(d, clock_now(d) + secs))
		return rq_error(rq, ERR_INTERNAL, "the clock could not be moved: %s", store_errmsg(d->store));
	return op_clock_show(d, rq, out);
}

/* op_config_reload - the same as SIGHUP, with the outcome in the reply */
int op_config_reload(struct daemon *d, struct request *rq, json_t *out)
{
	char err[4096];

	if (daemon_reload(d, err, sizeof(err)))
		return rq_error(rq, ERR_INVALID_CONFIG, "%s", err);
	json_object_set_new(out, "config", json_string(d->cfg->path));
	json_object_set_new(out, "units", json_integer((json_int_t)d->units->nunits));
	return 0;
}
