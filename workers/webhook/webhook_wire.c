/*
 * webhook_wire.c - the worker's side of the jobs protocol (docs/JOBS.md): a DEALER socket to
 * the daemon's ROUTER, one JSON frame per message. Sends ready (again after every
 * reconnect, seen through a socket monitor, and when the daemon says hello because it does
 * not know us), ping every 5 s and results; takes job, ping and stop.
 *
 * ZMQ_FD is edge-triggered: it only says "look at ZMQ_EVENTS". So input is always read
 * until ZMQ_EVENTS has no POLLIN, and the last thing before the loop sleeps is
 * wire_pending(), which asks ZMQ_EVENTS once more.
 *
 * Owns the zmq context, both sockets and the queue of frames not yet accepted by zmq
 * (results are never dropped; pings are, when zmq cannot take them).
 *
 * On a tcp endpoint the socket is a CURVE client (common/curve.c), its keys set once before
 * zmq_connect: libzmq keeps them in the socket's options and uses them for every
 * reconnection, since the socket itself is never recreated. A connection counts from its
 * completed handshake, not from the tcp connect, so a refused key is not taken for a
 * connection; the refusal itself ends the process, as libzmq never tries again after one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "curve.h"
#include "jdump.h"
#include "jload.h"
#include "log.h"
#include "proto.h"
#include "xalloc.h"
#include "webhook.h"

#define MONITOR_ENDPOINT "inproc://thidua-webhook-monitor"
#define MONITOR_EVENTS (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH \
			| ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
#define MAX_FRAME (16L * 1024 * 1024)	/* a job payload larger than this is not ours */
#define CLOSE_LINGER_MS 5000		/* time given to queued results at exit */
#define READY_QUIET 5.0			/* a hello this soon after a ready is an echo */
#define TURN_MAX 256			/* messages read per turn, so transfers get their share */

struct outmsg {
	struct outmsg *next;
	char *text;
};

/* sockopt_int - set an int option, fatal when the library refuses */
static void sockopt_int(void *s, int opt, int value, const char *what)
{
	if (zmq_setsockopt(s, opt, &value, sizeof(value)) != 0)
		fatal("zmq: cannot set %s: %s", what, zmq_strerror(errno));
}

/* events_of - ZMQ_EVENTS of a socket (also what re-arms its ZMQ_FD) */
static int events_of(void *s)
{
	int ev = 0;
	size_t len = sizeof(ev);

	if (zmq_getsockopt(s, ZMQ_EVENTS, &ev, &len) != 0)
		return 0;
	return ev;
}

/* enqueue - a frame to send, in order, never dropped */
static void enqueue(struct whk *w, char *text)
{
	struct outmsg *m = xcalloc(1, sizeof(*m));

	m->text = text;
	*w->outq_tail = m;
	w->outq_tail = &m->next;
	w->noutq++;
}

/* wire_flush - hand queued frames to zmq until it would block */
void wire_flush(struct whk *w)
{
	while (w->outq) {
		struct outmsg *m = w->outq;

		if (zmq_send(w->sock, m->text, strlen(m->text), ZMQ_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			log_err("jobs socket: a message could not be sent: %s", zmq_strerror(errno));
		}
		w->outq = m->next;
		if (!w->outq)
			w->outq_tail = &w->outq;
		w->noutq--;
		free(m->text);
		free(m);
	}
}

/* send_json - serialize and queue; steals msg */
static void send_json(struct whk *w, json_t *msg)
{
	char *text = jdump(msg, JSON_COMPACT);

	json_decref(msg);
	if (!text)
		fatal("jansson: cannot serialize a message");
	enqueue(w, text);
	wire_flush(w);
}

/* send_ready - announce kind, capacity and who we are */
static void send_ready(struct whk *w)
{
	send_json(w, json_pack("{s:s,s:s,s:i,s:i,s:I,s:s}", "type", "ready", "kind", "webhook", "capacity", w->capacity,
			       "version", THIDUA_PROTOCOL_VERSION, "pid", (json_int_t)getpid(), "name", w->name));
	w->ready_at = whk_now();
}

/* wire_result - a job's outcome; steals result */
void wire_result(struct whk *w, json_t *result)
{
	send_json(w, result);
}

/* wire_open - connect to the daemon and announce ourselves */
void wire_open(struct whk *w)
{
	w->outq_tail = &w->outq;
	w->zctx = zmq_ctx_new();
	if (!w->zctx)
		fatal("zmq: cannot create a context: %s", zmq_strerror(errno));
	w->sock = zmq_socket(w->zctx, ZMQ_DEALER);
	if (!w->sock)
		fatal("zmq: cannot create a socket: %s", zmq_strerror(errno));
	sockopt_int(w->sock, ZMQ_LINGER, 0, "ZMQ_LINGER");
	sockopt_int(w->sock, ZMQ_RECONNECT_IVL_MAX, 5000, "ZMQ_RECONNECT_IVL_MAX");
	/* a tcp peer that vanished without a FIN is noticed, and the socket reconnects */
	sockopt_int(w->sock, ZMQ_HEARTBEAT_IVL, (int)(WHK_PING_SECONDS * 1000), "ZMQ_HEARTBEAT_IVL");
	sockopt_int(w->sock, ZMQ_HEARTBEAT_TIMEOUT, (int)(WHK_SILENCE_SECONDS * 1000), "ZMQ_HEARTBEAT_TIMEOUT");
	{
		int64_t max = MAX_FRAME;

		if (zmq_setsockopt(w->sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) != 0)
			fatal("zmq: cannot set ZMQ_MAXMSGSIZE: %s", zmq_strerror(errno));
	}
	if (w->server_key) {
		char err[1024], public_key[CURVE_KEY_LEN + 1];

		if (curve_client_setup(w->sock, w->server_key, w->key_file, err, sizeof(err)))
			fatal("%s", err);
		curve_client_public(w->sock, public_key);
		log_notice("CURVE: this worker's public key is %s (it must be in the daemon's daemon.worker_keys)",
			   public_key);
	}
	if (zmq_socket_monitor(w->sock, MONITOR_ENDPOINT, MONITOR_EVENTS) == 0) {
		w->mon = zmq_socket(w->zctx, ZMQ_PAIR);
		if (!w->mon || zmq_connect(w->mon, MONITOR_ENDPOINT) != 0)
			fatal("zmq: cannot open the socket monitor: %s", zmq_strerror(errno));
	} else {
		log_warn("zmq: no socket monitor (%s); ready is sent again only when the daemon asks",
			 zmq_strerror(errno));
		w->connected = 1;
	}
	if (zmq_connect(w->sock, w->endpoint) != 0)
		fatal("cannot connect to the jobs endpoint %s: %s", w->endpoint, zmq_strerror(errno));
	{
		size_t len = sizeof(w->sock_fd);

		if (zmq_getsockopt(w->sock, ZMQ_FD, &w->sock_fd, &len) != 0)
			fatal("zmq: no ZMQ_FD: %s", zmq_strerror(errno));
		w->mon_fd = -1;
		len = sizeof(w->mon_fd);
		if (w->mon && zmq_getsockopt(w->mon, ZMQ_FD, &w->mon_fd, &len) != 0)
			fatal("zmq: no ZMQ_FD on the monitor: %s", zmq_strerror(errno));
	}
	w->last_heard = w->last_ping = whk_now();
	send_ready(w);	/* queued in the pipe; it leaves as soon as the connection is up */
}

/* wire_close - give queued results a few seconds to leave, then close */
void wire_close(struct whk *w)
{
	if (w->sock) {
		wire_flush(w);
		if (w->noutq)
			log_warn("jobs socket: %zu message(s) could not be handed over", w->noutq);
		sockopt_int(w->sock, ZMQ_LINGER, CLOSE_LINGER_MS, "ZMQ_LINGER");
		zmq_socket_monitor(w->sock, NULL, 0);
		zmq_close(w->sock);
		w->sock = NULL;
	}
	if (w->mon) {
		zmq_close(w->mon);
		w->mon = NULL;
	}
	while (w->outq) {
		struct outmsg *m = w->outq;

		w->outq = m->next;
		free(m->text);
		free(m);
	}
	w->outq_tail = &w->outq;
	w->noutq = 0;
	if (w->zctx) {
		zmq_ctx_term(w->zctx);
		w->zctx = NULL;
	}
}

/* handshake_failed - why no connection comes up, once until one does; a refused key ends
 * the process: libzmq does not reconnect after a refusal, so waiting would be silent */
static void handshake_failed(struct whk *w, uint16_t event, uint32_t value)
{
	char why[64];

	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
		char public_key[CURVE_KEY_LEN + 1];

		curve_client_public(w->sock, public_key);
		fatal("the daemon at %s refused this worker's key %s (ZAP status %u): add it to daemon.worker_keys "
		      "in the daemon's configuration and reload the daemon", w->endpoint,
		      public_key[0] ? public_key : "(none)", (unsigned)value);
	}
	if (w->handshake_warned)
		return;
	w->handshake_warned = 1;
	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
		snprintf(why, sizeof(why), "protocol error 0x%x", (unsigned)value);
	else
		snprintf(why, sizeof(why), "%s", zmq_strerror((int)value));
	if (w->server_key)
		log_warn("the CURVE handshake with %s failed (%s): is --server-key the daemon's public key (the .pub "
			 "beside its daemon.curve_key_file)? retrying", w->endpoint, why);
	else
		log_info("the handshake with %s failed (%s); retrying", w->endpoint, why);
}

/* monitor_turn - connection up and down */
static void monitor_turn(struct whk *w)
{
	while (w->mon && (events_of(w->mon) & ZMQ_POLLIN)) {
		zmq_msg_t ev, addr;
		uint16_t event = 0;
		uint32_t value = 0;

		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, w->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			break;
		}
		if (zmq_msg_size(&ev) >= 6) {
			memcpy(&event, zmq_msg_data(&ev), sizeof(event));
			memcpy(&value, (const char *)zmq_msg_data(&ev) + sizeof(event), sizeof(value));
		}
		zmq_msg_init(&addr);
		if (zmq_msg_more(&ev))
			zmq_msg_recv(&addr, w->mon, 0);
		zmq_msg_close(&ev);
		zmq_msg_close(&addr);
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			w->connected = 1;
			w->connections++;
			w->last_heard = whk_now();
			w->silence_warned = 0;
			w->handshake_warned = 0;
			if (w->connections == 1) {
				log_info("connected to %s%s", w->endpoint, w->server_key ? " (CURVE)" : "");
			} else {
				log_notice("connected to %s again; announcing this worker (%zu job(s) in hand)",
					   w->endpoint, w->njobs);
				send_ready(w);
			}
		} else if (event == ZMQ_EVENT_DISCONNECTED) {
			if (w->connected)
				log_warn("lost the connection to %s; reconnecting", w->endpoint);
			else
				log_debug("a connection to %s closed before its handshake completed; reconnecting",
					  w->endpoint);
			w->connected = 0;
		} else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
			   || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
			handshake_failed(w, event, value);
		}
	}
}

/* json_id - the job id as a string (the daemon sends strings; a number is taken too) */
static char *json_id(json_t *v)
{
	if (json_is_string(v) && *json_string_value(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return NULL;
}

/* dispatch - one frame from the daemon */
static void dispatch(struct whk *w, const char *data, size_t len)
{
	json_error_t jerr;
	json_t *msg = jload(data, len, 0, &jerr);
	const char *type = json_string_value(json_object_get(msg, "type"));

	if (!type) {
		log_warn("jobs socket: a frame that is not a protocol message was ignored (%s)",
			 msg ? "no type" : jerr.text);
	} else if (!strcmp(type, "job")) {
		char *id = json_id(json_object_get(msg, "job"));
		json_t *attempt = json_object_get(msg, "attempt"), *lease = json_object_get(msg, "lease");

		if (!id)
			log_warn("jobs socket: a job without an id was ignored");
		else
			jobs_add(w, id, json_is_integer(attempt) ? (long)json_integer_value(attempt) : 1,
				 json_is_number(lease) ? (long)json_number_value(lease) : 0, json_object_get(msg, "payload"));
		free(id);
	} else if (!strcmp(type, "ping")) {
		/* heard is enough */
	} else if (!strcmp(type, "stop")) {
		if (!w->stopping) {
			log_notice("the daemon asks to stop: finishing %zu job(s) in hand", w->njobs);
			w->stopping = 1;
		}
	} else if (!strcmp(type, "hello")) {
		/* the daemon does not know this connection (it restarted, or dropped us) */
		if (whk_now() - w->ready_at >= READY_QUIET) {
			log_notice("the daemon does not know this worker; announcing again");
			send_ready(w);
		}
	} else {
		log_warn("jobs socket: unexpected message type '%s' ignored", type);
	}
	json_decref(msg);
}

/* sock_turn - read what the daemon sent */
static void sock_turn(struct whk *w)
{
	for (int n = 0; n < TURN_MAX && (events_of(w->sock) & ZMQ_POLLIN); n++) {
		zmq_msg_t frame;
		int more;

		zmq_msg_init(&frame);
		if (zmq_msg_recv(&frame, w->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&frame);
			break;
		}
		more = zmq_msg_more(&frame);
		w->last_heard = whk_now();
		w->silence_warned = 0;
		dispatch(w, zmq_msg_data(&frame), zmq_msg_size(&frame));
		zmq_msg_close(&frame);
		while (more) {	/* extra frames are not part of the protocol */
			zmq_msg_t extra;

			zmq_msg_init(&extra);
			if (zmq_msg_recv(&extra, w->sock, 0) < 0)
				more = 0;
			else
				more = zmq_msg_more(&extra);
			zmq_msg_close(&extra);
		}
	}
}

/* wire_turn - one pass over the sockets */
void wire_turn(struct whk *w)
{
	double now;

	monitor_turn(w);
	sock_turn(w);
	now = whk_now();
	if (now - w->last_ping >= WHK_PING_SECONDS) {
		w->last_ping = now;
		/* a ping is only news when it can leave now; behind queued frames it says nothing */
		if (w->connected && !w->outq && zmq_send(w->sock, "{\"type\":\"ping\"}", 15, ZMQ_DONTWAIT) < 0)
			log_debug("jobs socket: ping not sent: %s", zmq_strerror(errno));
		if (w->connected && now - w->last_heard > WHK_SILENCE_SECONDS && !w->silence_warned) {
			log_warn("nothing from the daemon for %.0f s", now - w->last_heard);
			w->silence_warned = 1;
		}
	}
	wire_flush(w);
}

/* wire_pending - 1 when a socket can be read (or written, with frames waiting) right now;
 * being the last zmq call before the loop sleeps, it also re-arms the edge-triggered fds */
int wire_pending(struct whk *w)
{
	int ev = events_of(w->sock);

	if ((ev & ZMQ_POLLIN) || ((ev & ZMQ_POLLOUT) && w->outq))
		return 1;
	return w->mon && (events_of(w->mon) & ZMQ_POLLIN);
}

/* wire_drained - nothing waits to be handed to zmq */
int wire_drained(const struct whk *w)
{
	return w->outq == NULL;
}

/* wire_timeout_ms - until the next heartbeat is due */
long wire_timeout_ms(const struct whk *w)
{
	double left = w->last_ping + WHK_PING_SECONDS - whk_now();

	return left <= 0 ? 0 : (long)(left * 1000) + 1;
}
