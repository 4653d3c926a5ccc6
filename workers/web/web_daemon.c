/*
 * web_daemon.c - asking thiduad, over its web socket, as the logged-in principal.
 *
 * Each thread of the server has its own connection (zmtp.c: ZMTP 3 over the unix socket,
 * as a DEALER, without libzmq), made at its first request and again after it failed (the
 * daemon restarted). A request is [""][JSON][file frames...]; the reply
 * [""][JSON][file frames...] is matched by its id: a reply that arrives after its request
 * gave up waiting is read and dropped by the next call of the thread.
 *
 * Nothing queues while the daemon is not there: the connection is made (or found broken)
 * within CONNECT_WAIT_MS and the caller learns at once that it is unavailable.
 *
 * Uploads go out in parts as the browser's body arrives (upload.append), up to
 * WEB_UPLOAD_WINDOW unanswered; the request that stores them names them (web_call_files).
 * A thread serves many connections on its one connection to the daemon, so a reply to a
 * part that arrives while another request of the thread waits is kept (the stash).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jdump.h"
#include "jload.h"
#include "log.h"
#include "web.h"
#include "xalloc.h"
#include "zmtp.h"

#define CONNECT_WAIT_MS 1500
#define PART_JSON 1024		/* room for an upload.append's JSON frame and framing */
/* the largest reply taken: a file of the largest max_request_bytes thiduad accepts
 * (1 GiB, docs/CONFIG.md) and its JSON; memory grows only as the bytes come */
#define REPLY_MAX (((size_t)1 << 30) + ((size_t)1 << 20))

static const char *sock_path;
static pthread_key_t conn_key;	/* closes a thread's connection when the thread ends */
static pthread_key_t stash_key;	/* frees a thread's stash when the thread ends */
static _Thread_local struct zmtp *tconn;
static _Thread_local unsigned long tseq;

/* the parts this thread sent and not yet settled, for every connection it serves: a reply
 * to one of them that arrives while another request waits is kept here, not dropped. At
 * most WEB_UPLOAD_WINDOW a connection. */
struct stash {
	char id[48];
	json_t *reply;		/* NULL until it comes */
};
static _Thread_local struct stash *stash;
static _Thread_local size_t nstash, stash_max;

/* a file frame of a reply */
struct blob {
	char *data;
	size_t size;
};

/* conn_end - a thread's connection, at the thread's end */
static void conn_end(void *p)
{
	struct zmtp *z = p;

	zmtp_close(&z);
}

/* conn_drop - close this thread's connection (broken, or the thread ends) */
static void conn_drop(void)
{
	zmtp_close(&tconn);
	pthread_setspecific(conn_key, NULL);
}

void web_daemon_init(void)
{
	if (strncmp(web_opts.endpoint, "ipc://", 6) || !web_opts.endpoint[6])
		fatal("the endpoint %s is not the daemon's web socket: it must be ipc://PATH (daemon.web)",
		      web_opts.endpoint);
	sock_path = web_opts.endpoint + 6;
	if (pthread_key_create(&conn_key, conn_end) != 0 || pthread_key_create(&stash_key, free) != 0)
		fatal("pthread_key_create failed");
}

void web_daemon_end(void)
{
}

void web_daemon_thread_end(void)
{
	conn_drop();
}

/* conn_get - this thread's connection, made when there is none; NULL: the daemon is not
 * there (logged once per failure reason change) */
static struct zmtp *conn_get(void)
{
	static _Thread_local char last[160];
	char err[160];

	if (tconn)
		return tconn;
	tconn = zmtp_connect(sock_path, CONNECT_WAIT_MS, err, sizeof(err));
	pthread_setspecific(conn_key, tconn);
	if (!tconn && strcmp(err, last)) {
		log_warn("thiduad's web socket: %s", err);
		xstrlcpy(last, err, sizeof(last));
	} else if (tconn) {
		last[0] = 0;
	}
	return tconn;
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

/* send_frames - [""][text][data?] on this thread's connection; a connection found broken
 * (the daemon restarted since) is made again once. 0; -1 not sent; -2 no connection */
static int send_frames(const char *text, const void *data, size_t size)
{
	struct zmtp_frame f[3];
	size_t n = 0;

	f[n++] = (struct zmtp_frame){ "", 0 };
	f[n++] = (struct zmtp_frame){ text, strlen(text) };
	if (data)
		f[n++] = (struct zmtp_frame){ data, size };
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!conn_get())
			return -2;
		if (zmtp_send(tconn, f, n, (int)(web_opts.daemon_timeout * 1000)) == 0)
			return 0;
		log_info("sending to %s failed: %s%s", web_opts.endpoint, strerror(errno),
			 attempt ? "" : "; connecting again");
		conn_drop();
		if (errno == ETIMEDOUT)
			break;
	}
	return -1;
}

/* send_request - req (stolen) sent as r's session, with one file frame (data) when not
 * NULL; its id in id. NULL sent, or the reply that says why not */
static json_t *send_request(struct web_req *r, json_t *req, const void *data, size_t size, char id[48])
{
	char *text;
	int rc;

	if (!req)	/* json_pack refused a member (not UTF-8): nothing to send */
		return json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", ERR_INVALID_FIELD, "message",
				 "a value of the request is not valid UTF-8");
	snprintf(id, 48, "web-%lx-%lu-%08x", (unsigned long)getpid() & 0xffffff, ++tseq, (unsigned)random());
	json_object_set_new(req, "id", json_string(id));
	if (r && r->session[0])
		json_object_set_new(req, "session", json_string(r->session));
	text = jdump(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return unavailable("the request could not be written as JSON");
	rc = send_frames(text, data, size);
	free(text);
	if (rc != 0)
		return unavailable(rc == -1 ? "the request could not be sent to thiduad"
				   : "thiduad does not answer on its web socket (is it running?)");
	return NULL;
}

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
	size_t most = (size_t)web_opts.max_connections * WEB_UPLOAD_WINDOW;

	if (nstash == stash_max) {	/* grown as uploads come at once: most are one at a time */
		if (stash_max == most)
			return -1;
		stash_max = stash_max ? (2 * stash_max < most ? 2 * stash_max : most) : WEB_UPLOAD_WINDOW;
		stash = xrealloc(stash, stash_max * sizeof(*stash));
		pthread_setspecific(stash_key, stash);
	}
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

/* await_reply - the reply to the request sent as id: replies to parts other requests of
 * the thread await are kept for them (stash), others (whose request gave up waiting)
 * dropped; blob receives its first file frame when asked */
static json_t *await_reply(const char *id, void **blob)
{
	long deadline = now_ms() + (long)(web_opts.daemon_timeout * 1000);

	for (;;) {
		long left = deadline - now_ms();
		struct zmtp_msg m;
		json_t *j = NULL;
		size_t k = 0;
		int rc;

		if (left <= 0 || !tconn)
			return unavailable("thiduad did not answer in time");
		rc = zmtp_recv(tconn, &m, REPLY_MAX, (int)(left > 1 << 30 ? 1 << 30 : left));
		if (rc == 0)
			return unavailable("thiduad did not answer in time");
		if (rc < 0) {
			log_warn("reading from %s failed: %s", web_opts.endpoint,
				 errno == EMSGSIZE ? "a reply larger than the gateway takes" : strerror(errno));
			conn_drop();
			return unavailable(errno == EMSGSIZE ? "thiduad's reply is larger than the gateway takes"
					   : "the connection to thiduad was lost while waiting for the reply");
		}
		if (m.n > 1 && m.part[0].len == 0)
			k = 1;	/* the delimiter */
		if (k < m.n) {
			json_error_t jerr;

			j = jload(m.part[k].data, m.part[k].len, 0, &jerr);
		}
		if (j && json_is_object(j)) {
			const char *rid = json_string_value(json_object_get(j, "id"));
			struct stash *st = rid ? stash_find(rid) : NULL;

			if (rid && !strcmp(rid, id)) {
				if (blob && k + 1 < m.n) {
					struct blob *b = xmalloc(sizeof(*b));

					b->data = m.part[k + 1].data;
					b->size = m.part[k + 1].len;
					m.part[k + 1].data = NULL;
					*blob = b;
				}
				zmtp_msg_free(&m);
				return j;
			}
			if (st && !st->reply) {		/* a part another request of the thread sent */
				st->reply = j;
				j = NULL;
			}
		}
		json_decref(j);
		zmtp_msg_free(&m);
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
	json_t *reply = stash_take(r->pending[0]);	/* came while another request waited */
	int rc = 0;

	if (!reply)
		reply = await_reply(r->pending[0], NULL);
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
	json_int_t max;

	if (settle(r) != 0)	/* an earlier file failed: the form fails with it */
		return upload_refused(r, u, NULL);
	reply = call(r, json_pack("{s:s}", "op", OP_UPLOAD_OPEN), NULL);
	if (!reply_ok(reply) || !json_string_value(json_object_get(reply, "upload")))
		return upload_refused(r, u, reply);
	xstrlcpy(u->upload, json_string_value(json_object_get(reply, "upload")), sizeof(u->upload));
	/* a part and its JSON (well under PART_JSON) must fit in the daemon's max_request_bytes:
	 * a request over it is refused before its id is read, and that reply could not be
	 * matched to the part */
	max = json_integer_value(json_object_get(reply, "max_bytes"));
	u->part_max = WEB_PART_BYTES;
	if (max > 0 && (json_int_t)u->part_max + PART_JSON > max)
		u->part_max = max > 2 * PART_JSON ? (size_t)(max - PART_JSON) : (size_t)(max / 2 > 0 ? max / 2 : 1);
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
	free(data);
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
	return ((struct blob *)blob)->data;
}

size_t blob_size(void *blob)
{
	return ((struct blob *)blob)->size;
}

void blob_free(void *blob)
{
	if (!blob)
		return;
	free(((struct blob *)blob)->data);
	free(blob);
}
