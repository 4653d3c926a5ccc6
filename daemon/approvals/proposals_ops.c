/*
 * proposals_ops.c - the proposal ops: proposal.create, proposal.submit, proposal.decide,
 * proposal.withdraw, proposal.show, proposals.list and titles.list (the rules live in
 * proposals.c, the import in proposals_import.c). Every query has bound parameters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jdump.h"
#include "log.h"
#include "proposals.h"
#include "reorg.h"
#include "thiduad.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"

#define MAX_NOTE 10000
#define MAX_NAME 255
#define LIST_LIMIT 100000

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* request fields ------------------------------------------------------------------------ */

/* want_programme - the programme named by key */
const struct programme *want_programme(struct daemon *d, struct request *rq, const char *key)
{
	const char *code = rq_str(rq, key, 1), *best = NULL;
	const struct programme *pg;
	size_t best_d = (size_t)-1;
	char list[512] = "";
	size_t used = 0;

	if (!code)
		return NULL;
	if ((pg = cfg_programme(d->cfg, code)))
		return pg;
	for (size_t i = 0; i < d->cfg->nprogrammes; i++) {
		size_t dist = text_distance(code, d->cfg->programmes[i].code);

		if (dist < best_d) {
			best_d = dist;
			best = d->cfg->programmes[i].code;
		}
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", d->cfg->programmes[i].code);
	}
	if (best && best_d <= strlen(code) / 2 + 1)
		rq_error(rq, "unknown_programme", "there is no programme '%s' (did you mean %s?); the programmes are %s", code, best, list);
	else if (d->cfg->nprogrammes)
		rq_error(rq, "unknown_programme", "there is no programme '%s'; the programmes are %s", code, list);
	else
		rq_error(rq, "unknown_programme", "there is no programme '%s': the configuration declares none (docs/CONFIG.md, 'programmes')", code);
	return NULL;
}

/* find_unit - the unit named by key */
static const struct unit *find_unit(struct daemon *d, struct request *rq, const char *key)
{
	const char *code = rq_str(rq, key, 1);
	const struct unit *u;

	if (!code)
		return NULL;
	if ((u = unitset_find(proposal_units(d), code)))
		return u;
	rq_unit_unknown(rq, proposal_units(d), code);
	return NULL;
}

/* want_proposal - the proposal named by "proposal" (its number), loaded into p */
static int want_proposal(struct daemon *d, struct request *rq, struct proposal *p, const struct programme **pg)
{
	long long id;

	if (want_int(rq, "proposal", 1, 1, INT64_MAX, &id))
		return -1;
	if (proposal_load(d, id, p))
		return rq_error(rq, "unknown_proposal", "there is no proposal #%lld; 'thiduactl proposals list' shows them", id);
	*pg = cfg_programme(d->cfg, p->programme);
	if (!*pg) {
		rq_error(rq, "unknown_programme", "proposal #%lld belongs to programme %s, which the configuration no longer declares; restore it to act on the proposal",
			 id, p->programme);
		proposal_clear(p);
		return -1;
	}
	return 0;
}

/* check_files - the "files" names match the frames, each named properly and not empty */
static int check_files(struct request *rq)
{
	json_t *names = json_object_get(rq_body(rq), "files"), *v;
	size_t n = rq_nfiles(rq), i;

	if (!n && (!names || json_is_null(names)))
		return 0;
	if (rq_file_names(rq))
		return -1;
	json_array_foreach(names, i, v) {
		size_t size;

		rq_file(rq, i, &size);
		if (!size)
			return rq_error(rq, "empty_file", "file \"%s\" is empty: send the dossier's content", json_string_value(v));
	}
	return 0;
}

/* store_files - the frames as dossier version 'version' of proposal id */
static int store_files(struct daemon *d, struct request *rq, int64_t id, int version)
{
	json_t *names = json_object_get(rq_body(rq), "files");
	char hex[65];

	for (size_t i = 0; i < rq_nfiles(rq); i++) {
		const char *name = json_string_value(json_array_get(names, i));
		size_t size;
		const void *data = rq_file(rq, i, &size);
		sqlite3_stmt *s;
		int rc, kept = blobs_put(d, rq, name, data, size, hex);

		if (kept < 0)
			return -1;
		s = store_stmt(d->store, "INSERT INTO proposal_files (proposal, version, idx, name, size, sha256, data)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int(s, 2, version);
		sqlite3_bind_int(s, 3, (int)i);
		sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, (sqlite3_int64)size);
		sqlite3_bind_text(s, 6, hex, -1, SQLITE_TRANSIENT);
		blobs_bind(s, 7, data, size, kept);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return rq_error(rq, "internal", "the dossier could not be stored: %s; nothing was recorded", store_errmsg(d->store));
	}
	return 0;
}

/* want_scores - "scores" parsed against pg; *out NULL when absent */
static int want_scores(struct request *rq, const struct programme *pg, json_t **out)
{
	json_t *v = json_object_get(rq_body(rq), "scores");
	char why[512];

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!(*out = scores_parse(pg, v, why, sizeof(why))))
		return rq_error(rq, "invalid_score", "%s", why);
	return 0;
}

/* want_note - an optional note or reason of reasonable length */
static int want_text(struct request *rq, const char *key, const char **out)
{
	*out = rq_str(rq, key, 0);
	if (rq_failed(rq))
		return -1;
	if (*out && strlen(*out) > MAX_NOTE)
		return rq_error(rq, "invalid_field", "'%s' is %zu bytes; keep it under %d", key, strlen(*out), MAX_NOTE);
	return 0;
}

/* the submission ------------------------------------------------------------------------- */

/* proposal_submit - into stage 1 (a draft) or back to the stage that returned it */
int proposal_submit(struct daemon *d, struct request *rq, const struct programme *pg, struct proposal *p, int group)
{
	int64_t now = clock_now(d), ev;
	int first = !strcmp(p->state, "draft");
	struct verdict v;
	char why[512];

	if (!first && strcmp(p->state, "returned"))
		return rq_error(rq, "bad_state", "proposal #%lld is %s: only a draft or a returned proposal is submitted", (long long)p->id,
				p->state);
	rubric_verdict(pg, p->self_scores, &v);
	if (!v.complete)
		return rq_error(rq, "self_assessment_incomplete", "proposal #%lld cannot be submitted without its self-assessment: %s; send the scores (--score CRITERION=VALUE)",
				(long long)p->id, v.why);
	if (first && programme_span_refusal(d, pg, why, sizeof(why)))
		return rq_error(rq, "programme_not_in_force", "%s", why);
	if (first && window_refusal(d, pg, p->year, now, why, sizeof(why)))
		return rq_error(rq, "window_closed", "%s", why);
	if (p->level == 2 && level2_refusal(d, pg, p->nominee, p->place, registry_today(d), why, sizeof(why)))
		return rq_error(rq, "level1_required", "%s", why);
	ev = event_add(d, p, rq_principal(rq), first ? "submit" : "resubmit", first ? 1 : p->stage, NULL, NULL, NULL, &v, 0,
		       NULL, "submitted");
	if (ev < 0)
		return rq_error(rq, "internal", "the submission could not be stored: %s", store_errmsg(d->store));
	if (enter_stage(d, p, pg, first ? 1 : p->stage, ev, group, why, sizeof(why)))
		return *why ? rq_error(rq, "no_decider", "%s", why)
			    : rq_error(rq, "internal", "the submission could not be stored: %s", store_errmsg(d->store));
	return 0;
}

/* op_proposal_create - a new proposal: a draft, or submitted at once with "submit": true */
int op_proposal_create(struct daemon *d, struct request *rq, json_t *out)
{
	const struct programme *pg = want_programme(d, rq, "programme");
	const struct unit *proposer = pg ? find_unit(d, rq, "unit") : NULL;
	const char *code, *name, *hamlet, *note, *refused;
	long long year = 0, level = 1;
	int32_t today = registry_today(d);
	json_t *scores = NULL;
	struct nominee nm;
	struct proposal p;
	char why[512], state[16];
	int64_t now = clock_now(d), id, other;
	sqlite3_stmt *s;
	int rc, submit = 0;

	if (!proposer || want_int(rq, "year", 1, 2000, 2100, &year) || want_int(rq, "level", 0, 1, 2, &level) < 0
	    || rq_bool(rq, "submit", &submit) < 0)
		return -1;
	code = rq_str(rq, "nominee", 0);
	name = rq_str(rq, "nominee_name", 0);
	hamlet = rq_str(rq, "hamlet", 0);
	if (rq_failed(rq) || want_text(rq, "note", &note))
		return -1;
	if (proposal_precheck(d, rq, pg, proposer, level, year, today, "propose"))
		return -1;
	if (nominee_resolve(d, pg, proposer, code, name, hamlet, &nm, why, sizeof(why)))
		return rq_error(rq, "invalid_nominee", "%s", why);
	if ((other = proposal_existing(d, pg->code, &nm, (int)year, (int)level, state, sizeof(state))))
		return rq_error(rq, "already_proposed", "%s (%s) already has proposal #%lld (%s) for %s %lld level %lld; act on that one",
				nm.name, nm.code, (long long)other, state, pg->code, year, level);
	if (nominee_refusal(d, pg, &nm, (int)year, (int)level, today, &refused, why, sizeof(why)))
		return rq_error(rq, refused, "%s", why);
	if (level == 2 && level2_refusal(d, pg, nm.code, nm.place, today, why, sizeof(why)))
		return rq_error(rq, "level1_required", "%s", why);
	if (window_refusal(d, pg, (int)year, now, why, sizeof(why)))
		return rq_error(rq, "window_closed", "%s", why);
	if (check_files(rq) || want_scores(rq, pg, &scores))
		return -1;
	s = store_stmt(d->store, "INSERT INTO proposals (programme, year, level, nominee, nominee_name, nominee_kind, place,"
		       " proposer, self_scores, note, principal, created_at, updated_at)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)");
	sqlite3_bind_text(s, 1, pg->code, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)year);
	sqlite3_bind_int(s, 3, (int)level);
	sqlite3_bind_text(s, 4, nm.code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, nm.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, pg->nominee, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, nm.place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, proposer->code, -1, SQLITE_STATIC);
	if (scores)
		sqlite3_bind_text(s, 9, jdump(scores, JSON_COMPACT | JSON_SORT_KEYS), -1, free);
	sqlite3_bind_text(s, 10, note, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, rq_principal(rq), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 12, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	json_decref(scores);
	if (rc != SQLITE_DONE)
		return rq_error(rq, store_last_full(d->store) ? "storage_full" : "internal",
				"the proposal could not be stored: %s", store_errmsg(d->store));
	id = sqlite3_last_insert_rowid(store_db(d->store));
	if (store_files(d, rq, id, 1) || proposal_load(d, id, &p))
		return -1;
	if (event_add(d, &p, rq_principal(rq), "create", 0, NULL, note, NULL, NULL, 0, NULL, "draft") < 0) {
		proposal_clear(&p);
		return rq_error(rq, "internal", "the proposal could not be stored: %s", store_errmsg(d->store));
	}
	if (submit && proposal_submit(d, rq, pg, &p, 0)) {
		proposal_clear(&p);
		return -1;
	}
	events_emit(d, "proposal.created", json_pack("{s:I,s:s,s:s,s:s,s:s}", "proposal", (json_int_t)id, "programme",
						     pg->code, "nominee", nm.code, "proposer", proposer->code, "state", p.state));
	proposal_clear(&p);
	json_object_set_new(out, "proposal", proposal_json(d, id, 1));
	return 0;
}

/* op_proposal_submit - submit a draft, or resubmit a returned proposal, with corrections:
 * new dossier files (a new version) and self-assessed scores */
int op_proposal_submit(struct daemon *d, struct request *rq, json_t *out)
{
	const struct programme *pg;
	const struct unit *proposer;
	struct proposal p;
	json_t *scores = NULL;
	const char *note;
	int version, rc = -1;
	sqlite3_stmt *s;

	if (want_proposal(d, rq, &p, &pg))
		return -1;
	proposer = unitset_find(proposal_units(d), p.proposer);
	if (!proposer) {
		rq_error(rq, "unknown_unit", "the proposing unit %s of proposal #%lld is no longer in the registry", p.proposer,
			 (long long)p.id);
		goto out;
	}
	if (strcmp(p.state, "draft") && strcmp(p.state, "returned")) {
		rq_error(rq, "bad_state", "proposal #%lld is %s: only a draft or a returned proposal is submitted", (long long)p.id, p.state);
		goto out;
	}
	if (may_propose(d, rq, proposer, "submit proposals") || want_text(rq, "note", &note) || check_files(rq)
	    || want_scores(rq, pg, &scores))
		goto out;
	if (scores)
		json_object_update(p.self_scores, scores);
	version = p.version;
	if (rq_nfiles(rq)) {
		s = store_stmt(d->store, "SELECT count(*) FROM proposal_files WHERE proposal = ?1 AND version = ?2");
		sqlite3_bind_int64(s, 1, p.id);
		sqlite3_bind_int(s, 2, version);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0)
			version++;
		sqlite3_reset(s);
		if (store_files(d, rq, p.id, version))
			goto out;
	}
	s = store_stmt(d->store, "UPDATE proposals SET self_scores = ?2, version = ?3, note = coalesce(?4, note) WHERE id = ?1");
	sqlite3_bind_int64(s, 1, p.id);
	sqlite3_bind_text(s, 2, jdump(p.self_scores, JSON_COMPACT | JSON_SORT_KEYS), -1, free);
	sqlite3_bind_int(s, 3, version);
	sqlite3_bind_text(s, 4, note, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		rc = rq_error(rq, "internal", "the correction could not be stored: %s", store_errmsg(d->store));
		goto out;
	}
	p.version = version;
	if ((rc = proposal_submit(d, rq, pg, &p, 0)))
		goto out;
	events_emit(d, "proposal.submitted", json_pack("{s:I,s:s,s:i,s:s}", "proposal", (json_int_t)p.id, "programme", p.programme,
						       "stage", p.stage, "decider", p.decider));
	json_object_set_new(out, "proposal", proposal_json(d, p.id, 1));
out:
	json_decref(scores);
	proposal_clear(&p);
	return rc ? -1 : 0;
}

/* op_proposal_decide - approve, return, reject or score at the current stage: one
 * proposal ("proposal") or every proposal of an import ("batch") */
int op_proposal_decide(struct daemon *d, struct request *rq, json_t *out)
{
	static const char *const actions[] = { "approve", "return", "reject", "score", NULL };
	const char *action = rq_str(rq, "action", 1);
	struct decision dc = { 0 };
	const struct programme *pg;
	struct proposal p;
	long long batch;
	int32_t today = registry_today(d);
	int known = 0, rc;

	if (!action)
		return -1;
	for (size_t i = 0; actions[i]; i++)
		known |= !strcmp(actions[i], action);
	if (!known)
		return rq_error(rq, "invalid_field", "action \"%s\" is not one of approve, return, reject, score", action);
	dc.action = action;
	dc.decision_day = today;
	dc.decision_no = rq_str(rq, "decision_no", 0);
	if (rq_failed(rq) || want_text(rq, "reason", &dc.reason)
	    || (rc = rq_day(rq, "decision_date", 0, &dc.decision_day)) < 0)
		return -1;
	dc.decision_day_given = rc == 0;
	if (dc.decision_no && (!*dc.decision_no || strlen(dc.decision_no) > 100))
		return rq_error(rq, "invalid_field", "the decision number must be 1 to 100 bytes, e.g. 15/QĐ-UBND");
	if (dc.decision_day > today)
		return rq_error(rq, "invalid_field", "the decision date is after today: record a decision once it is signed");
	rc = want_int(rq, "batch", 0, 1, INT64_MAX, &batch);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (json_object_get(rq_body(rq), "proposal"))
			return rq_error(rq, "invalid_field", "give either 'proposal' (one proposal) or 'batch' (an import), not both");
		if (json_object_get(rq_body(rq), "scores"))
			return rq_error(rq, "invalid_field", "scores are given per proposal: decide those one by one (--score needs an ID, not --batch)");
		dc.group = 1;
		return batch_decide(d, rq, out, batch, &dc);
	}
	if (want_proposal(d, rq, &p, &pg))
		return -1;
	if (want_scores(rq, pg, &dc.scores)) {
		proposal_clear(&p);
		return -1;
	}
	rc = decide_one(d, rq, pg, &p, &dc);
	json_decref(dc.scores);
	if (rc == 0)
		json_object_set_new(out, "proposal", proposal_json(d, p.id, 1));
	proposal_clear(&p);
	return rc;
}

/* op_proposal_withdraw - the proposer takes a proposal back before the last decision */
int op_proposal_withdraw(struct daemon *d, struct request *rq, json_t *out)
{
	const struct programme *pg;
	const struct unit *proposer;
	struct proposal p;
	const char *reason;
	int64_t ev;
	int was_submitted, rc = -1;
	sqlite3_stmt *s;

	if (want_proposal(d, rq, &p, &pg))
		return -1;
	if (want_text(rq, "reason", &reason))
		goto out;
	if (strcmp(p.state, "draft") && strcmp(p.state, "submitted") && strcmp(p.state, "returned")) {
		rq_error(rq, "bad_state", "proposal #%lld is %s: only a draft, submitted or returned proposal can be withdrawn",
			 (long long)p.id, p.state);
		goto out;
	}
	proposer = unitset_find(proposal_units(d), p.proposer);
	if (proposer && may_propose(d, rq, proposer, "withdraw proposals"))
		goto out;
	was_submitted = !strcmp(p.state, "submitted");
	ev = event_add(d, &p, rq_principal(rq), "withdraw", p.stage, p.decider, reason, NULL, NULL, 0, NULL, "withdrawn");
	s = store_stmt(d->store, "UPDATE proposals SET state = 'withdrawn', reason = ?2, next_at = NULL, cycle = cycle + 1,"
		       " updated_at = ?3 WHERE id = ?1");
	sqlite3_bind_int64(s, 1, p.id);
	sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, clock_now(d));
	rc = ev < 0 || sqlite3_step(s) != SQLITE_DONE;
	sqlite3_reset(s);
	if (!rc && was_submitted && p.decider)
		rc = notify(d, &p, ev, "withdrawn", p.decider, 0);
	if (rc) {
		rq_error(rq, "internal", "the withdrawal could not be stored: %s", store_errmsg(d->store));
		goto out;
	}
	events_emit(d, "proposal.withdrawn", json_pack("{s:I,s:s}", "proposal", (json_int_t)p.id, "programme", p.programme));
	json_object_set_new(out, "proposal", proposal_json(d, p.id, 1));
out:
	proposal_clear(&p);
	return rc ? -1 : 0;
}

/* the views ----------------------------------------------------------------------------- */

#define PROPOSAL_COLUMNS "id, programme, year, level, nominee, nominee_name, nominee_kind, place, proposer, state," \
	" stage, decider, due_at, batch, line, version, decision_no, decision_day, reason, note, principal, created_at," \
	" updated_at, self_scores"

/* row_json - one proposal row (PROPOSAL_COLUMNS) */
static json_t *row_json(struct daemon *d, sqlite3_stmt *s)
{
	const struct unitset *units = proposal_units(d);
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
	const struct unit *proposer = unitset_find(proposal_units(d), p->proposer);
	json_t *path = json_array();

	for (size_t i = 0; i < pg->nstages; i++) {
		const struct stage *st = &pg->stages[i];
		const struct unit *u = NULL;
		json_t *who = json_array();
		int n = (int)i + 1, skipped = 0;
		int32_t today = registry_today(d);

		if (n == p->stage && p->decider)
			u = unitset_find(proposal_units(d), p->decider);
		if (n < p->stage) {
			sqlite3_stmt *s = store_stmt(d->store, "SELECT decider FROM proposal_events WHERE proposal = ?1 AND stage = ?2"
						     " AND action = 'approve' ORDER BY id DESC LIMIT 1");

			sqlite3_bind_int64(s, 1, p->id);
			sqlite3_bind_int(s, 2, n);
			if (sqlite3_step(s) == SQLITE_ROW && col(s, 0))
				u = unitset_find(proposal_units(d), col(s, 0));
			else
				skipped = 1;	/* not in force when the dossier passed it (or moved on) */
			sqlite3_reset(s);
		}
		/* a stage ahead that is not in force today is not waited for */
		if (n > p->stage && !span_contains(st->from, st->until, today))
			skipped = 1;
		if (!u && proposer && !skipped)
			u = stage_decider(d, st, proposer, today);
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

	rubric_verdict(pg, scores, &v);
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

/* proposal_json - the row, and with full its path, dossier, scores, history and title */
json_t *proposal_json(struct daemon *d, int64_t id, int full)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT " PROPOSAL_COLUMNS " FROM proposals WHERE id = ?1");
	const struct programme *pg;
	struct proposal p;
	json_t *o = NULL, *a, *x;

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		o = row_json(d, s);
		if (full) {
			json_object_set_new(o, "note", col(s, 19) ? json_string(col(s, 19)) : json_null());
			json_object_set_new(o, "principal", json_string(col(s, 20)));
			json_object_set_new(o, "created_at", json_time(d, sqlite3_column_int64(s, 21)));
			json_object_set_new(o, "updated_at", json_time(d, sqlite3_column_int64(s, 22)));
		}
	}
	sqlite3_reset(s);
	if (!o || !full || proposal_load(d, id, &p))
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

/* op_proposal_show - one proposal in full */
int op_proposal_show(struct daemon *d, struct request *rq, json_t *out)
{
	long long id;
	struct reader rd;
	json_t *o;

	if (want_int(rq, "proposal", 1, 1, INT64_MAX, &id))
		return -1;
	if (!(o = proposal_json(d, id, 1)))
		return rq_error(rq, "unknown_proposal", "there is no proposal #%lld; 'thiduactl proposals list' shows them", id);
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
	const struct unit *u = code && *code ? unitset_find(proposal_units(d), code) : NULL, *pred;

	if (u && (u == under || unit_is_under_at(u, under, registry_today(d))))
		return 1;
	if (u && (pred = reorg_predecessor_in(u, under, registry_today(d)))) {
		*via = pred->code;
		return 1;
	}
	return 0;
}

/* op_proposals_list - filtered by programme, year, stage (a number or the deciding unit),
 * state, batch and subtree */
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
	int known = 0, ry, rb, more = 0;
	size_t bytes = 0;
	sqlite3_stmt *s;

	if (rq_failed(rq) || (ry = want_int(rq, "year", 0, 2000, 2100, &year)) < 0 || (rb = want_int(rq, "batch", 0, 1, INT64_MAX, &batch)) < 0
	    || page_limit(rq, PAGE_ROWS_MAX, &limit) < 0 || page_cursor(rq, "after", &after) < 0)
		return -1;
	if (programme && !want_programme(d, rq, "programme"))
		return -1;
	if (json_object_get(rq_body(rq), "under") && !(under = find_unit(d, rq, "under")))
		return -1;
	for (size_t i = 0; state && states[i]; i++)
		known |= !strcmp(states[i], state);
	if (state && !known)
		return rq_error(rq, "invalid_field", "state '%s' is not one of draft, submitted, returned, rejected, withdrawn, granted", state);
	if (json_is_string(v))
		stage_s = json_string_value(v);
	if (json_is_integer(v) || (stage_s && *stage_s >= '0' && *stage_s <= '9')) {
		if (want_int(rq, "stage", 0, 1, 8, &stage) < 0)
			return -1;
	} else if (stage_s) {
		if (!find_unit(d, rq, "stage"))
			return -1;
		decider = stage_s;
	} else if (v && !json_is_null(v)) {
		return rq_error(rq, "invalid_field", "'stage' is a stage number (1, 2, ...) or the code of the deciding unit");
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
		if ((long long)json_array_size(list) == limit || page_full(&bytes, page_row_bytes(s))) {
			more = 1;
			break;
		}
		row = row_json(d, s);
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

	if (rq_failed(rq) || (rat = rq_day(rq, "valid_at", 0, &at)) < 0 || (rl = want_int(rq, "level", 0, 1, 2, &level)) < 0
	    || page_limit(rq, PAGE_ROWS_MAX, &limit) < 0 || page_cursor(rq, "after", &after) < 0)
		return -1;
	if (programme && !want_programme(d, rq, "programme"))
		return -1;
	if (json_object_get(rq_body(rq), "under") && !(under = find_unit(d, rq, "under")))
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
