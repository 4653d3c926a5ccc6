/*
 * calendar.c - working-day arithmetic over the configured calendar.
 */
#include "calendar.h"
#include "timeutil.h"

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
