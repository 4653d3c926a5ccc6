/*
 * client.h - thiduactl's connection to the daemon: one request, one reply, a timeout.
 */
#ifndef THIDUA_CLIENT_H
#define THIDUA_CLIENT_H

#include <jansson.h>
#include <stddef.h>

enum { EXIT_OK = 0, EXIT_DAEMON_ERROR = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

struct client_file {
	const char *name;
	const void *data;
	size_t size;
};

struct client {
	const char *endpoint;
	double timeout;		/* seconds */
	int json;		/* print raw JSON replies */
	const char *as;		/* act as this principal */
	const char *server_key;	/* tcp: the daemon's public key (Z85, or a file holding it) */
	const char *key_file;	/* tcp: this client's secret key file (thiduactl keys generate) */
};

/* a file frame of a reply (report.file, proposal.file): data is the caller's to free */
struct client_blob {
	void *data;
	size_t size;
	int got;		/* 1: the reply carried a file frame */
};

/* client_call - send req (stolen) with files, wait for the reply; the exit code on
 * failure to reach the daemon is returned in *exit_code and NULL is returned */
json_t *client_call(struct client *c, json_t *req, const struct client_file *files,
		    size_t nfiles, int *exit_code);

/* client_call_blob - client_call that also keeps the reply's first file frame in *blob
 * (NULL: it is dropped, as client_call does) */
json_t *client_call_blob(struct client *c, json_t *req, const struct client_file *files,
			 size_t nfiles, struct client_blob *blob, int *exit_code);

/* client_new_id - a fresh request id "cli-<32 hex>" into buf */
void client_new_id(char *buf, size_t size);

#endif
