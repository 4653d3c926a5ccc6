/*
 * api.h - the api socket (ROUTER) and the events socket (PUB): reading requests,
 * dispatching them by op, group commit, idempotent replay, and replies.
 */
#ifndef THIDUA_API_H
#define THIDUA_API_H

#include <stddef.h>

struct daemon;

int api_open(struct daemon *d, char *err, size_t errsize);
void api_close(struct daemon *d);
void api_turn(struct daemon *d);

#endif
