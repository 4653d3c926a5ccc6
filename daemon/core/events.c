/*
 * events.c - state changes published on the events socket (XPUB), topic = event type.
 * Events are held until the turn's commit, so a watcher never sees what was rolled back.
 */
#include <string.h>

#include "jdump.h"
#include "log.h"
#include "timeutil.h"
#include "thiduad.h"
#include "xalloc.h"

/* events_emit - queue an event; steals body. A delivery run emits two events per message,
 * so the time text is formatted once per second, not once per event. */
void events_emit(struct daemon *d, const char *type, json_t *body)
{
	static int64_t at_t = -1;
	static int at_offset;
	static char at[40];
	int64_t now = clock_now(d);

	if (!d->pending_events)
		d->pending_events = json_array();
	if (now != at_t || d->cfg->utc_offset != at_offset) {
		time_format(now, d->cfg->utc_offset, at, sizeof(at));
		at_t = now;
		at_offset = d->cfg->utc_offset;
	}
	json_object_set_new(body, "type", json_string(type));
	json_object_set_new(body, "at", json_string(at));
	json_array_append_new(d->pending_events, body);
}

/* events_mark - how many events are queued, to truncate back to */
size_t events_mark(struct daemon *d)
{
	return d->pending_events ? json_array_size(d->pending_events) : 0;
}

/* events_truncate - drop the events queued after mark (their request failed) */
void events_truncate(struct daemon *d, size_t mark)
{
	while (d->pending_events && json_array_size(d->pending_events) > mark)
		json_array_remove(d->pending_events, json_array_size(d->pending_events) - 1);
}

/* events_subscriptions - read what the events socket (XPUB) says of its subscribers: a
 * frame per topic first subscribed (1 then the topic) or last unsubscribed (0), a
 * subscriber's going away included */
void events_subscriptions(struct daemon *d)
{
	zmq_msg_t m;

	zmq_msg_init(&m);
	while (zrecv(&m, d->events, ZMQ_DONTWAIT) >= 0) {
		const unsigned char *b = zmq_msg_data(&m);
		size_t n = zmq_msg_size(&m);

		if (n > 0 && b[0] == 1)
			d->event_topics++;
		else if (n > 0 && b[0] == 0 && d->event_topics > 0)
			d->event_topics--;
	}
	zmq_msg_close(&m);
}

/* events_flush - publish the queued events as [topic][json] (the topic is the body's type).
 * With nobody subscribed they are dropped unwritten, as a PUB socket would drop them
 * written: subscriptions that reached the socket before this moment are counted first. */
void events_flush(struct daemon *d)
{
	size_t i;
	json_t *ev;

	if (!d->pending_events)
		return;
	events_subscriptions(d);
	if (!d->event_topics) {
		json_array_clear(d->pending_events);
		return;
	}
	json_array_foreach(d->pending_events, i, ev) {
		const char *type = json_string_value(json_object_get(ev, "type"));
		char *text = jdump(ev, JSON_COMPACT);

		if (!text)
			continue;
		zmq_send(d->events, type, strlen(type), ZMQ_SNDMORE | ZMQ_DONTWAIT);
		zmq_send(d->events, text, strlen(text), ZMQ_DONTWAIT);
		free(text);
	}
	json_array_clear(d->pending_events);
}
