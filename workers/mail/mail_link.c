/*
 * mail_link.c - the worker's end of the jobs socket (docs/JOBS.md): a DEALER connected to
 * thiduad's ROUTER, one JSON frame per message.
 *
 * The worker announces itself (`ready`) each time the connection is made, which a socket
 * monitor reports, so a restarted daemon (or one that comes up after the worker) learns
 * of it without a restart of the worker; it also answers the daemon's `hello` (sent to a
 * peer it does not know) the same way. Pings go every 5 s while connected. ZMTP
 * heartbeats let libzmq notice a peer that vanished without closing (a remote host gone)
 * and reconnect. Owns the context, the socket and the monitor.
 *
 * On a tcp endpoint the socket is a CURVE client (common/curve.c), its keys set once before
 * zmq_connect: libzmq keeps them in the socket's options and uses them for every
 * reconnection, since the socket itself is never recreated. A connection counts from its
 * completed handshake, not from the tcp connect, so a refused key is not taken for a
 * connection; the refusal itself ends the process, as libzmq never tries again after one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "curve.h"
#include "jdump.h"
#include "jload.h"
#include "log.h"
#include "mail.h"
#include "proto.h"
#include "xalloc.h"

#define PING_MS 5000
#define MONITOR_ENDPOINT "inproc://thidua-mail.monitor"
#define MONITOR_EVENTS (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH \
			| ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

struct link {
	void *ctx, *sock, *mon;
	char *endpoint, *name;
	int capacity;
	int connected;			/* a handshake completed and no disconnection since */
	int64_t next_ping_ms;
	int curve;			/* a CURVE client (tcp) */
	int handshake_warned;		/* a failed handshake was logged since the last success */
	char public_key[CURVE_KEY_LEN + 1];	/* the key the daemon must know, when curve */
};

/* setint - an integer socket option; a missing one is not worth stopping for */
static void setint(void *sock, int opt, int value, const char *what)
{
	if (zmq_setsockopt(sock, opt, &value, sizeof(value)) != 0)
		log_warn("jobs socket: cannot set %s: %s", what, zmq_strerror(errno));
}

/* link_open - connect to thiduad; the connection itself is made in the background */
struct link *link_open(const char *endpoint, const char *name, int capacity, const char *server_key,
		       const char *key_file)
{
	struct link *l = xcalloc(1, sizeof(*l));
	char err[1024];

	l->endpoint = xstrdup(endpoint);
	l->name = xstrdup(name);
	l->capacity = capacity;
	l->ctx = zmq_ctx_new();
	if (!l->ctx)
		fatal("cannot create a ZeroMQ context: %s", zmq_strerror(errno));
	l->sock = zmq_socket(l->ctx, ZMQ_DEALER);
	l->mon = zmq_socket(l->ctx, ZMQ_PAIR);
	if (!l->sock || !l->mon)
		fatal("cannot create the jobs socket: %s", zmq_strerror(errno));
	setint(l->sock, ZMQ_LINGER, 2000, "ZMQ_LINGER");	/* results still go out at exit */
	setint(l->sock, ZMQ_RECONNECT_IVL_MAX, 5000, "ZMQ_RECONNECT_IVL_MAX");
#ifdef ZMQ_HEARTBEAT_IVL
	setint(l->sock, ZMQ_HEARTBEAT_IVL, 5000, "ZMQ_HEARTBEAT_IVL");
	setint(l->sock, ZMQ_HEARTBEAT_TIMEOUT, 15000, "ZMQ_HEARTBEAT_TIMEOUT");
#endif
	setint(l->mon, ZMQ_LINGER, 0, "ZMQ_LINGER");
	if (server_key) {
		if (curve_client_setup(l->sock, server_key, key_file, err, sizeof(err)))
			fatal("%s", err);
		curve_client_public(l->sock, l->public_key);
		l->curve = 1;
		log_notice("CURVE: this worker's public key is %s (it must be in thiduad's daemon.worker_keys)",
			   l->public_key);
	}
	/* the monitor's reader is connected before the socket is, so no event is missed */
	if (zmq_socket_monitor(l->sock, MONITOR_ENDPOINT, MONITOR_EVENTS) != 0
	    || zmq_connect(l->mon, MONITOR_ENDPOINT) != 0)
		fatal("cannot monitor the jobs socket: %s", zmq_strerror(errno));
	if (zmq_connect(l->sock, endpoint) != 0)
		fatal("cannot connect to the jobs endpoint %s: %s", endpoint, zmq_strerror(errno));
	log_info("connecting to %s as %s (capacity %d)", endpoint, name, capacity);
	return l;
}

/* link_close - close the socket (waiting up to its linger for unsent results) */
void link_close(struct link **self_p)
{
	struct link *l = self_p ? *self_p : NULL;

	if (!l)
		return;
	zmq_socket_monitor(l->sock, NULL, 0);
	zmq_close(l->mon);
	zmq_close(l->sock);
	zmq_ctx_term(l->ctx);
	free(l->endpoint);
	free(l->name);
	free(l);
	*self_p = NULL;
}

/* link_pollitems - what the loop polls for the link */
size_t link_pollitems(struct link *l, zmq_pollitem_t *items)
{
	items[0] = (zmq_pollitem_t){ .socket = l->sock, .events = ZMQ_POLLIN };
	items[1] = (zmq_pollitem_t){ .socket = l->mon, .events = ZMQ_POLLIN };
	return 2;
}

/* link_send - one JSON frame to thiduad; steals msg. Never blocks: with the daemon away
 * long enough to fill the queue, the message is dropped (a lost result only means the
 * lease runs out and the job is done again, with the same Message-ID). */
static void link_send(struct link *l, json_t *msg)
{
	char *text = jdump(msg, JSON_COMPACT);

	if (!text)
		fatal("cannot encode a message as JSON");
	if (zmq_send(l->sock, text, strlen(text), ZMQ_DONTWAIT) < 0)
		log_warn("jobs socket: a message to thiduad was dropped: %s", zmq_strerror(errno));
	free(text);
	json_decref(msg);
}

/* link_ready - announce kind, capacity and who we are */
void link_ready(struct link *l)
{
	link_send(l, json_pack("{s:s,s:s,s:i,s:i,s:I,s:s}", "type", "ready", "kind", "mail", "capacity", l->capacity,
			       "version", THIDUA_PROTOCOL_VERSION, "pid", (json_int_t)getpid(), "name", l->name));
}

/* link_result - the outcome of one job; code is null when no server reply gave one */
void link_result(struct link *l, const char *job, const struct mail_outcome *o)
{
	json_t *msg = json_pack("{s:s,s:s,s:s,s:s}", "type", "result", "job", job, "status",
				outcome_status_name(o->status), "reason", o->reason ? o->reason : "");

	json_object_set_new(msg, "code", o->code ? json_integer(o->code) : json_null());
	if (o->status == MAIL_RETRY)
		json_object_set_new(msg, "retry_after", json_integer(o->retry_after));
	if (o->recipients)
		json_object_set(msg, "recipients", o->recipients);
	link_send(l, msg);
}

/* handshake_failed - why no connection comes up, once until one does; a refused key ends
 * the process: libzmq does not reconnect after a refusal, so waiting would be silent */
static void handshake_failed(struct link *l, uint16_t event, uint32_t value)
{
	char why[64];

	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
		fatal("thiduad at %s refused this worker's key %s (ZAP status %u): add it to daemon.worker_keys "
		      "in thiduad's configuration and reload thiduad", l->endpoint,
		      l->public_key[0] ? l->public_key : "(none)", (unsigned)value);
	if (l->handshake_warned)
		return;
	l->handshake_warned = 1;
	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
		snprintf(why, sizeof(why), "protocol error 0x%x", (unsigned)value);
	else
		snprintf(why, sizeof(why), "%s", zmq_strerror((int)value));
	if (l->curve)
		log_warn("the CURVE handshake with %s failed (%s): is --server-key thiduad's public key (the .pub "
			 "beside its daemon.curve_key_file)? retrying", l->endpoint, why);
	else
		log_info("the handshake with %s failed (%s); retrying", l->endpoint, why);
}

/* link_events - connection changes reported by the monitor */
void link_events(struct link *l)
{
	for (;;) {
		zmq_msg_t ev, addr;
		uint16_t event = 0;
		uint32_t value = 0;

		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, l->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			return;
		}
		if (zmq_msg_size(&ev) >= sizeof(event) + sizeof(value)) {
			memcpy(&event, zmq_msg_data(&ev), sizeof(event));
			memcpy(&value, (const char *)zmq_msg_data(&ev) + sizeof(event), sizeof(value));
		}
		while (zmq_msg_more(&ev)) {	/* the endpoint frame */
			zmq_msg_init(&addr);
			zmq_msg_recv(&addr, l->mon, 0);
			zmq_msg_close(&ev);
			ev = addr;
		}
		zmq_msg_close(&ev);
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			log_info("connected to %s%s", l->endpoint, l->curve ? " (CURVE)" : "");
			l->connected = 1;
			l->handshake_warned = 0;
			link_ready(l);
			l->next_ping_ms = mono_ms() + PING_MS;
		} else if (event == ZMQ_EVENT_DISCONNECTED) {
			if (l->connected)
				log_notice("lost the connection to thiduad (%s); reconnecting", l->endpoint);
			else
				log_debug("a connection to %s closed before its handshake completed; reconnecting",
					  l->endpoint);
			l->connected = 0;
		} else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
			   || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
			handshake_failed(l, event, value);
		}
	}
}

/* link_recv - the next JSON object from thiduad, or NULL when nothing is waiting */
json_t *link_recv(struct link *l)
{
	for (;;) {
		zmq_msg_t m;
		json_t *msg;
		json_error_t jerr;
		int more;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, l->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return NULL;
		}
		msg = jload(zmq_msg_data(&m), zmq_msg_size(&m), JSON_REJECT_DUPLICATES, &jerr);
		more = zmq_msg_more(&m);
		zmq_msg_close(&m);
		while (more) {		/* extra frames are not part of the protocol */
			zmq_msg_init(&m);
			zmq_msg_recv(&m, l->sock, 0);
			more = zmq_msg_more(&m);
			zmq_msg_close(&m);
		}
		if (json_is_object(msg) && json_is_string(json_object_get(msg, "type")))
			return msg;
		log_warn("jobs socket: a message from thiduad that is not a JSON object with a type was ignored%s%s",
			 msg ? "" : ": ", msg ? "" : jerr.text);
		json_decref(msg);
	}
}

/* link_tick - ping when due; the time to the next one, -1 while not connected */
long link_tick(struct link *l, int64_t now_ms)
{
	if (!l->connected)
		return -1;
	if (now_ms >= l->next_ping_ms) {
		link_send(l, json_pack("{s:s}", "type", "ping"));
		l->next_ping_ms = now_ms + PING_MS;
	}
	return (long)(l->next_ping_ms - now_ms);
}
