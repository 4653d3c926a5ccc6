/*
 * calwarn.c - days off not yet officially announced. The configuration may carry days
 * derived from the law before the Government announces the year's schedule (Tết, the day
 * next to 2 September): `confirmed = false`. From 1 December of the year before, while such
 * a day is still ahead, `status` lists it and the log says so at start-up, after a reload
 * and once a day (at local midnight, not every turn), so that the operator updates the file
 * when the announcement comes; a reload applies the change.
 */
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "log.h"
#include "thiduad.h"
#include "timeutil.h"

static int32_t warned_day = INT32_MIN;	/* the local day the log last spoke */

/* window_opens - 1 December of the year before the day's year */
static int32_t window_opens(int32_t day)
{
	int y;
	unsigned m, dd;

	civil_from_days(day, &y, &m, &dd);
	return days_from_civil(y - 1, 12, 1);
}

/* is_pending - an unconfirmed day off or make-up day still ahead on 'today' whose
 * warning has begun */
static int is_pending(const struct holiday *h, int32_t today)
{
	return !h->confirmed && h->day >= today && today >= window_opens(h->day);
}

/* calwarn_json - the years with unconfirmed days pending on 'today', in date order:
 * [{"year", "days": [{"date", "kind", "name"}], "warning"}] */
json_t *calwarn_json(const struct config *cfg, int32_t today)
{
	json_t *years = json_array(), *cur = NULL, *days = NULL;
	int cur_year = 0;

	for (size_t i = 0; i < cfg->nholidays; i++) {
		const struct holiday *h = &cfg->holidays[i];
		int y;
		unsigned m, dd;

		if (!is_pending(h, today))
			continue;
		civil_from_days(h->day, &y, &m, &dd);
		if (!cur || y != cur_year) {
			cur_year = y;
			days = json_array();
			cur = json_pack("{s:i,s:o}", "year", y, "days", days);
			json_array_append_new(years, cur);
		}
		json_array_append_new(days, json_pack("{s:o,s:s,s:s}", "date", json_day(h->day),
						      "kind", h->work ? "work" : "off", "name", h->name));
	}
	for (size_t i = 0; i < json_array_size(years); i++) {
		json_t *y = json_array_get(years, i), *day;
		char list[1024];
		size_t used = 0, k;

		list[0] = 0;
		json_array_foreach(json_object_get(y, "days"), k, day)
			if (used < sizeof(list))
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "",
							 json_string_value(json_object_get(day, "date")));
		json_object_set_new(y, "warning", json_sprintf(
			"the days off of %d are not all officially announced: %s %s still confirmed = false in %s;"
			" correct them when the Government announces the year's schedule, then reload"
			" (thiduactl config reload)", (int)json_integer_value(json_object_get(y, "year")), list,
			json_array_size(json_object_get(y, "days")) == 1 ? "is" : "are", cfg->path));
	}
	return years;
}

/* log_day - the warnings of 'today' in the log */
static void log_day(struct daemon *d, int32_t today)
{
	json_t *years = calwarn_json(d->cfg, today), *y;
	size_t i;

	json_array_foreach(years, i, y)
		log_warn("calendar: %s", json_string_value(json_object_get(y, "warning")));
	json_decref(years);
	warned_day = today;
}

/* calwarn_log - say it in the log now (start-up, reload) */
void calwarn_log(struct daemon *d)
{
	log_day(d, day_of_time(clock_now(d), d->cfg->utc_offset));
}

/* next_warning_day - the first day from 'from' on when something is pending, or INT32_MAX */
static int32_t next_warning_day(const struct config *cfg, int32_t from)
{
	int32_t next = INT32_MAX;

	for (size_t i = 0; i < cfg->nholidays; i++) {
		const struct holiday *h = &cfg->holidays[i];
		int32_t opens = window_opens(h->day), first = opens > from ? opens : from;

		if (!h->confirmed && h->day >= from && first < next)
			next = first;
	}
	return next;
}

static int64_t calwarn_next_due(struct daemon *d)
{
	int32_t day;

	if (warned_day == INT32_MIN)
		return INT64_MAX;	/* before start-up has spoken */
	day = next_warning_day(d->cfg, warned_day + 1);
	return day == INT32_MAX ? INT64_MAX : day_start(day, d->cfg->utc_offset);
}

static void calwarn_run(struct daemon *d, int64_t now)
{
	int32_t today = day_of_time(now, d->cfg->utc_offset);

	if (today != warned_day)
		log_day(d, today);
}

static const struct due_source calwarn_source = { "calendar warnings", calwarn_next_due, calwarn_run };

/* calwarn_init - register the daily warning with the scheduler */
void calwarn_init(void)
{
	sched_register(&calwarn_source);
}
