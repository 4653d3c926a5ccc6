/*
 * api.c - the api socket (ROUTER) and the events socket (PUB): reading requests,
 * dispatching them by op, group commit, idempotent replay, and replies.
 *
 * One turn: read every request waiting (up to API_BATCH), open one transaction, run each
 * request (in its own savepoint unless every op of the turn can run again: turn_run),
 * commit once, then send the replies and publish the events.
 * A reply therefore never leaves before the data it acknowledges is durable.
 *
 * The web socket (daemon.web) is read in the same turns: there a request runs as the
 * principal of its session (web_principal), never as the local administrator.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "bucket.h"
#include "channels.h"
#include "jdump.h"
#include "jload.h"
#include "log.h"
#include "reorg.h"
#include "request.h"
#include "rq.h"
#include "ops_calendar.h"
#include "ops_notify.h"
#include "zalo.h"
#include "proposals.h"
#include "proto.h"
#include "thiduad.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"
#include "api.h"
#include "audit.h"
#include "authz.h"
#include "backup.h"
#include "blobs.h"
#include "blobs_verify.h"
#include "clock.h"
#include "config.h"
#include "events.h"
#include "inbox.h"
#include "inflow.h"
#include "intake.h"
#include "ops_core.h"
#include "ops_deliver.h"
#include "ops_units.h"
#include "registry.h"
#include "statedir.h"
#include "store.h"
#include "units.h"
#include "uploads.h"
#include "zap.h"

#define API_BATCH 256
#define QUOTE_MAX 64		/* a name or value quoted from the request */

/* OP_RERUN: the op's only effects are rows of the database, the turn's events and the
 * store's deferred values, so after a rollback of the whole turn it may run again */
/* OP_SECRET: the request or its reply holds a password or a token: no generic audit
 * entry (the op writes its own, without it) and no stored reply (never replayed) */
/* OP_LIGHT: counts as UPLOAD_RATE_COST of a request against requests_per_second (the
 * upload ops: a form's 64 files are sent in parts without being refused) */
enum { OP_WRITE = 1, OP_FAKE_CLOCK = 2, OP_RERUN = 4, OP_SECRET = 8, OP_LIGHT = 16 };

static const struct op_entry {
	const char *name;
	op_fn fn;
	unsigned flags;
	enum authz who;		/* the authorization table: who may call it */
} ops[] = {
	{ OP_STATUS, op_status, OP_RERUN, A_ANY },
	{ OP_UNITS_LIST, op_units_list, OP_RERUN, A_ANY },
	{ OP_UNITS_SHOW, op_units_show, OP_RERUN, A_ANY },
	{ OP_UNITS_IMPORT, op_units_import, OP_WRITE, A_ADMIN },
	{ OP_CLOCK_SHOW, op_clock_show, OP_RERUN, A_ANY },
	{ OP_CLOCK_SET, op_clock_set, OP_WRITE | OP_FAKE_CLOCK, A_ADMIN },
	{ OP_CLOCK_ADVANCE, op_clock_advance, OP_WRITE | OP_FAKE_CLOCK, A_ADMIN },
	{ OP_CONFIG_RELOAD, op_config_reload, 0, A_ADMIN },
	{ OP_REPORT_SUBMIT, op_report_submit, OP_WRITE | OP_RERUN, A_SUBMITTER },
	{ OP_REPORT_RECEIPT, op_report_receipt, OP_RERUN, A_ANY },
	{ OP_REPORT_ACCEPT, op_report_review, OP_WRITE | OP_RERUN, A_REVIEWER },
	{ OP_REPORT_RETURN, op_report_review, OP_WRITE | OP_RERUN, A_REVIEWER },
	{ OP_REPORT_WAIVE, op_report_review, OP_WRITE | OP_RERUN, A_REVIEWER },
	{ OP_OBLIGATIONS_LIST, op_obligations_list, OP_RERUN, A_ANY },
	{ OP_COMPLETENESS, op_completeness, OP_RERUN, A_ANY },
	{ OP_REPORTS_LIST, op_reports_list, OP_RERUN, A_ANY },
	{ OP_CALENDAR_SHOW, op_calendar_show, OP_RERUN, A_ANY },
	{ OP_DEADLINES, op_deadlines, OP_RERUN, A_ANY },
	{ OP_SCHEDULE, op_schedule, OP_RERUN, A_ANY },
	{ OP_NOTIFICATIONS_LIST, op_notifications_list, OP_RERUN, A_ANY },
	{ OP_NOTIFICATIONS_SHOW, op_notifications_show, OP_RERUN, A_ANY },
	{ OP_NOTIFICATIONS_RETRY, op_notifications_retry, OP_WRITE, A_ADMIN },
	{ OP_NOTIFY_TEST, op_notify_test, OP_WRITE, A_ADMIN },
	{ OP_CHANNELS_LIST, op_channels_list, OP_RERUN, A_ADMIN },
	{ OP_CHANNELS_ENABLE, op_channels_enable, OP_WRITE, A_ADMIN },
	{ OP_ZALO_APP, op_zalo_app, OP_RERUN, A_ADMIN },
	{ OP_ZALO_STORE, op_zalo_store, OP_WRITE, A_ADMIN },
	{ OP_AUDIT_LIST, op_audit_list, OP_RERUN, A_AUDITOR },
	{ OP_AUDIT_VERIFY, op_audit_verify, OP_RERUN, A_AUDITOR },
	{ OP_FILES_VERIFY, op_files_verify, OP_RERUN, A_ADMIN },
	{ OP_BACKUP_CREATE, op_backup_create, 0, A_ADMIN },
	{ OP_BACKUP_STATUS, op_backup_status, OP_RERUN, A_ADMIN },
	{ OP_BACKUP_READ, op_backup_read, OP_RERUN, A_ADMIN },
	{ OP_PROPOSAL_CREATE, op_proposal_create, OP_WRITE, A_MODULE },
	{ OP_PROPOSAL_SUBMIT, op_proposal_submit, OP_WRITE, A_MODULE },
	{ OP_PROPOSAL_DECIDE, op_proposal_decide, OP_WRITE, A_MODULE },
	{ OP_PROPOSAL_WITHDRAW, op_proposal_withdraw, OP_WRITE, A_MODULE },
	{ OP_PROPOSAL_SHOW, op_proposal_show, OP_RERUN, A_ANY },
	{ OP_PROPOSALS_LIST, op_proposals_list, OP_RERUN, A_ANY },
	{ OP_PROPOSALS_IMPORT, op_proposals_import, OP_WRITE, A_MODULE },
	{ OP_TITLES_LIST, op_titles_list, OP_RERUN, A_ANY },
	{ OP_INBOX_DELIVER, op_inbox_deliver, OP_WRITE | OP_RERUN, A_ADMIN },
	{ OP_INBOX_LIST, op_inbox_list, OP_RERUN, A_ANY },
	{ OP_INBOX_SHOW, op_inbox_show, OP_RERUN, A_ANY },
	{ OP_INBOX_ACCEPT, op_inbox_decide, OP_WRITE | OP_RERUN, A_MODULE },
	{ OP_INBOX_REJECT, op_inbox_decide, OP_WRITE | OP_RERUN, A_MODULE },
	{ OP_INBOX_RETRY, op_inbox_retry, OP_WRITE | OP_RERUN, A_MODULE },
	{ OP_ACCOUNT_INVITE, op_account_invite, OP_WRITE | OP_SECRET, A_ADMIN },
	{ OP_ACCOUNT_PASSWD, op_account_passwd, OP_WRITE | OP_SECRET, A_ADMIN },
	{ OP_ACCOUNT_LOCK, op_account_lock, OP_WRITE, A_ADMIN },
	{ OP_ACCOUNT_UNLOCK, op_account_lock, OP_WRITE, A_ADMIN },
	{ OP_ACCOUNTS_LIST, op_accounts_list, OP_RERUN, A_AUDITOR },
	{ OP_SESSION_LOGIN, op_session_login, OP_WRITE | OP_SECRET, A_MODULE },
	{ OP_SESSION_REDEEM, op_session_redeem, OP_WRITE | OP_SECRET, A_MODULE },
	{ OP_SESSION_SHOW, op_session_show, OP_RERUN, A_MODULE },
	{ OP_SESSION_LOGOUT, op_session_logout, OP_WRITE | OP_SECRET, A_MODULE },
	{ OP_REPORT_FILE, op_report_file, OP_RERUN, A_ANY },
	{ OP_PROPOSAL_FILE, op_proposal_file, OP_RERUN, A_ANY },
	{ OP_UPLOAD_OPEN, op_upload_open, OP_LIGHT, A_ANY },	/* files on disk, no rows: never run again */
	{ OP_UPLOAD_APPEND, op_upload_append, OP_LIGHT, A_ANY },
	{ OP_UPLOAD_CANCEL, op_upload_cancel, OP_LIGHT, A_ANY },
};

/* the writes whose reply the database holds anyway: a replay keeps only a key, what
 * names it in the reply, and builds the op's members again from it */
static const struct replay_entry {
	const char *op;
	const char *(*key)(const json_t *reply);
	int (*build)(struct daemon *d, const char *key, json_t *out);
} replays[] = {
	{ OP_REPORT_SUBMIT, receipt_replay_key, receipt_replay },
};

static const struct replay_entry *replay_entry(const char *op)
{
	for (size_t i = 0; i < sizeof(replays) / sizeof(replays[0]); i++)
		if (!strcmp(replays[i].op, op))
			return &replays[i];
	return NULL;
}

/* web_open - the gateway's socket: a ROUTER like the api, local only (ipc, 0660) */
static int web_open(struct daemon *d, char *err, size_t errsize)
{
	int linger = 0, hwm = 100000, sndhwm = INFLOW_REPLY_MSGS, one = 1;
	int64_t maxmsg = 2 * ((int64_t)d->cfg->max_request_bytes + 65536);

	if (!d->web_endpoint)		/* none (tests/fuzz/fuzz_api.c): the api socket alone */
		return 0;
	if (strncmp(d->web_endpoint, "ipc://", 6)) {
		snprintf(err, errsize, "daemon.web = %s: the web socket must be local, ipc://PATH (the gateway runs on this machine)",
			 d->web_endpoint);
		return -1;
	}
	d->web = zmq_socket(d->zctx, ZMQ_ROUTER);
	zmq_setsockopt(d->web, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(d->web, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(d->web, ZMQ_SNDHWM, &sndhwm, sizeof(sndhwm));
	zmq_setsockopt(d->web, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	zmq_setsockopt(d->web, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (ipc_prepare(d->web_endpoint, err, errsize))
		return -1;
	if (zmq_bind(d->web, d->web_endpoint) != 0) {
		snprintf(err, errsize, "cannot bind the web socket %s: %s", d->web_endpoint, zmq_strerror(errno));
		return -1;
	}
	ipc_bound(d->web_endpoint);
	chmod(d->web_endpoint + 6, 0660);
	return 0;
}

/* api_open - bind the api and events sockets */
int api_open(struct daemon *d, char *err, size_t errsize)
{
	int linger = 0, hwm = 100000, sndhwm = INFLOW_REPLY_MSGS, one = 1;
	int64_t maxmsg = (int64_t)d->cfg->max_request_bytes + 65536;

	if (uploads_start(d, err, errsize))
		return -1;
	d->zctx = zmq_ctx_new();
	if (!d->zctx) {
		snprintf(err, errsize, "zmq_ctx_new: %s", zmq_strerror(errno));
		return -1;
	}
	d->api = zmq_socket(d->zctx, ZMQ_ROUTER);
	d->events = zmq_socket(d->zctx, ZMQ_XPUB);	/* PUB that also tells who subscribes */
	zmq_setsockopt(d->api, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(d->events, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(d->api, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	/* replies held for a client that does not read them: in messages here, in bytes in
	 * request_reply (inflow.h) */
	zmq_setsockopt(d->api, ZMQ_SNDHWM, &sndhwm, sizeof(sndhwm));
	zmq_setsockopt(d->api, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	/* frames far over the limit close the connection; those just over it get a reply
	 * (what the frames of one message add up to is bounded in inflow.c) */
	inflow_limits(d->cfg->max_request_bytes);
	maxmsg *= 2;
	zmq_setsockopt(d->api, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (ipc_prepare(d->api_endpoint, err, errsize) || ipc_prepare(d->events_endpoint, err, errsize))
		return -1;
	if (zap_open(d, err, errsize))
		return -1;
	/* a remote (tcp) api also keeps the local one, ipc://STATE_DIR/api.sock, bound first
	 * with no mechanism: the local administrator, protected by file permissions */
	if (!strncmp(d->api_endpoint, "tcp://", 6)) {
		d->api_local = xasprintf("ipc://%s/api.sock", d->state_dir);
		if (ipc_prepare(d->api_local, err, errsize))
			return -1;
		if (zmq_bind(d->api, d->api_local) != 0) {
			snprintf(err, errsize, "cannot bind the local api socket %s: %s", d->api_local, zmq_strerror(errno));
			return -1;
		}
		ipc_bound(d->api_local);
		chmod(d->api_local + 6, 0660);
	}
	if (zap_secure(d, d->api, d->api_endpoint, "api", err, errsize)
	    || zap_secure(d, d->events, d->events_endpoint, "events", err, errsize))
		return -1;
	if (zmq_bind(d->api, d->api_endpoint) != 0) {
		snprintf(err, errsize, "cannot bind the api socket %s: %s", d->api_endpoint,
			 zmq_strerror(errno));
		return -1;
	}
	if (zmq_bind(d->events, d->events_endpoint) != 0) {
		snprintf(err, errsize, "cannot bind the events socket %s: %s", d->events_endpoint,
			 zmq_strerror(errno));
		return -1;
	}
	ipc_bound(d->api_endpoint);
	ipc_bound(d->events_endpoint);
	if (web_open(d, err, errsize))
		return -1;
	if (strncmp(d->api_endpoint, "ipc://", 6) == 0)
		chmod(d->api_endpoint + 6, 0660);
	if (strncmp(d->events_endpoint, "ipc://", 6) == 0)
		chmod(d->events_endpoint + 6, 0660);
	return 0;
}

/* api_close - close the sockets and the context */
void api_close(struct daemon *d)
{
	if (d->api)
		zmq_close(d->api);
	if (d->events)
		zmq_close(d->events);
	if (d->zap)
		zmq_close(d->zap);
	if (d->web) {
		zmq_close(d->web);
		ipc_remove(d->web_endpoint);
	}
	if (d->zctx)
		zmq_ctx_term(d->zctx);
	ipc_remove(d->api_endpoint);
	if (d->api_local) {
		ipc_remove(d->api_local);
		free(d->api_local);
		d->api_local = NULL;
	}
	ipc_remove(d->events_endpoint);
	d->api = d->events = d->web = d->zctx = NULL;
}

/* reading and running requests ----------------------------------------------------- */

/* request_free - release frames and JSON */
static void request_free(struct request *rq)
{
	zmq_msg_close(&rq->identity);
	for (size_t i = 0; i < rq->nframes; i++)
		zmq_msg_close(&rq->frames[i]);
	json_decref(rq->body);
	json_decref(rq->reply);
	free(rq->reply_text);
	json_decref(rq->failure_arg);
	free(rq->file);
	memset(rq, 0, sizeof(*rq));
}

/* request_read - take one whole message off the socket; 0 got one, -1 none waiting */
static int request_read(struct daemon *d, void *sock, struct request *rq)
{
	zmq_msg_t m;
	size_t total = 0;
	int more, overflow = 0;

	memset(rq, 0, sizeof(*rq));
	rq->d = d;
	rq->sock = sock;
	rq->web = sock == d->web;
	zmq_msg_init(&rq->identity);
	if (zrecv_routing(&rq->identity, sock, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&rq->identity);
		return -1;
	}
	rq->fd = -1;		/* from the first frame the client sent: a routing id has no metadata */
	more = zmq_msg_more(&rq->identity);
	while (more) {
		zmq_msg_init(&m);
		if (zrecv(&m, sock, 0) < 0) {
			zmq_msg_close(&m);
			break;
		}
		more = zmq_msg_more(&m);
		total += zmq_msg_size(&m);
		if (rq->fd < 0)
			rq->fd = inflow_fd(&m);
		if (!rq->delimiter && rq->nframes == 0 && zmq_msg_size(&m) == 0 && more) {
			rq->delimiter = 1;
			zmq_msg_close(&m);
			continue;
		}
		if (rq->nframes == RQ_FRAMES_MAX || total > d->cfg->max_request_bytes) {
			overflow = 1;
			zmq_msg_close(&m);
			continue;
		}
		if (rq->nframes == 0) {
			const char *uid = zmq_msg_gets(&m, "User-Id");

			if (uid)
				xstrlcpy(rq->user_id, uid, sizeof(rq->user_id));
		}
		rq->frames[rq->nframes++] = m;
	}
	if (overflow) {
		rq_error(rq, total > d->cfg->max_request_bytes ? ERR_TOO_LARGE : ERR_TOO_MANY_FRAMES,
			 total > d->cfg->max_request_bytes
			 ? "the request is %zu bytes, over the limit of %zu bytes (daemon.max_request_bytes); send smaller files or fewer at once"
			 : "the request has more than %zu files (the limit); send them in several submissions",
			 total > d->cfg->max_request_bytes ? total : (size_t)RQ_FRAMES_MAX - 1,
			 total > d->cfg->max_request_bytes ? d->cfg->max_request_bytes : (size_t)0);
	}
	return 0;
}

/* request_parse - JSON frame to body, op and id; an error reply when malformed */
static void request_parse(struct request *rq)
{
	const char *code;
	char *msg = NULL;

	if (rq->failed)
		return;
	if (rq->nframes == 0) {
		rq_error(rq, ERR_BAD_FRAME, "the request has no JSON frame: send {\"op\": ..., \"id\": ...}");
		return;
	}
	/* the same decoder the fuzzer runs (request.c) */
	if (request_decode(zmq_msg_data(&rq->frames[0]), zmq_msg_size(&rq->frames[0]), &rq->body, &rq->op,
			   &rq->id, &code, &msg)) {
		rq_error(rq, code, "%s", msg);
		free(msg);
	}
}

/* find_op - the op table entry, or NULL */
static const struct op_entry *find_op(const char *name)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i].name, name) == 0)
			return &ops[i];
	return NULL;
}

/* replay_lookup - a write with a request id its principal already used answers with its
 * first reply: as stored, or built again from its key. Ids are each principal's own (the
 * local administrator acting as a principal counts as that principal). */
static int replay_lookup(struct daemon *d, struct request *rq)
{
	const struct replay_entry *e = replay_entry(rq->op);
	sqlite3_stmt *s = store_stmt(d->store, "SELECT op, reply, key FROM requests WHERE principal = ?1 AND id = ?2");
	int found = 0;

	sqlite3_bind_text(s, 1, rq_principal(rq), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rq->id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *op = (const char *)sqlite3_column_text(s, 0);
		const char *key = (const char *)sqlite3_column_text(s, 2);

		found = 1;
		json_decref(rq->reply);
		rq->reply = NULL;
		if (strcmp(op, rq->op) != 0) {
			rq_error(rq, ERR_ID_REUSED, "request id '%s' was already used for %s; use a new id for a new request",
				 rq->id, op);
		} else if (key && e) {
			json_t *out = json_object();

			if (e->build(d, key, out) == 0) {
				rq->reply = json_pack("{s:s,s:b}", "id", rq->id, "ok", 1);
				json_object_update(rq->reply, out);
			}
			json_decref(out);
		} else {
			rq->reply = jload((const char *)sqlite3_column_text(s, 1), (size_t)sqlite3_column_bytes(s, 1), 0, NULL);
		}
		if (rq->failed) {
			/* id_reused */
		} else if (!rq->reply) {
			rq_error(rq, ERR_INTERNAL, "the stored reply of request %s cannot be read", rq->id);
		} else {
			json_object_set_new(rq->reply, "replayed", json_true());
			rq->replayed = 1;
		}
	}
	sqlite3_reset(s);
	return found;
}

/* replay_store - remember a write's reply under its request id: the reply itself, or
 * only the key that builds it again (reply '') */
static int replay_store(struct daemon *d, struct request *rq)
{
	const struct replay_entry *e = replay_entry(rq->op);
	sqlite3_stmt *s = store_stmt(d->store, "INSERT INTO requests(id, op, reply, at, key, principal) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	const char *key = e ? e->key(rq->reply) : NULL;
	int rc;

	/* serialized once: the same text is stored for replays and sent as the reply */
	rq->reply_text = jdump(rq->reply, JSON_COMPACT);
	sqlite3_bind_text(s, 1, rq->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rq->op, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, key ? "" : rq->reply_text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, clock_now(d));
	sqlite3_bind_text(s, 5, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, rq_principal(rq), -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* request_principal - "as": NAME makes the request act as a principal of the configuration;
 * over ipc the caller is the local administrator, who may act as anyone (recorded under
 * that name). The name points into the body, which outlives a reload in this turn.
 * (When remote callers authenticate with keys, "as" must stay the local administrator's.) */
static int request_principal(struct daemon *d, struct request *rq)
{
	json_t *as = json_object_get(rq->body, "as");

	if (rq->user_id[0]) {		/* over tcp the key decides who acts, nothing else */
		if (as && !json_is_null(as) && (!json_is_string(as) || strcmp(json_string_value(as), rq->user_id)))
			return rq_error(rq, ERR_FORBIDDEN, "you are %s (by your key); only the local administrator may act as another principal",
					rq->user_id);
		if (!cfg_principal(d->cfg, rq->user_id))
			return rq_error(rq, ERR_UNKNOWN_PRINCIPAL, "the principal %s of your key is no longer in the configuration", rq->user_id);
		rq->principal = cfg_principal(d->cfg, rq->user_id)->name;
		return principal_refusal(d, rq, cfg_principal_at(d->cfg, rq->user_id, registry_today(d)));
	}
	if (!as || json_is_null(as))
		return 0;
	if (!json_is_string(as))
		return rq_error(rq, ERR_INVALID_FIELD, "'as' must be the name of a principal, a string such as \"nguyen.thi.lan\"");
	if (!cfg_principal(d->cfg, json_string_value(as)))
		return rq_error(rq, ERR_UNKNOWN_PRINCIPAL, "there is no principal '%.*s' in %s: use a name listed under 'principals' there, or leave out --as to act as the local administrator",
				(int)utf8_clip(json_string_value(as), QUOTE_MAX), json_string_value(as), d->cfg->path);
	rq->principal = json_string_value(as);
	return principal_refusal(d, rq, cfg_principal_at(d->cfg, rq->principal, registry_today(d)));
}

/* web_principal - a request on the web socket: without a session only session.login,
 * session.redeem and status; with one, it acts as the session's principal ('as' may only
 * name that principal again) */
static int web_principal(struct daemon *d, struct request *rq)
{
	json_t *token = json_object_get(rq->body, "session"), *as = json_object_get(rq->body, "as");
	const char *name;

	if (!token) {
		if (strcmp(rq->op, "session.login") && strcmp(rq->op, "session.redeem") && strcmp(rq->op, "status"))
			return rq_error(rq, ERR_SESSION_REQUIRED, "Vui lòng đăng nhập. / Log in first: %s on the web socket needs a 'session'",
					rq->op);
		if (as)
			return rq_error(rq, ERR_FORBIDDEN, "'as' on the web socket needs a session of that principal");
		return 0;
	}
	if (!json_is_string(token))
		return rq_error(rq, ERR_INVALID_FIELD, "'session' must be the session token, a string of 64 hexadecimal digits");
	if (session_resolve(d, rq, json_string_value(token), &name))
		return -1;
	if (as && (!json_is_string(as) || strcmp(json_string_value(as), name)))
		return rq_error(rq, ERR_FORBIDDEN, "this session is %s's: 'as' may only name %s on the web socket", name, name);
	rq->principal = name;
	return principal_refusal(d, rq, cfg_principal_at(d->cfg, name, registry_today(d)));
}

/* rate_allow - a token bucket (common/bucket.c) per principal, rate per second with a burst
 * of one second's worth: one principal flooding the daemon gets refusals, the others are
 * still served */
static int rate_allow(const char *name, int per_second, double cost)
{
	static struct principal_bucket {
		char name[72];
		struct bucket tb;
	} buckets[256];
	static size_t nbuckets;
	double now = (double)clock_mono_ms() / 1000.0;
	struct principal_bucket *b = NULL;

	if (per_second <= 0)
		return 1;
	for (size_t i = 0; i < nbuckets && !b; i++)
		if (!strcmp(buckets[i].name, name))
			b = &buckets[i];
	if (!b) {
		b = &buckets[nbuckets < 256 ? nbuckets++ : 255];	/* the last slot is shared past 256 */
		xstrlcpy(b->name, name, sizeof(b->name));
		bucket_init(&b->tb, per_second, per_second, now);
	} else {
		bucket_set(&b->tb, per_second, per_second, now);	/* a reload may change the rate */
	}
	return bucket_take_n(&b->tb, now, cost) == 0;
}

/* request_run - dispatch one parsed request. With savepoints (fast 0) it runs inside its
 * own, and a failure rolls back alone. Without (fast 1: every op of the turn is OP_RERUN),
 * a failure that changed no row is undone in memory; one that changed rows answers 1, and
 * the caller rolls the turn back and runs it again with savepoints. (A savepoint per
 * request copies every page it touches into the statement journal first: a tenth of the
 * daemon's work per submission, for failures that in practice change nothing. bench/intake.) */
static int request_run(struct daemon *d, struct request *rq, int fast)
{
	const struct op_entry *e = rq->e;
	json_t *out;
	size_t mark;
	int64_t changes = 0;
	int again = 0;

	if (rq->failed)
		return 0;
	rq->ran = 1;
	if (!e) {
		rq_error(rq, ERR_UNKNOWN_OP, "unknown op '%.*s'; the ops are listed in docs/PROTOCOL.md",
			 (int)utf8_clip(rq->op, QUOTE_MAX), rq->op);
		return 0;
	}
	rq->flags = e->flags;
	if ((e->flags & OP_FAKE_CLOCK) && !d->fake_clock) {
		rq_error(rq, ERR_NOT_FAKE_CLOCK, "%s works only when thiduad runs with --fake-clock (a test mode); this daemon uses the real clock",
			 rq->op);
		return 0;
	}
	if (rq->web ? web_principal(d, rq) : request_principal(d, rq))
		return 0;
	if (rq->principal && !rq->rated && !rate_allow(rq->principal, d->cfg->requests_per_second,
							    (e->flags & OP_LIGHT) ? UPLOAD_RATE_COST : 1)) {
		rq_error(rq, ERR_RATE_LIMITED, "%s sent more than %d requests in a second (daemon.requests_per_second); wait a moment and send again",
			 rq->principal, d->cfg->requests_per_second);
		return 0;
	}
	rq->rated = 1;
	if (authz_check(d, rq, e->who))
		return 0;
	if ((e->flags & OP_WRITE) && !(e->flags & OP_SECRET) && rq->id && replay_lookup(d, rq))
		return 0;
	if (uploads_take(d, rq))
		return 0;
	out = json_object();
	mark = events_mark(d);
	if (fast) {
		store_keep(d->store);
		changes = store_changes(d->store);
	} else {
		store_savepoint(d->store);
	}
	if (e->fn(d, rq, out) == 0 && !rq->failed) {
		json_t *reply = json_pack("{s:s?,s:b}", "id", rq->id, "ok", 1);

		json_object_update(reply, out);
		json_decref(rq->reply);
		rq->reply = reply;
		if ((e->flags & OP_WRITE) && !(e->flags & OP_SECRET) && audit_request(d, rq_principal(rq), rq->op, rq->body, rq->reply)) {
			rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL,
				 "the change could not be written to the audit log: %s", store_errmsg(d->store));
		} else if ((e->flags & OP_WRITE) && !(e->flags & OP_SECRET) && rq->id && replay_store(d, rq)) {
			rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL,
				 "the request could not be recorded: %s", store_errmsg(d->store));
		}
	} else if (!rq->failed) {
		rq_error(rq, ERR_INTERNAL, "%s failed without a reason; this is a bug, please report it", rq->op);
	}
	if (rq->failed) {
		if (!fast)
			store_rollback_to(d->store);
		else if (changes < 0 || store_changes(d->store) != changes)
			again = 1;
		else
			store_unkeep(d->store);
		events_truncate(d, mark);
		if (rq->on_failure && !again)	/* what a refusal still records (a failed login) */
			rq->on_failure(d, rq->failure_arg);
	} else if (!fast) {
		store_release(d->store);
	}
	json_decref(out);
	return again;
}

/* request_again - back to as it was read, for running again (the turn was rolled back) */
static void request_again(struct request *rq)
{
	if (!rq->ran)
		return;
	json_decref(rq->reply);
	rq->reply = NULL;
	free(rq->reply_text);
	rq->reply_text = NULL;
	rq->failed = rq->replayed = rq->ran = 0;
	rq->flags = 0;
	rq->principal = NULL;
	rq_on_failure(rq, NULL, NULL);
	rq_reply_file(rq, NULL, 0);
}

/* turn_fast - can the turn run without savepoints: is every op in it OP_RERUN? */
static int turn_fast(const struct request *batch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!batch[i].failed && batch[i].e && !(batch[i].e->flags & OP_RERUN))
			return 0;
	return 1;
}

static void file_free(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/* reply_file_send - the reply's file frame, handed to zmq without a copy */
static int reply_file_send(struct request *rq)
{
	zmq_msg_t m;

	if (zmq_msg_init_data(&m, rq->file, rq->file_size, file_free, NULL))
		return -1;
	rq->file = NULL;
	if (zmq_msg_send(&m, rq->sock, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return -1;
	}
	return 0;
}

/* request_reply - send [identity][delimiter?][json][file?] */
static void request_reply(struct daemon *d, struct request *rq)
{
	char *text;
	size_t sizes[3] = { 0, 0, 0 }, nsizes;

	(void)d;

	if (!rq->reply)
		rq->reply = json_pack("{s:s?,s:b}", "id", rq->id, "ok", 1);
	text = rq->reply_text ? rq->reply_text : jdump(rq->reply, JSON_COMPACT);
	sizes[rq->delimiter] = strlen(text);
	nsizes = rq->delimiter ? 2 : 1;
	if (rq->file && !rq->failed)
		sizes[nsizes++] = rq->file_size;
	/* a client holding too many unread replies (bytes here, messages by the high-water
	 * mark: EAGAIN) or gone (EHOSTUNREACH) gets none; counted, logged by api_turn */
	if (!inflow_reply(rq->fd, sizes, nsizes, 0)) {
	} else if (zmq_msg_send(&rq->identity, rq->sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		if (errno == EAGAIN)
			inflow_reply_dropped();
		else if (errno != EHOSTUNREACH)
			log_warn("reply to %s not sent: %s", rq->op ? rq->op : "a request", zmq_strerror(errno));
	} else if ((rq->delimiter && zmq_send(rq->sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		   || zmq_send(rq->sock, text, strlen(text), ZMQ_DONTWAIT | (nsizes > (size_t)rq->delimiter + 1 ? ZMQ_SNDMORE : 0)) < 0
		   || (nsizes > (size_t)rq->delimiter + 1 && reply_file_send(rq) < 0)) {
		log_warn("reply to %s not sent: %s", rq->op ? rq->op : "a request", zmq_strerror(errno));
	} else {
		inflow_reply(rq->fd, sizes, nsizes, 1);
	}
	if (text != rq->reply_text)
		free(text);
}

/* turn_unavailable - every request of the turn still standing fails: no transaction */
static void turn_unavailable(struct daemon *d, struct request *batch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!batch[i].failed)
			rq_error(&batch[i], store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_UNAVAILABLE,
				 "the database cannot start a transaction: %s", store_errmsg(d->store));
}

/* turn_run - run the turn's requests in the open transaction; -1 when it could not be
 * opened again for running them with savepoints */
static int turn_run(struct daemon *d, struct request *batch, size_t n)
{
	int fast = turn_fast(batch, n);
	size_t mark = events_mark(d), i;

	for (i = 0; i < n && request_run(d, &batch[i], fast) == 0; i++)
		;
	if (i == n)
		return 0;
	/* batch[i] failed after changing rows, with no savepoint to undo them alone: undo
	 * the turn, and run it again from its first request, each in its own savepoint */
	log_info("turn: %s failed after writing; running the turn's %zu requests again, each in a savepoint",
		 batch[i].op, n);
	store_rollback(d->store);
	events_truncate(d, mark);
	for (size_t j = 0; j <= i; j++)
		request_again(&batch[j]);
	if (store_begin(d->store) != 0) {
		turn_unavailable(d, batch, n);
		return -1;
	}
	for (i = 0; i < n; i++)
		request_run(d, &batch[i], 0);
	return 0;
}

/* api_turn - one group-commit turn over every request waiting on the api socket */
void api_turn(struct daemon *d)
{
	static struct request batch[API_BATCH];
	size_t n = 0, mark = events_mark(d);	/* the events of the turn come after mark */
	int writes = 0;
	unsigned long own, memory, replies;

	inflow_limits(d->cfg->max_request_bytes);	/* after a reload too */
	inflow_cuts(&own, &memory, &replies);
	if (own || memory || replies)
		log_warn("api: %lu connections cut holding more than %zu bytes unread (daemon.max_request_bytes twice and a MiB), %lu cut while the daemon held too much memory, %lu replies dropped for clients holding 16 MiB of unread replies",
			 own, 2 * d->cfg->max_request_bytes + (1 << 20), memory, replies);
	accounts_turn();
	for (int w = 0; w < 2; w++) {
		void *sock = w ? d->web : d->api;

		while (sock && n < API_BATCH && request_read(d, sock, &batch[n]) == 0) {
			request_parse(&batch[n]);
			if (!batch[n].failed)
				batch[n].e = find_op(batch[n].op);
			n++;
		}
	}
	if (n == 0)
		return;
	if (store_begin(d->store) != 0) {
		turn_unavailable(d, batch, n);
	} else if (turn_run(d, batch, n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!batch[i].failed && (batch[i].flags & OP_WRITE) && !batch[i].replayed)
				writes++;
		int failed = writes && blobs_sync(d) != 0;

		if (failed)
			store_rollback(d->store);
		else
			failed = store_commit(d->store) != 0;
		if (failed) {
			int full = store_last_full(d->store);

			for (size_t i = 0; i < n; i++)
				if (!batch[i].failed && (batch[i].flags & OP_WRITE) && !batch[i].replayed)
					rq_error(&batch[i], full ? ERR_STORAGE_FULL : ERR_UNAVAILABLE,
						 full ? "the disk holding the database is full; nothing was stored: free space and send again"
						      : "the database could not commit; nothing was stored: send again");
			unitset_destroy(&d->pending_units);
			events_truncate(d, mark);
		} else if (d->pending_units) {
			unitset_destroy(&d->units);
			d->units = d->pending_units;
			d->pending_units = NULL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		request_reply(d, &batch[i]);
		request_free(&batch[i]);
	}
	events_flush(d);
	uploads_sweep(d);	/* after the turn: a clock.advance in it counts */
	if (writes)
		log_debug("turn: %zu requests, %d writes committed together", n, writes);
}
