/*
 * jobwire.c - a worker's end of the jobs socket (jobwire.h, docs/JOBS.md).
 *
 * The worker announces itself (`ready`) each time a connection is made, which the socket
 * monitor reports, so a restarted daemon (or one that comes up after the worker) learns of
 * it without a restart of the worker; it also answers the daemon's `hello` (sent to a peer
 * it does not know) the same way, unless the hello came so soon after a ready that it
 * answers frames sent before it (a second ready would make the daemon take back the jobs
 * in hand). ZMTP heartbeats let libzmq notice a peer that vanished without closing (a
 * remote host gone) and reconnect.
 *
 * On a tcp endpoint the socket is a CURVE client (curve.c), its keys set once before
 * zmq_connect: libzmq keeps them in the socket's options and uses them for every
 * reconnection, since the socket itself is never recreated. A connection counts from its
 * completed handshake, not from the tcp connect, so a refused key is not taken for a
 * connection; the refusal itself ends the process, as libzmq never tries again after one.
 *
 * Owns the zmq context, both sockets and the queue of frames not yet accepted by zmq.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "curve.h"
#include "jdump.h"
#include "jload.h"
#include "jobwire.h"
#include "log.h"
#include "proto.h"
#include "xalloc.h"

#define MONITOR_EVENTS (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH \
			| ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
#define MAX_FRAME (16L * 1024 * 1024)	/* a job payload larger than this is not ours */
#define CLOSE_LINGER_MS 5000		/* time given to queued results at exit */
#define RECONNECT_MAX_MS 5000

struct outmsg {
	struct outmsg *next;
	char *text;
};

struct jobwire {
	void *ctx, *sock, *mon;
	char *endpoint, *kind, *name;
	int capacity;
	int hello_quiet_ms;
	int curve;			/* a CURVE client (tcp) */
	char public_key[CURVE_KEY_LEN + 1];	/* the key the daemon must know, when curve */
	int connected;			/* a handshake completed and no disconnection since */
	unsigned connections;		/* how many times one completed */
	int handshake_warned;		/* a failed handshake was logged since the last success */
	int silence_warned;
	int64_t ready_at, last_heard, next_ping;
	struct outmsg *outq, **outq_tail;
	size_t noutq;
};

int64_t jobwire_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sockopt_int - set an int option, fatal when the library refuses */
static void sockopt_int(void *s, int opt, int value, const char *what)
{
	if (zmq_setsockopt(s, opt, &value, sizeof(value)) != 0)
		fatal("jobs socket: cannot set %s: %s", what, zmq_strerror(errno));
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

void jobwire_flush(struct jobwire *jw)
{
	while (jw->outq) {
		struct outmsg *m = jw->outq;

		if (zmq_send(jw->sock, m->text, strlen(m->text), ZMQ_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			log_err("jobs socket: a message could not be sent: %s", zmq_strerror(errno));
		}
		jw->outq = m->next;
		if (!jw->outq)
			jw->outq_tail = &jw->outq;
		jw->noutq--;
		free(m->text);
		free(m);
	}
}

void jobwire_send(struct jobwire *jw, json_t *msg)
{
	char *text = jdump(msg, JSON_COMPACT);
	struct outmsg *m;

	json_decref(msg);
	if (!text)
		fatal("jobs socket: cannot encode a message as JSON");
	m = xcalloc(1, sizeof(*m));
	m->text = text;
	*jw->outq_tail = m;
	jw->outq_tail = &m->next;
	jw->noutq++;
	jobwire_flush(jw);
}

/* send_ready - announce kind, capacity, protocol version and who we are */
static void send_ready(struct jobwire *jw)
{
	jobwire_send(jw, json_pack("{s:s,s:s,s:i,s:i,s:I,s:s}", "type", JOBS_READY, "kind", jw->kind, "capacity",
				   jw->capacity, "version", THIDUA_PROTOCOL_VERSION, "pid", (json_int_t)getpid(),
				   "name", jw->name));
	jw->ready_at = jobwire_mono_ms();
	jw->next_ping = jw->ready_at + JOBWIRE_PING_MS;
}

struct jobwire *jobwire_open(const struct jobwire_opts *o)
{
	struct jobwire *jw = xcalloc(1, sizeof(*jw));
	char err[1024], monitor[96];
	int64_t max = MAX_FRAME;

	jw->endpoint = xstrdup(o->endpoint);
	jw->kind = xstrdup(o->kind);
	jw->name = xstrdup(o->name);
	jw->capacity = o->capacity;
	jw->hello_quiet_ms = o->hello_quiet_ms;
	jw->outq_tail = &jw->outq;
	jw->ctx = zmq_ctx_new();
	if (!jw->ctx)
		fatal("cannot create a ZeroMQ context: %s", zmq_strerror(errno));
	jw->sock = zmq_socket(jw->ctx, ZMQ_DEALER);
	jw->mon = zmq_socket(jw->ctx, ZMQ_PAIR);
	if (!jw->sock || !jw->mon)
		fatal("cannot create the jobs socket: %s", zmq_strerror(errno));
	sockopt_int(jw->sock, ZMQ_LINGER, 0, "ZMQ_LINGER");
	sockopt_int(jw->sock, ZMQ_RECONNECT_IVL_MAX, RECONNECT_MAX_MS, "ZMQ_RECONNECT_IVL_MAX");
	/* a tcp peer that vanished without a FIN is noticed, and the socket reconnects */
	sockopt_int(jw->sock, ZMQ_HEARTBEAT_IVL, JOBWIRE_PING_MS, "ZMQ_HEARTBEAT_IVL");
	sockopt_int(jw->sock, ZMQ_HEARTBEAT_TIMEOUT, JOBWIRE_SILENCE_MS, "ZMQ_HEARTBEAT_TIMEOUT");
	if (zmq_setsockopt(jw->sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) != 0)
		fatal("jobs socket: cannot set ZMQ_MAXMSGSIZE: %s", zmq_strerror(errno));
	sockopt_int(jw->mon, ZMQ_LINGER, 0, "ZMQ_LINGER");
	if (o->server_key) {
		if (curve_client_setup(jw->sock, o->server_key, o->key_file, err, sizeof(err)))
			fatal("%s", err);
		curve_client_public(jw->sock, jw->public_key);
		jw->curve = 1;
		log_notice("CURVE: this worker's public key is %s (it must be in the daemon's daemon.worker_keys)",
			   jw->public_key);
	}
	/* the monitor's reader is connected before the socket is, so no event is missed */
	snprintf(monitor, sizeof(monitor), "inproc://thidua-%s.monitor", jw->kind);
	if (zmq_socket_monitor(jw->sock, monitor, MONITOR_EVENTS) != 0 || zmq_connect(jw->mon, monitor) != 0)
		fatal("cannot monitor the jobs socket: %s", zmq_strerror(errno));
	if (zmq_connect(jw->sock, jw->endpoint) != 0)
		fatal("cannot connect to the jobs endpoint %s: %s", jw->endpoint, zmq_strerror(errno));
	jw->last_heard = jobwire_mono_ms();
	log_info("connecting to %s as %s (%s, capacity %d)", jw->endpoint, jw->name, jw->kind, jw->capacity);
	return jw;
}

void jobwire_close(struct jobwire **self_p)
{
	struct jobwire *jw = self_p ? *self_p : NULL;

	if (!jw)
		return;
	jobwire_flush(jw);
	if (jw->noutq)
		log_warn("jobs socket: %zu message(s) could not be handed over", jw->noutq);
	sockopt_int(jw->sock, ZMQ_LINGER, CLOSE_LINGER_MS, "ZMQ_LINGER");
	zmq_socket_monitor(jw->sock, NULL, 0);
	zmq_close(jw->mon);
	zmq_close(jw->sock);
	zmq_ctx_term(jw->ctx);
	while (jw->outq) {
		struct outmsg *m = jw->outq;

		jw->outq = m->next;
		free(m->text);
		free(m);
	}
	free(jw->endpoint);
	free(jw->kind);
	free(jw->name);
	free(jw);
	*self_p = NULL;
}

size_t jobwire_pollitems(struct jobwire *jw, zmq_pollitem_t *items)
{
	items[0] = (zmq_pollitem_t){ .socket = jw->sock, .events = (short)(ZMQ_POLLIN | (jw->outq ? ZMQ_POLLOUT : 0)) };
	items[1] = (zmq_pollitem_t){ .socket = jw->mon, .events = ZMQ_POLLIN };
	return 2;
}

void jobwire_fds(struct jobwire *jw, int *sock_fd, int *mon_fd)
{
	size_t len = sizeof(*sock_fd);

	if (zmq_getsockopt(jw->sock, ZMQ_FD, sock_fd, &len) != 0)
		fatal("jobs socket: no ZMQ_FD: %s", zmq_strerror(errno));
	len = sizeof(*mon_fd);
	if (zmq_getsockopt(jw->mon, ZMQ_FD, mon_fd, &len) != 0)
		fatal("jobs socket: no ZMQ_FD on the monitor: %s", zmq_strerror(errno));
}

/* handshake_failed - why no connection comes up, once until one does; a refused key ends
 * the process: libzmq does not reconnect after a refusal, so waiting would be silent */
static void handshake_failed(struct jobwire *jw, uint16_t event, uint32_t value)
{
	char why[64];

	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
		fatal("the daemon at %s refused this worker's key %s (ZAP status %u): add it to daemon.worker_keys "
		      "in the daemon's configuration and reload the daemon", jw->endpoint,
		      jw->public_key[0] ? jw->public_key : "(none)", (unsigned)value);
	if (jw->handshake_warned)
		return;
	jw->handshake_warned = 1;
	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
		snprintf(why, sizeof(why), "protocol error 0x%x", (unsigned)value);
	else
		snprintf(why, sizeof(why), "%s", zmq_strerror((int)value));
	if (jw->curve)
		log_warn("the CURVE handshake with %s failed (%s): is --server-key the daemon's public key (the .pub "
			 "beside its daemon.curve_key_file)? retrying", jw->endpoint, why);
	else
		log_info("the handshake with %s failed (%s); retrying", jw->endpoint, why);
}

/* monitor_turn - connection up and down */
static void monitor_turn(struct jobwire *jw)
{
	for (;;) {
		zmq_msg_t ev, addr;
		uint16_t event = 0;
		uint32_t value = 0;

		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, jw->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			return;
		}
		if (zmq_msg_size(&ev) >= sizeof(event) + sizeof(value)) {
			memcpy(&event, zmq_msg_data(&ev), sizeof(event));
			memcpy(&value, (const char *)zmq_msg_data(&ev) + sizeof(event), sizeof(value));
		}
		while (zmq_msg_more(&ev)) {	/* the endpoint frame */
			zmq_msg_init(&addr);
			zmq_msg_recv(&addr, jw->mon, 0);
			zmq_msg_close(&ev);
			ev = addr;
		}
		zmq_msg_close(&ev);
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			jw->connected = 1;
			jw->connections++;
			jw->last_heard = jobwire_mono_ms();
			jw->silence_warned = 0;
			jw->handshake_warned = 0;
			if (jw->connections == 1)
				log_info("connected to %s%s", jw->endpoint, jw->curve ? " (CURVE)" : "");
			else
				log_notice("connected to %s again%s; announcing this worker", jw->endpoint,
					   jw->curve ? " (CURVE)" : "");
			send_ready(jw);
		} else if (event == ZMQ_EVENT_DISCONNECTED) {
			if (jw->connected)
				log_warn("lost the connection to %s; reconnecting", jw->endpoint);
			else
				log_debug("a connection to %s closed before its handshake completed; reconnecting",
					  jw->endpoint);
			jw->connected = 0;
		} else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
			   || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
			handshake_failed(jw, event, value);
		}
	}
}

long jobwire_tick(struct jobwire *jw)
{
	int64_t now = jobwire_mono_ms();

	if (!jw->connected)
		return -1;
	if (now >= jw->next_ping) {
		jw->next_ping = now + JOBWIRE_PING_MS;
		/* a ping is only news when it can leave now; behind queued frames it says nothing */
		if (!jw->outq && zmq_send(jw->sock, "{\"type\":\"" JOBS_PING "\"}", strlen("{\"type\":\"" JOBS_PING "\"}"),
					  ZMQ_DONTWAIT) < 0)
			log_debug("jobs socket: ping not sent: %s", zmq_strerror(errno));
		if (now - jw->last_heard > JOBWIRE_SILENCE_MS && !jw->silence_warned) {
			log_warn("nothing from the daemon for %lld s", (long long)((now - jw->last_heard) / 1000));
			jw->silence_warned = 1;
		}
	}
	return (long)(jw->next_ping - now);
}

void jobwire_turn(struct jobwire *jw)
{
	monitor_turn(jw);
	jobwire_tick(jw);
	jobwire_flush(jw);
}

/* read_frame - the next frame as JSON: 1 with *msg (NULL when it is not JSON), 0 when none */
static int read_frame(struct jobwire *jw, json_t **msg, json_error_t *jerr)
{
	zmq_msg_t m;
	int more;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, jw->sock, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return 0;
	}
	*msg = jload(zmq_msg_data(&m), zmq_msg_size(&m), JSON_REJECT_DUPLICATES, jerr);
	more = zmq_msg_more(&m);
	zmq_msg_close(&m);
	while (more) {		/* extra frames are not part of the protocol */
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, jw->sock, 0) < 0)
			more = 0;
		else
			more = zmq_msg_more(&m);
		zmq_msg_close(&m);
	}
	jw->last_heard = jobwire_mono_ms();
	jw->silence_warned = 0;
	return 1;
}

/* refused - the daemon speaks another protocol version: say which, to the one who runs us */
static void refused(const json_t *msg)
{
	json_t *theirs = json_object_get(msg, "version");
	const char *reason = json_string_value(json_object_get(msg, "reason"));

	log_err("the daemon refused this worker: it speaks jobs protocol version %lld, this worker version %d%s%s; "
		"run a worker of the daemon's release", json_is_integer(theirs) ? (long long)json_integer_value(theirs) : -1LL,
		THIDUA_PROTOCOL_VERSION, reason ? ": " : "", reason ? reason : "");
}

json_t *jobwire_recv(struct jobwire *jw)
{
	json_t *msg;
	json_error_t jerr;

	while (read_frame(jw, &msg, &jerr)) {
		const char *type = json_string_value(json_object_get(msg, "type"));

		if (!json_is_object(msg) || !type) {
			log_warn("jobs socket: a message from the daemon that is not a JSON object with a type was "
				 "ignored%s%s", msg ? "" : ": ", msg ? "" : jerr.text);
		} else if (!strcmp(type, JOBS_JOB) || !strcmp(type, JOBS_STOP)) {
			return msg;
		} else if (!strcmp(type, JOBS_PING)) {
			;	/* heard is enough: our own pings keep going */
		} else if (!strcmp(type, JOBS_HELLO)) {
			/* the daemon does not know this connection (it restarted, or dropped us) */
			if (jobwire_mono_ms() - jw->ready_at >= jw->hello_quiet_ms || !jw->ready_at) {
				log_notice("the daemon does not know this worker; announcing it again");
				send_ready(jw);
			}
		} else if (!strcmp(type, JOBS_REFUSED)) {
			refused(msg);
		} else {
			log_warn("jobs socket: unexpected message '%.40s' from the daemon ignored", type);
		}
		json_decref(msg);
	}
	return NULL;
}

int jobwire_pending(struct jobwire *jw)
{
	int ev = events_of(jw->sock);

	if ((ev & ZMQ_POLLIN) || ((ev & ZMQ_POLLOUT) && jw->outq))
		return 1;
	return (events_of(jw->mon) & ZMQ_POLLIN) != 0;
}

int jobwire_drained(const struct jobwire *jw)
{
	return jw->outq == NULL;
}
