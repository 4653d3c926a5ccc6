/*
 * ops_units.h - the unit ops: units.list, units.show, units.import.
 */
#ifndef THIDUA_OPS_UNITS_H
#define THIDUA_OPS_UNITS_H

#include <jansson.h>
#include <stdint.h>

struct daemon;
struct request;
struct unit;

int op_units_list(struct daemon *d, struct request *rq, json_t *out);
int op_units_show(struct daemon *d, struct request *rq, json_t *out);
int op_units_import(struct daemon *d, struct request *rq, json_t *out);
json_t *unit_json(const struct daemon *d, const struct unit *u, int32_t day, int full);

#endif
