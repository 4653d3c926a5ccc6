/*
 * calendar.h - working days of the movement: weekends and holidays from the config,
 * make-up working Saturdays, and the Civil Code Art. 148 roll of a due date that falls on a
 * day off to the next working day.
 */
#ifndef THIDUA_CALENDAR_H
#define THIDUA_CALENDAR_H

#include <stdint.h>

#include "config.h"

int cal_is_working_day(const struct config *cfg, int32_t day);
int32_t cal_roll(const struct config *cfg, int32_t day);	/* day itself if working */
int32_t cal_add_working_days(const struct config *cfg, int32_t day, int n);
int64_t cal_end_of_day(const struct config *cfg, int32_t day);	/* last second, UTC */

#endif
