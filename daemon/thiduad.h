/*
 * thiduad.h - the daemon's shared state and the interfaces between its modules.
 *
 * There is one struct daemon, owned by main.c and passed to every module. Modules own
 * their part of it (store.c the database, api.c the sockets, clock.c the clock) and reach
 * the rest only through the functions declared here.
 */
#ifndef THIDUA_THIDUAD_H
#define THIDUA_THIDUAD_H

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>
#include <zmq.h>

#include "config.h"
#include "inflow.h"
#include "store.h"
#include "units.h"

/* THIDUA_VERSION comes from the first line of debian/changelog, by the Makefile */
#ifndef THIDUA_VERSION
#error "THIDUA_VERSION is not defined: build with the project's Makefile"
#endif

struct request;

struct daemon {
	char *config_path;
	char *state_dir;
	char *db_path;
	char *spool_dir;
	char *api_endpoint, *events_endpoint, *jobs_endpoint;
	char *api_local;		/* the ipc api kept beside a tcp one, or NULL */
	char *web_endpoint;		/* the gateway's socket (daemon.web), its own ROUTER web */
	struct config *cfg;
	struct unitset *units;		/* config units plus imported ones, resolved */
	struct unitset *pending_units;	/* set by a write this turn, swapped in after commit */
	struct store *store;

	void *zctx, *api, *events, *jobs, *zap, *web;
	int sigfd;

	int fake_clock;
	int64_t fake_now;
	int64_t started_mono_ms;
	int64_t started_at;

	int64_t epoch;			/* when this database first ran: older ladder steps are history */
	int64_t intake_through;		/* report periods opened up to this moment */
	json_t *pending_events;		/* array of [type, body] published after commit */
	long event_topics;		/* topics subscribed on the events socket; none: nothing is sent */
	int reload_asap, stop_asap, stop_now, reap_asap;
	uint64_t watchdog_usec;
	int64_t last_watchdog_ms;
};

/* clock.c */
int64_t clock_now(const struct daemon *d);	/* UTC seconds */
int64_t clock_mono_ms(void);
int clock_set(struct daemon *d, int64_t t, char *err, size_t errsize);
#define CLOCK_MIN 0				/* 1970-01-01T00:00:00Z */
#define CLOCK_MAX_LOCAL INT64_C(253402300799)	/* 9999-12-31T23:59:59, as local seconds */
int clock_range_problem(const struct daemon *d, int64_t t, char *err, size_t errsize);

/* clock.c (sched_*): work that falls due at a moment (deadlines, retries) */
struct due_source {
	const char *name;
	int64_t (*next_due)(struct daemon *d);	/* INT64_MAX when nothing is due */
	void (*run)(struct daemon *d, int64_t now);
};
int64_t sched_next_due(struct daemon *d);
void sched_run_due(struct daemon *d);
int sched_advance_to(struct daemon *d, int64_t target);
void sched_register(const struct due_source *src);

/* zrecv_routing - zmq_msg_recv(), again when a signal handler interrupted it: the frames
 * of a message are taken whole, never cut where a signal happened to land. For a ROUTER's
 * routing id, which its socket adds and the connection never sent. */
static inline int zrecv_routing(zmq_msg_t *m, void *sock, int flags)
{
	int rc;

	while ((rc = zmq_msg_recv(m, sock, flags)) < 0 && errno == EINTR)
		;
	return rc;
}

/* zrecv - a frame the connection sent: taken, it no longer counts against the
 * connection's bound (inflow.h) */
static inline int zrecv(zmq_msg_t *m, void *sock, int flags)
{
	int rc = zrecv_routing(m, sock, flags);

	if (rc >= 0)
		inflow_credit(m);
	return rc;
}

/* events.c */
void events_emit(struct daemon *d, const char *type, json_t *body);	/* steals body */
void events_flush(struct daemon *d);
void events_subscriptions(struct daemon *d);
size_t events_mark(struct daemon *d);
void events_truncate(struct daemon *d, size_t mark);

/* registry.c: building and swapping the unit registry */
struct unitset *registry_build(struct daemon *d, const struct config *cfg, char ***errors);
void daemon_free(struct daemon *d);
int32_t registry_today(const struct daemon *d);
char **split_list(const char *s);
char *join_list(char *const *v);

/* blobs.c: submitted files, in their rows or under files/ */
int blobs_put(struct daemon *d, struct request *rq, const char *name, const void *data, size_t size, char hex[65]);
void blobs_bind(sqlite3_stmt *s, int i, const void *data, size_t size, int kept);
int blobs_sync(struct daemon *d);
int blobs_check_file(const char *path, int64_t size, const char *hex, char *why, size_t whysize);
int op_files_verify(struct daemon *d, struct request *rq, json_t *out);

/* backup.c, restore.c: an archive of the state directory, taken while serving */
int op_backup_create(struct daemon *d, struct request *rq, json_t *out);
int op_backup_status(struct daemon *d, struct request *rq, json_t *out);
int op_backup_read(struct daemon *d, struct request *rq, json_t *out);
void backup_turn(struct daemon *d);
long backup_timeout_ms(const struct daemon *d);
void backup_stop(struct daemon *d);
int restore_run(struct daemon *d, const char *archive, const char *dir);

/* intake.c: report types, obligations, submissions, review, completeness */
/* obligation_state - an obligation's state as it reads now: "missing" for one still open
 * or returned past its lock (calendar.h, cal_lock_at), else the stored state */
const char *obligation_state(struct daemon *d, const struct report_type *rt, const char *state, int64_t due_at);
void intake_notice_words(struct daemon *d, const char *step, char **reason, char **actor, char **receipt);
void intake_init(void);
int rq_file_names(struct request *rq);
const char *rq_file_name(struct request *rq, const char *key);
int intake_reconcile(struct daemon *d);

/* deadlines.c: reminders and escalation */
void deadlines_init(void);
int deadlines_replan(struct daemon *d);
int64_t step_moment(const struct config *cfg, const struct step *st, int32_t due_day);
/* calwarn.c: days off not yet confirmed, in status and the log */
json_t *calwarn_json(const struct config *cfg, int32_t today);
void calwarn_log(struct daemon *d);
void calwarn_init(void);
int step_live(const struct config *cfg, const struct report_type *rt, size_t i, int64_t due_at);
int64_t ladder_next(const struct config *cfg, const struct report_type *rt, int64_t due_at, int64_t through);
int64_t working_moment(const struct config *cfg, int64_t t);
const struct unit *target_unit(struct daemon *d, const struct report_type *rt, const struct target *t,
			       const struct unit *u, int32_t day);
const struct unit *target_unit_at(struct daemon *d, const struct report_type *rt, const struct target *t,
				  const struct unit *u, int32_t day, const struct unit **gone);

/* spool.c: delivery of outbox messages to files when no channel is configured */
void spool_init(void);

/* page.c: list ops answer in pages (docs/PROTOCOL.md, "Limits") */
#define PAGE_ROWS_MAX 1000
#define PAGE_BYTES_MAX (4 << 20)
int page_limit(struct request *rq, long long def, long long *limit);
int page_cursor(struct request *rq, const char *key, long long *cursor);
int page_full(size_t *bytes, size_t row_bytes);
size_t page_row_bytes(sqlite3_stmt *s);

/* result_bound.c: a worker's reason stored within 1 KiB, its frame (the detail) 64 KiB */
#define RESULT_REASON_MAX 1024
#define RESULT_DETAIL_MAX 65536
char *result_bound(json_t *msg, const char **raw, size_t *rawlen);

/* jobs.c: workers and deliveries */
int jobs_open(struct daemon *d, char *err, size_t errsize);
void jobs_close(struct daemon *d);
void jobs_turn(struct daemon *d);
long jobs_timeout_ms(struct daemon *d);
int64_t jobs_next_due(struct daemon *d);
void jobs_settle(struct daemon *d, int64_t deadline_ms);
void jobs_worker_exited(struct daemon *d, long pid);
json_t *jobs_workers_json(void);
int deliveries_add(struct daemon *d, int64_t outbox, const struct channel *c, json_t *payload, int64_t expires_at);
void outbox_settle(struct daemon *d, int64_t outbox);

/* supervisor.c: local workers */
void supervisor_start(struct daemon *d);
void supervisor_reap(struct daemon *d);
long supervisor_timeout_ms(struct daemon *d);
void supervisor_tick(struct daemon *d);
void supervisor_stop(struct daemon *d, int (*stop_at_once)(struct daemon *d));
int supervisor_owns(long pid);

/* statedir.c: one daemon per state directory, and the socket files it bound */
int state_lock(struct daemon *d, char *err, size_t errsize);
int ipc_prepare(const char *endpoint, char *err, size_t errsize);
void ipc_bound(const char *endpoint);
void ipc_remove(const char *endpoint);
int file_put_durable(const char *tmp, const char *path, const void *data, size_t len, mode_t mode);
int state_write_file(const struct daemon *d, const char *name, const char *text, mode_t mode);
ssize_t state_read_file(const struct daemon *d, const char *name, char *buf, size_t size);
int state_key(const struct daemon *d, const char *name, const char *what, char *text, char *err, size_t errsize);

/* replyto.c: the Reply-To address of a unit's notice, naming its obligation */
int replyto_init(struct daemon *d, char *err, size_t errsize);
/* replyto_address - "LOCAL+TOKEN@DOMAIN" for a reminder, overdue notice or return to a
 * unit (the token recorded), into buf; 0 when there is none (not configured, another kind) */
int replyto_address(struct daemon *d, const char *kind, const char *report, const char *period, const char *unit,
		    char *buf, size_t size);
/* replyto_lookup - the obligation a token names (its MAC checked): 0 and report, period,
 * unit filled (malloc'd), -1 when unknown */
int replyto_lookup(struct daemon *d, const char *token, char **report, char **period, char **unit);

/* zap.c: CURVE authentication of tcp clients */
int zap_open(struct daemon *d, char *err, size_t errsize);
int zap_secure(struct daemon *d, void *sock, const char *endpoint, const char *domain, char *err, size_t errsize);
void zap_handle(struct daemon *d);

/* audit.c: the hash-chained audit log, anchored outside the database */
int audit_init(struct daemon *d, char *err, size_t errsize);
void audit_anchor(struct daemon *d, int now);
int audit_append(struct daemon *d, const char *principal, const char *op, const char *object,
		 const char *unit, json_t *detail);
int audit_request(struct daemon *d, const char *principal, const char *op, json_t *body, json_t *reply);
int op_audit_list(struct daemon *d, struct request *rq, json_t *out);
int op_audit_verify(struct daemon *d, struct request *rq, json_t *out);

/* notify.c: systemd */
void notify_ready(struct daemon *d);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_stopping(void);
void notify_send_state(const char *state);
void notify_watchdog(struct daemon *d);

/* api.c */
int api_open(struct daemon *d, char *err, size_t errsize);
void api_close(struct daemon *d);
void api_turn(struct daemon *d);

/* request helpers for handlers (api.c) */
const char *rq_op(const struct request *rq);
json_t *rq_body(const struct request *rq);
size_t rq_nfiles(const struct request *rq);
const void *rq_file(const struct request *rq, size_t i, size_t *size);
const char *rq_principal(const struct request *rq);
const char *rq_id(const struct request *rq);
int rq_failed(const struct request *rq);
int rq_error(struct request *rq, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *rq_str(struct request *rq, const char *key, int required);
void rq_error_set(struct request *rq, const char *key, json_t *value);	/* steals value */
int rq_time(struct request *rq, const char *key, int required, int64_t *t);
int rq_day(struct request *rq, const char *key, int required, int32_t *day);
/* a member of the wrong type is invalid_field naming it, never read as false or absent */
int rq_bool(struct request *rq, const char *key, int *out);
int rq_int(struct request *rq, const char *key, int required, long long min, long long max, long long *out);

/* authz.c: the authorization table's rules */
enum authz {
	A_ANY,		/* any principal: reads */
	A_ADMIN,	/* the local administrator or an admin of the top unit */
	A_SUBMITTER,	/* a submitter of the request's unit (or an admin above it) */
	A_REVIEWER,	/* a reviewer or approver of the report's receiving unit */
	A_MODULE,	/* the op checks its own rules (proposals: stage deciders) */
	A_AUDITOR,	/* an auditor, an admin of the top unit, the local administrator */
};
int authz_check(struct daemon *d, struct request *rq, enum authz rule);

/* what a read op answers to its principal: every row, or those of its subtree */
struct reader {
	int all;			/* reads everything */
	const struct unit *home;	/* else: its unit, the units under it, ... (authz.c) */
	const char *name;
	int32_t today;
};
int principal_reads_all(const struct daemon *d, const struct principal *p);
void authz_reader(struct daemon *d, struct request *rq, struct reader *r);
int reader_sees_unit(const struct daemon *d, const struct reader *r, const char *code);
int reader_sees_report(const struct daemon *d, const struct reader *r, const char *unit, const char *report);
int reader_sees_proposal(struct daemon *d, const struct reader *r, int64_t id, const char *proposer,
			 const char *place, const char *nominee, const char *decider);
int authz_read_refused(struct request *rq, const struct reader *r, const char *what);

/* lookup.c: unit and report fields of a request, with one error message everywhere */
const char *report_suggest(const struct config *cfg, const char *code);
int rq_report_unknown(struct request *rq, const struct config *cfg, const char *code);
int rq_unit_unknown(struct request *rq, const struct unitset *units, const char *code);
const struct report_type *rq_report(struct daemon *d, struct request *rq);
struct unit *rq_unit(struct daemon *d, struct request *rq, const char *key);

/* the op handlers: fill out and return 0, or return rq_error(...) */
typedef int (*op_fn)(struct daemon *d, struct request *rq, json_t *out);
int op_status(struct daemon *d, struct request *rq, json_t *out);
int op_units_list(struct daemon *d, struct request *rq, json_t *out);
int op_units_show(struct daemon *d, struct request *rq, json_t *out);
int op_units_import(struct daemon *d, struct request *rq, json_t *out);
int op_clock_show(struct daemon *d, struct request *rq, json_t *out);
int op_clock_set(struct daemon *d, struct request *rq, json_t *out);
int op_clock_advance(struct daemon *d, struct request *rq, json_t *out);
int op_config_reload(struct daemon *d, struct request *rq, json_t *out);
int op_report_submit(struct daemon *d, struct request *rq, json_t *out);
/* inbox.c: mail units send in */
int op_inbox_deliver(struct daemon *d, struct request *rq, json_t *out);
int op_inbox_list(struct daemon *d, struct request *rq, json_t *out);
int op_inbox_show(struct daemon *d, struct request *rq, json_t *out);
/* inbox_answer_render - subject and body (Vietnamese, malloc'd) of the answer whose outbox
 * step is "answer/ID"; -1 when the message is unknown */
int inbox_answer_render(struct daemon *d, const char *step, char **subject, char **body);
/* rq_error_take - a refusal an op gave (not a storage failure) taken back: its code and
 * message into the buffers, the request no longer failed; -1 (nothing taken) for
 * "internal" and "storage_full" */
int rq_error_take(struct request *rq, char *code, size_t codesize, char *msg, size_t msgsize);
int op_report_receipt(struct daemon *d, struct request *rq, json_t *out);
/* a replayed report.submit: its receipt number, and the reply's members from it */
const char *receipt_replay_key(const json_t *reply);
int receipt_replay(struct daemon *d, const char *number, json_t *out);
int op_report_review(struct daemon *d, struct request *rq, json_t *out);
int op_obligations_list(struct daemon *d, struct request *rq, json_t *out);
int op_completeness(struct daemon *d, struct request *rq, json_t *out);
int op_reports_list(struct daemon *d, struct request *rq, json_t *out);
int op_notifications_retry(struct daemon *d, struct request *rq, json_t *out);
int op_notify_test(struct daemon *d, struct request *rq, json_t *out);
json_t *deliveries_json(struct daemon *d, int64_t outbox);

/* reload.c */
int daemon_reload(struct daemon *d, char *err, size_t errsize);

/* warn_if_readable - a file holding channel secrets that every user can read is logged */
void warn_if_readable(const struct config *cfg);

/* shared formatting */
json_t *json_time(const struct daemon *d, int64_t t);
json_t *json_day(int32_t day);
json_t *unit_json(const struct daemon *d, const struct unit *u, int32_t day, int full);

#endif
