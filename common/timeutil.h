/*
 * timeutil.h - calendar arithmetic and the textual forms of time used everywhere.
 *
 * A "day" is the number of days since 1970-01-01 (proleptic Gregorian). A time is UTC
 * seconds since the epoch. Local forms apply a fixed UTC offset in seconds (the movement's
 * zone has no daylight saving). On the command line and in JSON: ISO 8601 with offset
 * (2024-11-10T09:00:00+07:00); a bare date is the start of that day in the local zone;
 * durations are 90m, 36h, 3d, 1w, 1d12h.
 */
#ifndef THIDUA_TIMEUTIL_H
#define THIDUA_TIMEUTIL_H

#include <stdint.h>
#include <stddef.h>

#define DAY_SECONDS 86400

int32_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d);
int weekday_of_day(int32_t day);	/* 0 = Monday ... 6 = Sunday */

int date_parse(const char *s, int32_t *day);	/* YYYY-MM-DD; 0 ok, -1 bad */
void date_format(int32_t day, char *buf, size_t size);	/* YYYY-MM-DD */

int tz_offset_parse(const char *s, int *offset_sec);	/* "+07:00" */
void tz_offset_format(int offset_sec, char *buf, size_t size);

/* time_parse - ISO 8601 with offset or Z, or a bare date (local midnight) */
int time_parse(const char *s, int local_offset, int64_t *t);
void time_format(int64_t t, int offset_sec, char *buf, size_t size);

int64_t day_start(int32_t day, int offset_sec);	/* UTC time of local 00:00 */
int32_t day_of_time(int64_t t, int offset_sec);	/* local day containing t */

int duration_parse(const char *s, int64_t *seconds);
void duration_format(int64_t seconds, char *buf, size_t size);

int hhmm_parse(const char *s, int *minutes);	/* "07:30" -> 450 */

#endif
