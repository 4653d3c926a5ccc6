/*
 * result_bound.h - what a worker's jobs result may make the daemon store and show: its
 * reason cut to RESULT_REASON_MAX bytes, and the frame kept as the delivery's detail
 * rebuilt from its known members when it is over RESULT_DETAIL_MAX.
 */
#ifndef THIDUA_RESULT_BOUND_H
#define THIDUA_RESULT_BOUND_H

#include <jansson.h>
#include <stddef.h>

#define RESULT_REASON_MAX 1024
#define RESULT_DETAIL_MAX 65536
char *result_bound(json_t *msg, const char **raw, size_t *rawlen);

#endif
