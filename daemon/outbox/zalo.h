/*
 * zalo.h - the token pair of a Zalo Official Account, held by the daemon (docs/JOBS.md,
 * "Zalo tokens"): handed to the jobs of zalo and zns channels, renewed through one job at
 * a time, stored before any job uses it.
 */
#ifndef THIDUA_ZALO_H
#define THIDUA_ZALO_H

#include <jansson.h>
#include "config.h"
#include "thiduad.h"

/* zalo_managed - the channel's tokens are renewed by thidua (app_id set) */
int zalo_managed(const struct channel *c);

/* zalo_channel_text - the channel settings text (JSON) of a job for a managed channel: the
 * stored access token as secret and, when it is due for renewal and no other job holds the
 * renewal, the refresh to do first; fresh string */
char *zalo_channel_text(struct daemon *d, const struct channel *c, const char *settings);

/* zalo_result - a worker's result for a job of channel c: a renewed pair ("zalo_token") is
 * stored, a refused access token ("token_rejected") makes the pair due for renewal, a failed
 * renewal ("zalo_refresh_failed") frees the renewal for the next job; 1 when a pair was stored.
 * dispatched: when the job left (a refusal of a token replaced since then is not the
 * current token's) */
int zalo_result(struct daemon *d, const char *chname, json_t *msg, int64_t dispatched);

/* zalo_token_refused - delivery id of channel chname got -216 (the access token refused):
 * for a channel whose tokens thidua renews, 1 the first time (marked in its payload: the
 * token is renewed and the delivery tried again at once), 2 the second (refused again after
 * the renewal: it is given up); 0 for other channels (retried with the backoff until a
 * new secret is configured) */
int zalo_token_refused(struct daemon *d, int64_t id, const char *chname);

/* op_zalo_app - {"channel"}: what `thiduactl zalo authorize` needs of a managed channel
 * (app_id, app_secret, oauth_url) and whether a pair is stored */
int op_zalo_app(struct daemon *d, struct request *rq, json_t *out);

/* op_zalo_store - {"channel", "access_token", "refresh_token", "expires_in"}: the pair of
 * a new authorisation stored in one statement for the channel's app */
int op_zalo_store(struct daemon *d, struct request *rq, json_t *out);

#endif
