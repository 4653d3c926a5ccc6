/*
 * calendar.c - working-day arithmetic over the configured calendar, and the periods of
 * the report types (their opening and due moments) that follow from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "timeutil.h"
#include "xalloc.h"

/* cal_is_working_day - a listed holiday decides; otherwise the weekday does */
int cal_is_working_day(const struct config *cfg, int32_t day)
{
	const struct holiday *h = cfg_holiday(cfg, day);

	if (h)
		return h->work;
	return !(cfg->weekend_mask & (1u << weekday_of_day(day)));
}

/* cal_roll - the first working day on or after day (bounded: a year of days off is absurd) */
int32_t cal_roll(const struct config *cfg, int32_t day)
{
	for (int i = 0; i < 366 && !cal_is_working_day(cfg, day); i++)
		day++;
	return day;
}

/* cal_roll_back - the last working day on or before day (bounded as cal_roll) */
int32_t cal_roll_back(const struct config *cfg, int32_t day)
{
	for (int i = 0; i < 366 && !cal_is_working_day(cfg, day); i++)
		day--;
	return day;
}

/* cal_lock_at - the last second a late submission is taken for a period due at due_at:
 * late_until_days whole days after the due moment; INT64_MAX when late is always taken */
int64_t cal_lock_at(const struct report_type *rt, int64_t due_at)
{
	return rt->late_days < 0 ? INT64_MAX : due_at + (int64_t)rt->late_days * DAY_SECONDS;
}

/* cal_add_working_days - the n-th working day after day */
int32_t cal_add_working_days(const struct config *cfg, int32_t day, int n)
{
	while (n > 0) {
		day++;
		if (cal_is_working_day(cfg, day))
			n--;
	}
	return day;
}

/* cal_end_of_day - 23:59:59 local of day, in UTC seconds */
int64_t cal_end_of_day(const struct config *cfg, int32_t day)
{
	return day_start(day + 1, cfg->utc_offset) - 1;
}

/* cal_period_named - resolve a period name of rt: a year within first..last, or the
 * one-off's period */
int cal_period_named(const struct config *cfg, const struct report_type *rt, const char *name,
		     struct cal_period *p)
{
	int32_t open_day;

	memset(p, 0, sizeof(*p));
	if (rt->yearly) {
		char *end;
		long y = strtol(name, &end, 10);

		if (*end || end == name || y < rt->first_year || y > rt->last_year)
			return -1;
		p->nominal_day = days_from_civil((int)y, (unsigned)rt->due_month, (unsigned)rt->due_mday);
		open_day = days_from_civil((int)y, (unsigned)rt->open_month, (unsigned)rt->open_mday);
	} else {
		if (strcmp(name, rt->once_period) != 0)
			return -1;
		p->nominal_day = rt->once_due;
		open_day = rt->once_open;
	}
	xstrlcpy(p->name, name, sizeof(p->name));
	p->opens_at = day_start(open_day, cfg->utc_offset);
	p->due_day = rt->roll ? cal_roll(cfg, p->nominal_day) : p->nominal_day;
	p->due_at = cal_end_of_day(cfg, p->due_day);
	return 0;
}

/* cal_period - the i-th period of rt (0-based); -1 past the last */
int cal_period(const struct config *cfg, const struct report_type *rt, int i, struct cal_period *p)
{
	char name[32];

	if (i < 0)
		return -1;
	if (rt->yearly) {
		if (rt->first_year + i > rt->last_year)
			return -1;
		snprintf(name, sizeof(name), "%d", rt->first_year + i);
		return cal_period_named(cfg, rt, name, p);
	}
	return i == 0 ? cal_period_named(cfg, rt, rt->once_period, p) : -1;
}
