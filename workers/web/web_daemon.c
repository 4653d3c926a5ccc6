/*
 * web_daemon.c - asking thiduad, over its web socket, as the logged-in principal.
 *
 * Each thread of the server has its own DEALER socket (zmq sockets are not shared between
 * threads), made at its first request. A request is [""][JSON][file frames...]; the reply
 * [""][JSON][file frames...] is matched by its id: a reply that arrives after its request
 * gave up waiting is read and dropped by the next call of the thread.
 *
 * ZMQ_IMMEDIATE keeps a request from queueing while the daemon is not connected: the
 * caller learns at once (after a short wait for the connection) that it is unavailable.
 * Uploads go out in parts as the browser's body arrives (upload.append, each part a
 * zero-copy frame), up to WEB_UPLOAD_WINDOW unanswered; the request that stores them
 * names them (web_call_files).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "jdump.h"
#include "jload.h"
#include "log.h"
#include "web.h"
#include "xalloc.h"

#define CONNECT_WAIT_MS 1500

static void *ctx;
static _Thread_local void *tsock;
static _Thread_local unsigned long tseq;

/* the parts this thread sent and not yet settled, for every connection it serves (a thread
 * of libmicrohttpd's pool runs many): a reply to one of them that arrives while another
 * request waits is kept here, not dropped. At most WEB_UPLOAD_WINDOW a connection. */
struct stash {
	char id[48];
	json_t *reply;		/* NULL until it comes */
};
static _Thread_local struct stash *stash;
static _Thread_local size_t nstash, stash_max;

static struct stash *stash_find(const char *id)
{
	for (size_t i = 0; i < nstash; i++)
		if (!strcmp(stash[i].id, id))
			return &stash[i];
	return NULL;
}

/* stash_add - id awaited; -1 when the thread already awaits as many as it may */
static int stash_add(const char *id)
{
	if (!stash) {
		stash_max = (size_t)web_opts.max_connections * WEB_UPLOAD_WINDOW;
		stash = xcalloc(stash_max, sizeof(*stash));
	}
	if (nstash == stash_max)
		return -1;
	xstrlcpy(stash[nstash].id, id, sizeof(stash[nstash].id));
	stash[nstash++].reply = NULL;
	return 0;
}

/* stash_take - id no longer awaited; its reply if it came (the caller's), else NULL */
static json_t *stash_take(const char *id)
{
	struct stash *st = stash_find(id);
	json_t *reply;

	if (!st)
		return NULL;
	reply = st->reply;
	*st = stash[--nstash];
	return reply;
}

void web_daemon_init(void)
{
	ctx = zmq_ctx_new();
	if (!ctx)
		fatal("zmq_ctx_new failed");
}

void web_daemon_end(void)
{
	/* the pool's threads are gone with their sockets unclosed: do not wait for them
	 * (zmq_ctx_term would); the context stays referenced here until the process ends, so
	 * that LeakSanitizer does not take it for a leak when no thread ever made a socket */
}

void web_daemon_thread_end(void)
{
	if (tsock)
		zmq_close(tsock);
	tsock = NULL;
}

/* sock_get - this thread's socket, connected */
static void *sock_get(void)
{
	int linger = 0, one = 1, maxmsg = -1;

	if (tsock)
		return tsock;
	tsock = zmq_socket(ctx, ZMQ_DEALER);
	if (!tsock)
		fatal("zmq_socket: %s", zmq_strerror(errno));
	zmq_setsockopt(tsock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(tsock, ZMQ_IMMEDIATE, &one, sizeof(one));
	zmq_setsockopt(tsock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (zmq_connect(tsock, web_opts.endpoint) != 0)
		fatal("cannot use the endpoint %s: %s", web_opts.endpoint, zmq_strerror(errno));
	return tsock;
}

static json_t *unavailable(const char *why)
{
	return json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", ERR_UNAVAILABLE, "message", why);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void part_free(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/* send_request - req (stolen) sent as r's session, with one file frame (part: malloc'd,
 * stolen) when part_size; its id in id. NULL sent, or the reply that says why not */
static json_t *send_request(struct web_req *r, json_t *req, char *part, size_t part_size, char id[48])
{
	void *s = sock_get();
	zmq_pollitem_t item = { s, 0, ZMQ_POLLOUT, 0 };
	char *text;
	zmq_msg_t m;
	int rc;

	if (!req) {	/* json_pack refused a member (not UTF-8): nothing to send */
		free(part);
		return json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", ERR_INVALID_FIELD, "message",
				 "a value of the request is not valid UTF-8");
	}
	snprintf(id, 48, "web-%lx-%lu-%08x", (unsigned long)getpid() & 0xffffff, ++tseq, (unsigned)random());
	json_object_set_new(req, "id", json_string(id));
	if (r && r->session[0])
		json_object_set_new(req, "session", json_string(r->session));
	text = jdump(req, JSON_COMPACT);
	json_decref(req);
	if (!text) {
		free(part);
		return unavailable("the request could not be written as JSON");
	}
	/* wait a little for the connection: with ZMQ_IMMEDIATE nothing queues without one */
	if (zmq_poll(&item, 1, CONNECT_WAIT_MS) != 1) {
		free(text);
		free(part);
		return unavailable("thiduad does not answer on its web socket (is it running?)");
	}
	rc = zmq_send(s, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
	if (rc == 0)
		rc = zmq_send(s, text, strlen(text), part_size ? ZMQ_SNDMORE : 0);
	free(text);
	if (part_size) {	/* the part goes out as it is, freed by zmq once written */
		if (rc < 0 || zmq_msg_init_data(&m, part, part_size, part_free, NULL) != 0) {
			free(part);
			rc = -1;
		} else if ((rc = zmq_msg_send(&m, s, 0)) < 0) {
			zmq_msg_close(&m);
		}
	} else {
		free(part);
	}
	if (rc < 0) {
		log_warn("sending to %s failed: %s", web_opts.endpoint, zmq_strerror(errno));
		return unavailable("the request could not be sent to thiduad");
	}
	return NULL;
}

/* await_reply - the reply to the request sent as id (replies to others, which gave up
 * waiting, are read and dropped); blob receives its first file frame when asked */
static json_t *await_reply(const char *id, void **blob)
{
	void *s = sock_get();
	long deadline = now_ms() + (long)(web_opts.daemon_timeout * 1000);

	for (;;) {
		long left = deadline - now_ms();
		zmq_pollitem_t item = { s, 0, ZMQ_POLLIN, 0 };
		json_t *j = NULL;
		void *first_file = NULL;
		int more = 1, nframe = 0;

		if (left <= 0 || zmq_poll(&item, 1, left) != 1)
			return unavailable("thiduad did not answer in time");
		while (more) {
			zmq_msg_t *m = xmalloc(sizeof(*m));

			zmq_msg_init(m);
			if (zmq_msg_recv(m, s, 0) < 0) {
				zmq_msg_close(m);
				free(m);
				break;
			}
			more = zmq_msg_more(m);
			if (nframe == 0 && zmq_msg_size(m) == 0 && more) {
				zmq_msg_close(m);
				free(m);
				continue;	/* the delimiter */
			}
			nframe++;
			if (nframe == 1) {
				json_error_t jerr;

				j = jload(zmq_msg_data(m), zmq_msg_size(m), 0, &jerr);
				zmq_msg_close(m);
				free(m);
			} else if (nframe == 2 && blob) {
				first_file = m;
			} else {
				zmq_msg_close(m);
				free(m);
			}
		}
		if (j && json_is_object(j)) {
			const char *rid = json_string_value(json_object_get(j, "id"));
			struct stash *st = rid ? stash_find(rid) : NULL;

			if (rid && !strcmp(rid, id)) {
				if (blob)
					*blob = first_file;
				else if (first_file)
					blob_free(first_file);
				return j;
			}
			if (st && !st->reply) {		/* a part another request of the thread sent */
				st->reply = j;
				j = NULL;
			}
		}
		json_decref(j);
		if (first_file)
			blob_free(first_file);
	}
}

/* call - the round trip; blob receives the first file frame of the reply when asked */
static json_t *call(struct web_req *r, json_t *req, void **blob)
{
	char id[48];
	json_t *failed;

	if (blob)
		*blob = NULL;
	if ((failed = send_request(r, req, NULL, 0, id)))
		return failed;
	return await_reply(id, blob);
}

/* upload_refused - u failed: the first refusal kept for the page (reply stolen) */
static int upload_refused(struct web_req *r, struct web_upload *u, json_t *reply)
{
	if (u)
		u->failed = 1;
	if (!r->upload_error)
		r->upload_error = reply;
	else
		json_decref(reply);
	return -1;
}

/* settle_oldest - the reply to the oldest part still unanswered */
static int settle_oldest(struct web_req *r)
{
	json_t *reply = stash_take(r->pending[0]);
	int rc = 0;

	if (!reply) {
		stash_add(r->pending[0]);	/* back while it waits: a slot was just freed */
		reply = await_reply(r->pending[0], NULL);
		stash_take(r->pending[0]);
	}

	memmove(r->pending[0], r->pending[1], sizeof(r->pending[0]) * (size_t)(r->npending - 1));
	r->npending--;
	if (!reply_ok(reply))
		rc = upload_refused(r, NULL, reply);
	else
		json_decref(reply);
	return rc;
}

/* settle - every part sent answered; -1 when one was refused (now or before) */
static int settle(struct web_req *r)
{
	while (r->npending)
		settle_oldest(r);
	return r->upload_error ? -1 : 0;
}

int web_upload_open(struct web_req *r, struct web_upload *u)
{
	json_t *reply;

	if (settle(r) != 0)	/* an earlier file failed: the form fails with it */
		return upload_refused(r, u, NULL);
	reply = call(r, json_pack("{s:s}", "op", OP_UPLOAD_OPEN), NULL);
	if (!reply_ok(reply) || !json_string_value(json_object_get(reply, "upload")))
		return upload_refused(r, u, reply);
	xstrlcpy(u->upload, json_string_value(json_object_get(reply, "upload")), sizeof(u->upload));
	json_decref(reply);
	return 0;
}

int web_upload_part(struct web_req *r, struct web_upload *u, char *data, size_t size)
{
	json_t *failed;

	if (r->npending == WEB_UPLOAD_WINDOW && settle_oldest(r) != 0) {
		free(data);
		return upload_refused(r, u, NULL);
	}
	failed = send_request(r, json_pack("{s:s,s:s,s:I}", "op", OP_UPLOAD_APPEND, "upload", u->upload,
					   "offset", (json_int_t)u->sent), data, size, r->pending[r->npending]);
	if (failed)
		return upload_refused(r, u, failed);
	if (stash_add(r->pending[r->npending++]) != 0 && settle_oldest(r) != 0)	/* cannot happen: a slot a part */
		return upload_refused(r, u, NULL);
	u->sent += size;
	return 0;
}

void web_upload_end(struct web_req *r)
{
	char id[48];

	settle(r);
	for (size_t i = 0; i < r->nfiles; i++) {
		struct web_upload *u = &r->files[i];
		json_t *failed;

		/* not used by a request answered ok: cancelled without waiting (a reply that
		 * comes later is dropped by the thread's next call) */
		if (u->upload[0] && !r->uploads_used &&
		    (failed = send_request(r, json_pack("{s:s,s:s}", "op", OP_UPLOAD_CANCEL, "upload", u->upload), NULL, 0, id)))
			json_decref(failed);
		u->upload[0] = 0;
	}
	json_decref(r->upload_error);
	r->upload_error = NULL;
}

/* call_uploads - req naming the uploads of field as "uploads" */
static json_t *call_uploads(struct web_req *r, json_t *req, const char *field)
{
	json_t *ids = json_array(), *reply;

	if (settle(r) != 0) {
		json_decref(ids);
		json_decref(req);
		return json_incref(r->upload_error);
	}
	for (size_t i = 0; i < r->nfiles; i++) {
		struct web_upload *u = &r->files[i];

		if (strcmp(u->field, field) || (!*u->filename && !u->size))
			continue;	/* a file input left empty */
		if (!u->upload[0] && web_upload_open(r, u) != 0) {	/* a named file of no bytes */
			json_decref(ids);
			json_decref(req);
			return json_incref(r->upload_error);
		}
		json_array_append_new(ids, json_string(u->upload));
	}
	if (req)
		json_object_set_new(req, "uploads", ids);
	else
		json_decref(ids);
	reply = call(r, req, NULL);
	if (reply_ok(reply))
		r->uploads_used = 1;
	return reply;
}

json_t *web_call(struct web_req *r, json_t *req)
{
	return call(r, req, NULL);
}

json_t *web_call_files(struct web_req *r, json_t *req, const char *field)
{
	return call_uploads(r, req, field);
}

json_t *web_call_file(struct web_req *r, json_t *req, void **blob)
{
	json_t *reply = call(r, req, blob);

	if (!reply_ok(reply) && *blob) {
		blob_free(*blob);
		*blob = NULL;
	}
	return reply;
}

int reply_ok(const json_t *reply)
{
	return json_is_true(json_object_get(reply, "ok"));
}

const char *reply_code(const json_t *reply)
{
	const char *s = json_string_value(json_object_get(json_object_get(reply, "error"), "code"));

	return s ? s : "";
}

const char *reply_message(const json_t *reply)
{
	const char *s = json_string_value(json_object_get(json_object_get(reply, "error"), "message"));

	return s ? s : "";
}

const void *blob_data(void *blob)
{
	return zmq_msg_data(blob);
}

size_t blob_size(void *blob)
{
	return zmq_msg_size(blob);
}

void blob_free(void *blob)
{
	if (!blob)
		return;
	zmq_msg_close(blob);
	free(blob);
}
