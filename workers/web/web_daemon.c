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
 * Spooled uploads go out as zero-copy frames over a mapping of their file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static void unmap(void *data, void *hint)
{
	munmap(data, (size_t)hint);
}

/* send_frame_mapped - the spooled file fd as one frame, mapped, not copied */
static int send_frame_mapped(void *s, int fd, size_t size, int more)
{
	zmq_msg_t m;
	void *p;

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	if (zmq_msg_init_data(&m, p, size, unmap, (void *)size) != 0) {
		munmap(p, size);
		return -1;
	}
	if (zmq_msg_send(&m, s, more ? ZMQ_SNDMORE : 0) < 0) {
		zmq_msg_close(&m);
		return -1;
	}
	return 0;
}

/* call - the round trip; files (spooled uploads) of field `field`; blob receives the first
 * file frame of the reply when asked */
static json_t *call(struct web_req *r, json_t *req, const char *field, void **blob)
{
	void *s = sock_get();
	char id[48], *text = NULL;
	json_t *reply = NULL;
	size_t nfiles = 0, sent = 0;
	zmq_pollitem_t item = { s, 0, ZMQ_POLLOUT, 0 };
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
	if (field)
		for (size_t i = 0; i < r->nfiles; i++)
			if (!strcmp(r->files[i].field, field))
				nfiles++;
	text = jdump(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return unavailable("the request could not be written as JSON");
	/* wait a little for the connection: with ZMQ_IMMEDIATE nothing queues without one */
	if (zmq_poll(&item, 1, CONNECT_WAIT_MS) != 1) {
		free(text);
		return unavailable("thiduad does not answer on its web socket (is it running?)");
	}
	rc = zmq_send(s, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
	if (rc == 0)
		rc = zmq_send(s, text, strlen(text), nfiles ? ZMQ_SNDMORE : 0);
	for (size_t i = 0; rc >= 0 && field && i < r->nfiles; i++) {
		struct web_upload *u = &r->files[i];

		if (strcmp(u->field, field))
			continue;
		sent++;
		if (u->fd >= 0 && u->size)
			rc = send_frame_mapped(s, u->fd, (size_t)u->size, sent < nfiles);
		else
			rc = zmq_send(s, "", 0, sent < nfiles ? ZMQ_SNDMORE : 0);
	}
	free(text);
	if (rc < 0) {
		log_warn("sending to %s failed: %s", web_opts.endpoint, zmq_strerror(errno));
		return unavailable("the request could not be sent to thiduad");
	}
	deadline = now_ms() + (long)(web_opts.daemon_timeout * 1000);
	for (;;) {
		long left = deadline - now_ms();
		json_t *j = NULL;
		void *first_file = NULL;
		int more = 1, nframe = 0;

		item = (zmq_pollitem_t){ s, 0, ZMQ_POLLIN, 0 };
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

			if (rid && !strcmp(rid, id)) {
				reply = j;
				if (blob)
					*blob = first_file;
				else if (first_file)
					blob_free(first_file);
				return reply;
			}
		}
		json_decref(j);
		if (first_file)
			blob_free(first_file);
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
