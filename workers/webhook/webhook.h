/*
 * webhook.h - thidua-webhook: posts chat and JSON webhooks for thiduad (docs/JOBS.md).
 *
 * One process, one thread, one loop (webhook_main.c): curl_multi_poll waits on libcurl's
 * transfers, the jobs socket (its ZMQ_FD, edge-triggered: always drained through
 * ZMQ_EVENTS), the socket monitor and a signalfd. webhook_wire.c speaks the protocol,
 * webhook_job.c turns jobs into transfers and transfers into results, webhook_rate.c paces
 * them per endpoint and webhook_format.c builds the bodies.
 *
 * struct whk is the process: it owns the sockets, the multi handle, the rate table and
 * every job in hand.
 */
#ifndef THIDUA_WEBHOOK_H
#define THIDUA_WEBHOOK_H

#include <stddef.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <jansson.h>

#include "webhook_format.h"
#include "webhook_rate.h"

#define WHK_DEFAULT_ENDPOINT "ipc:///var/lib/thidua/jobs.sock"
#define WHK_DEFAULT_CAPACITY 256		/* jobs in hand; posts at once per endpoint: webhook_job.c */
#define WHK_PING_SECONDS 5.0		/* heartbeat to the daemon */
#define WHK_SILENCE_SECONDS 15.0	/* the daemon is late after this long */
#define WHK_USER_AGENT "thidua-webhook/1"

struct outmsg;
struct job;

TAILQ_HEAD(job_list, job);

struct whk {
	/* options */
	const char *endpoint;
	char *name;
	int capacity;
	const char *server_key;		/* tcp: thiduad's public key, Z85 or a file; NULL: no CURVE */
	const char *key_file;		/* tcp: this worker's secret key file */

	/* the jobs socket (webhook_wire.c) */
	void *zctx, *sock, *mon;
	int sock_fd, mon_fd;
	int connected;			/* the monitor saw a handshake complete */
	int handshake_warned;		/* a failed handshake was logged since the last success */
	unsigned connections;		/* how many times it came up */
	double ready_at;		/* when ready was last sent */
	double last_heard, last_ping;
	int silence_warned;
	struct outmsg *outq, **outq_tail;
	size_t noutq;

	/* deliveries (webhook_job.c) */
	CURLM *multi;
	struct rate_table *rates;
	struct job_list jobs;		/* in arrival order */
	size_t njobs, running;

	/* 0 running; 1 stop asked (finish what runs, then exit); 2 stop now */
	int stopping;
};

/* webhook_main.c */
double whk_now(void);			/* monotonic seconds */

/* webhook_wire.c */
void wire_open(struct whk *w);
void wire_close(struct whk *w);
void wire_turn(struct whk *w);		/* read and dispatch, heartbeat, flush */
void wire_flush(struct whk *w);
void wire_result(struct whk *w, json_t *result);	/* steals result */
int wire_pending(struct whk *w);	/* 1: the sockets have work now, do not sleep */
int wire_drained(const struct whk *w);	/* 1: nothing left to send */
long wire_timeout_ms(const struct whk *w);

/* webhook_job.c */
void jobs_init(struct whk *w);
void jobs_fini(struct whk *w);
void jobs_add(struct whk *w, const char *id, long attempt, long lease, json_t *payload);
long jobs_run(struct whk *w);		/* start what may start; ms until the next try, -1 none */
void jobs_reap(struct whk *w);		/* answer what libcurl finished */
void jobs_abort(struct whk *w, const char *why);	/* answer every job retry, now */

#endif
