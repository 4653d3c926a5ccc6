/*
 * rq.h - the request object an op handler reads and answers (rq.c): its members, its
 * files, and the error reply. api.c fills it from the socket and sends what it holds.
 */
#ifndef THIDUA_RQ_H
#define THIDUA_RQ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "proto.h"	/* the error codes (ERR_...) */

#define RQ_FRAMES_MAX 65	/* the JSON frame and up to 64 files */
#define RQ_MESSAGE_MAX 1024	/* an error message, whatever it quotes */
#define RQ_QUOTE_MAX 64		/* a name or value quoted from the request */

struct daemon;
struct op_entry;

struct request {
	void *sock;			/* the socket it came on: d->api or d->web */
	int web;			/* it came on the web socket */
	zmq_msg_t identity;
	int delimiter;			/* the client sent an empty frame first (REQ) */
	zmq_msg_t frames[RQ_FRAMES_MAX];	/* frames[0] is the JSON */
	size_t nframes;
	json_t *body;
	const char *op, *id;
	unsigned flags;
	json_t *reply;			/* {"id":..,"ok":..} */
	char *reply_text;		/* reply as sent, when already serialized */
	int failed;
	int replayed;
	const struct op_entry *e;	/* the op, once parsed; NULL: unknown */
	int ran;			/* request_run got past parsing: request_again undoes it */
	int rated;			/* counted by rate_allow (once, even when run again) */
	int uploads_taken;		/* its "uploads" are its file frames (uploads_take) */
	const char *principal;		/* "as": a principal of the configuration; NULL: "admin" */
	char user_id[72];		/* tcp: the principal its CURVE key proved (zap.c); "" over ipc */
	int fd;				/* the connection it came on (inflow.h), or -1 */
	const struct daemon *d;
	void (*on_failure)(struct daemon *d, json_t *arg);	/* rq_on_failure */
	json_t *failure_arg;
	void *file;			/* rq_reply_file: a file frame after the reply */
	size_t file_size;
};

/* request helpers for handlers */
const char *rq_op(const struct request *rq);
json_t *rq_body(const struct request *rq);
size_t rq_nfiles(const struct request *rq);
const void *rq_file(const struct request *rq, size_t i, size_t *size);
/* rq_files_set - the file frames replaced by copies of n files (inbox.c: the files a held
 * message brought, submitted when the office accepts it); -1 when more than a request carries */
int rq_files_set(struct request *rq, size_t n, const void *const *data, const size_t *size);
const char *rq_principal(const struct request *rq);
const char *rq_id(const struct request *rq);
int rq_failed(const struct request *rq);
/* rq_web - the request came on the web socket (daemon/accounts) */
int rq_web(const struct request *rq);
/* rq_on_failure - fn(d, arg) runs after a failed request's changes are undone (a failed
 * login is still counted and audited); steals arg */
void rq_on_failure(struct request *rq, void (*fn)(struct daemon *d, json_t *arg), json_t *arg);
/* rq_reply_file - a file frame after the reply's JSON (report.file); steals data (malloc'd) */
void rq_reply_file(struct request *rq, void *data, size_t size);
int rq_error(struct request *rq, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* rq_error_take - a refusal an op gave (not a storage failure) taken back: its code and
 * message into the buffers, the request no longer failed; -1 (nothing taken) for
 * "internal" and "storage_full" */
int rq_error_take(struct request *rq, char *code, size_t codesize, char *msg, size_t msgsize);
const char *rq_str(struct request *rq, const char *key, int required);
void rq_error_set(struct request *rq, const char *key, json_t *value);	/* steals value */
int rq_time(struct request *rq, const char *key, int required, int64_t *t);
int rq_day(struct request *rq, const char *key, int required, int32_t *day);
/* a member of the wrong type is invalid_field naming it, never read as false or absent */
int rq_bool(struct request *rq, const char *key, int *out);
int rq_int(struct request *rq, const char *key, int required, long long min, long long max, long long *out);
/* the names of submitted files: rq_file_names the request's "files" (one per file frame),
 * rq_file_name one member naming a file (an imported CSV) */
int rq_file_names(struct request *rq);
const char *rq_file_name(struct request *rq, const char *key);

/* the op handlers: fill out and return 0, or return rq_error(...) */
typedef int (*op_fn)(struct daemon *d, struct request *rq, json_t *out);

#endif
