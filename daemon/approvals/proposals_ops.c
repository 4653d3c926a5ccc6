/*
 * proposals_ops.c - the proposal ops: proposal.create, proposal.submit, proposal.decide,
 * proposal.withdraw, proposal.show, proposals.list and titles.list (the rules live in
 * proposals.c, the import in proposals_import.c). Every query has bound parameters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs.h"
#include "clock.h"
#include "config.h"
#include "events.h"
#include "jdump.h"
#include "lookup.h"
#include "proposals.h"
#include "registry.h"
#include "reorg.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "units.h"
#include "utf8.h"

#define MAX_NOTE 10000
#define MAX_NAME 255

/* request fields ------------------------------------------------------------------------ */

/* proposal_want_programme - the programme named by key */
const struct programme *proposal_want_programme(struct daemon *d, struct request *rq, const char *key)
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

/* proposal_want_unit - the unit named by key (required), or an error reply */
const struct unit *proposal_want_unit(struct daemon *d, struct request *rq, const char *key)
{
	const char *code = rq_str(rq, key, 1);
	const struct unit *u;

	if (!code)
		return NULL;
	if ((u = unitset_find(registry_units(d), code)))
		return u;
	rq_unit_unknown(rq, registry_units(d), code);
	return NULL;
}

/* want_proposal - the proposal named by "proposal" (its number), loaded into p */
static int want_proposal(struct daemon *d, struct request *rq, struct proposal *p, const struct programme **pg)
{
	long long id;

	if (rq_int(rq, "proposal", 1, 1, INT64_MAX, &id))
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
	if (!(*out = proposal_scores_parse(pg, v, why, sizeof(why))))
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
	proposal_verdict(pg, p->self_scores, &v);
	if (!v.complete)
		return rq_error(rq, "self_assessment_incomplete", "proposal #%lld cannot be submitted without its self-assessment: %s; send the scores (--score CRITERION=VALUE)",
				(long long)p->id, v.why);
	if (first && programme_span_refusal(d, pg, why, sizeof(why)))
		return rq_error(rq, "programme_not_in_force", "%s", why);
	if (first && proposal_window_refusal(d, pg, p->year, now, why, sizeof(why)))
		return rq_error(rq, "window_closed", "%s", why);
	if (p->level == 2 && proposal_level2_refusal(d, pg, p->nominee, p->place, registry_today(d), why, sizeof(why)))
		return rq_error(rq, "level1_required", "%s", why);
	ev = proposal_event_add(d, p, rq_principal(rq), first ? "submit" : "resubmit", first ? 1 : p->stage, NULL, NULL, NULL, &v, 0,
		       NULL, "submitted");
	if (ev < 0)
		return rq_error(rq, "internal", "the submission could not be stored: %s", store_errmsg(d->store));
	if (proposal_enter_stage(d, p, pg, first ? 1 : p->stage, ev, group, why, sizeof(why)))
		return *why ? rq_error(rq, "no_decider", "%s", why)
			    : rq_error(rq, "internal", "the submission could not be stored: %s", store_errmsg(d->store));
	return 0;
}

/* op_proposal_create - a new proposal: a draft, or submitted at once with "submit": true */
int op_proposal_create(struct daemon *d, struct request *rq, json_t *out)
{
	const struct programme *pg = proposal_want_programme(d, rq, "programme");
	const struct unit *proposer = pg ? proposal_want_unit(d, rq, "unit") : NULL;
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

	if (!proposer || rq_int(rq, "year", 1, 2000, 2100, &year) || rq_int(rq, "level", 0, 1, 2, &level) < 0
	    || rq_bool(rq, "submit", &submit) < 0)
		return -1;
	code = rq_str(rq, "nominee", 0);
	name = rq_str(rq, "nominee_name", 0);
	hamlet = rq_str(rq, "hamlet", 0);
	if (rq_failed(rq) || want_text(rq, "note", &note))
		return -1;
	if (proposal_precheck(d, rq, pg, proposer, level, year, today, "propose"))
		return -1;
	if (proposal_nominee_resolve(d, pg, proposer, code, name, hamlet, &nm, why, sizeof(why)))
		return rq_error(rq, "invalid_nominee", "%s", why);
	if ((other = proposal_existing(d, pg->code, &nm, (int)year, (int)level, state, sizeof(state))))
		return rq_error(rq, "already_proposed", "%s (%s) already has proposal #%lld (%s) for %s %lld level %lld; act on that one",
				nm.name, nm.code, (long long)other, state, pg->code, year, level);
	if (proposal_nominee_refusal(d, pg, &nm, (int)year, (int)level, today, &refused, why, sizeof(why)))
		return rq_error(rq, refused, "%s", why);
	if (level == 2 && proposal_level2_refusal(d, pg, nm.code, nm.place, today, why, sizeof(why)))
		return rq_error(rq, "level1_required", "%s", why);
	if (proposal_window_refusal(d, pg, (int)year, now, why, sizeof(why)))
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
	if (proposal_event_add(d, &p, rq_principal(rq), "create", 0, NULL, note, NULL, NULL, 0, NULL, "draft") < 0) {
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
	proposer = unitset_find(registry_units(d), p.proposer);
	if (!proposer) {
		rq_error(rq, "unknown_unit", "the proposing unit %s of proposal #%lld is no longer in the registry", p.proposer,
			 (long long)p.id);
		goto out;
	}
	if (strcmp(p.state, "draft") && strcmp(p.state, "returned")) {
		rq_error(rq, "bad_state", "proposal #%lld is %s: only a draft or a returned proposal is submitted", (long long)p.id, p.state);
		goto out;
	}
	if (proposal_may_propose(d, rq, proposer, "submit proposals") || want_text(rq, "note", &note) || check_files(rq)
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
	rc = rq_int(rq, "batch", 0, 1, INT64_MAX, &batch);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (json_object_get(rq_body(rq), "proposal"))
			return rq_error(rq, "invalid_field", "give either 'proposal' (one proposal) or 'batch' (an import), not both");
		if (json_object_get(rq_body(rq), "scores"))
			return rq_error(rq, "invalid_field", "scores are given per proposal: decide those one by one (--score needs an ID, not --batch)");
		dc.group = 1;
		return proposal_batch_decide(d, rq, out, batch, &dc);
	}
	if (want_proposal(d, rq, &p, &pg))
		return -1;
	if (want_scores(rq, pg, &dc.scores)) {
		proposal_clear(&p);
		return -1;
	}
	rc = proposal_decide_one(d, rq, pg, &p, &dc);
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
	proposer = unitset_find(registry_units(d), p.proposer);
	if (proposer && proposal_may_propose(d, rq, proposer, "withdraw proposals"))
		goto out;
	was_submitted = !strcmp(p.state, "submitted");
	ev = proposal_event_add(d, &p, rq_principal(rq), "withdraw", p.stage, p.decider, reason, NULL, NULL, 0, NULL, "withdrawn");
	s = store_stmt(d->store, "UPDATE proposals SET state = 'withdrawn', reason = ?2, next_at = NULL, cycle = cycle + 1,"
		       " updated_at = ?3 WHERE id = ?1");
	sqlite3_bind_int64(s, 1, p.id);
	sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, clock_now(d));
	rc = ev < 0 || sqlite3_step(s) != SQLITE_DONE;
	sqlite3_reset(s);
	if (!rc && was_submitted && p.decider)
		rc = proposal_notify(d, &p, ev, "withdrawn", p.decider, 0);
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
