/*
 * mailin_handover.c - what thidua-mailin (one message from Postfix's pipe) and thidua-imap
 * (messages fetched from a mailbox) do alike with a message: keep it durably in
 * STATE_DIR/inbox, build the inbox.deliver request from what mailin_parse() found, hand it
 * with the files to thiduad and wait for the acknowledgement. A caller may let the mail go
 * (exit 0 to Postfix, mark it \\Seen in IMAP) only when mailin_handover() answered
 * MAILIN_OK: the daemon has recorded the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "jdump.h"
#include "jload.h"
#include "mailin.h"
#include "sha256.h"
#include "xalloc.h"

const char *mailin_prog = "thidua-mailin";

static void fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: ", mailin_prog);
	fprintf(stderr, fmt, a ? a : "", b ? b : "");
	fputc('\n', stderr);
}

/* mailin_keep - data into DIR/inbox/NAME durably; name filled; 0 ok */
int mailin_keep(const char *state_dir, const char *data, size_t len, char *name, size_t namesize)
{
	char dir[4096], tmp[4400], path[4400];
	unsigned char rnd[8];
	int fd, dfd;
	size_t done = 0;
	time_t now = time(NULL);
	struct tm tm;

	snprintf(dir, sizeof(dir), "%s/inbox", state_dir);
	if (mkdir(dir, 0750) && errno != EEXIST)
		return -1;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	gmtime_r(&now, &tm);
	snprintf(name, namesize, "%04d%02d%02dT%02d%02d%02dZ-%ld-%02x%02x%02x%02x%02x%02x%02x%02x.eml", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)getpid(), rnd[0], rnd[1], rnd[2],
		 rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		done += (size_t)n;
	}
	if (done < len || fsync(fd) || close(fd) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

/* ipc_listening - for an ipc:// endpoint, does a process listen on its socket file? A
 * daemon stopped (or killed: the file stays) refuses the connection at once, where ZeroMQ
 * would wait the whole --timeout for an answer that cannot come. 1 yes or not ipc, 0 no */
static int ipc_listening(const char *endpoint)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc, e;

	if (strncmp(endpoint, "ipc://", 6) || strlen(endpoint + 6) >= sizeof(sa.sun_path))
		return 1;
	memcpy(sa.sun_path, endpoint + 6, strlen(endpoint + 6) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	errno = e;
	return rc == 0 || (e != ECONNREFUSED && e != ENOENT);
}

/* mailin_deliver - the request and its files to the daemon; 0 when it acknowledged */
int mailin_deliver(const char *endpoint, double timeout, json_t *req, const struct mailin_msg *m)
{
	void *ctx, *sock;
	char *text;
	int linger = 0, rc, ok = -1;
	zmq_pollitem_t item;

	if (!ipc_listening(endpoint)) {
		fail("thiduad is not running (nothing listens on %s: %s); the mail server will try again", endpoint, strerror(errno));
		return -1;
	}
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_DEALER);
	text = jdump(req, JSON_COMPACT);

	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	rc = zmq_connect(sock, endpoint);
	if (rc == 0)
		rc = zmq_send(sock, "", 0, ZMQ_SNDMORE);
	if (rc >= 0)
		rc = zmq_send(sock, text, strlen(text), m->nfiles ? ZMQ_SNDMORE : 0);
	for (size_t i = 0; rc >= 0 && i < m->nfiles; i++)
		rc = zmq_send(sock, m->files[i].data, m->files[i].size, i + 1 < m->nfiles ? ZMQ_SNDMORE : 0);
	if (rc < 0) {
		fail("cannot send to %s: %s", endpoint, zmq_strerror(errno));
		goto out;
	}
	item = (zmq_pollitem_t){ sock, 0, ZMQ_POLLIN, 0 };
	if (zmq_poll(&item, 1, (long)(timeout * 1000)) <= 0) {
		fail("no answer from thiduad at %s%s (is it running?); the mail server will try again", endpoint, "");
		goto out;
	}
	for (;;) {
		zmq_msg_t f;

		zmq_msg_init(&f);
		if (zmq_msg_recv(&f, sock, 0) < 0) {
			zmq_msg_close(&f);
			break;
		}
		if (zmq_msg_size(&f) > 0) {
			json_error_t jerr;
			json_t *reply = jload(zmq_msg_data(&f), zmq_msg_size(&f), 0, &jerr);
			json_t *err = json_object_get(reply, "error");

			if (json_is_true(json_object_get(reply, "ok")))
				ok = 0;
			else
				fail("thiduad did not take the message: %s (%s)",
				     json_string_value(json_object_get(err, "message")) ? json_string_value(json_object_get(err, "message")) : "no reply",
				     json_string_value(json_object_get(err, "code")) ? json_string_value(json_object_get(err, "code")) : "?");
			json_decref(reply);
			zmq_msg_close(&f);
			break;
		}
		zmq_msg_close(&f);
	}
out:
	free(text);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return ok;
}


/* mailin_request - the inbox.deliver request for message m (len bytes, kept as name),
 * sent to recipient (its +TOKEN; NULL: the token found in the headers) by the envelope
 * sender (NULL: unknown, "" a bounce). Every string is UTF-8 (mailin_parse made it so),
 * and "files" names the m->nfiles file frames in order. */
json_t *mailin_request(const struct mailin_msg *m, const char *name, size_t len, const char *recipient, const char *sender)
{
	json_t *req = json_object(), *names = json_array();
	char hex[65], rid[80], *token = mailin_token(recipient);

	json_object_set_new(req, "op", json_string("inbox.deliver"));
	/* the request id: the Message-ID's (a message delivered twice is taken once), else
	 * the inbox file's */
	if (m->message_id)
		sha256_hex(m->message_id, strlen(m->message_id), hex);
	else
		sha256_hex(name, strlen(name), hex);
	snprintf(rid, sizeof(rid), "mail-%.40s", hex);
	json_object_set_new(req, "id", json_string(rid));
	json_object_set_new(req, "inbox", json_string(name));
	json_object_set_new(req, "size", json_integer((json_int_t)len));
	if (token || m->to_token)
		json_object_set_new(req, "token", json_string(token ? token : m->to_token));
	if (m->from)
		json_object_set_new(req, "sender", json_string(m->from));
	if (sender)
		json_object_set_new(req, "return_path", json_string(sender));
	if (m->message_id)
		json_object_set_new(req, "message_id", json_string(m->message_id));
	if (m->note)
		json_object_set_new(req, "note", json_string(m->note));
	if (m->automatic)
		json_object_set_new(req, "automatic", json_true());
	if (m->too_many)
		json_object_set_new(req, "too_many_files", json_true());
	for (size_t i = 0; i < m->nfiles; i++)
		json_array_append_new(names, json_string(m->files[i].name));
	json_object_set_new(req, "files", names);
	free(token);
	return req;
}

/* mailin_handover - one raw message: kept in STATE_DIR/inbox, parsed, handed to thiduad at
 * endpoint (NULL: ipc://STATE_DIR/api.sock). MAILIN_OK once the daemon recorded it, else
 * MAILIN_TEMPFAIL (why on stderr): the mail must stay where it is and come again. */
int mailin_handover(const char *state_dir, const char *endpoint, double timeout, const char *data, size_t len,
		    const char *recipient, const char *sender)
{
	char name[128], why[256], api[4200];
	struct mailin_msg m;
	json_t *req;
	int rc;

	if (!endpoint) {
		snprintf(api, sizeof(api), "ipc://%s/api.sock", state_dir);
		endpoint = api;
	}
	if (mailin_keep(state_dir, data, len, name, sizeof(name))) {
		fail("cannot keep the message in %s/inbox: %s", state_dir, strerror(errno));
		return MAILIN_TEMPFAIL;
	}
	if (mailin_parse(data, len, &m, why, sizeof(why)))
		memset(&m, 0, sizeof(m));	/* kept, and recorded as unreadable */
	req = mailin_request(&m, name, len, recipient, sender);
	rc = mailin_deliver(endpoint, timeout, req, &m) ? MAILIN_TEMPFAIL : MAILIN_OK;
	json_decref(req);
	mailin_msg_free(&m);
	return rc;
}
