/*
 * channel_print.h - the fingerprint of a channel's settings (channel_print.c), apart from
 * the rest of channels.c so that what uses it alone (a unit test) links nothing of the
 * daemon's loop.
 */
#ifndef THIDUA_CHANNEL_PRINT_H
#define THIDUA_CHANNEL_PRINT_H

struct channel;

#define CHANNEL_PRINT 17	/* a settings fingerprint: 16 hex digits and the NUL */

/* channel_fingerprint - a digest of what names the endpoint and the right to use it:
 * kind, url, username, password, secret, chat_id. Equal prints, the same endpoint. */
void channel_fingerprint(const struct channel *c, char out[CHANNEL_PRINT]);

#endif
