/*
 * channels.h - the health of delivery channels (channels.c): disabled and enabled again,
 * their last error, the operator's notices about them; channels.list and channels.enable.
 */
#ifndef THIDUA_CHANNELS_H
#define THIDUA_CHANNELS_H

#include <stdint.h>

#include "templates.h"
#include "thiduad.h"

#define CHANNEL_PRINT 17	/* a settings fingerprint: 16 hex digits and the NUL */

/* channel_fingerprint - a digest of what names the endpoint and the right to use it:
 * kind, url, username, password, secret, chat_id. Equal prints, the same endpoint. */
void channel_fingerprint(const struct channel *c, char out[CHANNEL_PRINT]);

/* channel_is_disabled - 1 while the channel is disabled */
int channel_is_disabled(struct daemon *d, const char *name);

/* channel_disable - the channel stops sending (its deliveries wait) until enabled again;
 * settings is the fingerprint that answered 410. The operator is told. */
void channel_disable(struct daemon *d, const struct channel *c, const char *settings, const char *reason);

/* channel_enable - a disabled channel sends again; why says who or what enabled it. 1 when
 * it was disabled, 0 when it was not. The operator is told. */
int channel_enable(struct daemon *d, const struct channel *c, const char *why);

/* channel_note_error - the channel's last error, for channels.list */
void channel_note_error(struct daemon *d, const char *name, const char *error);

/* channels_reconcile - after a start or a reload: a disabled channel whose url or
 * credentials changed comes back */
void channels_reconcile(struct daemon *d);

/* operator_notice - one message to daemon.operator_channel (no-op without one): a
 * dead letter, a channel disabled or back. Its own outbox row, kind "operator", that may
 * leave at any hour. */
void operator_notice(struct daemon *d, enum tmpl_event ev, const char *channel, const char *reason,
		     int64_t notification);

/* channels_disabled_json - [{"name","kind","disabled_at","reason"}], for status */
json_t *channels_disabled_json(struct daemon *d);

int op_channels_list(struct daemon *d, struct request *rq, json_t *out);
int op_channels_enable(struct daemon *d, struct request *rq, json_t *out);	/* {"channel"} */

#endif
