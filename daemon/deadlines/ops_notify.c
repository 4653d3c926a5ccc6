/*
 * ops_notify.c - schedule, notifications.list and notifications.show: what the deadline
 * engine (deadlines.c) will send to or about a unit and when, and what it has queued.
 *
 * schedule replays the engine's own rules without firing anything: the ladder steps of an
 * open or returned obligation not yet fired (moment after steps_through), at the moment
 * ladder_step_moment() gives, to the recipients the engine would choose, with the engine's
 * kinds (reminder, overdue to the late unit itself, escalation to another unit). Steps
 * that reach the unit about other units' obligations are grouped as the engine groups
 * them into one digest per (report, period, step, moment). The outbox ops only read the
 * outbox and notices tables; every filter is a bound parameter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "clock.h"
#include "config.h"
#include "deadlines.h"
#include "ladder.h"
#include "intake.h"
#include "lookup.h"
#include "ops_notify.h"
#include "page.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

#define MAX_TO 16		/* recipients per step, as deadlines.c */
#define MAX_CODE 64		/* longest unit, report or period text a filter may hold */
#define LIST_DEFAULT 200

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* target resolution --------------------------------------------------------------- */

/* step_target - who target t of a step reaches for the late unit u (one place to switch
 * to deadlines.c's target_unit) */
static const struct unit *step_target(struct daemon *d, const struct report_type *rt,
				      const struct target *t, const struct unit *u, int32_t day)
{
	return target_unit(d, rt, t, u, day);
}

/* step_recipients - the distinct recipients of step st for u, in target order, as
 * fire_obligation() collects them; returns how many */
static size_t step_recipients(struct daemon *d, const struct report_type *rt, const struct step *st,
			      const struct unit *u, int32_t day, const struct unit *to[MAX_TO])
{
	size_t n = 0;

	for (size_t k = 0; k < st->nto && n < MAX_TO; k++) {
		const struct unit *r = step_target(d, rt, &st->to[k], u, day);
		size_t j;

		if (!r)
			continue;
		for (j = 0; j < n && strcmp(to[j]->code, r->code); j++)
			;
		if (j == n)
			to[n++] = r;
	}
	return n;
}

/* schedule: steps still to come ------------------------------------------------------ */

/* one future notice: about an obligation of 'late', to 'to' */
struct hit {
	int64_t moment, due_at;
	const struct report_type *rt;
	const struct step *st;
	const char *kind;		/* reminder, overdue, escalation */
	char *period;
	const struct unit *late, *to;
};

struct hits {
	struct hit *v;
	size_t n, cap;
};

/* hits_add - append x with its own copy of period */
static void hits_add(struct hits *h, const struct hit *x, const char *period)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	h->v[h->n] = *x;
	h->v[h->n].period = xstrdup(period);
	h->n++;
}

/* hits_free - release the copies and the array */
static void hits_free(struct hits *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].period);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* hit_same - the same message: report, period, step, moment and kind */
static int hit_same(const struct hit *a, const struct hit *b)
{
	return a->moment == b->moment && a->rt == b->rt && a->st == b->st && !strcmp(a->period, b->period)
	       && !strcmp(a->kind, b->kind);
}

/* hit_cmp - by moment, then report, period, step, kind, then the units involved */
static int hit_cmp(const void *pa, const void *pb)
{
	const struct hit *a = pa, *b = pb;
	int c;

	if (a->moment != b->moment)
		return a->moment < b->moment ? -1 : 1;
	if ((c = strcmp(a->rt->code, b->rt->code)) || (c = strcmp(a->period, b->period))
	    || (c = strcmp(a->st->id, b->st->id)) || (c = strcmp(a->kind, b->kind))
	    || (c = strcmp(a->late->code, b->late->code)))
		return c;
	return strcmp(a->to->code, b->to->code);
}

/* obligation_hits - the steps of one obligation not yet fired that reach 'only' (every
 * recipient when only is NULL) */
static void obligation_hits(struct daemon *d, const struct report_type *rt, const struct unit *u,
			    const char *period, int64_t due_at, int64_t through, int64_t now,
			    const struct unit *only, struct hits *h)
{
	int32_t due_day = day_of_time(due_at, d->cfg->utc_offset);

	for (size_t i = 0; i < rt->nsteps; i++) {
		const struct step *st = &rt->steps[i];
		const struct unit *to[MAX_TO];
		int64_t m = ladder_step_moment(d->cfg, st, due_day);
		size_t n;

		if (m <= through || !ladder_step_live(d->cfg, rt, i, due_at))
			continue;	/* fired already, or never fires (deadlines.c) */
		if (!st->escalation && now > due_at)
			continue;	/* the engine skips a reminder the due date made pointless */
		n = step_recipients(d, rt, st, u, day_of_time(m, d->cfg->utc_offset), to);
		for (size_t k = 0; k < n; k++) {
			struct hit x = { .moment = m, .due_at = due_at, .rt = rt, .st = st, .late = u, .to = to[k] };

			if (only && to[k] != only)
				continue;
			x.kind = !st->escalation ? "reminder" : to[k] == u ? "overdue" : "escalation";
			hits_add(h, &x, period);
		}
	}
}

/* unit_ref - {"unit","name"} */
static json_t *unit_ref(const struct unit *u)
{
	return json_pack("{s:s,s:s}", "unit", u->code, "name", u->name);
}

/* hits_json - sorted hits as messages: one entry per (moment, report, period, step,
 * kind) listing its recipients, or for a digest (about other units) the late units */
static json_t *hits_json(struct daemon *d, struct hits *h, int digest)
{
	json_t *list = json_array(), *e = NULL, *people = NULL;

	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), hit_cmp);
	for (size_t i = 0; i < h->n; i++) {
		const struct hit *x = &h->v[i];

		if (!i || !hit_same(x, &h->v[i - 1])) {
			people = json_array();
			e = json_pack("{s:o,s:s,s:s,s:s,s:s,s:s}", "moment", json_time(d, x->moment),
				      "step", x->st->id, "kind", x->kind, "report", x->rt->code,
				      "report_name", x->rt->name, "period", x->period);
			if (!digest)
				json_object_set_new(e, "due_at", json_time(d, x->due_at));
			json_object_set_new(e, digest ? "about" : "recipients", people);
			json_array_append_new(list, e);
		}
		if (digest) {
			json_t *r = unit_ref(x->late);

			json_object_set_new(r, "due_at", json_time(d, x->due_at));
			json_array_append_new(people, r);
		} else {
			json_array_append_new(people, unit_ref(x->to));
		}
	}
	return list;
}

/* pending_json - messages queued for u and not yet delivered, in sending order */
static json_t *pending_json(struct daemon *d, const struct unit *u)
{
	sqlite3_stmt *s = store_stmt(d->store,
		"SELECT o.id, o.kind, o.report, o.period, o.step, o.moment, o.send_after, o.late, o.attempts, o.error,"
		" (SELECT count(*) FROM notices n WHERE n.outbox = o.id)"
		" FROM outbox o WHERE o.recipient = ?1 AND o.state = 'pending' ORDER BY o.send_after, o.id");
	json_t *list = json_array();

	sqlite3_bind_text(s, 1, u->code, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:I,s:s?,s:I}",
			"id", (json_int_t)sqlite3_column_int64(s, 0), "kind", col(s, 1), "report", col(s, 2),
			"period", col(s, 3), "step", col(s, 4), "moment", json_time(d, sqlite3_column_int64(s, 5)),
			"send_after", json_time(d, sqlite3_column_int64(s, 6)), "late", sqlite3_column_int(s, 7),
			"attempts", (json_int_t)sqlite3_column_int64(s, 8), "error", col(s, 9),
			"units", (json_int_t)sqlite3_column_int64(s, 10)));
	sqlite3_reset(s);
	return list;
}

/* op_schedule - what will be sent about the unit's obligations, what will reach it about
 * other units' obligations, and what is queued for it */
int op_schedule(struct daemon *d, struct request *rq, json_t *out)
{
	const struct unit *u = rq_unit(d, rq, "unit");
	struct hits about = { 0 }, to = { 0 };
	int64_t now = clock_now(d);
	struct reader rd;
	sqlite3_stmt *s;

	if (!u)
		return -1;
	authz_reader(d, rq, &rd);
	if (!reader_sees_unit(d, &rd, u->code))
		return authz_read_refused(rq, &rd, "the schedule of another unit");
	/* its own obligations: every recipient */
	s = store_stmt(d->store, "SELECT report, period, due_at, steps_through FROM obligations"
		       " WHERE unit = ?1 AND state IN ('open', 'returned')");
	sqlite3_bind_text(s, 1, u->code, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const struct report_type *rt = cfg_report(d->cfg, col(s, 0));

		if (rt)
			obligation_hits(d, rt, u, col(s, 1), sqlite3_column_int64(s, 2),
					sqlite3_column_int64(s, 3), now, NULL, &about);
	}
	sqlite3_reset(s);
	/* other units' obligations with a step still to come (the partial index on next_at):
	 * parent, level, receiver and named-unit targets can all reach u */
	s = store_stmt(d->store, "SELECT report, unit, period, due_at, steps_through FROM obligations"
		       " WHERE next_at IS NOT NULL AND state IN ('open', 'returned') AND unit <> ?1");
	sqlite3_bind_text(s, 1, u->code, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const struct report_type *rt = cfg_report(d->cfg, col(s, 0));
		const struct unit *late = unitset_find(d->units, col(s, 1));

		if (rt && late)
			obligation_hits(d, rt, late, col(s, 2), sqlite3_column_int64(s, 3),
					sqlite3_column_int64(s, 4), now, u, &to);
	}
	sqlite3_reset(s);
	json_object_set_new(out, "unit", json_string(u->code));
	json_object_set_new(out, "name", json_string(u->name));
	json_object_set_new(out, "now", json_time(d, now));
	json_object_set_new(out, "about", hits_json(d, &about, 0));
	json_object_set_new(out, "to", hits_json(d, &to, 1));
	json_object_set_new(out, "pending", pending_json(d, u));
	hits_free(&about);
	hits_free(&to);
	return 0;
}

/* the outbox ------------------------------------------------------------------------ */

#define OUTBOX_COLUMNS "o.id, o.recipient, o.kind, o.report, o.period, o.step, o.moment, o.created_at," \
	" o.send_after, o.state, o.late, o.channel, o.path, o.sent_at, o.attempts, o.error, o.dedup_key," \
	" (SELECT count(*) FROM notices n WHERE n.outbox = o.id)"

/* outbox_row_json - one outbox row (a SELECT of OUTBOX_COLUMNS) */
static json_t *outbox_row_json(struct daemon *d, sqlite3_stmt *s, int full)
{
	const struct unit *to = unitset_find(d->units, col(s, 1));
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:b,s:s?,s:s?}",
			      "id", (json_int_t)sqlite3_column_int64(s, 0), "recipient", col(s, 1),
			      "recipient_name", to ? to->name : col(s, 1), "kind", col(s, 2),
			      "report", col(s, 3), "period", col(s, 4), "step", col(s, 5),
			      "moment", json_time(d, sqlite3_column_int64(s, 6)),
			      "created_at", json_time(d, sqlite3_column_int64(s, 7)),
			      "send_after", json_time(d, sqlite3_column_int64(s, 8)), "state", col(s, 9),
			      "late", sqlite3_column_int(s, 10), "channel", col(s, 11), "path", col(s, 12));

	json_object_set_new(o, "sent_at", sqlite3_column_type(s, 13) == SQLITE_NULL ? json_null()
			    : json_time(d, sqlite3_column_int64(s, 13)));
	json_object_set_new(o, "attempts", json_integer(sqlite3_column_int64(s, 14)));
	json_object_set_new(o, "error", col(s, 15) ? json_string(col(s, 15)) : json_null());
	json_object_set_new(o, "units", json_integer(sqlite3_column_int64(s, 17)));
	if (full)
		json_object_set_new(o, "dedup_key", json_string(col(s, 16)));
	return o;
}

/* want_text - an optional short string field: NULL when absent; sets *bad on an error */
static const char *want_text(struct request *rq, const char *key, int *bad)
{
	const char *v;

	if (*bad)
		return NULL;	/* the first problem is the one reported */
	v = rq_str(rq, key, 0);
	if (rq_failed(rq)) {
		*bad = 1;
		return NULL;
	}
	if (v && (!*v || strlen(v) > MAX_CODE)) {
		*bad = 1;
		rq_error(rq, ERR_INVALID_FIELD, "'%s' must be 1 to %d characters", key, MAX_CODE);
		return NULL;
	}
	return v;
}

/* outbox_has - is there a message to this recipient, or of this report (NULL: any)? */
static int outbox_has(struct daemon *d, const char *recipient, const char *report)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT 1 FROM outbox WHERE (?1 IS NULL OR recipient = ?1)"
				     " AND (?2 IS NULL OR report = ?2) LIMIT 1");
	int found;

	sqlite3_bind_text(s, 1, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, report, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return found;
}

/* op_notifications_list - outbox messages, newest first, filtered */
int op_notifications_list(struct daemon *d, struct request *rq, json_t *out)
{
	int bad = 0;
	const char *state = want_text(rq, "state", &bad), *unit = want_text(rq, "unit", &bad);
	const char *report = want_text(rq, "report", &bad), *period = want_text(rq, "period", &bad);
	json_t *list;
	long long limit, before;
	size_t bytes = 0;
	struct reader rd;
	sqlite3_stmt *s;
	int more = 0;

	if (bad || page_limit(rq, LIST_DEFAULT, &limit) < 0 || page_cursor(rq, "before", &before) < 0)
		return -1;
	if (state && strcmp(state, "pending") && strcmp(state, "spooled") && strcmp(state, "queued")
	    && strcmp(state, "sent") && strcmp(state, "failed"))
		return rq_error(rq, ERR_INVALID_FIELD, "state '%s' is not one of pending, queued, spooled, sent, failed", state);
	/* a code no longer configured may still name old messages */
	if (unit && !unitset_find(d->units, unit) && !outbox_has(d, unit, NULL))
		return rq_unit_unknown(rq, d->units, unit);
	if (report && !cfg_report(d->cfg, report) && !outbox_has(d, NULL, report))
		return rq_report_unknown(rq, d->cfg, report);
	s = store_stmt(d->store, "SELECT " OUTBOX_COLUMNS " FROM outbox o"
		       " WHERE (?1 IS NULL OR o.state = ?1) AND (?2 IS NULL OR o.recipient = ?2)"
		       " AND (?3 IS NULL OR o.report = ?3) AND (?4 IS NULL OR o.period = ?4)"
		       " AND (?6 IS NULL OR o.id < ?6) ORDER BY o.id DESC LIMIT ?5");
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, report, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, period, -1, SQLITE_STATIC);
	authz_reader(d, rq, &rd);
	/* one more says whether there are more; a limited reader skips rows, so reads on */
	sqlite3_bind_int64(s, 5, rd.all ? limit + 1 : -1);
	if (before)
		sqlite3_bind_int64(s, 6, before);
	list = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (!reader_sees_unit(d, &rd, col(s, 1)))
			continue;
		if ((long long)json_array_size(list) == limit || page_full(&bytes, page_row_bytes(s))) {
			more = 1;
			break;
		}
		json_array_append_new(list, outbox_row_json(d, s, 0));
	}
	sqlite3_reset(s);
	json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(list)));
	json_object_set_new(out, "more", json_boolean(more));
	json_object_set_new(out, "notifications", list);
	return 0;
}

/* notices_json - the obligations a message is about */
static json_t *notices_json(struct daemon *d, int64_t id)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT o.unit, o.due_at, o.state, n.cycle, o.report FROM notices n"
				     " JOIN obligations o ON o.id = n.obligation WHERE n.outbox = ?1 ORDER BY o.unit");
	json_t *list = json_array();

	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const struct unit *u = unitset_find(d->units, col(s, 0));

		json_array_append_new(list, json_pack("{s:s,s:s,s:o,s:s,s:i}", "unit", col(s, 0),
						      "name", u ? u->name : col(s, 0),
						      "due_at", json_time(d, sqlite3_column_int64(s, 1)),
						      "state", obligation_state(d, cfg_report(d->cfg, col(s, 4)), col(s, 2),
										sqlite3_column_int64(s, 1)),
						      "cycle", sqlite3_column_int(s, 3)));
	}
	sqlite3_reset(s);
	return list;
}

/* deliveries_json - how a message went out through each channel */
json_t *deliveries_json(struct daemon *d, int64_t outbox)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT id, channel, kind, state, attempts, next_at, expires_at, code,"
				     " last_error, sent_at, detail FROM deliveries WHERE outbox = ?1 ORDER BY id");
	json_t *a = json_array();

	sqlite3_bind_int64(s, 1, outbox);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:i,s:o,s:o}", "id", (json_int_t)sqlite3_column_int64(s, 0),
				      "channel", col(s, 1), "kind", col(s, 2), "state", col(s, 3),
				      "attempts", sqlite3_column_int(s, 4), "next_at", json_time(d, sqlite3_column_int64(s, 5)),
				      "expires_at", json_time(d, sqlite3_column_int64(s, 6)));
		json_t *detail = col(s, 10) ? json_loads(col(s, 10), 0, NULL) : NULL;

		json_object_set_new(o, "code", sqlite3_column_type(s, 7) == SQLITE_NULL ? json_null()
				    : json_integer(sqlite3_column_int(s, 7)));
		json_object_set_new(o, "error", col(s, 8) ? json_string(col(s, 8)) : json_null());
		json_object_set_new(o, "sent_at", sqlite3_column_type(s, 9) == SQLITE_NULL ? json_null()
				    : json_time(d, sqlite3_column_int64(s, 9)));
		json_object_set_new(o, "answer", detail && json_object_get(detail, "reason")
				    ? json_incref(json_object_get(detail, "reason")) : json_null());
		if (json_is_integer(json_object_get(detail, "fallback")))
			json_object_set(o, "fallback", json_object_get(detail, "fallback"));
		if (detail && json_object_get(detail, "recipients"))
			json_object_set(o, "recipients", json_object_get(detail, "recipients"));
		json_decref(detail);
		json_array_append_new(a, o);
	}
	sqlite3_reset(s);
	return a;
}

/* op_notifications_show - one message with the units it is about */
int op_notifications_show(struct daemon *d, struct request *rq, json_t *out)
{
	json_t *v = json_object_get(rq_body(rq), "notification"), *n = NULL;
	struct reader rd;
	sqlite3_stmt *s;
	int64_t id;
	int seen = -1;		/* -1: no such message */

	if (!v || json_is_null(v))
		return rq_error(rq, ERR_MISSING_FIELD, "the request has no 'notification' field: give the id 'thiduactl notifications list' shows");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return rq_error(rq, ERR_INVALID_FIELD, "'notification' must be a positive whole number (an id from 'thiduactl notifications list')");
	id = (int64_t)json_integer_value(v);
	s = store_stmt(d->store, "SELECT " OUTBOX_COLUMNS " FROM outbox o WHERE o.id = ?1");
	sqlite3_bind_int64(s, 1, id);
	authz_reader(d, rq, &rd);
	if (sqlite3_step(s) == SQLITE_ROW && (seen = reader_sees_unit(d, &rd, col(s, 1))))
		n = outbox_row_json(d, s, 1);
	sqlite3_reset(s);
	if (!seen)
		return authz_read_refused(rq, &rd, "a notification to another unit");
	if (!n)
		return rq_error(rq, ERR_UNKNOWN_NOTIFICATION, "there is no notification %lld; 'thiduactl notifications list' shows the ids",
				(long long)id);
	json_object_set_new(n, "about", notices_json(d, id));
	json_object_set_new(n, "deliveries", deliveries_json(d, id));
	json_object_set_new(out, "notification", n);
	return 0;
}
