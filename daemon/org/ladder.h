/*
 * ladder.h - the moments of a report type's ladder of reminders and escalations
 * (ladder.c).
 */
#ifndef THIDUA_LADDER_H
#define THIDUA_LADDER_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct report_type;
struct step;

/* ladder_step_moment - the start of working hours on the working day the step falls on */
int64_t ladder_step_moment(const struct config *cfg, const struct step *st, int32_t due_day);
/* ladder_step_live - does step i of rt fire for a period due at due_at? */
int ladder_step_live(const struct config *cfg, const struct report_type *rt, size_t i, int64_t due_at);
/* ladder_next - the first step moment after 'through', 0 when the ladder has run out */
int64_t ladder_next(const struct config *cfg, const struct report_type *rt, int64_t due_at, int64_t through);

#endif
