/*
 * ops_calendar.h - the calendar ops (ops_calendar.c): calendar.show, one month of working
 * days and days off, and deadlines, when each report period is due after the Art. 148
 * roll. Read-only; api.c dispatches them.
 */
#ifndef THIDUA_OPS_CALENDAR_H
#define THIDUA_OPS_CALENDAR_H

#include <jansson.h>

struct daemon;
struct request;

int op_calendar_show(struct daemon *d, struct request *rq, json_t *out);	/* {"month":"YYYY-MM"} */
int op_deadlines(struct daemon *d, struct request *rq, json_t *out);	/* {"report"?,"period"?} */

#endif
