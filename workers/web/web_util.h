/*
 * web_util.h - small helpers the pages share (web_util.c)
 */
#ifndef THIDUA_WEB_UTIL_H
#define THIDUA_WEB_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "web.h"

/* state_text_vi - an obligation's state for people */
const char *state_text_vi(const char *state);

/* daemon_today - the daemon's day (its clock: clock.show); 0, or -1 */
int daemon_today(struct web_req *r, int32_t *today);

/* date_parse_prefix - the YYYY-MM-DD that starts a time */
int date_parse_prefix(const char *iso, int32_t *day);

/* days_left_text - "còn 3 ngày", "hạn cuối hôm nay", "quá hạn 2 ngày" */
void days_left_text(int32_t today, const char *due_at, char *out, size_t size);

/* size_text - "1.5 MiB (1572864 byte)" */
void size_text(uint64_t n, char *out, size_t size);

/* file_name_problem - why name cannot name a submitted file (report.submit's rules), in
 * Vietnamese, or NULL */
const char *file_name_problem(const char *name);

#endif
