/*
 * ladder.c - the moments of a report type's ladder (its reminders before the due date and
 * escalations after it), from the configuration and the calendar alone, so that intake
 * (an obligation's next moment), the deadline engine and a reorganisation agree.
 */
#include <stddef.h>

#include "calendar.h"
#include "config.h"
#include "ladder.h"
#include "timeutil.h"

/* sub_working_days - the n-th working day before day */
static int32_t sub_working_days(const struct config *cfg, int32_t day, int n)
{
	while (n > 0) {
		day--;
		if (cal_is_working_day(cfg, day))
			n--;
	}
	return day;
}

/* ladder_step_moment - the start of working hours on the working day the step falls on. A
 * reminder N days before that lands on a day off moves back to the working day before it,
 * never forward onto the due day (1d before a Monday deadline is the Friday); an
 * escalation on a day off moves forward to the next working day. */
int64_t ladder_step_moment(const struct config *cfg, const struct step *st, int32_t due_day)
{
	int32_t day;

	if (!st->escalation) {
		day = st->at.working ? sub_working_days(cfg, due_day, st->at.n) : due_day - st->at.n;
		day = st->at.n > 0 ? cal_roll_back(cfg, day) : cal_roll(cfg, day);
	} else {
		day = (st->at.working ? cal_add_working_days(cfg, due_day, st->at.n) : due_day + st->at.n)
		      + st->extra_days;
		day = cal_roll(cfg, day);
	}
	return day_start(day, cfg->utc_offset) + (int64_t)cfg->work_start * 60;
}

/* ladder_step_live - does step i of rt fire for a period due at due_at? Not after the lock (late
 * submissions closed: nobody is asked to chase a report that can no longer be sent), and
 * not a reminder that lands on the moment of an earlier one of the ladder (1d and 1wd
 * before a Tuesday after a Monday holiday are both the Friday: one reminder, not two) */
int ladder_step_live(const struct config *cfg, const struct report_type *rt, size_t i, int64_t due_at)
{
	int32_t due_day = day_of_time(due_at, cfg->utc_offset);
	int64_t m = ladder_step_moment(cfg, &rt->steps[i], due_day);

	if (m > cal_lock_at(rt, due_at))
		return 0;
	for (size_t j = 0; j < i && !rt->steps[i].escalation; j++)
		if (!rt->steps[j].escalation && ladder_step_moment(cfg, &rt->steps[j], due_day) == m)
			return 0;
	return 1;
}

/* ladder_next - the first step moment after 'through', 0 when the ladder has run out */
int64_t ladder_next(const struct config *cfg, const struct report_type *rt, int64_t due_at, int64_t through)
{
	int32_t due_day = day_of_time(due_at, cfg->utc_offset);
	int64_t next = 0;

	for (size_t i = 0; i < rt->nsteps; i++) {
		int64_t m = ladder_step_moment(cfg, &rt->steps[i], due_day);

		if (m > through && (!next || m < next) && ladder_step_live(cfg, rt, i, due_at))
			next = m;
	}
	return next;
}
