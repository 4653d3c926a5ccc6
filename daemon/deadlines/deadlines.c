/*
 * deadlines.c - the deadline engine: reminders before a due date, escalation up the
 * hierarchy after it, in working hours, exactly once.
 *
 * Each open obligation carries next_at, the moment of its next ladder step, in a partial
 * index; the loop sleeps until the smallest. When steps fall due, each (obligation, ladder
 * cycle, step, recipient) becomes one row of notices (its primary key makes it happen once,
 * across restarts), attached to one outbox message per (report, period, step, moment,
 * recipient): fifteen late communes reach the district office as one digest. steps_through
 * records how far an obligation's ladder has run, so a reload that changes the ladder
 * only changes steps not yet fired, and a restart catches up the steps that fell due while
 * the daemon was down (marked late), skipping reminders made pointless by the due date.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "log.h"
#include "thiduad.h"
#include "timeutil.h"
#include "xalloc.h"

#define BATCH 2000
#define LATE_SLACK 3600		/* fired more than an hour after its moment: a late delivery */

/* sub_working_days - the n-th working day before day */
static int32_t sub_working_days(const struct config *cfg, int32_t day, int n)
{
	while (n > 0) {
		day--;
		if (cal_is_working_day(cfg, day))
			n--;
	}
	return day;
}

/* step_moment - the start of working hours on the working day the step falls on. A
 * reminder N days before that lands on a day off moves back to the working day before it,
 * never forward onto the due day (1d before a Monday deadline is the Friday); an
 * escalation on a day off moves forward to the next working day. */
int64_t step_moment(const struct config *cfg, const struct step *st, int32_t due_day)
{
	int32_t day;

	if (!st->escalation) {
		day = st->at.working ? sub_working_days(cfg, due_day, st->at.n) : due_day - st->at.n;
		day = st->at.n > 0 ? cal_roll_back(cfg, day) : cal_roll(cfg, day);
	} else {
		day = (st->at.working ? cal_add_working_days(cfg, due_day, st->at.n) : due_day + st->at.n)
		      + st->extra_days;
		day = cal_roll(cfg, day);
	}
	return day_start(day, cfg->utc_offset) + (int64_t)cfg->work_start * 60;
}

/* step_live - does step i of rt fire for a period due at due_at? Not after the lock (late
 * submissions closed: nobody is asked to chase a report that can no longer be sent), and
 * not a reminder that lands on the moment of an earlier one of the ladder (1d and 1wd
 * before a Tuesday after a Monday holiday are both the Friday: one reminder, not two) */
int step_live(const struct config *cfg, const struct report_type *rt, size_t i, int64_t due_at)
{
	int32_t due_day = day_of_time(due_at, cfg->utc_offset);
	int64_t m = step_moment(cfg, &rt->steps[i], due_day);

	if (m > cal_lock_at(rt, due_at))
		return 0;
	for (size_t j = 0; j < i && !rt->steps[i].escalation; j++)
		if (!rt->steps[j].escalation && step_moment(cfg, &rt->steps[j], due_day) == m)
			return 0;
	return 1;
}

/* ladder_next - the first step moment after 'through', 0 when the ladder has run out */
int64_t ladder_next(const struct config *cfg, const struct report_type *rt, int64_t due_at, int64_t through)
{
	int32_t due_day = day_of_time(due_at, cfg->utc_offset);
	int64_t next = 0;

	for (size_t i = 0; i < rt->nsteps; i++) {
		int64_t m = step_moment(cfg, &rt->steps[i], due_day);

		if (m > through && (!next || m < next) && step_live(cfg, rt, i, due_at))
			next = m;
	}
	return next;
}

/* working_moment - t itself in working hours, else the next working morning */
int64_t working_moment(const struct config *cfg, int64_t t)
{
	int32_t day = day_of_time(t, cfg->utc_offset);
	int64_t start = day_start(day, cfg->utc_offset);
	int64_t open = start + (int64_t)cfg->work_start * 60, close = start + (int64_t)cfg->work_end * 60;

	if (cal_is_working_day(cfg, day) && t >= open && t < close)
		return t;
	if (!cal_is_working_day(cfg, day) || t >= close)
		day = cal_roll(cfg, day + (t >= open ? 1 : 0));
	if (!cal_is_working_day(cfg, day))
		day = cal_roll(cfg, day);
	return day_start(day, cfg->utc_offset) + (int64_t)cfg->work_start * 60;
}

/* ancestor_at_level - the first non-attached unit at that level, from u upwards */
static const struct unit *ancestor_at_level(const struct unitset *set, const struct unit *u,
					    const char *level, int32_t day)
{
	int lvl = unitset_level_index(set, level);

	for (int guard = 0; u && guard < 64; guard++, u = unit_parent_at(u, day))
		if (u->level == lvl && !u->attached)
			return u;
	return NULL;
}

/* target_named - the unit a step's target names for the late unit u on day */
static const struct unit *target_named(struct daemon *d, const struct report_type *rt,
				       const struct target *t, const struct unit *u, int32_t day)
{
	switch (t->kind) {
	case T_SELF:
		return u;
	case T_PARENT:
		/* an attached body's parent is its own authority; a commune's is the district */
		return unit_parent_at(u, day);
	case T_LEVEL:
		return ancestor_at_level(d->units, u, t->arg, day);
	case T_RECEIVER:
		return unitset_find(d->units, rt->receiver);
	case T_UNIT:
		return unitset_find(d->units, t->arg);
	}
	return NULL;
}

/* target_unit_at - who a step's target is for the late unit u on the step's day: a target
 * closed by then hands over to its successor, or, with several, to the one over u (or u
 * itself); NULL with *gone the closed unit when none takes over (the step is dropped) */
const struct unit *target_unit_at(struct daemon *d, const struct report_type *rt, const struct target *t,
				  const struct unit *u, int32_t day, const struct unit **gone)
{
	const struct unit *r = target_named(d, rt, t, u, day);

	if (gone)
		*gone = NULL;
	for (int hops = 0; r && !unit_active_at(r, day); hops++) {
		const struct unit *next = NULL;

		if (r->nsuccessors == 1)
			next = r->successors[0];
		for (size_t i = 0; r->nsuccessors > 1 && !next && i < r->nsuccessors; i++)
			if (r->successors[i] == u || unit_is_under_at(u, r->successors[i], day))
				next = r->successors[i];
		if (!next || hops >= 16) {
			if (gone)
				*gone = r;
			return NULL;
		}
		r = next;
	}
	return r;
}

/* target_unit - as target_unit_at, without saying which unit closed */
const struct unit *target_unit(struct daemon *d, const struct report_type *rt,
				      const struct target *t, const struct unit *u, int32_t day)
{
	return target_unit_at(d, rt, t, u, day, NULL);
}

/* step_dropped - a step whose target closed with nobody to take over: a log line and an
 * audit row (notice.dropped) the operator reads with `thiduactl audit list` */
static int step_dropped(struct daemon *d, int64_t obligation, const struct report_type *rt, const char *period,
			const struct step *st, const struct target *t, const struct unit *u, const struct unit *gone)
{
	static const char *const kinds[] = { [T_SELF] = "self", [T_PARENT] = "parent", [T_LEVEL] = "level:",
					     [T_RECEIVER] = "receiver", [T_UNIT] = "unit:" };
	char closed[16], object[64], target[96], reason[512];

	date_format(gone->active_to, closed, sizeof(closed));
	snprintf(target, sizeof(target), "%s%s", kinds[t->kind], t->kind == T_LEVEL || t->kind == T_UNIT ? t->arg : "");
	snprintf(reason, sizeof(reason), "%s (%s) closed on %s and no successor of it is over %s", gone->code,
		 gone->name, closed, u->code);
	log_warn("deadlines: %s %s of %s: step %s to %s dropped: %s", rt->code, period, u->code, st->id, target,
		 reason);
	snprintf(object, sizeof(object), "obligation/%lld", (long long)obligation);
	return audit_append(d, "thiduad", "notice.dropped", object, u->code,
			    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "report", rt->code, "period", period, "step",
				      st->id, "to", target, "closed_unit", gone->code, "closed", closed, "reason", reason));
}

/* message_for - the outbox message a notice joins: the one of its (report, period, step,
 * moment, kind, recipient) while it is still pending; once that one has left, a follow-up
 * message of its own, so a notice is never attached to something already sent */
static int64_t message_for(struct daemon *d, const struct report_type *rt, const char *period,
			   const struct step *st, int64_t moment, const char *kind, const char *recipient,
			   int64_t obligation, int64_t now)
{
	char key[512];
	int64_t outbox = -1;

	for (int attempt = 0; attempt < 2 && outbox < 0; attempt++) {
		/* no RETURNING: SQLite runs it through a temporary table, at every call */
		sqlite3_stmt *s = store_stmt(d->store,
			"INSERT INTO outbox (dedup_key, recipient, kind, report, period, step, moment,"
			" created_at, send_after, late) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
			" ON CONFLICT (dedup_key) DO NOTHING");
		int rc;

		if (attempt == 0)
			snprintf(key, sizeof(key), "%s/%s/%s/%lld/%s/%s", rt->code, period, st->id,
				 (long long)moment, kind, recipient);
		else
			snprintf(key, sizeof(key), "%s/%s/%s/%lld/%s/%s/o%lld", rt->code, period, st->id,
				 (long long)moment, kind, recipient, (long long)obligation);
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, recipient, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, rt->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, period, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, st->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, moment);
		sqlite3_bind_int64(s, 8, now);
		sqlite3_bind_int64(s, 9, working_moment(d->cfg, now));
		sqlite3_bind_int(s, 10, now > moment + LATE_SLACK);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return -1;
		if (sqlite3_changes(store_db(d->store)) == 1) {	/* a new message */
			outbox = sqlite3_last_insert_rowid(store_db(d->store));
			break;
		}
		/* the message exists: joined while it is still pending (or, the second time, the
		 * follow-up of this obligation, whatever its state) */
		s = store_stmt(d->store, "SELECT id, state FROM outbox WHERE dedup_key = ?1");
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_reset(s);
			return -1;
		}
		if (attempt == 1 || !strcmp((const char *)sqlite3_column_text(s, 1), "pending"))
			outbox = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	return outbox;
}

/* notice_add - one notice, attached to its message; 1 new, 0 already there, -1 error */
static int notice_add(struct daemon *d, int64_t obligation, int cycle, const struct report_type *rt,
		      const char *period, const struct step *st, int64_t moment, const char *kind,
		      const char *recipient, int64_t now)
{
	sqlite3_stmt *s;
	int64_t outbox;
	int rc, exists;

	s = store_stmt(d->store, "SELECT 1 FROM notices WHERE obligation = ?1 AND cycle = ?2 AND step = ?3 AND recipient = ?4");
	sqlite3_bind_int64(s, 1, obligation);
	sqlite3_bind_int(s, 2, cycle);
	sqlite3_bind_text(s, 3, st->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, recipient, -1, SQLITE_STATIC);
	exists = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	if (exists)
		return 0;
	outbox = message_for(d, rt, period, st, moment, kind, recipient, obligation, now);
	if (outbox < 0)
		return -1;
	s = store_stmt(d->store, "INSERT INTO notices (obligation, cycle, step, recipient, outbox)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)");
	sqlite3_bind_int64(s, 1, obligation);
	sqlite3_bind_int(s, 2, cycle);
	sqlite3_bind_text(s, 3, st->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, outbox);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 1 : -1;
}

/* fire_obligation - every step of one obligation with through < moment <= now */
static int fire_obligation(struct daemon *d, int64_t id, const char *report, const char *unit,
			   const char *period, int64_t due_at, int64_t through, int cycle, int64_t now,
			   long *count)
{
	const struct report_type *rt = cfg_report(d->cfg, report);
	const struct unit *u = unitset_find(d->units, unit);
	int32_t due_day = day_of_time(due_at, d->cfg->utc_offset);
	int64_t next;
	sqlite3_stmt *s;

	int64_t last_reminder = 0;

	/* of the reminders that fell due since the last run, only the latest still says
	 * something: the others were superseded while the daemon was down */
	for (size_t i = 0; rt && u && i < rt->nsteps; i++) {
		int64_t m = step_moment(d->cfg, &rt->steps[i], due_day);

		if (!rt->steps[i].escalation && m > through && m <= now && m > last_reminder)
			last_reminder = m;
	}
	for (size_t i = 0; rt && u && i < rt->nsteps; i++) {
		const struct step *st = &rt->steps[i];
		int64_t m = step_moment(d->cfg, st, due_day);
		const char *sent[16];
		size_t nsent = 0;

		if (m <= through || m > now || !step_live(d->cfg, rt, i, due_at))
			continue;
		if (!st->escalation && (now > due_at || m < last_reminder))
			continue;	/* a reminder the due date or a later reminder made pointless */
		for (size_t k = 0; k < st->nto && nsent < 16; k++) {
			const struct unit *gone;
			const struct unit *r = target_unit_at(d, rt, &st->to[k], u, day_of_time(m, d->cfg->utc_offset),
							      &gone);
			const char *kind;
			size_t j;
			int rc;

			if (!r && gone && step_dropped(d, id, rt, period, st, &st->to[k], u, gone))
				return -1;
			if (!r)
				continue;
			for (j = 0; j < nsent && strcmp(sent[j], r->code); j++)
				;
			if (j < nsent)
				continue;
			sent[nsent++] = r->code;
			kind = !st->escalation ? "reminder" : r == u ? "overdue" : "escalation";
			rc = notice_add(d, id, cycle, rt, period, st, m, kind, r->code, now);
			if (rc < 0)
				return -1;
			*count += rc;
		}
	}
	next = rt && u ? ladder_next(d->cfg, rt, due_at, now) : 0;
	s = store_stmt(d->store, "UPDATE obligations SET steps_through = ?2, next_at = ?3 WHERE id = ?1");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	if (next)
		sqlite3_bind_int64(s, 3, next);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

static int64_t deadlines_next_due(struct daemon *d)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT min(next_at) FROM obligations WHERE next_at IS NOT NULL");
	int64_t next = INT64_MAX;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		next = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return next;
}

/* deadlines_run - fire everything due by now, in batches */
static void deadlines_run(struct daemon *d, int64_t now)
{
	long notices = 0, obligations = 0;
	int more = 1;

	while (more) {
		sqlite3_stmt *s = store_stmt(d->store,
			"SELECT id, report, unit, period, due_at, steps_through, cycle FROM obligations"
			" WHERE next_at IS NOT NULL AND next_at <= ?1 ORDER BY next_at LIMIT ?2");
		struct row { int64_t id, due_at, through; int cycle; char *report, *unit, *period; } *rows;
		size_t n = 0;

		rows = xcalloc(BATCH, sizeof(*rows));
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_int(s, 2, BATCH);
		while (sqlite3_step(s) == SQLITE_ROW) {
			rows[n].id = sqlite3_column_int64(s, 0);
			rows[n].report = xstrdup((const char *)sqlite3_column_text(s, 1));
			rows[n].unit = xstrdup((const char *)sqlite3_column_text(s, 2));
			rows[n].period = xstrdup((const char *)sqlite3_column_text(s, 3));
			rows[n].due_at = sqlite3_column_int64(s, 4);
			rows[n].through = sqlite3_column_int64(s, 5);
			rows[n].cycle = sqlite3_column_int(s, 6);
			n++;
		}
		sqlite3_reset(s);
		more = n == BATCH;
		for (size_t i = 0; i < n; i++) {
			if (fire_obligation(d, rows[i].id, rows[i].report, rows[i].unit, rows[i].period,
					    rows[i].due_at, rows[i].through, rows[i].cycle, now, &notices)) {
				log_err("deadlines: obligation %lld: %s", (long long)rows[i].id, store_errmsg(d->store));
				more = 0;
			}
			free(rows[i].report);
			free(rows[i].unit);
			free(rows[i].period);
		}
		obligations += (long)n;
		free(rows);
	}
	if (notices)
		log_info("deadlines: %ld notifications queued for %ld obligations", notices, obligations);
}

static const struct due_source deadlines_source = { "deadlines", deadlines_next_due, deadlines_run };

/* deadlines_init - register with the scheduler */
void deadlines_init(void)
{
	sched_register(&deadlines_source);
}

/* deadlines_replan - after a reload: recompute next_at of open obligations from the new
 * ladders, keeping what already fired (steps_through) */
int deadlines_replan(struct daemon *d)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT DISTINCT report, due_at, steps_through FROM obligations"
				     " WHERE state IN ('open', 'returned')");
	struct grp { char *report; int64_t due_at, through; } *g = NULL;
	size_t n = 0;
	int rc = 0;

	while (sqlite3_step(s) == SQLITE_ROW) {
		g = xrealloc(g, (n + 1) * sizeof(*g));
		g[n].report = xstrdup((const char *)sqlite3_column_text(s, 0));
		g[n].due_at = sqlite3_column_int64(s, 1);
		g[n].through = sqlite3_column_int64(s, 2);
		n++;
	}
	sqlite3_reset(s);
	for (size_t i = 0; i < n; i++) {
		const struct report_type *rt = cfg_report(d->cfg, g[i].report);
		int64_t next = rt ? ladder_next(d->cfg, rt, g[i].due_at, g[i].through) : 0;

		s = store_stmt(d->store, "UPDATE obligations SET next_at = ?4 WHERE report = ?1 AND due_at = ?2"
			       " AND steps_through = ?3 AND state IN ('open', 'returned')");
		sqlite3_bind_text(s, 1, g[i].report, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, g[i].due_at);
		sqlite3_bind_int64(s, 3, g[i].through);
		if (next)
			sqlite3_bind_int64(s, 4, next);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = -1;
		sqlite3_reset(s);
		free(g[i].report);
	}
	free(g);
	return rc;
}
