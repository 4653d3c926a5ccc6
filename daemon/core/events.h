/*
 * events.h - state changes published on the events socket (XPUB), topic = event type.
 * Events are held until the turn's commit, so a watcher never sees what was rolled back.
 */
#ifndef THIDUA_EVENTS_H
#define THIDUA_EVENTS_H

#include <jansson.h>
#include <stddef.h>

struct daemon;

void events_emit(struct daemon *d, const char *type, json_t *body);	/* steals body */
void events_flush(struct daemon *d);
void events_subscriptions(struct daemon *d);
size_t events_mark(struct daemon *d);
void events_truncate(struct daemon *d, size_t mark);

#endif
