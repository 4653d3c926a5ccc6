/*
 * thidua-mailin - one message from the local mail server, into thidua.
 *
 *   thidua-mailin [--state-dir DIR] [--api ENDPOINT] [--sender ADDR] [--max-bytes N]
 *                 [--timeout SECONDS] [RECIPIENT]
 *
 * Postfix runs it through a pipe transport (config/examples/postfix-master.cf) with the
 * envelope recipient and sender. It reads the message from standard input (at most
 * --max-bytes, the daemon's max_request_bytes), writes it durably into STATE_DIR/inbox
 * (write, fsync, rename, fsync of the directory), parses it (mailin_parse.c) and hands the
 * parts to thiduad (op inbox.deliver, over the local api socket), and exits 0 only after
 * the daemon acknowledged. Exit codes (sysexits.h, which Postfix reads):
 *   0   the daemon recorded the message (a receipt, held for the office, or refused with
 *       an answer to the sender: every outcome is in `thiduactl inbox list`)
 *   65  EX_DATAERR: larger than --max-bytes; Postfix returns it to the sender with our
 *       reason (retrying would never succeed)
 *   64  EX_USAGE: a bad argument
 *   75  EX_TEMPFAIL: anything else (the inbox not writable, the daemon down or refusing,
 *       no answer in time): Postfix keeps the message and tries again later.
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

#define DEFAULT_MAX (32u * 1024 * 1024)

static void fail(const char *fmt, const char *a, const char *b)
{
	fputs("thidua-mailin: ", stderr);
	fprintf(stderr, fmt, a ? a : "", b ? b : "");
	fputc('\n', stderr);
}

/* read_all - standard input, at most max bytes; -2 when there is more */
static int read_all(size_t max, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *p = xmalloc(cap);

	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > max) {
				free(p);
				return -2;
			}
			cap *= 2;
			p = xrealloc(p, cap);
		}
		r = read(0, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(p);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(p);
			return -2;
		}
	}
	*out = p;
	*len = n;
	return 0;
}

/* keep - data into DIR/inbox/NAME durably; name filled; 0 ok */
static int keep(const char *state_dir, const char *data, size_t len, char *name, size_t namesize)
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

/* deliver - the request and its files to the daemon; 0 when it acknowledged */
static int deliver(const char *endpoint, double timeout, json_t *req, const struct mailin_msg *m)
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

static void usage(void)
{
	fputs("usage: thidua-mailin [--state-dir DIR] [--api ENDPOINT] [--sender ADDR] [--max-bytes N]\n"
	      "                     [--timeout SECONDS] [RECIPIENT]\n"
	      "Reads one message on standard input (a Postfix pipe transport: see README, \"Reply by e-mail\").\n",
	      stderr);
}

int main(int argc, char **argv)
{
	const char *state_dir = "/var/lib/thidua", *api = NULL, *sender = NULL, *recipient = NULL;
	size_t max = DEFAULT_MAX, len;
	double timeout = 60;
	char *data, name[128], why[256], api_buf[4200], hex[65], rid[80];
	struct mailin_msg m;
	json_t *req, *names;
	char *token;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			return 0;
		} else if (i + 1 < argc && !strcmp(a, "--state-dir")) {
			state_dir = argv[++i];
		} else if (i + 1 < argc && !strcmp(a, "--api")) {
			api = argv[++i];
		} else if (i + 1 < argc && !strcmp(a, "--sender")) {
			sender = argv[++i];
		} else if (i + 1 < argc && !strcmp(a, "--max-bytes")) {
			char *end;
			unsigned long long v = strtoull(argv[++i], &end, 10);

			if (*end || v < 1024) {
				fail("--max-bytes %s is not a number of bytes of at least 1024%s", argv[i], "");
				return MAILIN_USAGE;
			}
			max = (size_t)v;
		} else if (i + 1 < argc && !strcmp(a, "--timeout")) {
			timeout = atof(argv[++i]);
			if (timeout <= 0) {
				fail("--timeout %s is not a positive number of seconds%s", argv[i], "");
				return MAILIN_USAGE;
			}
		} else if (a[0] == '-' && a[1]) {
			usage();
			return MAILIN_USAGE;
		} else if (!recipient) {
			recipient = a;
		} else {
			usage();
			return MAILIN_USAGE;
		}
	}
	if (!api) {
		snprintf(api_buf, sizeof(api_buf), "ipc://%s/api.sock", state_dir);
		api = api_buf;
	}
	rc = read_all(max, &data, &len);
	if (rc == -2) {
		char lim[32];

		snprintf(lim, sizeof(lim), "%zu", max);
		fail("the message is larger than %s bytes, the most thidua takes%s: send the report in a smaller file, or as a link",
		     lim, "");
		return MAILIN_DATAERR;
	}
	if (rc) {
		fail("cannot read the message: %s%s", strerror(errno), "");
		return MAILIN_TEMPFAIL;
	}
	if (keep(state_dir, data, len, name, sizeof(name))) {
		fail("cannot keep the message in %s/inbox: %s", state_dir, strerror(errno));
		free(data);
		return MAILIN_TEMPFAIL;
	}
	if (mailin_parse(data, len, &m, why, sizeof(why))) {
		memset(&m, 0, sizeof(m));	/* kept, and recorded as unreadable */
	}
	token = mailin_token(recipient);
	req = json_object();
	json_object_set_new(req, "op", json_string("inbox.deliver"));
	/* the request id: the Message-ID's (a message delivered twice is taken once), else
	 * the inbox file's */
	if (m.message_id)
		sha256_hex(m.message_id, strlen(m.message_id), hex);
	else
		sha256_hex(name, strlen(name), hex);
	snprintf(rid, sizeof(rid), "mail-%.40s", hex);
	json_object_set_new(req, "id", json_string(rid));
	json_object_set_new(req, "inbox", json_string(name));
	json_object_set_new(req, "size", json_integer((json_int_t)len));
	if (token || m.to_token)
		json_object_set_new(req, "token", json_string(token ? token : m.to_token));
	if (m.from)
		json_object_set_new(req, "sender", json_string(m.from));
	if (sender)
		json_object_set_new(req, "return_path", json_string(sender));
	if (m.message_id)
		json_object_set_new(req, "message_id", json_string(m.message_id));
	if (m.note)
		json_object_set_new(req, "note", json_string(m.note));
	if (m.automatic)
		json_object_set_new(req, "automatic", json_true());
	if (m.too_many)
		json_object_set_new(req, "too_many_files", json_true());
	names = json_array();
	for (size_t i = 0; i < m.nfiles; i++)
		json_array_append_new(names, json_string(m.files[i].name));
	json_object_set_new(req, "files", names);
	rc = deliver(api, timeout, req, &m) ? MAILIN_TEMPFAIL : MAILIN_OK;
	json_decref(req);
	free(token);
	mailin_msg_free(&m);
	free(data);
	return rc;
}
