/*
 * jobwire.h - a worker's end of thiduad's jobs socket (docs/JOBS.md), shared by every
 * worker (thidua-mail, thidua-webhook): a DEALER connected to the daemon's ROUTER, one JSON
 * frame per message, CURVE on a tcp endpoint, a socket monitor that sees each connection
 * come and go, `ready` (with the protocol version of proto.h) on every connection and on
 * the daemon's `hello`, a `ping` every 5 s while connected.
 *
 * The worker's loop may wait on the two sockets either with zmq_poll (jobwire_pollitems)
 * or on their file descriptors (jobwire_fds) next to other ones; those are edge-triggered,
 * so such a loop calls jobwire_pending() last before it sleeps and does not sleep when it
 * says 1. Either way, after waking: jobwire_turn(), then jobwire_recv() until NULL.
 *
 * Frames to the daemon are queued in order and never dropped (a result waits for the
 * connection to come back); only pings are skipped when something is already waiting.
 */
#ifndef THIDUA_JOBWIRE_H
#define THIDUA_JOBWIRE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <zmq.h>

#define JOBWIRE_PING_MS 5000		/* the heartbeat to the daemon */
#define JOBWIRE_SILENCE_MS 15000	/* the daemon is late after this long */

struct jobwire_opts {
	const char *endpoint;		/* thiduad's jobs socket */
	const char *kind;		/* "mail", "webhook": the `kind` of `ready` */
	const char *name;		/* how the daemon lists this worker */
	int capacity;			/* jobs taken at once, 1..1024 */
	const char *server_key;		/* tcp: thiduad's public key, Z85 or a file; NULL: no CURVE */
	const char *key_file;		/* tcp: this worker's secret key file */
	int hello_quiet_ms;		/* a `hello` this soon after a `ready` is taken for an echo of
					 * frames sent before it, and not answered (0: answer every one) */
};

struct jobwire;

/* jobwire_open - make the socket and connect (in the background); bad keys are fatal */
struct jobwire *jobwire_open(const struct jobwire_opts *opts);

/* jobwire_close - give queued frames up to 5 s to leave, then close everything */
void jobwire_close(struct jobwire **self_p);

/* jobwire_pollitems - the DEALER (POLLOUT too while frames wait) and its monitor as items[0]
 * and items[1]; returns 2 */
size_t jobwire_pollitems(struct jobwire *jw, zmq_pollitem_t *items);

/* jobwire_fds - the ZMQ_FD of the DEALER and of its monitor (edge-triggered, see above) */
void jobwire_fds(struct jobwire *jw, int *sock_fd, int *mon_fd);

/* jobwire_turn - connection changes (ready on each), the heartbeat, and a flush. A key the
 * daemon refused ends the process: libzmq never tries again after a refusal. */
void jobwire_turn(struct jobwire *jw);

/* jobwire_recv - the next message for the worker (`job`, `stop`), NULL when none is
 * waiting now. `hello`, `ping` and `refused` are answered or logged here; a message of any
 * other type is logged and skipped. */
json_t *jobwire_recv(struct jobwire *jw);

/* jobwire_send - queue one message for the daemon and try to send it; steals msg */
void jobwire_send(struct jobwire *jw, json_t *msg);

/* jobwire_flush - hand queued frames to zmq until it would block */
void jobwire_flush(struct jobwire *jw);

/* jobwire_tick - a ping when one is due; ms until the next (-1 while not connected). Safe
 * to call from anywhere, also from inside another library's callback: it only sends. */
long jobwire_tick(struct jobwire *jw);

/* jobwire_pending - 1 when the sockets have work right now (input, or output that can
 * leave); as the last zmq call before sleeping it also re-arms the edge-triggered fds */
int jobwire_pending(struct jobwire *jw);

/* jobwire_drained - 1 when nothing waits to be handed to zmq */
int jobwire_drained(const struct jobwire *jw);

/* jobwire_mono_ms - the monotonic clock the link keeps its times by, in ms */
int64_t jobwire_mono_ms(void);

#endif
