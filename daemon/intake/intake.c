/*
 * intake.c - who owes which report when; durable submissions with receipts; review by
 * the receiving office; completeness per unit.
 *
 * An obligation is (report type, unit, period). The units that owe a period are those the
 * report's selector matches on its due day: a unit closed before the due date owes nothing,
 * and its successor, active on that day, owes it instead. Obligations are created when a
 * period opens (a due source of the scheduler) and at start-up for periods that opened
 * while the daemon was down; a reload or an import adds those new units owe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "blobs.h"
#include "calendar.h"
#include "clock.h"
#include "compiled.h"
#include "config.h"
#include "events.h"
#include "intake.h"
#include "ladder.h"
#include "log.h"
#include "lookup.h"
#include "notices.h"
#include "outbox.h"
#include "registry.h"
#include "reorg.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"
#include "utf8.h"
#include "xalloc.h"

#define MAX_NOTE 10000

/* selector_match - does u owe reports of rt on day? */
static int selector_match(const struct unitset *units, const struct report_type *rt,
			  const struct unit *u, int32_t day)
{
	const struct selector *s = &rt->who;

	if (!unit_active_at(u, day) || strcmp(u->code, rt->receiver) == 0)
		return 0;
	for (size_t i = 0; s->units && s->units[i]; i++)
		if (strcmp(s->units[i], u->code) == 0)
			return 1;
	if (!s->kinds && !s->levels && !s->under)
		return 0;
	if (s->kinds) {
		int ok = 0;

		for (size_t i = 0; s->kinds[i]; i++)
			ok |= strcmp(s->kinds[i], u->kind) == 0;
		if (!ok)
			return 0;
	}
	if (s->levels) {
		int ok = 0;

		for (size_t i = 0; s->levels[i]; i++)
			ok |= strcmp(s->levels[i], u->level_code) == 0;
		if (!ok)
			return 0;
	}
	if (s->under) {
		const struct unit *anc = unitset_find(units, s->under);	/* the set u belongs to */

		if (!anc || !unit_is_under_at(u, anc, day))
			return 0;
	}
	return 1;
}

/* create_obligations - every unit that owes (rt, p) gets its row; existing rows stay */
static int create_obligations(struct daemon *d, const struct report_type *rt, const struct cal_period *p)
{
	const struct unitset *units = d->pending_units ? d->pending_units : d->units;
	/* ladder steps before the database existed are history, not work */
	int64_t now = clock_now(d), next_at = ladder_next(d->cfg, rt, p->due_at, d->epoch);
	sqlite3_stmt *s;

	for (size_t i = 0; i < units->nunits; i++) {
		const struct unit *u = units->units[i];
		int rc;

		if (!selector_match(units, rt, u, p->due_day))
			continue;
		s = store_stmt(d->store, "INSERT OR IGNORE INTO obligations (report, unit, period, due_at, updated_at, next_at, steps_through)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
		sqlite3_bind_text(s, 1, rt->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, u->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, p->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, p->due_at);
		sqlite3_bind_int64(s, 5, now);
		if (next_at)
			sqlite3_bind_int64(s, 6, next_at);
		sqlite3_bind_int64(s, 7, d->epoch);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return -1;
	}
	/* the calendar may have changed (a holiday announced late): open obligations of the
	 * period that were not returned follow the due date; their ladders are replanned */
	s = store_stmt(d->store, "UPDATE obligations SET due_at = ?3 WHERE report = ?1 AND period = ?2"
		       " AND cycle = 0 AND state = 'open' AND due_at <> ?3");
	sqlite3_bind_text(s, 1, rt->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, p->due_at);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	s = store_stmt(d->store, "INSERT INTO periods (report, period, opens_at, due_at) VALUES (?1, ?2, ?3, ?4)"
		       " ON CONFLICT (report, period) DO UPDATE SET due_at = excluded.due_at");
	sqlite3_bind_text(s, 1, rt->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, p->opens_at);
	sqlite3_bind_int64(s, 4, p->due_at);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

/* period_opened - has (report, period) been opened already? */
static int period_opened(struct daemon *d, const char *report, const char *period)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT 1 FROM periods WHERE report = ?1 AND period = ?2");
	int found;

	sqlite3_bind_text(s, 1, report, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, period, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return found;
}

/* open_due_periods - open every period whose opening moment has come; all = also
 * reconcile periods already open (after a reload or an import) */
static int open_due_periods(struct daemon *d, int64_t now, int all)
{
	for (size_t r = 0; r < d->cfg->nreports; r++) {
		const struct report_type *rt = &d->cfg->reports[r];
		struct cal_period p;

		for (int i = 0; cal_period(d->cfg, rt, i, &p) == 0 && p.opens_at <= now; i++) {
			if (!all && period_opened(d, rt->code, p.name))
				continue;
			if (create_obligations(d, rt, &p))
				return -1;
			log_info("report %s, period %s: obligations created", rt->code, p.name);
		}
	}
	return 0;
}

/* intake_next_due - the earliest opening moment not yet handled, from the config alone */
static int64_t intake_next_due(struct daemon *d)
{
	int64_t now = d->intake_through, next = INT64_MAX;

	for (size_t r = 0; r < d->cfg->nreports; r++) {
		struct cal_period p;

		for (int i = 0; cal_period(d->cfg, &d->cfg->reports[r], i, &p) == 0; i++) {
			if (p.opens_at > now) {
				if (p.opens_at < next)
					next = p.opens_at;
				break;
			}
		}
	}
	return next;
}

static void intake_run(struct daemon *d, int64_t now)
{
	if (open_due_periods(d, now, 0))
		log_err("opening report periods failed: %s", store_errmsg(d->store));
	else
		d->intake_through = now;
}

static const struct due_source intake_source = { "report periods", intake_next_due, intake_run };

/* intake_init - register the period openings with the scheduler */
void intake_init(void)
{
	sched_register(&intake_source);
	registry_on_import(intake_reconcile);
	outbox_renderer(NULL, notices_render);
}

/* waive_before_start - nothing is owed for a date before the movement starts
 * (movement.starts): obligations still open that an earlier configuration created for such
 * a date (KH-NAM 2024, due 1 March 2024, before the plan of 6 March 2024) are waived, with
 * the reason, so that they do not stay open forever */
static int waive_before_start(struct daemon *d, int64_t now)
{
	const struct config *cfg = d->cfg;
	sqlite3_stmt *s;
	char *reason;
	int y, rc;
	unsigned m, dd;

	if (cfg->movement_starts == DATE_NONE_FROM)
		return 0;
	civil_from_days(cfg->movement_starts, &y, &m, &dd);
	if (cfg->movement_plan)
		reason = xasprintf("Không phát sinh nghĩa vụ: hạn nộp trước ngày bắt đầu phong trào %02u/%02u/%04d"
				   " (Kế hoạch %s)", dd, m, y, cfg->movement_plan);
	else
		reason = xasprintf("Không phát sinh nghĩa vụ: hạn nộp trước ngày bắt đầu phong trào %02u/%02u/%04d",
				   dd, m, y);
	s = store_stmt(d->store, "UPDATE obligations SET state = 'waived', reason = ?2, updated_at = ?3, next_at = NULL"
		       " WHERE state IN ('open', 'returned') AND due_at < ?1");
	sqlite3_bind_int64(s, 1, day_start(cfg->movement_starts, cfg->utc_offset));
	sqlite3_bind_text(s, 2, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	free(reason);
	if (rc != SQLITE_DONE)
		return -1;
	if ((rc = sqlite3_changes(store_db(d->store))) > 0)
		log_notice("%d obligations due before the movement starts were waived: nothing is owed before the plan", rc);
	return 0;
}

/* intake_reconcile - at start-up, after a reload or an import: open what is due and add
 * the obligations of units that owe open periods */
int intake_reconcile(struct daemon *d)
{
	int64_t now = clock_now(d);

	if (waive_before_start(d, now) || open_due_periods(d, now, 1))
		return -1;
	d->intake_through = now;
	return 0;
}

/* helpers for the ops ----------------------------------------------------------------- */

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* want_period - the period named by "period" of rt */
int intake_want_period(struct daemon *d, struct request *rq, const struct report_type *rt, struct cal_period *p)
{
	const char *name = rq_str(rq, "period", 1);

	if (!name)
		return -1;
	if (cal_period_named(d->cfg, rt, name, p) == 0)
		return 0;
	if (rt->yearly)
		return rq_error(rq, "unknown_period", "report %s has no period '%s': its periods are the years %d to %d, e.g. \"%d\"",
				rt->code, name, rt->first_year, rt->last_year, rt->first_year);
	return rq_error(rq, "unknown_period", "report %s has no period '%s': its only period is \"%s\"",
			rt->code, name, rt->once_period);
}

struct obligation {
	int64_t id, due_at, submitted_at;
	char state[16];
	int on_time;		/* -1 unknown */
	int version;
};

/* load_obligation - 0 found, -1 not found */
static int load_obligation(struct daemon *d, const char *report, const char *unit, const char *period,
			   struct obligation *o)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT id, due_at, state, on_time, version, submitted_at"
				     " FROM obligations WHERE report = ?1 AND unit = ?2 AND period = ?3");
	int rc = -1;

	sqlite3_bind_text(s, 1, report, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, period, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		o->id = sqlite3_column_int64(s, 0);
		o->due_at = sqlite3_column_int64(s, 1);
		xstrlcpy(o->state, col(s, 2), sizeof(o->state));
		o->on_time = sqlite3_column_type(s, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 3);
		o->version = sqlite3_column_int(s, 4);
		o->submitted_at = sqlite3_column_type(s, 5) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 5);
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

/* want_obligation - unit, report and period of the request, resolved to its obligation */
static int want_obligation(struct daemon *d, struct request *rq, const struct unit **u,
			   const struct report_type **rt, struct cal_period *p, struct obligation *o)
{
	char day[16];

	if (!(*u = rq_unit(d, rq, "unit")) || !(*rt = rq_report(d, rq)) || intake_want_period(d, rq, *rt, p))
		return -1;
	if (load_obligation(d, (*rt)->code, (*u)->code, p->name, o) == 0)
		return 0;
	if (p->opens_at > clock_now(d)) {
		date_format(day_of_time(p->opens_at, d->cfg->utc_offset), day, sizeof(day));
		return rq_error(rq, "period_not_open", "period %s of report %s is not open yet: it opens on %s",
				p->name, (*rt)->code, day);
	}
	date_format(p->due_day, day, sizeof(day));
	return rq_error(rq, "not_obligated", "unit %s (%s) does not owe report %s for period %s (due %s); see 'thiduactl obligations --report %s --period %s' for who does",
			(*u)->code, (*u)->name, (*rt)->code, p->name, day, (*rt)->code, p->name);
}

/* next_receipt - BN-YYYY-NNNNNN, from a counter per year; never reused */
static int next_receipt(struct daemon *d, int64_t now, char *buf, size_t size)
{
	int y;
	unsigned m, dd;
	char name[16];
	int64_t n = -1;

	civil_from_days(day_of_time(now, d->cfg->utc_offset), &y, &m, &dd);
	snprintf(name, sizeof(name), "BN-%04d", y % 10000);
	n = store_counter_next(d->store, name);
	if (n < 0)
		return -1;
	snprintf(buf, size, "%s-%06lld", name, (long long)n);
	return 0;
}

/* what a receipt says */
struct receipt {
	const char *number, *unit, *report, *period, *note;	/* note may be NULL */
	int64_t received_at, due_at;
	long long version;
	int on_time;
};

/* receipt_object - the one place a receipt's members are named: the reply of
 * report.submit (from what is in hand) and report.receipt (read back). Built member by
 * member, not with json_pack(), whose format reading cost a tenth of a submission. */
static json_t *receipt_object(struct daemon *d, const struct receipt *rc, json_t *files)
{
	const struct unit *u = unitset_find(d->units, rc->unit);
	const struct report_type *rt = cfg_report(d->cfg, rc->report);
	json_t *r = json_object();

	json_object_set_new_nocheck(r, "number", json_string(rc->number));
	json_object_set_new_nocheck(r, "received_at", json_time(d, rc->received_at));
	json_object_set_new_nocheck(r, "on_time", json_boolean(rc->on_time));
	json_object_set_new_nocheck(r, "unit", json_string(rc->unit));
	json_object_set_new_nocheck(r, "unit_name", json_string(u ? u->name : rc->unit));
	json_object_set_new_nocheck(r, "report", json_string(rc->report));
	json_object_set_new_nocheck(r, "report_name", json_string(rt ? rt->name : rc->report));
	json_object_set_new_nocheck(r, "period", json_string(rc->period));
	json_object_set_new_nocheck(r, "version", json_integer(rc->version));
	json_object_set_new_nocheck(r, "due_at", json_time(d, rc->due_at));
	json_object_set_new_nocheck(r, "note", rc->note ? json_string(rc->note) : json_null());
	json_object_set_new_nocheck(r, "files", files);
	if (rt && rt->compiles) {	/* a compiled report: its inputs when it was filed */
		struct inputs in;

		if (compiled_inputs(d, rt, rc->period, rc->received_at, &in) == 0) {
			json_object_set_new_nocheck(r, "inputs", inputs_json(d, &in));
			inputs_free(&in);
		}
	}
	return r;
}

/* file_object - one file of a receipt */
static json_t *file_object(const char *name, int64_t size, const char *sha256)
{
	json_t *f = json_object();

	json_object_set_new_nocheck(f, "name", json_string(name));
	json_object_set_new_nocheck(f, "size", json_integer(size));
	json_object_set_new_nocheck(f, "sha256", json_string(sha256));
	return f;
}

/* receipt_json - a receipt as stored, or NULL when the number is unknown */
static json_t *receipt_json(struct daemon *d, const char *number)
{
	sqlite3_stmt *s = store_stmt(d->store,
		"SELECT s.id, s.received_at, s.on_time, s.version, s.note, o.unit, o.report, o.period, coalesce(s.due_at, o.due_at)"
		" FROM submissions s JOIN obligations o ON o.id = s.obligation WHERE s.receipt = ?1");
	struct receipt rc;
	json_t *r, *files = json_array();
	int64_t id;

	sqlite3_bind_text(s, 1, number, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		json_decref(files);
		return NULL;
	}
	id = sqlite3_column_int64(s, 0);
	rc = (struct receipt){ .number = number, .unit = col(s, 5), .report = col(s, 6), .period = col(s, 7),
			       .note = col(s, 4), .received_at = sqlite3_column_int64(s, 1),
			       .due_at = sqlite3_column_int64(s, 8), .version = sqlite3_column_int64(s, 3),
			       .on_time = sqlite3_column_int(s, 2) };
	r = receipt_object(d, &rc, files);	/* copies the columns before the reset */
	sqlite3_reset(s);
	s = store_stmt(d->store, "SELECT name, size, sha256 FROM submission_files WHERE submission = ?1 ORDER BY idx");
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(files, file_object(col(s, 0), sqlite3_column_int64(s, 1), col(s, 2)));
	sqlite3_reset(s);
	return r;
}

/* unit_notice - one message to the unit about its own obligation: kind 'receipt',
 * 'accepted' or 'returned', worded from the templates of that event; the step
 * ("receipt/ID", "review/ID") names the submission or review it tells of */
static int unit_notice(struct daemon *d, int64_t obligation, const char *step, const char *kind,
		       const char *unit, const char *report, const char *period, int64_t now)
{
	char key[300];
	int64_t outbox;
	sqlite3_stmt *s;
	int rc;

	snprintf(key, sizeof(key), "%s/%s/%s/%s/%s", report, period, step, kind, unit);
	s = store_stmt(d->store, "INSERT INTO outbox (dedup_key, recipient, kind, report, period, step, moment,"
		       " created_at, send_after, late) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, 0)");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, report, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, period, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, step, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, now);
	sqlite3_bind_int64(s, 8, cal_working_moment(d->cfg, now));
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	outbox = sqlite3_last_insert_rowid(store_db(d->store));
	s = store_stmt(d->store, "INSERT INTO notices (obligation, cycle, step, recipient, outbox)"
		       " VALUES (?1, (SELECT cycle FROM obligations WHERE id = ?1), ?2, ?3, ?4)");
	sqlite3_bind_int64(s, 1, obligation);
	sqlite3_bind_text(s, 2, step, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, outbox);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* op_report_submit - store the files, record the submission, answer with the receipt */
int op_report_submit(struct daemon *d, struct request *rq, json_t *out)
{
	const struct unit *u;
	const struct report_type *rt;
	struct cal_period p;
	struct obligation o;
	json_t *names = json_object_get(rq_body(rq), "files"), *receipt, *files = NULL, *ev;
	const char *note;
	int64_t now = clock_now(d), sub_id;
	char number[64], hex[65];
	size_t nfiles = rq_nfiles(rq);
	int on_time;
	sqlite3_stmt *s;

	/* a unit closed by a reorganisation sends nothing more: its successor does */
	u = unitset_find(d->units, json_string_value(json_object_get(rq_body(rq), "unit")) ?
			 json_string_value(json_object_get(rq_body(rq), "unit")) : "");
	if (u && closed_unit_refusal(d, rq, u, "submit reports"))
		return -1;
	if (want_obligation(d, rq, &u, &rt, &p, &o))
		return -1;
	note = rq_str(rq, "note", 0);
	if (rq_failed(rq))
		return -1;
	if (note && strlen(note) > MAX_NOTE)
		return rq_error(rq, "invalid_field", "the note is %zu bytes; keep it under %d", strlen(note), MAX_NOTE);
	if (!strcmp(o.state, "accepted"))
		return rq_error(rq, "already_accepted", "report %s %s of %s was already accepted; ask %s to return it before sending a new version",
				rt->code, p.name, u->code, rt->receiver);
	if (!strcmp(o.state, "waived"))
		return rq_error(rq, "waived", "report %s %s of %s was waived by %s; nothing needs to be sent",
				rt->code, p.name, u->code, rt->receiver);
	if (now > cal_lock_at(rt, o.due_at)) {
		char day[16];

		date_format(day_of_time(o.due_at, d->cfg->utc_offset) + rt->late_days, day, sizeof(day));
		char due[16];

		date_format(day_of_time(o.due_at, d->cfg->utc_offset), due, sizeof(due));
		return rq_error(rq, "late_locked", "report %s %s was due %s and late submissions closed on %s; contact %s",
				rt->code, p.name, due, day, rt->receiver);
	}
	if (nfiles == 0)
		return rq_error(rq, "no_file", "a submission needs at least one file (the report itself)");
	if (rq_file_names(rq))
		return -1;
	for (size_t i = 0; i < nfiles; i++) {
		const char *name = json_string_value(json_array_get(names, i));
		size_t size;

		rq_file(rq, i, &size);
		if (size == 0)
			return rq_error(rq, "empty_file", "file \"%s\" is empty; send the report's content", name);
		if ((int64_t)size > rt->max_file_bytes)
			return rq_error(rq, "file_too_large", "file \"%s\" is %zu bytes, over the limit of %lld bytes for report %s",
					name, size, (long long)rt->max_file_bytes, rt->code);
	}
	if (next_receipt(d, now, number, sizeof(number)))
		goto db_error;
	on_time = now <= o.due_at;
	s = store_stmt(d->store, "INSERT INTO submissions (receipt, obligation, version, received_at, on_time, note, principal, request_id, due_at)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	sqlite3_bind_text(s, 1, number, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, o.id);
	sqlite3_bind_int(s, 3, o.version + 1);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int(s, 5, on_time);
	sqlite3_bind_text(s, 6, note, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, rq_principal(rq), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, rq_id(rq), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, o.due_at);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		goto db_error;
	}
	sqlite3_reset(s);
	sub_id = sqlite3_last_insert_rowid(store_db(d->store));
	for (size_t i = 0; i < nfiles; i++) {
		size_t size;
		const void *data = rq_file(rq, i, &size);
		int kept = blobs_put(d, rq, json_string_value(json_array_get(names, i)), data, size, hex);

		if (kept < 0) {
			json_decref(files);
			return -1;
		}
		if (!files)
			files = json_array();
		json_array_append_new(files, file_object(json_string_value(json_array_get(names, i)), (int64_t)size, hex));
		s = store_stmt(d->store, "INSERT INTO submission_files (submission, idx, name, size, sha256, data)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
		sqlite3_bind_int64(s, 1, sub_id);
		sqlite3_bind_int(s, 2, (int)i);
		sqlite3_bind_text(s, 3, json_string_value(json_array_get(names, i)), -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)size);
		sqlite3_bind_text(s, 5, hex, -1, SQLITE_TRANSIENT);
		blobs_bind(s, 6, data, size, kept);
		if (sqlite3_step(s) != SQLITE_DONE) {
			sqlite3_reset(s);
			goto db_error;
		}
		sqlite3_reset(s);
	}
	if (rt->receipt_notice) {
		char step[32];

		snprintf(step, sizeof(step), "receipt/%lld", (long long)sub_id);
		if (unit_notice(d, o.id, step, "receipt", u->code, rt->code, p.name, now))
			goto db_error;
	}
	s = store_stmt(d->store, "UPDATE obligations SET state = 'submitted', on_time = ?2, submitted_at = ?3,"
		       " receipt = ?4, version = version + 1, reason = NULL, updated_at = ?3, next_at = NULL WHERE id = ?1");
	sqlite3_bind_int64(s, 1, o.id);
	sqlite3_bind_int(s, 2, on_time);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_text(s, 4, number, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		goto db_error;
	}
	sqlite3_reset(s);
	/* the receipt from what is in hand (receipt_json reads the same back from the database) */
	receipt = receipt_object(d, &(struct receipt){ .number = number, .unit = u->code, .report = rt->code,
						       .period = p.name, .note = note, .received_at = now,
						       .due_at = o.due_at, .version = o.version + 1, .on_time = on_time },
				 files);
	files = NULL;
	ev = json_object();
	json_object_set_new_nocheck(ev, "unit", json_string(u->code));
	json_object_set_new_nocheck(ev, "report", json_string(rt->code));
	json_object_set_new_nocheck(ev, "period", json_string(p.name));
	json_object_set_new_nocheck(ev, "receipt", json_string(number));
	json_object_set_new_nocheck(ev, "on_time", json_boolean(on_time));
	events_emit(d, "report.submitted", ev);
	json_object_set_new(out, "receipt", receipt);
	return 0;
db_error:
	json_decref(files);
	return rq_error(rq, store_last_full(d->store) ? "storage_full" : "internal",
			"the submission could not be stored: %s; nothing was recorded", store_errmsg(d->store));
}

/* receipt_replay_key - what a replay of report.submit keeps: the receipt number (the
 * submission's rows hold the rest) */
const char *receipt_replay_key(const json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply, "receipt"), "number"));
}

/* receipt_replay - the members of report.submit's reply, read back by receipt number */
int receipt_replay(struct daemon *d, const char *number, json_t *out)
{
	json_t *r = receipt_json(d, number);

	if (!r)
		return -1;
	json_object_set_new(out, "receipt", r);
	return 0;
}

/* op_report_receipt - show a receipt again, with the obligation's versions and reviews */
int op_report_receipt(struct daemon *d, struct request *rq, json_t *out)
{
	const char *number = rq_str(rq, "number", 1);
	struct reader rd;
	json_t *r;

	if (!number)
		return -1;
	r = receipt_json(d, number);
	if (!r)
		return rq_error(rq, "unknown_receipt", "there is no receipt %s; receipt numbers look like BN-2024-000123", number);
	authz_reader(d, rq, &rd);
	if (!reader_sees_report(d, &rd, json_string_value(json_object_get(r, "unit")),
				json_string_value(json_object_get(r, "report")))) {
		json_decref(r);
		return authz_read_refused(rq, &rd, "this receipt (of another unit, reported to another office)");
	}
	json_object_set_new(out, "receipt", r);
	intake_receipt_history(d, number, out);
	return 0;
}

/* obligation_state - the state as it reads now: an obligation still open or returned
 * past its lock (late_until_days) can no longer be met, so it reads as closed and
 * "missing" (the row keeps open/returned: a reload that moves the lock moves this too) */
const char *obligation_state(struct daemon *d, const struct report_type *rt, const char *state, int64_t due_at)
{
	if (rt && (!strcmp(state, "open") || !strcmp(state, "returned")) && clock_now(d) > cal_lock_at(rt, due_at))
		return "missing";
	return state;
}

/* obligation_row_json - one obligations row (SELECT of OBLIGATION_COLUMNS) */
json_t *intake_obligation_row_json(struct daemon *d, sqlite3_stmt *s)
{
	const struct unit *u = unitset_find(d->units, col(s, 0));
	const struct report_type *rt = cfg_report(d->cfg, col(s, 1));
	int64_t due_at = sqlite3_column_int64(s, 3), lock = rt ? cal_lock_at(rt, due_at) : INT64_MAX;
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s}",
			      "unit", col(s, 0), "unit_name", u ? u->name : col(s, 0),
			      "report", col(s, 1), "report_name", rt ? rt->name : col(s, 1),
			      "period", col(s, 2), "due_at", json_time(d, due_at),
			      "state", obligation_state(d, rt, col(s, 4), due_at));

	json_object_set_new(o, "late_until", lock == INT64_MAX ? json_null() : json_time(d, lock));

	json_object_set_new(o, "on_time", sqlite3_column_type(s, 5) == SQLITE_NULL ? json_null()
			    : json_boolean(sqlite3_column_int(s, 5)));
	json_object_set_new(o, "submitted_at", sqlite3_column_type(s, 6) == SQLITE_NULL ? json_null()
			    : json_time(d, sqlite3_column_int64(s, 6)));
	json_object_set_new(o, "receipt", col(s, 7) ? json_string(col(s, 7)) : json_null());
	json_object_set_new(o, "version", json_integer(sqlite3_column_int(s, 8)));
	json_object_set_new(o, "reason", col(s, 9) ? json_string(col(s, 9)) : json_null());
	return o;
}

/* intake_receipt_files - the files of a receipt ([] for an unknown one) */
json_t *intake_receipt_files(struct daemon *d, const char *number)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT f.name, f.size, f.sha256 FROM submission_files f"
				     " JOIN submissions s ON s.id = f.submission WHERE s.receipt = ?1 ORDER BY f.idx");
	json_t *files = json_array();

	sqlite3_bind_text(s, 1, number, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(files, file_object(col(s, 0), sqlite3_column_int64(s, 1), col(s, 2)));
	sqlite3_reset(s);
	return files;
}

/* obligation_json - one obligation by id */
static json_t *obligation_json(struct daemon *d, int64_t id)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT " OBLIGATION_COLUMNS " FROM obligations WHERE id = ?1");
	json_t *o = NULL;

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = intake_obligation_row_json(d, s);
	sqlite3_reset(s);
	return o;
}


/* op_report_review - report.accept, report.return, report.waive by the receiving office */
int op_report_review(struct daemon *d, struct request *rq, json_t *out)
{
	const char *op = rq_op(rq), *action = strchr(op, '.') + 1, *reason;
	const struct unit *u;
	const struct report_type *rt;
	struct cal_period p;
	struct obligation o;
	int64_t now = clock_now(d), new_due = 0;
	const char *new_state;
	char step[32];
	sqlite3_stmt *s;

	if (want_obligation(d, rq, &u, &rt, &p, &o))
		return -1;
	reason = rq_str(rq, "reason", 0);
	if (rq_failed(rq))
		return -1;
	if (strcmp(action, "accept") && (!reason || !*reason))
		return rq_error(rq, "reason_required", "%s needs a reason the unit will read (--reason)", op);
	if (reason && strlen(reason) > MAX_NOTE)
		return rq_error(rq, "invalid_field", "the reason is too long (at most %d bytes)", MAX_NOTE);
	if (!strcmp(action, "accept")) {
		if (strcmp(o.state, "submitted"))
			return rq_error(rq, "bad_state", "report %s %s of %s is %s; only a submitted report can be accepted",
					rt->code, p.name, u->code, o.state);
		new_state = "accepted";
	} else if (!strcmp(action, "return")) {
		if (strcmp(o.state, "submitted") && strcmp(o.state, "accepted"))
			return rq_error(rq, "bad_state", "report %s %s of %s is %s; only a submitted or accepted report can be returned",
					rt->code, p.name, u->code, o.state);
		new_state = "returned";
		new_due = cal_end_of_day(d->cfg, cal_add_working_days(d->cfg, day_of_time(now, d->cfg->utc_offset),
								       rt->return_days));
		if (new_due < o.due_at)
			new_due = o.due_at;
	} else {
		if (!strcmp(o.state, "accepted") || !strcmp(o.state, "waived"))
			return rq_error(rq, "bad_state", "report %s %s of %s is already %s; it cannot be waived",
					rt->code, p.name, u->code, o.state);
		new_state = "waived";
	}
	/* a return reopens the obligation with a fresh ladder (a new cycle) from its new due date */
	s = store_stmt(d->store, "UPDATE obligations SET state = ?2, reason = ?3, updated_at = ?4,"
		       " due_at = CASE WHEN ?5 > 0 THEN ?5 ELSE due_at END,"
		       " cycle = cycle + (?5 > 0), steps_through = CASE WHEN ?5 > 0 THEN ?4 ELSE steps_through END,"
		       " next_at = ?6 WHERE id = ?1");
	sqlite3_bind_int64(s, 1, o.id);
	sqlite3_bind_text(s, 2, new_state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, new_due);
	if (new_due && ladder_next(d->cfg, rt, new_due, now))
		sqlite3_bind_int64(s, 6, ladder_next(d->cfg, rt, new_due, now));
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return rq_error(rq, "internal", "the review could not be stored: %s", store_errmsg(d->store));
	}
	sqlite3_reset(s);
	s = store_stmt(d->store, "INSERT INTO reviews (obligation, action, reason, principal, at, due_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	sqlite3_bind_int64(s, 1, o.id);
	sqlite3_bind_text(s, 2, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, rq_principal(rq), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	if (new_due)
		sqlite3_bind_int64(s, 6, new_due);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_reset(s);
		return rq_error(rq, "internal", "the review could not be stored: %s", store_errmsg(d->store));
	}
	sqlite3_reset(s);
	snprintf(step, sizeof(step), "review/%lld", (long long)sqlite3_last_insert_rowid(store_db(d->store)));
	if (strcmp(action, "waive")
	    && unit_notice(d, o.id, step, !strcmp(action, "accept") ? "accepted" : "returned", u->code, rt->code, p.name, now))
		return rq_error(rq, store_last_full(d->store) ? "storage_full" : "internal",
				"the notice to %s could not be stored: %s; nothing was recorded", u->code, store_errmsg(d->store));
	{
		char type[32];

		snprintf(type, sizeof(type), "report.%s", !strcmp(action, "accept") ? "accepted"
			 : !strcmp(action, "return") ? "returned" : "waived");
		events_emit(d, type, json_pack("{s:s,s:s,s:s,s:s?,s:s}", "unit", u->code, "report", rt->code,
					       "period", p.name, "reason", reason, "by", rq_principal(rq)));
	}
	json_object_set_new(out, "obligation", obligation_json(d, o.id));
	return 0;
}
