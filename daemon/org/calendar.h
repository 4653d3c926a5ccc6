/*
 * calendar.h - working days of the movement: weekends and holidays from the config,
 * make-up working Saturdays, and the Civil Code Art. 148 roll of a due date that falls on a
 * day off to the next working day. Also the periods of a report type (when each opens and
 * falls due), computed from the config alone so that intake, deadlines and reminders agree.
 */
#ifndef THIDUA_CALENDAR_H
#define THIDUA_CALENDAR_H

#include <stdint.h>

#include "config.h"

int cal_is_working_day(const struct config *cfg, int32_t day);
int32_t cal_roll(const struct config *cfg, int32_t day);	/* day itself if working */
int32_t cal_roll_back(const struct config *cfg, int32_t day);	/* day itself if working */
int32_t cal_add_working_days(const struct config *cfg, int32_t day, int n);
int64_t cal_end_of_day(const struct config *cfg, int32_t day);	/* last second, UTC */
/* cal_lock_at - the last second a late submission of a period due at due_at is taken
 * (late_until_days); INT64_MAX when the type takes late submissions always. Escalation
 * ends there and an obligation still owed then reads as missing. */
int64_t cal_lock_at(const struct report_type *rt, int64_t due_at);

/* one period of a report type: yearly "2024", or a one-off's configured name */
struct cal_period {
	char name[32];
	int64_t opens_at;	/* local midnight of the opening day, UTC */
	int32_t nominal_day;	/* due date as configured */
	int32_t due_day;	/* effective: rolled to a working day when the type rolls */
	int64_t due_at;		/* last second on time: end of due_day, UTC */
};

/* cal_period - the i-th period of rt (0-based, in due order); 0 ok, -1 past the last */
int cal_period(const struct config *cfg, const struct report_type *rt, int i, struct cal_period *p);

/* cal_period_named - the period of rt called name; 0 ok, -1 not a period of rt */
int cal_period_named(const struct config *cfg, const struct report_type *rt, const char *name,
		     struct cal_period *p);

#endif
