/*
 * results.c - what a worker's result does to its delivery (docs/JOBS.md, "Results"): sent,
 * tried again after a backoff in working hours, some recipients kept for another attempt,
 * a dead letter reported to the operator, a channel disabled on 410, a Zalo recipient out
 * of reach sent the message by e-mail instead. Apart from jobs.c, which owns the socket,
 * the workers and their leases.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "calendar.h"
#include "channels.h"
#include "clock.h"
#include "config.h"
#include "events.h"
#include "jdump.h"
#include "jload.h"
#include "log.h"
#include "outbox.h"
#include "result_bound.h"
#include "results.h"
#include "spool.h"
#include "store.h"
#include "thiduad.h"
#include "xalloc.h"
#include "zalo.h"

#define BACKOFF_BASE 30
#define BACKOFF_CAP 3600
#define PROTOCOL_PAUSE 30		/* a job answered outside the protocol is offered again after this */

/* alert_operator - a dead letter, at most once an hour per channel */
static void alert_operator(struct daemon *d, const char *channel, int64_t outbox, const char *what)
{
	int64_t now = clock_now(d), last = 0;
	sqlite3_stmt *s;

	log_err("delivery: %s", what);
	if (!d->cfg->operator_channel)
		return;
	s = store_stmt(d->store, "SELECT last_alert_at FROM channel_state WHERE channel = ?1");
	sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		last = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (last && now - last < 3600)
		return;
	s = store_stmt(d->store, "INSERT INTO channel_state (channel, last_alert_at) VALUES (?1, ?2)"
		       " ON CONFLICT (channel) DO UPDATE SET last_alert_at = excluded.last_alert_at");
	sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_step(s);
	sqlite3_reset(s);
	operator_notice(d, TE_DEAD_LETTER, channel, what, outbox);
}

/* delivery_dead_letter - give up on a delivery: failed, visible, reported */
void delivery_dead_letter(struct daemon *d, int64_t id, int64_t outbox, const char *channel, const char *why)
{
	sqlite3_stmt *s = store_stmt(d->store, "UPDATE deliveries SET state = 'failed', worker = NULL, last_error = ?2"
				     " WHERE id = ?1");
	char *what;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, why, -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_reset(s);
	outbox_settle(d, outbox);
	what = xasprintf("notification %lld through channel %s failed for good: %s", (long long)outbox, channel, why);
	alert_operator(d, channel, outbox, what);
	events_emit(d, "notification.failed", json_pack("{s:I,s:s,s:s}", "id", (json_int_t)outbox, "channel", channel,
							"reason", why));
	free(what);
}

/* next_attempt - when a delivery is tried again after a wait: in working hours (the
 * function that placed its first attempt), unless it may leave at any hour */
static int64_t next_attempt(struct daemon *d, int64_t id, int64_t at)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT anytime FROM deliveries WHERE id = ?1");
	int anytime = 0;

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		anytime = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return anytime ? at : cal_working_moment(d->cfg, at);
}

/* backoff - capped exponential with jitter */
static int64_t backoff(int attempt)
{
	int64_t b = BACKOFF_BASE;

	for (int i = 1; i < attempt && b < BACKOFF_CAP; i++)
		b *= 2;
	if (b > BACKOFF_CAP)
		b = BACKOFF_CAP;
	return b - b / 5 + (int64_t)(rand() % (int)(b * 2 / 5 + 1));
}

/* member_is - o's member key is the string v */
static int member_is(json_t *o, const char *key, const char *v)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && !strcmp(s, v);
}

/* retry_recipients - a mail the server took while refusing some recipients for now
 * (4xx): a new delivery of the same message (same Message-ID) to just those, after the
 * backoff; the delivery that was sent stays as it is, with every recipient's answer.
 * Returns 1 when one was made. */
static int retry_recipients(struct daemon *d, int64_t id, int64_t outbox, int attempts, int64_t expires,
			    json_t *recipients)
{
	sqlite3_stmt *s;
	json_t *payload = NULL, *keep, *r, *a;
	size_t i, k, n;
	int64_t next = next_attempt(d, id, clock_now(d) + backoff(attempts));
	int made = 0;
	char *text;

	json_array_foreach(recipients, i, r)
		if (member_is(r, "status", "retry"))
			break;
	if (i == json_array_size(recipients))
		return 0;
	if (next >= expires) {
		log_warn("delivery %lld: recipients refused for now are not tried again: the message expires first",
			 (long long)id);
		return 0;
	}
	s = store_stmt(d->store, "SELECT payload FROM deliveries WHERE id = ?1");
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		payload = jload((const char *)sqlite3_column_text(s, 0), (size_t)sqlite3_column_bytes(s, 0), 0, NULL);
	sqlite3_reset(s);
	keep = json_array();
	json_array_foreach(json_object_get(payload, "to"), k, r) {
		const char *addr = json_string_value(json_object_get(r, "address"));

		json_array_foreach(recipients, i, a)
			if (addr && member_is(a, "address", addr) && member_is(a, "status", "retry")) {
				json_array_append(keep, r);
				break;
			}
	}
	if (!json_is_object(payload) || !json_array_size(keep)) {
		json_decref(keep);
		json_decref(payload);
		return 0;
	}
	n = json_array_size(keep);
	json_object_set_new(payload, "to", keep);
	text = jdump(payload, JSON_COMPACT);
	json_decref(payload);
	if (!text)
		return 0;
	s = store_stmt(d->store, "INSERT INTO deliveries (outbox, channel, kind, payload, next_at, expires_at, attempts)"
		       " SELECT outbox, channel, kind, ?2, ?3, expires_at, attempts FROM deliveries WHERE id = ?1");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, text, -1, free);
	sqlite3_bind_int64(s, 3, next);
	made = sqlite3_step(s) == SQLITE_DONE;
	sqlite3_reset(s);
	if (made)
		log_info("delivery %lld: %zu recipient(s) refused for now get the message again in %llds"
			 " (notification %lld)", (long long)id, n, (long long)(next - clock_now(d)), (long long)outbox);
	return made;
}

/* keep_parts_sent - a message split into several posts whose first parts were accepted:
 * the payload records how many, and the next attempt resumes after them (docs/JOBS.md) */
static void keep_parts_sent(struct daemon *d, int64_t id, json_t *msg)
{
	json_t *sent = json_object_get(msg, "parts_sent"), *parts = json_object_get(msg, "parts");
	sqlite3_stmt *s;

	if (!json_is_integer(sent) || !json_is_integer(parts) || json_integer_value(sent) <= 0
	    || json_integer_value(sent) >= json_integer_value(parts))
		return;
	s = store_stmt(d->store, "UPDATE deliveries SET payload = json_set(payload, '$.parts_sent', ?2, '$.parts', ?3)"
		       " WHERE id = ?1 AND json_valid(payload)");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, json_integer_value(sent));
	sqlite3_bind_int64(s, 3, json_integer_value(parts));
	sqlite3_step(s);
	sqlite3_reset(s);
}

/* may_disable - a result's "disable" counts only from a webhook worker, for a webhook
 * channel, on a 410 answer, and for the settings the channel still has (the job was sent
 * with them: a 410 from a URL replaced since does not disable the new one). Otherwise
 * NULL, and *why says which rule it broke. */
static const struct channel *may_disable(struct daemon *d, const struct worker *w, const char *chname,
					 json_t *code, const char *sent_with, char print[CHANNEL_PRINT],
					 const char **why)
{
	const struct channel *c = cfg_channel(d->cfg, chname);

	*why = NULL;
	if (strcmp(w->kind, "webhook"))
		*why = "only a webhook worker may disable a channel";
	else if (!c)
		*why = "the channel is no longer in the configuration";
	else if (!strcmp(c->kind, "smtp"))
		*why = "an smtp channel is never disabled by one result";
	else if (!json_is_integer(code) || json_integer_value(code) != 410)
		*why = "only a 410 Gone answer disables a channel";
	else if (channel_fingerprint(c, print), !sent_with || strcmp(sent_with, print))
		*why = "the 410 answered a url or credentials the channel no longer has";
	return *why ? NULL : c;
}

/* zalo_kind - the channel named is a zalo or zns one */
static int zalo_kind(struct daemon *d, const char *chname)
{
	const struct channel *c = cfg_channel(d->cfg, chname);

	return c && (!strcmp(c->kind, "zalo") || !strcmp(c->kind, "zns"));
}

/* protocol_error - a result the protocol does not know (an unknown status): the worker's
 * mistake, not the message's. Logged; the job goes back to the queue, offered again after
 * a pause (so a worker that keeps answering so does not spin the daemon), the attempt not
 * counted. */
static void protocol_error(struct daemon *d, struct worker *w, int64_t id, const char *job, const char *status)
{
	sqlite3_stmt *s = store_stmt(d->store, "UPDATE deliveries SET state = 'pending', worker = NULL, next_at = ?2,"
				     " attempts = max(attempts - 1, 0) WHERE id = ?1");

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, clock_now(d) + PROTOCOL_PAUSE);
	sqlite3_step(s);
	sqlite3_reset(s);
	log_warn("jobs: protocol error from worker %s (pid %ld): the result for job %s has %s%.32s%s; the job goes back"
		 " to the queue and is offered again in %d s (docs/JOBS.md: status is sent, retry or failed)",
		 w->name, w->pid, job, status ? "the unknown status '" : "no status", status ? status : "",
		 status ? "'" : "", PROTOCOL_PAUSE);
}

/* jobs_result - a worker's answer for one job */
void jobs_result(struct daemon *d, struct worker *w, json_t *msg, const char *raw, size_t rawlen)
{
	const char *job = json_string_value(json_object_get(msg, "job"));
	const char *status = json_string_value(json_object_get(msg, "status"));
	const char *reason = json_string_value(json_object_get(msg, "reason"));
	json_t *code = json_object_get(msg, "code");
	int64_t id = job ? strtoll(job, NULL, 10) : 0, outbox = 0, now = clock_now(d), expires = 0, dispatched = 0;
	char chname[128] = "", sent_with[CHANNEL_PRINT] = "";
	int attempts = 0, leased = 0, renewed;
	sqlite3_stmt *s;
	char *bounded = result_bound(msg, &raw, &rawlen), *redacted = NULL;	/* stored and shown: bounded */

	reason = json_string_value(json_object_get(msg, "reason"));	/* as bounded */
	s = store_stmt(d->store, "SELECT outbox, channel, attempts, expires_at, settings, lease_until FROM deliveries"
		       " WHERE id = ?1 AND state = 'leased' AND worker = ?2");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, w->hex, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		leased = 1;
		outbox = sqlite3_column_int64(s, 0);
		xstrlcpy(chname, (const char *)sqlite3_column_text(s, 1), sizeof(chname));
		attempts = sqlite3_column_int(s, 2);
		expires = sqlite3_column_int64(s, 3);
		if (sqlite3_column_type(s, 4) != SQLITE_NULL)
			xstrlcpy(sent_with, (const char *)sqlite3_column_text(s, 4), sizeof(sent_with));
		dispatched = sqlite3_column_int64(s, 5) - LEASE_SECONDS;
	}
	sqlite3_reset(s);
	if (w->inflight > 0)
		w->inflight--;
	if (!leased) {
		log_info("jobs: result for job %.32s from %s ignored (not leased to it)", job ? job : "?", w->name);
		free(bounded);
		return;
	}
	if (!status || (strcmp(status, "sent") && strcmp(status, "retry") && strcmp(status, "failed"))) {
		protocol_error(d, w, id, job, status);
		free(bounded);
		return;
	}
	renewed = zalo_result(d, chname, msg, dispatched);	/* a renewed Zalo token: the next attempt at once */
	if (json_object_get(msg, "zalo_token")) {	/* kept in zalo_tokens only, not in the detail */
		json_object_del(msg, "zalo_token");
		redacted = jdump(msg, JSON_COMPACT);
		raw = redacted;
		rawlen = strlen(redacted);
	}
	/* detail: the worker's frame as received, bound from the frame itself */
	if (!strcmp(status, "sent")) {
		s = store_stmt(d->store, "UPDATE deliveries SET state = 'sent', worker = NULL, sent_at = ?2, code = ?3,"
			       " last_error = NULL, detail = ?4 WHERE id = ?1");
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, now);
		if (json_is_integer(code))
			sqlite3_bind_int64(s, 3, json_integer_value(code));
		sqlite3_bind_text(s, 4, raw, (int)rawlen, SQLITE_STATIC);
		sqlite3_step(s);
		sqlite3_reset(s);
		if (json_is_array(json_object_get(msg, "recipients")))
			retry_recipients(d, id, outbox, attempts, expires, json_object_get(msg, "recipients"));
		/* an invitation's link is a password until used: once the mail server has the
		 * mail, the daemon keeps no copy of it (daemon/accounts) */
		s = store_stmt(d->store, "UPDATE deliveries SET payload = json_set(payload, '$.text', ?2) WHERE id = ?1"
			       " AND EXISTS (SELECT 1 FROM outbox WHERE id = ?3 AND kind = 'account_invite') AND json_valid(payload)");
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 3, outbox);
		sqlite3_bind_text(s, 2, "(thư mời đã gửi; liên kết không được lưu lại / sent; the link is not kept)", -1, SQLITE_STATIC);
		sqlite3_step(s);
		sqlite3_reset(s);
		s = store_stmt(d->store, "UPDATE outbox SET state = 'sent', sent_at = ?2, error = NULL WHERE id = ?1"
			       " AND NOT EXISTS (SELECT 1 FROM deliveries WHERE outbox = ?1 AND state <> 'sent')");
		sqlite3_bind_int64(s, 1, outbox);
		sqlite3_bind_int64(s, 2, now);
		sqlite3_step(s);
		sqlite3_reset(s);
		if (sqlite3_changes(store_db(d->store)) == 0)	/* other deliveries: the full rule */
			outbox_settle(d, outbox);
		events_emit(d, "notification.sent", json_pack("{s:I,s:s}", "id", (json_int_t)outbox, "channel", chname));
	} else if (!strcmp(status, "retry")) {
		int refused = json_is_true(json_object_get(msg, "token_rejected")) ? zalo_token_refused(d, id, chname) : 0;
		int64_t after = renewed || refused == 1 ? 0 : backoff(attempts), next;
		json_t *ra = json_object_get(msg, "retry_after");

		keep_parts_sent(d, id, msg);
		if (json_is_number(ra) && json_number_value(ra) > after)
			after = json_number_value(ra) < 366.0 * 86400 ? (int64_t)json_number_value(ra) : 366 * 86400;
		next = next_attempt(d, id, now + after);
		channel_note_error(d, chname, reason ? reason : "a temporary failure");
		if (refused == 2) {	/* -216: refresh once, retry once */
			char *why = xasprintf("%s; refused again after the token was renewed: authorise the OA again"
					      " (thiduactl zalo authorize --channel %s)", reason ? reason : "error -216", chname);

			delivery_dead_letter(d, id, outbox, chname, why);
			free(why);
		} else if (next >= expires) {
			char *why = xasprintf("gave up after %d attempts: %s", attempts, reason ? reason : "temporary failures");

			delivery_dead_letter(d, id, outbox, chname, why);
			free(why);
		} else {
			s = store_stmt(d->store, "UPDATE deliveries SET state = 'pending', worker = NULL, next_at = ?2,"
				       " code = ?3, last_error = ?4, detail = ?5 WHERE id = ?1");
			sqlite3_bind_int64(s, 1, id);
			sqlite3_bind_int64(s, 2, next);
			if (json_is_integer(code))
				sqlite3_bind_int64(s, 3, json_integer_value(code));
			sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 5, raw, (int)rawlen, SQLITE_STATIC);
			sqlite3_step(s);
			sqlite3_reset(s);
			log_info("delivery %lld via %s: retry in %llds (%s)", (long long)id, chname, (long long)(next - now),
				 reason ? reason : "");
		}
	} else {
		const struct channel *gone = NULL;
		char print[CHANNEL_PRINT];
		int64_t fallback = 0;
		const char *nofallback = NULL;

		keep_parts_sent(d, id, msg);	/* for an operator's notifications.retry */
		channel_note_error(d, chname, reason ? reason : "the server refused the message");
		if (json_is_true(json_object_get(msg, "disable"))) {
			const char *refused;

			gone = may_disable(d, w, chname, code, sent_with, print, &refused);
			if (!gone)
				log_warn("jobs: worker %s asked to disable channel %s; not done: %s", w->name, chname, refused);
		}
		s = store_stmt(d->store, "UPDATE deliveries SET code = ?2, detail = ?3, last_error = ?4 WHERE id = ?1");
		sqlite3_bind_int64(s, 1, id);
		if (json_is_integer(code))
			sqlite3_bind_int64(s, 2, json_integer_value(code));
		sqlite3_bind_text(s, 3, raw, (int)rawlen, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
		sqlite3_step(s);
		sqlite3_reset(s);
		if (!gone && json_is_true(json_object_get(msg, "recipient_unreachable")) && zalo_kind(d, chname))
			fallback = spool_mail_fallback(d, outbox, &nofallback);
		if (fallback > 0) {
			/* Zalo cannot reach the person: the unit's e-mail instead; this delivery keeps
			 * Zalo's explanation and names the e-mail's */
			char *why = xasprintf("%s; sent to the unit's e-mail instead (delivery %lld)",
					      reason ? reason : "the recipient cannot be reached", (long long)fallback);

			s = store_stmt(d->store, "UPDATE deliveries SET state = 'failed', worker = NULL, last_error = ?2,"
				       " detail = json_set(CASE WHEN json_valid(detail) THEN detail ELSE '{}' END,"
				       " '$.fallback', ?3) WHERE id = ?1");
			sqlite3_bind_int64(s, 1, id);
			sqlite3_bind_text(s, 2, why, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 3, fallback);
			sqlite3_step(s);
			sqlite3_reset(s);
			outbox_settle(d, outbox);
			log_info("delivery %lld via %s: %s", (long long)id, chname, why);
			events_emit(d, "notification.fallback", json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)outbox,
									  "channel", chname, "reason", reason ? reason : "",
									  "delivery", (json_int_t)fallback));
			free(why);
		} else if (nofallback) {
			char *why = xasprintf("%s; not sent by e-mail instead: %s", reason ? reason
					      : "the recipient cannot be reached", nofallback);

			delivery_dead_letter(d, id, outbox, chname, why);
			free(why);
		} else if (gone) {
			/* the message itself did nothing wrong: it waits with the channel's others */
			char *why = xasprintf("the endpoint answered 410 Gone: %s", reason ? reason : "gone");

			channel_disable(d, gone, print, why);
			free(why);
			s = store_stmt(d->store, "UPDATE deliveries SET state = 'pending', worker = NULL, next_at = ?2 WHERE id = ?1");
			sqlite3_bind_int64(s, 1, id);
			sqlite3_bind_int64(s, 2, now);
			sqlite3_step(s);
			sqlite3_reset(s);
		} else {
			delivery_dead_letter(d, id, outbox, chname, reason ? reason : "the server refused the message");
		}
	}
	free(redacted);
	free(bounded);
}
