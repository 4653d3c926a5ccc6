/*
 * timeutil.c - dates, times, offsets and durations (see timeutil.h).
 * The civil-date algorithms are Howard Hinnant's days_from_civil/civil_from_days.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "timeutil.h"

/* days_from_civil - days since 1970-01-01 of y-m-d */
int32_t days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int32_t)doe - 719468;
}

/* civil_from_days - y-m-d of a day number */
void civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)yoe + era * 400 + (*m <= 2);
}

/* weekday_of_day - 0 Monday .. 6 Sunday (1970-01-01 was a Thursday) */
int weekday_of_day(int32_t day)
{
	int w = (int)((day + 3) % 7);

	return w < 0 ? w + 7 : w;
}

static int days_in_month(int y, unsigned m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

/* digits - read exactly n decimal digits */
static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* date_prefix - parse YYYY-MM-DD at the start of s */
static int date_prefix(const char *s, int32_t *day)
{
	int y, m, d;

	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) || s[7] != '-'
	    || digits(s + 8, 2, &d))
		return -1;
	if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (unsigned)m))
		return -1;
	*day = days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

/* date_parse - a whole string YYYY-MM-DD */
int date_parse(const char *s, int32_t *day)
{
	if (strlen(s) != 10)
		return -1;
	return date_prefix(s, day);
}

/* date_format - YYYY-MM-DD */
/* two - n % 100 as two digits at p; the end */
static char *two(char *p, unsigned n)
{
	p[0] = (char)('0' + n / 10 % 10);
	p[1] = (char)('0' + n % 10);
	return p + 2;
}

/* put - text[0..len) as snprintf would put it into buf[size] */
static void put(char *buf, size_t size, const char *text, size_t len)
{
	if (!size)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(buf, text, len);
	buf[len] = 0;
}

/* date_format and time_format write their digits themselves: a reply, an audit row or an
 * event holds several times, and snprintf was a tenth of the cost of taking a report */
void date_format(int32_t day, char *buf, size_t size)
{
	int y;
	unsigned m, d;
	char text[16], *p;

	civil_from_days(day, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(buf, size, "%04d-%02u-%02u", y, m, d);
		return;
	}
	p = two(two(text, (unsigned)y / 100), (unsigned)y);
	*p++ = '-';
	p = two(p, m);
	*p++ = '-';
	p = two(p, d);
	put(buf, size, text, (size_t)(p - text));
}

/* tz_offset_parse - ±HH:MM within -12:00..+14:00, minutes a multiple of 15 */
int tz_offset_parse(const char *s, int *offset_sec)
{
	int h, m, sign;

	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || digits(s + 1, 2, &h) || s[3] != ':'
	    || digits(s + 4, 2, &m))
		return -1;
	sign = s[0] == '-' ? -1 : 1;
	if (m % 15 || m >= 60)
		return -1;
	if ((sign > 0 && h * 60 + m > 14 * 60) || (sign < 0 && h * 60 + m > 12 * 60))
		return -1;
	*offset_sec = sign * (h * 3600 + m * 60);
	return 0;
}

/* tz_offset_format - +HH:MM */
void tz_offset_format(int offset_sec, char *buf, size_t size)
{
	unsigned a = (unsigned)(offset_sec < 0 ? -offset_sec : offset_sec);
	char text[8];

	text[0] = offset_sec < 0 ? '-' : '+';
	two(text + 1, a / 3600);
	text[3] = ':';
	two(text + 4, a / 60 % 60);
	put(buf, size, text, 6);
}

/* day_start - UTC seconds of local midnight */
int64_t day_start(int32_t day, int offset_sec)
{
	return (int64_t)day * DAY_SECONDS - offset_sec;
}

/* day_of_time - the local day a UTC time falls in */
int32_t day_of_time(int64_t t, int offset_sec)
{
	int64_t local = t + offset_sec;
	int64_t d = local / DAY_SECONDS;

	if (local % DAY_SECONDS < 0)
		d--;
	return (int32_t)d;
}

/* time_parse - YYYY-MM-DD[THH:MM[:SS](Z|±HH:MM)] */
int time_parse(const char *s, int local_offset, int64_t *t)
{
	int32_t day;
	int h, mi, sec = 0, off;
	const char *p;

	if (date_prefix(s, &day))
		return -1;
	if (s[10] == 0) {
		*t = day_start(day, local_offset);
		return 0;
	}
	if ((s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) || s[13] != ':'
	    || digits(s + 14, 2, &mi))
		return -1;
	p = s + 16;
	if (*p == ':') {
		if (digits(p + 1, 2, &sec))
			return -1;
		p += 3;
	}
	if (h > 23 || mi > 59 || sec > 59)
		return -1;
	if (*p == 'Z' && p[1] == 0)
		off = 0;
	else if (tz_offset_parse(p, &off))
		return -1;
	*t = (int64_t)day * DAY_SECONDS + h * 3600 + mi * 60 + sec - off;
	return 0;
}

/* time_format - 2024-11-10T09:00:00+07:00 */
void time_format(int64_t t, int offset_sec, char *buf, size_t size)
{
	int64_t local = t + offset_sec;
	int32_t day = day_of_time(t, offset_sec);
	unsigned s = (unsigned)(local - (int64_t)day * DAY_SECONDS);
	char text[48], *p;
	size_t n;

	date_format(day, text, 24);
	n = strlen(text);
	p = text + n;
	*p++ = 'T';
	p = two(p, s / 3600);
	*p++ = ':';
	p = two(p, s / 60 % 60);
	*p++ = ':';
	p = two(p, s % 60);
	tz_offset_format(offset_sec, p, 8);
	put(buf, size, text, strlen(text));
}

/* duration_parse - one or more NUMBERunit parts: s, m, h, d, w ("1d12h") */
int duration_parse(const char *s, int64_t *seconds)
{
	int64_t total = 0;

	if (!*s)
		return -1;
	while (*s) {
		int64_t n = 0, mult;
		int nd = 0;

		while (isdigit((unsigned char)*s)) {
			if (n > 100000000)
				return -1;
			n = n * 10 + (*s++ - '0');
			nd++;
		}
		if (!nd)
			return -1;
		switch (*s++) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = DAY_SECONDS; break;
		case 'w': mult = 7 * DAY_SECONDS; break;
		default: return -1;
		}
		total += n * mult;
		if (total > (int64_t)200 * 366 * DAY_SECONDS)	/* beyond two centuries: a mistake */
			return -1;
	}
	*seconds = total;
	return 0;
}

/* duration_format - the shortest form among d, h, m, s parts */
void duration_format(int64_t sec, char *buf, size_t size)
{
	size_t used = 0;
	static const struct { int64_t n; char u; } parts[] = {
		{ DAY_SECONDS, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};

	buf[0] = 0;
	if (sec < 0) {
		used += (size_t)snprintf(buf, size, "-");
		sec = -sec;
	}
	if (sec == 0) {
		snprintf(buf + used, size - used, "0s");
		return;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && used < size; i++) {
		if (sec >= parts[i].n) {
			used += (size_t)snprintf(buf + used, size - used, "%lld%c",
						 (long long)(sec / parts[i].n), parts[i].u);
			sec %= parts[i].n;
		}
	}
}

/* hhmm_parse - HH:MM to minutes after midnight (24:00 allowed as the end of day) */
int hhmm_parse(const char *s, int *minutes)
{
	int h, m;

	if (strlen(s) != 5 || digits(s, 2, &h) || s[2] != ':' || digits(s + 3, 2, &m))
		return -1;
	if (m > 59 || h > 24 || (h == 24 && m))
		return -1;
	*minutes = h * 60 + m;
	return 0;
}
