/*
 * client.c - a DEALER socket that sends one request and waits for its reply.
 *
 * thiduactl must never hang: an ipc endpoint whose socket file is missing or refuses
 * connections is reported at once; otherwise the reply is awaited for --timeout seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "client.h"
#include "curve.h"
#include "jload.h"
#include "xalloc.h"

/* ipc_reachable - for ipc:// endpoints, is anything listening? 1 yes, 0 no (msg set) */
static int ipc_reachable(const char *endpoint, char *msg, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = endpoint + 6;
	int fd, rc;

	if (strncmp(endpoint, "ipc://", 6) != 0)
		return 1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return 1;
	if (access(path, F_OK) != 0) {
		snprintf(msg, size, "no thiduad is listening at %s: the socket file does not exist (start the daemon: 'make run' or 'systemctl start thiduad')", endpoint);
		return 0;
	}
	xstrlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc != 0 && (errno == ECONNREFUSED || errno == ENOENT)) {
		snprintf(msg, size, "no thiduad is listening at %s: the connection was refused (is the daemon running?)", endpoint);
		return 0;
	}
	if (rc != 0 && errno == EACCES) {
		snprintf(msg, size, "permission denied on %s: run as a member of the thidua group", endpoint);
		return 0;
	}
	return 1;
}

/* client_new_id - random request id */
void client_new_id(char *buf, size_t size)
{
	unsigned char r[16];
	size_t used;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(rand() ^ getpid());
	used = (size_t)snprintf(buf, size, "cli-");
	for (size_t i = 0; i < sizeof(r) && used + 2 < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%02x", r[i]);
}

/* take_blob - the frame after the JSON frame, when the reply has one, into blob */
static void take_blob(void *sock, struct client_blob *blob)
{
	zmq_msg_t m;
	int more = 0;
	size_t len = sizeof(more);

	if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len) || !more)
		return;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, sock, 0) >= 0) {
		blob->size = zmq_msg_size(&m);
		blob->data = xmalloc(blob->size ? blob->size : 1);
		memcpy(blob->data, zmq_msg_data(&m), blob->size);
		blob->got = 1;
	}
	zmq_msg_close(&m);
}

/* client_call - one round trip */
json_t *client_call(struct client *c, json_t *req, const struct client_file *files,
		    size_t nfiles, int *exit_code)
{
	return client_call_blob(c, req, files, nfiles, NULL, exit_code);
}

/* client_call_blob - one round trip, keeping the reply's file frame */
json_t *client_call_blob(struct client *c, json_t *req, const struct client_file *files,
			 size_t nfiles, struct client_blob *blob, int *exit_code)
{
	void *ctx = NULL, *sock = NULL;
	char msg[512], *text = NULL;
	json_t *reply = NULL;
	int linger = 0, rc;
	zmq_pollitem_t item;
	zmq_msg_t m;

	*exit_code = EXIT_UNREACHABLE;
	if (!ipc_reachable(c->endpoint, msg, sizeof(msg))) {
		fprintf(stderr, "thiduactl: %s\n", msg);
		goto out;
	}
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (curve_client_setup(sock, c->server_key, c->key_file, msg, sizeof(msg))) {
		fprintf(stderr, "thiduactl: %s\n", msg);
		*exit_code = EXIT_USAGE;
		goto out;
	}
	if (zmq_connect(sock, c->endpoint) != 0) {
		fprintf(stderr, "thiduactl: cannot use the endpoint %s: %s\n", c->endpoint, zmq_strerror(errno));
		*exit_code = EXIT_USAGE;
		goto out;
	}
	text = json_dumps(req, JSON_COMPACT);
	rc = zmq_send(sock, "", 0, ZMQ_SNDMORE);
	if (rc >= 0)
		rc = zmq_send(sock, text, strlen(text), nfiles ? ZMQ_SNDMORE : 0);
	for (size_t i = 0; rc >= 0 && i < nfiles; i++)
		rc = zmq_send(sock, files[i].data, files[i].size, i + 1 < nfiles ? ZMQ_SNDMORE : 0);
	if (rc < 0) {
		fprintf(stderr, "thiduactl: sending to %s failed: %s\n", c->endpoint, zmq_strerror(errno));
		goto out;
	}
	item = (zmq_pollitem_t){ sock, 0, ZMQ_POLLIN, 0 };
	rc = zmq_poll(&item, 1, (long)(c->timeout * 1000));
	if (rc <= 0) {
		fprintf(stderr, "thiduactl: no answer from %s within %g seconds (is thiduad running? --timeout gives it longer)\n",
			c->endpoint, c->timeout);
		goto out;
	}
	/* skip the empty delimiter, then read the JSON frame */
	for (;;) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, 0) < 0) {
			zmq_msg_close(&m);
			goto out;
		}
		if (zmq_msg_size(&m) > 0) {
			json_error_t jerr;

			reply = jload(zmq_msg_data(&m), zmq_msg_size(&m), 0, &jerr);
			zmq_msg_close(&m);
			if (!reply) {
				fprintf(stderr, "thiduactl: the daemon's reply is not JSON: %s\n", jerr.text);
				*exit_code = EXIT_DAEMON_ERROR;
			} else if (blob) {
				take_blob(sock, blob);
			}
			break;
		}
		zmq_msg_close(&m);
	}
	if (reply)
		*exit_code = EXIT_OK;
out:
	free(text);
	json_decref(req);
	if (sock)
		zmq_close(sock);
	if (ctx)
		zmq_ctx_term(ctx);
	return reply;
}
