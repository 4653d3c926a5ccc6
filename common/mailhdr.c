/*
 * mailhdr.c - Message-ID and Date as both thiduad and thidua-mail write them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailhdr.h"
#include "sha256.h"

/* mail_message_id - the key's hash at the sender's domain (RFC 5322 section 3.6.4 asks
 * for a right side that names the sender's host or domain, so ids stay unique across
 * senders; "@thidua" was neither) */
void mail_message_id(const char *key, const char *from, char *out, size_t size)
{
	const char *at = from ? strrchr(from, '@') : NULL;
	const char *domain = at && at[1] ? at + 1 : "localhost";
	char hex[65];

	sha256_hex(key, strlen(key), hex);
	snprintf(out, size, "<%.32s@%.200s>", hex, domain);
}

/* mail_date - the time as the movement's clocks show it, with their offset */
void mail_date(time_t t, int utc_offset, char *out, size_t size)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	time_t local = t + utc_offset;
	int off = utc_offset < 0 ? -utc_offset : utc_offset;
	struct tm tm;

	gmtime_r(&local, &tm);
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, utc_offset < 0 ? '-' : '+',
		 off / 3600, off % 3600 / 60);
}
