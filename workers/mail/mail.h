/*
 * mail.h - thidua-mail, the worker that delivers outbox mail over SMTP with libcurl.
 *
 * One process, one thread, one loop (mail_main.c) over: the DEALER link to thiduad's jobs
 * socket (common/jobwire.c, docs/JOBS.md), jobs read from their JSON payload (mail_job.c), the
 * message written by common/mailmsg.c as thiduad's .eml files are (mail_msg.c), transfers run by a curl multi handle
 * whose connection pool keeps an SMTP session open from one message to the next
 * (mail_smtp.c), and the server's replies read from the SMTP transcript (mail_trace.c),
 * which is where the per-recipient answers come from.
 *
 * The worker holds no state a restart would lose: a job carries the channel and the
 * message. A password is only ever handed to libcurl, never to a log line.
 */
#ifndef THIDUA_MAIL_H
#define THIDUA_MAIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zmq.h>

#define MAIL_RETRY_AFTER 60		/* seconds, for 4xx and connection trouble */
#define MAIL_REPLY_MAX 512		/* bytes kept of one server reply */

/* -- mail_job.c: a job and its payload -- */

struct mail_rcpt {
	char *address;
	char *name;			/* display name, or NULL */
	const char *invalid;		/* why it is not sent to, or NULL */
};

struct mail_job {
	char *id;			/* the daemon's job id */
	int attempt;
	long lease;			/* seconds; 0 when the daemon gave none */
	/* the channel */
	char *channel;			/* its name, for logs */
	char *url;
	char *tls;			/* "starttls", "tls" or "none" */
	char *username, *password;	/* NULL: no authentication */
	char *ca_file;			/* CA bundle for a private CA, or NULL: the system's */
	long connect_timeout, timeout;	/* seconds */
	int utc_offset;			/* the movement's time zone, seconds east of UTC: the Date's */
	/* the message */
	char *from, *from_name;
	struct mail_rcpt *to;
	size_t nto;
	char *subject, *text, *html;	/* html NULL: text only */
	char *message_id, *dedup_key;
	char *reply_to;			/* the Reply-To address, or NULL */
};

/* mail_job_new - an empty job with the daemon's id (id may be NULL) */
struct mail_job *mail_job_new(const char *id);
void mail_job_destroy(struct mail_job **self_p);

/* mail_job_parse - fill the job from the `job` message; -1 with a reason for people in err */
int mail_job_parse(struct mail_job *job, const json_t *msg, char *err, size_t errsize);

/* -- mail_msg.c: the message itself -- */

/* mail_msg_bytes - the whole message of the job (common/mailmsg.c), dated date: a fresh string
 * of *len bytes */
char *mail_msg_bytes(const struct mail_job *job, time_t date, size_t *len);

/* -- mail_trace.c: the SMTP transcript of one transfer -- */

enum trace_cmd {
	TRACE_GREETING, TRACE_EHLO, TRACE_HELO, TRACE_STARTTLS, TRACE_AUTH, TRACE_MAIL,
	TRACE_RCPT, TRACE_DATA, TRACE_BODY, TRACE_QUIT, TRACE_OTHER
};

struct trace_reply {
	int code;			/* 0: none */
	enum trace_cmd cmd;		/* the command it answered */
	char text[MAIL_REPLY_MAX];	/* "550 5.1.1 <x@y>: no such user", lines joined */
};

struct mail_trace {
	enum trace_cmd cmd;		/* what the next reply answers */
	struct trace_reply cur;		/* the reply being read (multi-line) */
	int nreplies;			/* complete replies seen */
	struct trace_reply fail;	/* the last refusal of a command other than RCPT */
	struct trace_reply end;		/* the answer to the end of the message data */
	struct trace_reply last;	/* the last complete reply, whatever it answered */
	struct trace_reply *rcpt;	/* the answers to RCPT TO, in order */
	size_t nrcpt, caprcpt;
};

void mail_trace_init(struct mail_trace *t);
void mail_trace_reset(struct mail_trace *t);
void mail_trace_free(struct mail_trace *t);

/* mail_trace_out - a command line libcurl sent (CURLINFO_HEADER_OUT); only the verb is read,
 * so credentials (AUTH) are never kept */
void mail_trace_out(struct mail_trace *t, const char *data, size_t len);

/* mail_trace_in - reply lines libcurl received (CURLINFO_HEADER_IN) */
void mail_trace_in(struct mail_trace *t, const char *data, size_t len);

/* mail_trace_debug_cb - CURLOPT_DEBUGFUNCTION with a struct mail_trace as CURLOPT_DEBUGDATA */
int mail_trace_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *userp);

/* -- mail_smtp.c: transfers -- */

enum mail_status { MAIL_SENT, MAIL_RETRY, MAIL_FAILED };

struct mail_outcome {
	enum mail_status status;
	int code;			/* the SMTP reply code; 0: no reply to report */
	int retry_after;		/* seconds, with MAIL_RETRY */
	char *reason;			/* for people: the server's answer, or what went wrong */
	json_t *recipients;		/* [{address, status, reason, code}] or NULL */
};

void mail_outcome_set(struct mail_outcome *o, enum mail_status status, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void mail_outcome_clear(struct mail_outcome *o);
const char *mail_outcome_status_name(enum mail_status s);

struct smtp;

/* smtp_done_fn - a job has an outcome; the callee may take the job */
typedef void smtp_done_fn(struct mail_job **job_p, struct mail_outcome *out, void *arg);

/* smtp_tick_fn - called from inside libcurl about once a second while it blocks (see
 * mail_smtp.c); may only do what needs no libcurl call: the heartbeat */
typedef void smtp_tick_fn(void *arg);

struct smtp *smtp_new(smtp_done_fn *done, smtp_tick_fn *tick, void *arg);
void smtp_destroy(struct smtp **self_p);

/* smtp_start - begin sending; takes the job. A job refused before any transfer (a bad
 * channel, no valid recipient) gets its outcome through the done callback at once. */
void smtp_start(struct smtp *s, struct mail_job **job_p);

/* smtp_active - the jobs in flight */
size_t smtp_active(const struct smtp *s);

/* smtp_pollitems - the sockets libcurl waits on, appended from items[0]; returns the count */
size_t smtp_pollitems(struct smtp *s, zmq_pollitem_t *items, size_t max);
size_t smtp_nfds(const struct smtp *s);

/* smtp_timeout_ms - how long the loop may sleep for libcurl's sake (-1: forever) */
long smtp_timeout_ms(const struct smtp *s, int64_t now_ms);

/* smtp_action - let libcurl work on the ready sockets and due timers; calls done */
void smtp_action(struct smtp *s, const zmq_pollitem_t *items, size_t n, int64_t now_ms);

/* -- mail_main.c -- */

int64_t mail_mono_ms(void);

#endif
