/*
 * mailhdr.h - the header fields thiduad and thidua-mail must write alike: the Message-ID
 * derived from a message's dedup key, and the Date in the movement's time zone. The
 * spool's .eml files (daemon/spool.c) and the mail sent (workers/mail) use these.
 */
#ifndef THIDUA_MAILHDR_H
#define THIDUA_MAILHDR_H

#include <stddef.h>
#include <time.h>

#define MAILHDR_ID_MAX 300	/* room for any Message-ID mail_message_id writes */

/* mail_message_id - "<32 hex of sha256(key)@DOMAIN>": the same key, the same Message-ID;
 * DOMAIN is the sending address's domain (after its '@'), "localhost" when it has none */
void mail_message_id(const char *key, const char *from, char *out, size_t size);

/* mail_date - RFC 5322 date-time of t at utc_offset seconds east of UTC, in English
 * names whatever the locale: "Thu, 31 Oct 2024 19:00:00 +0700" */
void mail_date(time_t t, int utc_offset, char *out, size_t size);

#endif
