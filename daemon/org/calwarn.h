/*
 * calwarn.h - days off not yet officially announced. The configuration may carry days
 * derived from the law before the Government announces the year's schedule (Tết, the day
 * next to 2 September): `confirmed = false`. From 1 December of the year before, while such
 * a day is still ahead, `status` lists it and the log says so at start-up, after a reload
 * and once a day (at local midnight, not every turn), so that the operator updates the file
 * when the announcement comes; a reload applies the change.
 */
#ifndef THIDUA_CALWARN_H
#define THIDUA_CALWARN_H

#include <jansson.h>
#include <stdint.h>

struct config;
struct daemon;

json_t *calwarn_json(const struct config *cfg, int32_t today);
void calwarn_log(struct daemon *d);
void calwarn_init(void);

#endif
