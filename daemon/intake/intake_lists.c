/*
 * intake_lists.c - intake's read ops: obligations.list (filtered obligations),
 * completeness (who has sent what, per unit, with a compiled report's inputs) and
 * reports.list (the submissions), and a receipt's history (report.receipt).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "calendar.h"
#include "clock.h"
#include "compiled.h"
#include "config.h"
#include "intake.h"
#include "lookup.h"
#include "registry.h"
#include "reorg.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* op_obligations_list - filtered obligations */
int op_obligations_list(struct daemon *d, struct request *rq, json_t *out)
{
	const char *unit = rq_str(rq, "unit", 0), *report = rq_str(rq, "report", 0);
	const char *period = rq_str(rq, "period", 0), *state = rq_str(rq, "state", 0);
	const struct unit *under = NULL, *pred;
	int32_t today = registry_today(d);
	struct reader rd;
	json_t *list, *row;
	sqlite3_stmt *s;
	int with_files = 0;

	if (rq_failed(rq) || rq_bool(rq, "with_files", &with_files) < 0)
		return -1;
	if (json_object_get(rq_body(rq), "under") && !(under = rq_unit(d, rq, "under")))
		return -1;
	if (unit && !rq_unit(d, rq, "unit"))
		return -1;
	if (report && !rq_report(d, rq))
		return -1;
	if (state && strcmp(state, "open") && strcmp(state, "submitted") && strcmp(state, "accepted")
	    && strcmp(state, "returned") && strcmp(state, "waived") && strcmp(state, "missing"))
		return rq_error(rq, "invalid_field", "state '%s' is not one of open, submitted, accepted, returned, waived, missing", state);
	/* missing is open or returned past the lock: chosen below, row by row */
	s = store_stmt(d->store, "SELECT " OBLIGATION_COLUMNS " FROM obligations"
		       " WHERE (?1 IS NULL OR unit = ?1) AND (?2 IS NULL OR report = ?2)"
		       " AND (?3 IS NULL OR period = ?3) AND (?4 IS NULL OR state = ?4"
		       " OR (?4 = 'missing' AND state IN ('open', 'returned')))"
		       " ORDER BY report, period, unit");
	sqlite3_bind_text(s, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, report, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, period, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, state, -1, SQLITE_STATIC);
	authz_reader(d, rq, &rd);
	list = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (!reader_sees_report(d, &rd, col(s, 0), col(s, 1)))
			continue;
		if (state && strcmp(state, obligation_state(d, cfg_report(d->cfg, col(s, 1)), col(s, 4),
							    sqlite3_column_int64(s, 3))))
			continue;
		pred = NULL;
		if (under) {
			const struct unit *u = unitset_find(d->units, col(s, 0));
			int32_t day = day_of_time(sqlite3_column_int64(s, 3), d->cfg->utc_offset);

			if (!u || (u != under && !unit_is_under_at(u, under, day < today ? day : today)
				   && !unit_is_under_at(u, under, day) && !(pred = reorg_predecessor_in(u, under, day))))
				continue;
		}
		row = intake_obligation_row_json(d, s);
		/* a row of a unit that closed into 'under': marked with that predecessor's code */
		if (pred)
			json_object_set_new(row, "predecessor", json_string(pred->code));
		/* the latest version's files: the reader sees the row, so it reads its receipt */
		if (with_files)
			json_object_set_new(row, "files", col(s, 7) ? intake_receipt_files(d, col(s, 7)) : json_array());
		json_array_append_new(list, row);
	}
	sqlite3_reset(s);
	json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(list)));
	json_object_set_new(out, "obligations", list);
	return 0;
}

enum { C_EXPECTED, C_ON_TIME, C_LATE, C_MISSING, C_ACCEPTED, C_RETURNED, C_WAIVED, C_N };
static const char *const counter_names[C_N] = {
	"expected", "on_time", "late", "missing", "accepted", "returned", "waived"
};

static json_t *counters_json(const long *c)
{
	json_t *o = json_object();
	long submitted = c[C_ON_TIME] + c[C_LATE];

	for (int i = 0; i < C_N; i++)
		json_object_set_new(o, counter_names[i], json_integer(c[i]));
	json_object_set_new(o, "submitted_pct", json_real(c[C_EXPECTED] ? 100.0 * (double)submitted / (double)c[C_EXPECTED] : 0));
	json_object_set_new(o, "on_time_pct", json_real(c[C_EXPECTED] ? 100.0 * (double)c[C_ON_TIME] / (double)c[C_EXPECTED] : 0));
	return o;
}

/* completeness_inputs - for a compiled report, per submission made: its inputs when it
 * was filed, and as they stand now ("now" alone while nothing was filed) */
static json_t *completeness_inputs(struct daemon *d, const struct report_type *rt, const char *period)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT o.unit, s.receipt, s.received_at FROM submissions s"
				     " JOIN obligations o ON o.id = s.obligation WHERE o.report = ?1 AND o.period = ?2"
				     " ORDER BY s.received_at, s.id");
	json_t *o = json_object(), *filed = json_array();
	struct inputs in;

	sqlite3_bind_text(s, 1, rt->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, period, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *f;

		if (compiled_inputs(d, rt, period, sqlite3_column_int64(s, 2), &in))
			break;
		f = inputs_json(d, &in);
		inputs_free(&in);
		json_object_set_new(f, "unit", json_string(col(s, 0)));
		json_object_set_new(f, "receipt", json_string(col(s, 1)));
		json_object_set_new(f, "filed_at", json_time(d, sqlite3_column_int64(s, 2)));
		json_array_append_new(filed, f);
	}
	sqlite3_reset(s);
	json_object_set_new(o, "at_filing", filed);
	if (compiled_inputs(d, rt, period, clock_now(d), &in) == 0) {
		json_object_set_new(o, "now", inputs_json(d, &in));
		inputs_free(&in);
	}
	return o;
}

/* op_completeness - per child of 'under': who owes, who sent, on time or late, who is missing */
int op_completeness(struct daemon *d, struct request *rq, json_t *out)
{
	const struct report_type *rt = rq_report(d, rq);
	const struct unit *under, *recv;
	struct cal_period p;
	size_t nchild = 0;
	const struct unit **child;
	long (*cnt)[C_N], total[C_N] = { 0 };
	struct reader rd;
	json_t *rows, *missing;
	sqlite3_stmt *s;

	if (!rt || intake_want_period(d, rq, rt, &p))
		return -1;
	if (json_object_get(rq_body(rq), "under")) {
		if (!(under = rq_unit(d, rq, "under")))
			return -1;
	} else {
		recv = unitset_find(d->units, rt->receiver);
		under = recv && recv->attached ? unit_parent_at(recv, p.due_day) : recv;
		if (!under)
			return rq_error(rq, "missing_field", "give 'under': the unit whose subtree to count");
	}
	authz_reader(d, rq, &rd);
	if (!reader_sees_unit(d, &rd, under->code) && !reader_sees_unit(d, &rd, rt->receiver))
		return authz_read_refused(rq, &rd, "the completeness of another unit's subtree");
	child = xcalloc(d->units->nunits + 1, sizeof(*child));
	cnt = xcalloc(d->units->nunits + 1, sizeof(*cnt));
	for (size_t i = 0; i < d->units->nunits; i++) {
		const struct unit *u = d->units->units[i];

		if (unit_active_at(u, p.due_day) && unit_parent_at(u, p.due_day) == under)
			child[nchild++] = u;
	}
	/* a unit that did not exist on the due day: its predecessors in force then are its rows */
	if (!unit_active_at(under, p.due_day))
		for (size_t i = 0; i < d->units->nunits; i++) {
			const struct unit *u = d->units->units[i];

			if (unit_active_at(u, p.due_day) && reorg_predecessor_in(u, under, p.due_day) == u)
				child[nchild++] = u;
		}
	missing = json_array();
	s = store_stmt(d->store, "SELECT unit, state, on_time, due_at FROM obligations WHERE report = ?1 AND period = ?2");
	sqlite3_bind_text(s, 1, rt->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p.name, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const struct unit *u = unitset_find(d->units, col(s, 0)), *c = u;
		const char *state = obligation_state(d, rt, col(s, 1), sqlite3_column_int64(s, 3));
		size_t k;
		long *row;

		/* walk up to the row (a child of 'under', or a predecessor of it) that holds u */
		for (k = nchild; c && k == nchild; c = unit_parent_at(c, p.due_day))
			for (k = 0; k < nchild && child[k] != c; k++)
				;
		if (k == nchild)
			continue;
		c = child[k];
		row = cnt[k];
		if (!strcmp(state, "waived")) {
			row[C_WAIVED]++;
			continue;
		}
		row[C_EXPECTED]++;
		if (!strcmp(state, "open") || !strcmp(state, "returned") || !strcmp(state, "missing")) {
			row[C_MISSING]++;
			if (!strcmp(col(s, 1), "returned"))
				row[C_RETURNED]++;
			json_array_append_new(missing, json_pack("{s:s,s:s,s:s,s:s}", "unit", u->code, "name", u->name,
								 "parent", c->code, "state", state));
		} else {
			row[sqlite3_column_int(s, 2) ? C_ON_TIME : C_LATE]++;
			if (!strcmp(state, "accepted"))
				row[C_ACCEPTED]++;
		}
	}
	sqlite3_reset(s);
	rows = json_array();
	for (size_t k = 0; k < nchild; k++) {
		json_t *o;

		if (!cnt[k][C_EXPECTED] && !cnt[k][C_WAIVED])
			continue;
		o = counters_json(cnt[k]);
		json_object_set_new(o, "unit", json_string(child[k]->code));
		json_object_set_new(o, "name", json_string(child[k]->name));
		if (unit_parent_at(child[k], p.due_day) != under)
			json_object_set_new(o, "predecessor", json_string(child[k]->code));
		json_array_append_new(rows, o);
		for (int i = 0; i < C_N; i++)
			total[i] += cnt[k][i];
	}
	free(child);
	free(cnt);
	json_object_set_new(out, "report", json_string(rt->code));
	json_object_set_new(out, "report_name", json_string(rt->name));
	json_object_set_new(out, "period", json_string(p.name));
	json_object_set_new(out, "under", json_string(under->code));
	json_object_set_new(out, "due_at", json_time(d, p.due_at));
	json_object_set_new(out, "rows", rows);
	json_object_set_new(out, "total", counters_json(total));
	json_object_set_new(out, "missing", missing);
	if (rt->compiles)
		json_object_set_new(out, "inputs", completeness_inputs(d, rt, p.name));
	return 0;
}

/* op_reports_list - the report types and their schedules */
int op_reports_list(struct daemon *d, struct request *rq, json_t *out)
{
	json_t *list = json_array();

	(void)rq;
	for (size_t i = 0; i < d->cfg->nreports; i++) {
		const struct report_type *rt = &d->cfg->reports[i];
		char sched[96], day[16];

		if (rt->yearly) {
			snprintf(sched, sizeof(sched), "yearly, due %02d-%02d, %d-%d", rt->due_month, rt->due_mday,
				 rt->first_year, rt->last_year);
		} else {
			date_format(rt->once_due, day, sizeof(day));
			snprintf(sched, sizeof(sched), "once (%s), due %s", rt->once_period, day);
		}
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "code", rt->code, "name", rt->name,
						      "receiver", rt->receiver, "schedule", sched));
	}
	json_object_set_new(out, "reports", list);
	return 0;
}

/* intake_receipt_history - every version of the obligation receipt `number` is one of (number,
 * version, received_at, on_time, by version) into out's "versions", and its reviews
 * (action, reason, at, due_at: the new due moment of a return, by time) into "reviews" */
void intake_receipt_history(struct daemon *d, const char *number, json_t *out)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT v.receipt, v.version, v.received_at, v.on_time FROM submissions v"
				     " WHERE v.obligation = (SELECT obligation FROM submissions WHERE receipt = ?1)"
				     " ORDER BY v.version, v.id");
	json_t *versions = json_array(), *reviews = json_array();

	sqlite3_bind_text(s, 1, number, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *v = json_object();

		json_object_set_new(v, "number", json_string(col(s, 0)));
		json_object_set_new(v, "version", json_integer(sqlite3_column_int64(s, 1)));
		json_object_set_new(v, "received_at", json_time(d, sqlite3_column_int64(s, 2)));
		json_object_set_new(v, "on_time", json_boolean(sqlite3_column_int(s, 3)));
		json_array_append_new(versions, v);
	}
	sqlite3_reset(s);
	s = store_stmt(d->store, "SELECT r.action, r.reason, r.at, r.due_at FROM reviews r"
		       " WHERE r.obligation = (SELECT obligation FROM submissions WHERE receipt = ?1) ORDER BY r.at, r.id");
	sqlite3_bind_text(s, 1, number, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *v = json_object();

		json_object_set_new(v, "action", json_string(col(s, 0)));
		json_object_set_new(v, "reason", col(s, 1) ? json_string(col(s, 1)) : json_null());
		json_object_set_new(v, "at", json_time(d, sqlite3_column_int64(s, 2)));
		json_object_set_new(v, "due_at", sqlite3_column_type(s, 3) == SQLITE_NULL ? json_null()
				    : json_time(d, sqlite3_column_int64(s, 3)));
		json_array_append_new(reviews, v);
	}
	sqlite3_reset(s);
	json_object_set_new(out, "versions", versions);
	json_object_set_new(out, "reviews", reviews);
}
