/*
 * replyto.h - the Reply-To of a unit's notice: LOCAL+TOKEN@DOMAIN (daemon.reply_to), where
 * TOKEN names the obligation (report, period, unit) a reminder, an overdue notice or a
 * return is about, so that a reply with the report attached can be taken as its submission.
 */
#ifndef THIDUA_REPLYTO_H
#define THIDUA_REPLYTO_H

#include <stddef.h>

struct daemon;

int replyto_init(struct daemon *d, char *err, size_t errsize);

/* replyto_address - "LOCAL+TOKEN@DOMAIN" for a reminder, overdue notice or return to a
 * unit (the token recorded), into buf; 0 when there is none (not configured, another kind) */
int replyto_address(struct daemon *d, const char *kind, const char *report, const char *period, const char *unit,
		    char *buf, size_t size);

/* replyto_lookup - the obligation a token names (its MAC checked): 0 and report, period,
 * unit filled (malloc'd), -1 when unknown */
int replyto_lookup(struct daemon *d, const char *token, char **report, char **period, char **unit);

#endif
