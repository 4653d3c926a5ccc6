/*
 * deadlines.h - the deadline engine: reminders before a due date, escalation up the
 * hierarchy after it, in working hours, exactly once.
 */
#ifndef THIDUA_DEADLINES_H
#define THIDUA_DEADLINES_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct daemon;
struct report_type;
struct step;
struct target;
struct unit;

void deadlines_init(void);
int deadlines_replan(struct daemon *d);
int64_t step_moment(const struct config *cfg, const struct step *st, int32_t due_day);
int step_live(const struct config *cfg, const struct report_type *rt, size_t i, int64_t due_at);
int64_t ladder_next(const struct config *cfg, const struct report_type *rt, int64_t due_at, int64_t through);
const struct unit *target_unit(struct daemon *d, const struct report_type *rt, const struct target *t,
			       const struct unit *u, int32_t day);
const struct unit *target_unit_at(struct daemon *d, const struct report_type *rt, const struct target *t,
				  const struct unit *u, int32_t day, const struct unit **gone);

#endif
