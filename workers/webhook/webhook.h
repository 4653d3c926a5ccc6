/*
 * webhook.h - thidua-webhook: posts chat and JSON webhooks for thiduad (docs/JOBS.md).
 *
 * One process, one thread, one loop (webhook_main.c): curl_multi_poll waits on libcurl's
 * transfers, the jobs socket (its ZMQ_FD, edge-triggered: always drained through
 * ZMQ_EVENTS), the socket monitor and a signalfd. common/jobwire.c speaks the protocol,
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
#define WHK_USER_AGENT "thidua-webhook/1"

struct jobwire;
struct job;

TAILQ_HEAD(job_list, job);

struct whk {
	/* options */
	const char *endpoint;
	char *name;
	int capacity;
	const char *server_key;		/* tcp: thiduad's public key, Z85 or a file; NULL: no CURVE */
	const char *key_file;		/* tcp: this worker's secret key file */

	/* the jobs socket (common/jobwire.c) and its two fds, which the loop waits on */
	struct jobwire *wire;
	int sock_fd, mon_fd;

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

/* webhook_job.c */
void jobs_init(struct whk *w);
void jobs_fini(struct whk *w);
void jobs_add(struct whk *w, const char *id, long attempt, long lease, json_t *payload);
long jobs_run(struct whk *w);		/* start what may start; ms until the next try, -1 none */
void jobs_reap(struct whk *w);		/* answer what libcurl finished */
void jobs_abort(struct whk *w, const char *why);	/* answer every job retry, now */

#endif
