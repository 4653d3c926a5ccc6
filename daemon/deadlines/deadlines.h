/*
 * deadlines.h - the deadline engine: reminders before a due date, escalation up the
 * hierarchy after it, in working hours, exactly once.
 */
#ifndef THIDUA_DEADLINES_H
#define THIDUA_DEADLINES_H

#include <stdint.h>

struct daemon;
struct report_type;
struct target;
struct unit;

void deadlines_init(void);
int deadlines_replan(struct daemon *d);
const struct unit *target_unit(struct daemon *d, const struct report_type *rt, const struct target *t,
			       const struct unit *u, int32_t day);
const struct unit *target_unit_at(struct daemon *d, const struct report_type *rt, const struct target *t,
				  const struct unit *u, int32_t day, const struct unit **gone);

#endif
