/*
 * proposals_views.c - what the proposal ops show: proposal.show (a dossier, its path of
 * stages, scores and verdict, the title granted), proposals.list and titles.list, each
 * row as its reader may see it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "clock.h"
#include "config.h"
#include "page.h"
#include "proposals.h"
#include "registry.h"
#include "reorg.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "units.h"
#include "utf8.h"

#define LIST_LIMIT 100000
#define DOSSIER_ROWS_MAX 50	/* proposals.list with with_dossier: rows a page */

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* the views ----------------------------------------------------------------------------- */

#define PROPOSAL_COLUMNS "id, programme, year, level, nominee, nominee_name, nominee_kind, place, proposer, state," \
	" stage, decider, due_at, batch, line, version, decision_no, decision_day, reason, note, principal, created_at," \
	" updated_at, self_scores"

/* row_json - one proposal row (PROPOSAL_COLUMNS) */
static json_t *row_json(struct daemon *d, sqlite3_stmt *s)
{
	const struct unitset *units = registry_units(d);
	const struct programme *pg = cfg_programme(d->cfg, col(s, 1));
	const struct unit *pu = unitset_find(units, col(s, 8)), *du = col(s, 11) ? unitset_find(units, col(s, 11)) : NULL;
	const char *state = col(s, 9);
	int64_t due = sqlite3_column_int64(s, 12);
	json_t *o = json_pack("{s:I,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i}",
			      "id", (json_int_t)sqlite3_column_int64(s, 0), "programme", col(s, 1),
			      "programme_name", pg ? pg->name : col(s, 1), "year", sqlite3_column_int(s, 2),
			      "level", sqlite3_column_int(s, 3), "nominee", col(s, 4), "nominee_name", col(s, 5),
			      "nominee_kind", col(s, 6), "proposer", col(s, 8), "proposer_name", pu ? pu->name : col(s, 8),
			      "state", state, "stage", sqlite3_column_int(s, 10), "stages", pg ? (int)pg->nstages : 0);

	json_object_set_new(o, "kind", json_string(pg && pg->award ? "award" : "title"));
	json_object_set_new(o, "place", *col(s, 7) ? json_string(col(s, 7)) : json_null());
	json_object_set_new(o, "decider", col(s, 11) ? json_string(col(s, 11)) : json_null());
	json_object_set_new(o, "decider_name", du ? json_string(du->name) : json_null());
	json_object_set_new(o, "due_at", !strcmp(state, "submitted") && due ? json_time(d, due) : json_null());
	json_object_set_new(o, "overdue", json_boolean(!strcmp(state, "submitted") && due && clock_now(d) > due));
	json_object_set_new(o, "batch", sqlite3_column_type(s, 13) == SQLITE_NULL ? json_null()
			    : json_integer(sqlite3_column_int64(s, 13)));
	json_object_set_new(o, "line", sqlite3_column_type(s, 14) == SQLITE_NULL ? json_null()
			    : json_integer(sqlite3_column_int(s, 14)));
	json_object_set_new(o, "version", json_integer(sqlite3_column_int(s, 15)));
	json_object_set_new(o, "decision_no", col(s, 16) ? json_string(col(s, 16)) : json_null());
	json_object_set_new(o, "decision_date", sqlite3_column_type(s, 17) == SQLITE_NULL ? json_null()
			    : json_day(sqlite3_column_int(s, 17)));
	json_object_set_new(o, "reason", col(s, 18) ? json_string(col(s, 18)) : json_null());
	return o;
}

/* stage_status - a stage of the path as it stands */
static const char *stage_status(const char *state, int current, int stage)
{
	if (!current || stage > current)
		return "pending";
	if (stage < current)
		return "approved";
	if (!strcmp(state, "submitted"))
		return "deciding";
	return state;
}

/* path_json - every stage: its rule, its unit (as decided, or as it resolves today), who may decide */
static json_t *path_json(struct daemon *d, const struct programme *pg, const struct proposal *p)
{
	const struct unit *proposer = unitset_find(registry_units(d), p->proposer);
	json_t *path = json_array();

	for (size_t i = 0; i < pg->nstages; i++) {
		const struct stage *st = &pg->stages[i];
		const struct unit *u = NULL;
		json_t *who = json_array();
		int n = (int)i + 1, skipped = 0;
		int32_t today = registry_today(d);

		if (n == p->stage && p->decider)
			u = unitset_find(registry_units(d), p->decider);
		if (n < p->stage) {
			sqlite3_stmt *s = store_stmt(d->store, "SELECT decider FROM proposal_events WHERE proposal = ?1 AND stage = ?2"
						     " AND action = 'approve' ORDER BY id DESC LIMIT 1");

			sqlite3_bind_int64(s, 1, p->id);
			sqlite3_bind_int(s, 2, n);
			if (sqlite3_step(s) == SQLITE_ROW && col(s, 0))
				u = unitset_find(registry_units(d), col(s, 0));
			else
				skipped = 1;	/* not in force when the dossier passed it (or moved on) */
			sqlite3_reset(s);
		}
		/* a stage ahead that is not in force today is not waited for */
		if (n > p->stage && !span_contains(st->from, st->until, today))
			skipped = 1;
		if (!u && proposer && !skipped)
			u = proposal_stage_decider(d, st, proposer, today);
		for (size_t k = 0; u && k < d->cfg->nprincipals; k++)
			if (!strcmp(d->cfg->principals[k].unit, u->code) && (d->cfg->principals[k].roles & st->role)
			    && principal_in_force(d->cfg, &d->cfg->principals[k], today))
				json_array_append_new(who, json_string(d->cfg->principals[k].name));
		json_array_append_new(path, json_pack("{s:i,s:s,s:s?,s:s?,s:s,s:i,s:o,s:s}", "stage", n, "decider", st->decider,
						      "unit", u ? u->code : NULL, "unit_name", u ? u->name : NULL,
						      "role", cfg_role_name(st->role), "days", st->days, "may_decide", who,
						      "status", skipped ? "skipped" : stage_status(p->state, p->stage, n)));
	}
	return path;
}

/* verdict_json - a rubric verdict */
static json_t *verdict_json(const struct programme *pg, json_t *scores)
{
	struct verdict v;
	json_t *o;

	proposal_verdict(pg, scores, &v);
	o = json_pack("{s:O,s:f,s:i,s:b,s:b}", "scores", scores, "total", v.total, "max", v.max_total,
		      "complete", v.complete, "passed", v.passed);
	json_object_set_new(o, "threshold", pg->threshold >= 0 ? json_integer(pg->threshold) : json_null());
	json_object_set_new(o, "why", v.passed ? json_null() : json_string(v.why));
	return o;
}

/* title_kind - a registry row as its programme's kind says: an award (được tặng) has no
 * level and no validity period; a title or award approved against its rubric carries the
 * exception (xét đặc cách): who allowed it, when, and the reason */
static void title_kind(struct daemon *d, const struct programme *pg, int64_t proposal, json_t *t)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT principal, at, reason, stage FROM proposal_events"
				     " WHERE proposal = ?1 AND override = 1 ORDER BY id");
	json_t *ex = json_array();

	json_object_set_new(t, "kind", json_string(pg && pg->award ? "award" : "title"));
	if (pg && pg->award) {
		json_object_set_new(t, "level", json_null());
		json_object_set_new(t, "valid_from", json_null());
		json_object_set_new(t, "valid_to", json_null());
	}
	sqlite3_bind_int64(s, 1, proposal);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(ex, json_pack("{s:s,s:o,s:s,s:i}", "principal", col(s, 0),
						    "at", json_time(d, sqlite3_column_int64(s, 1)), "reason", col(s, 2) ? col(s, 2) : "",
						    "stage", sqlite3_column_int(s, 3)));
	sqlite3_reset(s);
	json_object_set_new(t, "exception", json_array_size(ex) ? ex : json_null());
	if (!json_array_size(ex))
		json_decref(ex);
}

/* proposal_dossier - a proposal's row (PROPOSAL_COLUMNS) in full, as proposal.show answers
 * it: with its note, path, scores, dossier files, history and title; the one builder of a
 * proposal's detail, for proposal.show, the ops that act on one proposal and
 * proposals.list with with_dossier (row is only read: its cursor stays where it is) */
static json_t *proposal_dossier(struct daemon *d, sqlite3_stmt *row)
{
	int64_t id = sqlite3_column_int64(row, 0);
	const struct programme *pg;
	struct proposal p;
	sqlite3_stmt *s;
	json_t *o = row_json(d, row), *a, *x;

	json_object_set_new(o, "note", col(row, 19) ? json_string(col(row, 19)) : json_null());
	json_object_set_new(o, "principal", json_string(col(row, 20)));
	json_object_set_new(o, "created_at", json_time(d, sqlite3_column_int64(row, 21)));
	json_object_set_new(o, "updated_at", json_time(d, sqlite3_column_int64(row, 22)));
	if (proposal_load(d, id, &p))
		return o;
	pg = cfg_programme(d->cfg, p.programme);
	if (pg) {
		json_object_set_new(o, "path", path_json(d, pg, &p));
		json_object_set_new(o, "self_assessment", verdict_json(pg, p.self_scores));
		x = proposal_scores(d, &p);
		json_object_set_new(o, "assessment", verdict_json(pg, x));
		json_decref(x);
	}
	a = json_array();
	s = store_stmt(d->store, "SELECT version, name, size, sha256 FROM proposal_files WHERE proposal = ?1 ORDER BY version, idx");
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:i,s:s,s:I,s:s}", "version", sqlite3_column_int(s, 0), "name", col(s, 1),
						   "size", (json_int_t)sqlite3_column_int64(s, 2), "sha256", col(s, 3)));
	sqlite3_reset(s);
	json_object_set_new(o, "files", a);
	a = json_array();
	s = store_stmt(d->store, "SELECT at, principal, action, stage, decider, reason, scores, total, passed, override, decision_no, state"
		       " FROM proposal_events WHERE proposal = ?1 ORDER BY id");
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *e = json_pack("{s:o,s:s,s:s,s:i,s:s?,s:s?,s:s?,s:b,s:s}", "at", json_time(d, sqlite3_column_int64(s, 0)),
				      "principal", col(s, 1), "action", col(s, 2), "stage", sqlite3_column_int(s, 3),
				      "decider", col(s, 4), "reason", col(s, 5), "decision_no", col(s, 10),
				      "override", sqlite3_column_int(s, 9), "state", col(s, 11));

		json_object_set_new(e, "exception", json_boolean(sqlite3_column_int(s, 9)));

		json_object_set_new(e, "scores", col(s, 6) ? json_loads(col(s, 6), 0, NULL) : json_null());
		json_object_set_new(e, "total", sqlite3_column_type(s, 7) == SQLITE_NULL ? json_null() : json_real(sqlite3_column_double(s, 7)));
		json_object_set_new(e, "passed", sqlite3_column_type(s, 8) == SQLITE_NULL ? json_null() : json_boolean(sqlite3_column_int(s, 8)));
		json_array_append_new(a, e);
	}
	sqlite3_reset(s);
	json_object_set_new(o, "history", a);
	s = store_stmt(d->store, "SELECT decision_no, decision_day, valid_from, valid_to, granted_by FROM titles WHERE proposal = ?1");
	sqlite3_bind_int64(s, 1, id);
	x = NULL;
	if (sqlite3_step(s) == SQLITE_ROW)
		x = json_pack("{s:s,s:o,s:o,s:o,s:s}", "decision_no", col(s, 0), "decision_date", json_day(sqlite3_column_int(s, 1)),
			      "valid_from", json_day(sqlite3_column_int(s, 2)), "valid_to", json_day(sqlite3_column_int(s, 3)),
			      "granted_by", col(s, 4));
	sqlite3_reset(s);
	if (x) {
		title_kind(d, pg, id, x);
		json_object_set_new(o, "title", x);
	}
	proposal_clear(&p);
	return o;
}

/* proposal_json - the row, and with full its path, dossier, scores, history and title */
json_t *proposal_json(struct daemon *d, int64_t id, int full)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT " PROPOSAL_COLUMNS " FROM proposals WHERE id = ?1");
	json_t *o = NULL;

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = full ? proposal_dossier(d, s) : row_json(d, s);
	sqlite3_reset(s);
	return o;
}

/* op_proposal_show - one proposal in full */
int op_proposal_show(struct daemon *d, struct request *rq, json_t *out)
{
	long long id;
	struct reader rd;
	json_t *o;

	if (rq_int(rq, "proposal", 1, 1, INT64_MAX, &id))
		return -1;
	if (!(o = proposal_json(d, id, 1)))
		return rq_error(rq, ERR_UNKNOWN_PROPOSAL, "there is no proposal #%lld; 'thiduactl proposals list' shows them", id);
	authz_reader(d, rq, &rd);
	if (!reader_sees_proposal(d, &rd, id, json_string_value(json_object_get(o, "proposer")),
				  json_string_value(json_object_get(o, "place")), json_string_value(json_object_get(o, "nominee")),
				  json_string_value(json_object_get(o, "decider")))) {
		json_decref(o);
		return authz_read_refused(rq, &rd, "a proposal of another unit that never waited for its decision");
	}
	json_object_set_new(out, "proposal", o);
	return 0;
}

/* in_subtree - u is 'under' or below it today, or closed into it (then *via is the
 * predecessor's code, for the row to be marked with) */
static int in_subtree(struct daemon *d, const char *code, const struct unit *under, const char **via)
{
	const struct unit *u = code && *code ? unitset_find(registry_units(d), code) : NULL, *pred;

	if (u && (u == under || unit_is_under_at(u, under, registry_today(d))))
		return 1;
	if (u && (pred = reorg_predecessor_in(u, under, registry_today(d)))) {
		*via = pred->code;
		return 1;
	}
	return 0;
}

/* op_proposals_list - filtered by programme, year, stage (a number or the deciding unit),
 * state, batch and subtree; with_dossier: each row in full, as proposal.show answers it,
 * at most DOSSIER_ROWS_MAX a page */
int op_proposals_list(struct daemon *d, struct request *rq, json_t *out)
{
	static const char *const states[] = { "draft", "submitted", "returned", "rejected", "withdrawn", "granted", NULL };
	const char *programme = rq_str(rq, "programme", 0), *state = rq_str(rq, "state", 0);
	const char *stage_s = NULL, *decider = NULL;
	const struct unit *under = NULL;
	long long year = 0, batch = 0, limit, after, stage = 0;
	json_t *list, *row, *v = json_object_get(rq_body(rq), "stage");
	const char *via;
	struct reader rd;
	int known = 0, ry, rb, more = 0, dossier = 0;
	size_t bytes = 0;
	sqlite3_stmt *s;

	if (rq_failed(rq) || (ry = rq_int(rq, "year", 0, 2000, 2100, &year)) < 0 || (rb = rq_int(rq, "batch", 0, 1, INT64_MAX, &batch)) < 0
	    || rq_bool(rq, "with_dossier", &dossier) < 0
	    || page_limit(rq, dossier ? DOSSIER_ROWS_MAX : PAGE_ROWS_MAX, &limit) < 0 || page_cursor(rq, "after", &after) < 0)
		return -1;
	if (dossier && limit > DOSSIER_ROWS_MAX)
		return rq_error(rq, ERR_INVALID_FIELD, "with 'with_dossier', 'limit' is 1 to %d; ask for the next page with 'after'",
				DOSSIER_ROWS_MAX);
	if (programme && !proposal_want_programme(d, rq, "programme"))
		return -1;
	if (json_object_get(rq_body(rq), "under") && !(under = proposal_want_unit(d, rq, "under")))
		return -1;
	for (size_t i = 0; state && states[i]; i++)
		known |= !strcmp(states[i], state);
	if (state && !known)
		return rq_error(rq, ERR_INVALID_FIELD, "state '%s' is not one of draft, submitted, returned, rejected, withdrawn, granted", state);
	if (json_is_string(v))
		stage_s = json_string_value(v);
	if (json_is_integer(v) || (stage_s && *stage_s >= '0' && *stage_s <= '9')) {
		if (rq_int(rq, "stage", 0, 1, 8, &stage) < 0)
			return -1;
	} else if (stage_s) {
		if (!proposal_want_unit(d, rq, "stage"))
			return -1;
		decider = stage_s;
	} else if (v && !json_is_null(v)) {
		return rq_error(rq, ERR_INVALID_FIELD, "'stage' is a stage number (1, 2, ...) or the code of the deciding unit");
	}
	if ((stage || decider) && !state)
		state = "submitted";
	s = store_stmt(d->store, "SELECT " PROPOSAL_COLUMNS " FROM proposals"
		       " WHERE (?1 IS NULL OR programme = ?1) AND (?2 IS NULL OR year = ?2) AND (?3 IS NULL OR state = ?3)"
		       " AND (?4 IS NULL OR stage = ?4) AND (?5 IS NULL OR decider = ?5) AND (?6 IS NULL OR batch = ?6)"
		       " AND (?8 IS NULL OR id > ?8) ORDER BY id LIMIT ?7");
	sqlite3_bind_text(s, 1, programme, -1, SQLITE_STATIC);
	if (ry == 0)
		sqlite3_bind_int(s, 2, (int)year);
	sqlite3_bind_text(s, 3, state, -1, SQLITE_STATIC);
	if (stage)
		sqlite3_bind_int(s, 4, (int)stage);
	sqlite3_bind_text(s, 5, decider, -1, SQLITE_STATIC);
	if (rb == 0)
		sqlite3_bind_int64(s, 6, batch);
	authz_reader(d, rq, &rd);
	/* one more says whether there are more; a subtree or a limited reader skips rows */
	sqlite3_bind_int64(s, 7, under || !rd.all ? LIST_LIMIT * 10 : limit + 1);
	if (after)
		sqlite3_bind_int64(s, 8, after);
	list = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		via = NULL;
		if (under && !in_subtree(d, col(s, 8), under, &via) && !in_subtree(d, col(s, 7), under, &via)
		    && !in_subtree(d, col(s, 4), under, &via))
			continue;
		if (!reader_sees_proposal(d, &rd, sqlite3_column_int64(s, 0), col(s, 8), col(s, 7), col(s, 4), col(s, 11)))
			continue;
		if ((long long)json_array_size(list) == limit) {
			more = 1;
			break;
		}
		row = dossier ? proposal_dossier(d, s) : row_json(d, s);
		if (page_full(&bytes, dossier ? json_dumpb(row, NULL, 0, JSON_COMPACT) : page_row_bytes(s))) {
			json_decref(row);
			more = 1;
			break;
		}
		if (via)
			json_object_set_new(row, "predecessor", json_string(via));
		json_array_append_new(list, row);
	}
	sqlite3_reset(s);
	json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(list)));
	json_object_set_new(out, "more", json_boolean(more));
	json_object_set_new(out, "proposals", list);
	return 0;
}

/* op_titles_list - the registry: by programme, level, nominee (code or part of the name),
 * subtree, and the titles valid on a date */
int op_titles_list(struct daemon *d, struct request *rq, json_t *out)
{
	const char *programme = rq_str(rq, "programme", 0), *nominee = rq_str(rq, "nominee", 0);
	const struct unit *under = NULL;
	const char *via;
	int32_t at = 0;
	long long level = 0, limit, after;
	int rat, rl, more = 0;
	size_t bytes = 0;
	json_t *list;
	sqlite3_stmt *s;

	if (rq_failed(rq) || (rat = rq_day(rq, "valid_at", 0, &at)) < 0 || (rl = rq_int(rq, "level", 0, 1, 2, &level)) < 0
	    || page_limit(rq, PAGE_ROWS_MAX, &limit) < 0 || page_cursor(rq, "after", &after) < 0)
		return -1;
	if (programme && !proposal_want_programme(d, rq, "programme"))
		return -1;
	if (json_object_get(rq_body(rq), "under") && !(under = proposal_want_unit(d, rq, "under")))
		return -1;
	s = store_stmt(d->store, "SELECT id, proposal, programme, level, year, nominee, nominee_name, nominee_kind, place, proposer,"
		       " granted_by, decision_no, decision_day, valid_from, valid_to FROM titles"
		       " WHERE (?1 IS NULL OR programme = ?1) AND (?2 IS NULL OR nominee = ?2 OR instr(nominee_name, ?2) > 0)"
		       " AND (?3 IS NULL OR (valid_from <= ?3 AND valid_to >= ?3)) AND (?4 IS NULL OR level = ?4)"
		       " AND (?5 IS NULL OR (decision_day, id) > (SELECT decision_day, id FROM titles WHERE id = ?5))"
		       " ORDER BY decision_day, id");
	sqlite3_bind_text(s, 1, programme, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nominee, -1, SQLITE_STATIC);
	if (rat == 0)
		sqlite3_bind_int(s, 3, at);
	if (rl == 0)
		sqlite3_bind_int(s, 4, (int)level);
	if (after)
		sqlite3_bind_int64(s, 5, after);
	list = json_array();
	while (sqlite3_step(s) == SQLITE_ROW) {
		const struct programme *pg = cfg_programme(d->cfg, col(s, 2));
		json_t *t;

		via = NULL;
		if (under && !in_subtree(d, col(s, 9), under, &via) && !in_subtree(d, col(s, 8), under, &via)
		    && !in_subtree(d, col(s, 5), under, &via))
			continue;
		if ((long long)json_array_size(list) == limit || page_full(&bytes, page_row_bytes(s))) {
			more = 1;
			break;
		}
		t = json_pack("{s:I,s:I,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o}",
			      "id", (json_int_t)sqlite3_column_int64(s, 0), "proposal", (json_int_t)sqlite3_column_int64(s, 1),
			      "programme", col(s, 2), "programme_name", pg ? pg->name : col(s, 2), "level", sqlite3_column_int(s, 3),
			      "year", sqlite3_column_int(s, 4), "nominee", col(s, 5), "nominee_name", col(s, 6),
			      "nominee_kind", col(s, 7), "proposer", col(s, 9), "granted_by", col(s, 10), "decision_no", col(s, 11),
			      "decision_date", json_day(sqlite3_column_int(s, 12)), "valid_from", json_day(sqlite3_column_int(s, 13)),
			      "valid_to", json_day(sqlite3_column_int(s, 14)));
		json_object_set_new(t, "place", *col(s, 8) ? json_string(col(s, 8)) : json_null());
		title_kind(d, pg, sqlite3_column_int64(s, 1), t);
		if (via)
			json_object_set_new(t, "predecessor", json_string(via));
		json_array_append_new(list, t);
	}
	sqlite3_reset(s);
	json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(list)));
	json_object_set_new(out, "more", json_boolean(more));
	json_object_set_new(out, "titles", list);
	return 0;
}
