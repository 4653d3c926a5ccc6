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
 * within CONNECT_WAIT_MS and the caller learns at once that it is unavailable. Spooled
 * uploads go out by sendfile from their files, never copied into memory.
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
/* the largest reply taken: a file of the largest max_request_bytes thiduad accepts
 * (1 GiB, docs/CONFIG.md) and its JSON; memory grows only as the bytes come */
#define REPLY_MAX (((size_t)1 << 30) + ((size_t)1 << 20))

static const char *sock_path;
static pthread_key_t conn_key;	/* closes a thread's connection when the thread ends */
static _Thread_local struct zmtp *tconn;
static _Thread_local unsigned long tseq;

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
	if (pthread_key_create(&conn_key, conn_end) != 0)
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

/* send_request - [""][text][files of field] on this thread's connection; a connection
 * found broken (the daemon restarted since) is made again once. 0; -1 not sent; -2 no
 * connection */
static int send_request(struct web_req *r, const char *text, const char *field)
{
	struct zmtp_frame f[2 + WEB_MAX_FILES];
	size_t n = 0;

	f[n++] = (struct zmtp_frame){ "", 0, -1, 0 };
	f[n++] = (struct zmtp_frame){ text, strlen(text), -1, 0 };
	for (size_t i = 0; field && i < r->nfiles; i++) {
		struct web_upload *u = &r->files[i];

		if (strcmp(u->field, field))
			continue;
		if (u->fd >= 0 && u->size)
			f[n++] = (struct zmtp_frame){ NULL, (size_t)u->size, u->fd, 0 };
		else
			f[n++] = (struct zmtp_frame){ "", 0, -1, 0 };
	}
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

/* call - the round trip; files (spooled uploads) of field `field`; blob receives the first
 * file frame of the reply when asked */
static json_t *call(struct web_req *r, json_t *req, const char *field, void **blob)
{
	char id[48], *text = NULL;
	long deadline;
	int rc;

	if (blob)
		*blob = NULL;
	if (!req)	/* json_pack refused a member (not UTF-8): nothing to send */
		return json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", ERR_INVALID_FIELD, "message",
				 "a value of the request is not valid UTF-8");
	snprintf(id, sizeof(id), "web-%lx-%lu-%08x", (unsigned long)getpid() & 0xffffff, ++tseq,
		 (unsigned)random());
	json_object_set_new(req, "id", json_string(id));
	if (r && r->session[0])
		json_object_set_new(req, "session", json_string(r->session));
	text = jdump(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return unavailable("the request could not be written as JSON");
	rc = send_request(r, text, field);
	free(text);
	if (rc != 0)
		return unavailable(rc == -1 ? "the request could not be sent to thiduad"
				   : "thiduad does not answer on its web socket (is it running?)");
	deadline = now_ms() + (long)(web_opts.daemon_timeout * 1000);
	for (;;) {
		long left = deadline - now_ms();
		struct zmtp_msg m;
		json_t *j = NULL;
		size_t k = 0;

		if (left <= 0)
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
		}
		json_decref(j);
		zmtp_msg_free(&m);
	}
}

json_t *web_call(struct web_req *r, json_t *req)
{
	return call(r, req, NULL, NULL);
}

json_t *web_call_files(struct web_req *r, json_t *req, const char *field)
{
	return call(r, req, field, NULL);
}

json_t *web_call_file(struct web_req *r, json_t *req, void **blob)
{
	json_t *reply = call(r, req, NULL, blob);

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
