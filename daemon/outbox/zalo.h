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
 * renewal ("zalo_refresh_failed") frees the renewal for the next job; 1 when a pair was stored */
int zalo_result(struct daemon *d, const char *chname, json_t *msg);

#endif
