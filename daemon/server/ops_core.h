/*
 * ops_core.h - status, the clock ops and config.reload.
 */
#ifndef THIDUA_OPS_CORE_H
#define THIDUA_OPS_CORE_H

#include <jansson.h>

struct daemon;
struct request;

int op_status(struct daemon *d, struct request *rq, json_t *out);
int op_clock_show(struct daemon *d, struct request *rq, json_t *out);
int op_clock_set(struct daemon *d, struct request *rq, json_t *out);
int op_clock_advance(struct daemon *d, struct request *rq, json_t *out);
int op_config_reload(struct daemon *d, struct request *rq, json_t *out);

#endif
