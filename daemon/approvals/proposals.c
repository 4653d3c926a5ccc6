/*
 * proposals.c - the rules of the approval workflows (see proposals.h): who may propose and
 * decide, the rubric, the dossier window and the level-2 rule, the transitions between
 * stages, the registry of titles, escalation of overdue stages and the values of the
 * messages they send (their words are templates: templates.c).
 *
 * A stage's deciding unit is resolved when the dossier reaches it, relative to the
 * proposer on that day (its parent, its first non-attached ancestor at a level, or a named
 * unit; a closed unit with one successor hands over to it), and stored: who may decide a
 * dossier does not change under it when the hierarchy does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "calendar.h"
#include "clock.h"
#include "config.h"
#include "events.h"
#include "jdump.h"
#include "log.h"
#include "outbox.h"
#include "proposals.h"
#include "proto.h"
#include "registry.h"
#include "reorg.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "xalloc.h"

#define ESCALATE_BATCH 2000

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	return col(s, i) ? xstrdup(col(s, i)) : NULL;
}

#define PROPOSAL_LOAD "SELECT id, programme, year, level, nominee, nominee_name, nominee_kind, place, proposer," \
	" state, stage, decider, cycle, version, self_scores, batch, due_at, line FROM proposals WHERE id = ?1"

/* proposal_load - one row into p */
int proposal_load(struct daemon *d, int64_t id, struct proposal *p)
{
	sqlite3_stmt *s = store_stmt(d->store, PROPOSAL_LOAD);
	int rc = -1;

	memset(p, 0, sizeof(*p));
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		p->id = sqlite3_column_int64(s, 0);
		p->programme = col_dup(s, 1);
		p->year = sqlite3_column_int(s, 2);
		p->level = sqlite3_column_int(s, 3);
		p->nominee = col_dup(s, 4);
		p->nominee_name = col_dup(s, 5);
		p->nominee_kind = col_dup(s, 6);
		p->place = col_dup(s, 7);
		p->proposer = col_dup(s, 8);
		p->state = col_dup(s, 9);
		p->stage = sqlite3_column_int(s, 10);
		p->decider = col_dup(s, 11);
		p->cycle = sqlite3_column_int(s, 12);
		p->version = sqlite3_column_int(s, 13);
		p->self_scores = col(s, 14) ? json_loads(col(s, 14), 0, NULL) : NULL;
		p->batch = sqlite3_column_int64(s, 15);
		p->due_at = sqlite3_column_int64(s, 16);
		p->line = sqlite3_column_int(s, 17);
		if (!p->self_scores)
			p->self_scores = json_object();
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

/* proposal_clear - free what proposal_load allocated */
void proposal_clear(struct proposal *p)
{
	free(p->programme);
	free(p->nominee);
	free(p->nominee_name);
	free(p->nominee_kind);
	free(p->place);
	free(p->proposer);
	free(p->state);
	free(p->decider);
	json_decref(p->self_scores);
	memset(p, 0, sizeof(*p));
}

/* who may act ----------------------------------------------------------------------- */

/* acting - the request's principal, NULL for the local administrator */
static const struct principal *acting(struct daemon *d, struct request *rq)
{
	return cfg_principal_at(d->cfg, rq_principal(rq), registry_today(d));
}

/* proposal_may_propose - a submitter (or admin) of u or of a unit above it */
int proposal_may_propose(struct daemon *d, struct request *rq, const struct unit *u, const char *what)
{
	const struct principal *p = acting(d, rq);
	const struct unit *home;

	if (!p)
		return 0;
	home = unitset_find(registry_units(d), p->unit);
	if ((p->roles & (ROLE_SUBMITTER | ROLE_ADMIN))
	    && (!strcmp(p->unit, u->code) || (home && unit_is_under_at(u, home, registry_today(d)))))
		return 0;
	return rq_error(rq, "not_permitted", "%s (%s, %s) may not %s for %s (%s): that takes a submitter of %s or of a unit above it%s",
			p->name, p->display_name, p->unit, what, u->code, u->name, u->code,
			(p->roles & (ROLE_SUBMITTER | ROLE_ADMIN)) ? "" : ", and this principal holds no submitter role");
}

/* roles_text - "an approver", "a reviewer or an approver" */
static void roles_text(unsigned roles, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = 0;
	for (unsigned r = ROLE_REVIEWER; r <= ROLE_ADMIN && used < size; r <<= 1)
		if (roles & r)
			used += (size_t)snprintf(buf + used, size - used, "%s%s %s", used ? " or " : "",
						 r == ROLE_ADMIN || r == ROLE_APPROVER ? "an" : "a", cfg_role_name(r));
}

/* proposal_may_decide - the role in the stored deciding unit; the local administrator always */
int proposal_may_decide(struct daemon *d, struct request *rq, const struct programme *pg, const struct proposal *p,
	       unsigned roles)
{
	const struct principal *me = acting(d, rq);
	const struct unit *u = unitset_find(registry_units(d), p->decider);
	char who[1024] = "", rtext[96];
	size_t used = 0, n = 0;

	if (!me || (!strcmp(me->unit, p->decider) && (me->roles & roles)))
		return 0;
	for (size_t i = 0; i < d->cfg->nprincipals && used < sizeof(who); i++) {
		const struct principal *x = &d->cfg->principals[i];

		if (!strcmp(x->unit, p->decider) && (x->roles & roles) && principal_in_force(d->cfg, x, registry_today(d))) {
			used += (size_t)snprintf(who + used, sizeof(who) - used, "%s%s (%s)", n ? ", " : "", x->name,
						 x->display_name);
			n++;
		}
	}
	roles_text(roles, rtext, sizeof(rtext));
	if (!n)
		return rq_error(rq, "not_permitted", "%s (%s, %s) may not decide stage %d of %s for proposal #%lld: it is decided by %s of %s (%s), and no principal of %s holds that role in the configuration; add one under 'principals', or let the local administrator (thiduactl without --as) decide",
				me->name, me->display_name, me->unit, p->stage, pg->code, (long long)p->id, rtext,
				p->decider, u ? u->name : p->decider, p->decider);
	return rq_error(rq, "not_permitted", "%s (%s, %s) may not decide stage %d of %s for proposal #%lld: it is decided by %s of %s (%s): %s",
			me->name, me->display_name, me->unit, p->stage, pg->code, (long long)p->id, rtext, p->decider,
			u ? u->name : p->decider, who);
}

/* the dossier window and the level-2 rule --------------------------------------------- */

/* proposal_window_refusal - the dossier deadline of the year, rolled to a working day, has passed */
int proposal_window_refusal(struct daemon *d, const struct programme *pg, int year, int64_t now, char *why, size_t size)
{
	int32_t day;
	char buf[16];
	size_t used;
	int y, open = 0;
	unsigned m, dd;

	if (!pg->dossier_month)
		return 0;
	day = cal_roll(d->cfg, days_from_civil(year, (unsigned)pg->dossier_month, (unsigned)pg->dossier_mday));
	if (now <= cal_end_of_day(d->cfg, day))
		return 0;
	cal_vn_day(day, buf, sizeof(buf));
	used = (size_t)snprintf(why, size, "the dossier window of %s (%s) for %d closed at the end of %s; ", pg->code,
				pg->name, year, buf);
	/* what can be proposed now: this year or the next (proposal_precheck), while open */
	civil_from_days(day_of_time(now, d->cfg->utc_offset), &y, &m, &dd);
	for (int k = y; k <= y + 1 && used < size; k++) {
		day = cal_roll(d->cfg, days_from_civil(k, (unsigned)pg->dossier_month, (unsigned)pg->dossier_mday));
		if (now > cal_end_of_day(d->cfg, day))
			continue;
		cal_vn_day(day, buf, sizeof(buf));
		used += (size_t)snprintf(why + used, size - used, "%s%d (dossier by %s)", open ? " or " : "proposals can now be made for ",
					 k, buf);
		open++;
	}
	if (!open && used < size)
		snprintf(why + used, size - used, "no year can be proposed now");
	return -1;
}

/* proposal_level2_refusal - a valid level-1 title granted at least level2_after_months ago */
int proposal_level2_refusal(struct daemon *d, const struct programme *pg, const char *nominee, const char *place,
		   int32_t today, char *why, size_t size)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT decision_no, valid_from, valid_to FROM titles"
				     " WHERE programme = ?1 AND nominee = ?2 AND place = ?3 AND level = 1 AND valid_to >= ?4"
				     " ORDER BY valid_from");
	char since[16], from[16], no[128] = "";
	int32_t valid_from = 0, allowed = 0;
	int found = 0;

	sqlite3_bind_text(s, 1, pg->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nominee, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, place, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, today);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int32_t vf = sqlite3_column_int(s, 1);

		found = 1;
		valid_from = vf;
		xstrlcpy(no, col(s, 0), sizeof(no));
		allowed = cal_add_months(vf, pg->level2_after_months);
		if (allowed <= today)
			break;
	}
	sqlite3_reset(s);
	if (found && allowed <= today)
		return 0;
	if (!found) {
		snprintf(why, size, "%s holds no valid level-1 title of %s (%s): level 2 is for holders of level 1 granted at least %d months earlier; propose level 1 first",
			 nominee, pg->code, pg->name, pg->level2_after_months);
		return -1;
	}
	cal_vn_day(valid_from, since, sizeof(since));
	cal_vn_day(allowed, from, sizeof(from));
	snprintf(why, size, "%s holds level 1 of %s (%s) only since %s (decision %s): level 2 may be proposed %d months after level 1, from %s",
		 nominee, pg->code, pg->name, since, no, pg->level2_after_months, from);
	return -1;
}

/* events and messages ------------------------------------------------------------------ */

/* proposal_event_add - one row of the proposal's history */
int64_t proposal_event_add(struct daemon *d, const struct proposal *p, const char *principal, const char *action,
		  int stage, const char *decider, const char *reason, json_t *scores, const struct verdict *v,
		  int override, const char *decision_no, const char *state_after)
{
	sqlite3_stmt *s = store_stmt(d->store, "INSERT INTO proposal_events (proposal, at, principal, action, stage, decider,"
				     " reason, scores, total, passed, override, decision_no, state)"
				     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
	int rc;

	sqlite3_bind_int64(s, 1, p->id);
	sqlite3_bind_int64(s, 2, clock_now(d));
	sqlite3_bind_text(s, 3, principal, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, stage);
	sqlite3_bind_text(s, 6, decider, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, reason, -1, SQLITE_STATIC);
	if (scores && json_object_size(scores))
		sqlite3_bind_text(s, 8, jdump(scores, JSON_COMPACT | JSON_SORT_KEYS), -1, free);
	if (v) {
		sqlite3_bind_double(s, 9, v->total);
		sqlite3_bind_int(s, 10, v->passed);
	}
	sqlite3_bind_int(s, 11, override);
	sqlite3_bind_text(s, 12, decision_no, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 13, state_after, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? sqlite3_last_insert_rowid(store_db(d->store)) : -1;
}

/* proposal_message - the pending outbox message of key, or (once it left) one of its own
 * (outbox_join) */
static int64_t proposal_message(struct daemon *d, const struct proposal *p, const char *key, const char *step,
				const char *recipient, int64_t now)
{
	char year[16], own[600];
	struct outbox_msg m = {
		.recipient = recipient, .kind = "proposal", .report = p->programme, .period = year, .step = step,
		.moment = now, .created_at = now, .send_after = cal_working_moment(d->cfg, now), .late = 0,
	};

	snprintf(year, sizeof(year), "%d", p->year);
	snprintf(own, sizeof(own), "%s/p%lld", key, (long long)p->id);
	return outbox_join(d, key, own, &m);
}

/* proposal_notify - one notice: proposal p, its event, in the message for (step, recipient) */
int proposal_notify(struct daemon *d, const struct proposal *p, int64_t event, const char *step, const char *recipient,
	   int group)
{
	int64_t now = clock_now(d), outbox;
	char key[512];
	sqlite3_stmt *s;
	int rc;

	recipient = reorg_recipient(d, recipient, registry_today(d));
	if (group && p->batch)
		snprintf(key, sizeof(key), "proposal/b%lld/%s/s%d/t%lld/%s", (long long)p->batch, step, p->stage,
			 (long long)now, recipient);
	else
		snprintf(key, sizeof(key), "proposal/%lld/e%lld/%s/%s", (long long)p->id, (long long)event, step, recipient);
	outbox = proposal_message(d, p, key, step, recipient, now);
	if (outbox < 0)
		return -1;
	s = store_stmt(d->store, "INSERT OR IGNORE INTO proposal_notices (outbox, proposal, event, stage, due_at)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)");
	sqlite3_bind_int64(s, 1, outbox);
	sqlite3_bind_int64(s, 2, p->id);
	sqlite3_bind_int64(s, 3, event);
	sqlite3_bind_int(s, 4, p->stage);
	if (p->due_at)
		sqlite3_bind_int64(s, 5, p->due_at);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* transitions ------------------------------------------------------------------------- */

/* follow - a unit closed on day with exactly one successor hands over to it */
static const struct unit *follow(const struct unit *u, int32_t day)
{
	for (int hops = 0; u && !unit_active_at(u, day) && u->nsuccessors == 1 && hops < 16; hops++)
		u = u->successors[0];
	return u;
}

/* proposal_stage_decider - the deciding unit of st for the proposer on day, or NULL */
const struct unit *proposal_stage_decider(struct daemon *d, const struct stage *st, const struct unit *proposer,
					int32_t day)
{
	const struct unitset *units = registry_units(d);
	const struct unit *u = NULL;

	switch (st->kind) {
	case DK_PARENT:
		u = unit_parent_at(proposer, day);
		break;
	case DK_LEVEL: {
		int lvl = unitset_level_index(units, st->arg);

		for (int guard = 0; proposer && guard < 64; guard++, proposer = unit_parent_at(proposer, day))
			if (proposer->level == lvl && !proposer->attached)
				break;
		u = proposer;
		break;
	}
	case DK_UNIT:
		u = unitset_find(units, st->arg);
		break;
	}
	return follow(u, day);
}

/* stage_due - the time limit of a stage entered today: its working days, but never past
 * the programme's decision date of the year when that is still ahead */
static int64_t stage_due(struct daemon *d, const struct programme *pg, const struct stage *st, int year, int32_t today)
{
	int32_t due = cal_add_working_days(d->cfg, today, st->days);

	if (pg->decision_month) {
		int32_t last = cal_roll(d->cfg, days_from_civil(year, (unsigned)pg->decision_month, (unsigned)pg->decision_mday));

		if (last > today && last < due)
			due = last;
	}
	return cal_end_of_day(d->cfg, due);
}

/* proposal_enter_stage - p reaches stage n */
int proposal_enter_stage(struct daemon *d, struct proposal *p, const struct programme *pg, int n, int64_t event,
		int group, char *why, size_t size)
{
	const struct unit *proposer = unitset_find(registry_units(d), p->proposer), *u;
	const struct stage *st;
	int32_t today = registry_today(d);
	int64_t now = clock_now(d), due;
	sqlite3_stmt *s;
	int rc;

	why[0] = 0;
	if (stage_skip_refusal(d, pg, &n, today, why, size))
		return -1;
	st = &pg->stages[n - 1];
	if (!proposer) {
		snprintf(why, size, "the proposing unit %s is no longer in the unit registry; restore it or withdraw proposal #%lld",
			 p->proposer, (long long)p->id);
		return -1;
	}
	u = proposal_stage_decider(d, st, proposer, today);
	if (!u || !unit_active_at(u, today)) {
		snprintf(why, size, "stage %d of %s is decided by \"%s\", and %s (%s) has no such unit in force today; fix the stages of programme %s in the configuration",
			 n, pg->code, st->decider, proposer->code, proposer->name, pg->code);
		return -1;
	}
	due = stage_due(d, pg, st, p->year, today);
	s = store_stmt(d->store, "UPDATE proposals SET state = 'submitted', stage = ?2, decider = ?3, stage_at = ?4,"
		       " due_at = ?5, next_at = ?5 + 1, reason = NULL, cycle = cycle + 1, updated_at = ?4 WHERE id = ?1");
	sqlite3_bind_int64(s, 1, p->id);
	sqlite3_bind_int(s, 2, n);
	sqlite3_bind_text(s, 3, u->code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, due);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	free(p->state);
	p->state = xstrdup("submitted");
	free(p->decider);
	p->decider = xstrdup(u->code);
	p->stage = n;
	p->due_at = due;
	p->cycle++;
	return proposal_notify(d, p, event, "pending", u->code, group);
}

/* finish - p leaves the stages: returned, rejected or granted */
static int finish(struct daemon *d, struct proposal *p, const char *state, const char *reason,
		  const char *decision_no, int32_t decision_day)
{
	sqlite3_stmt *s = store_stmt(d->store, "UPDATE proposals SET state = ?2, reason = ?3, decision_no = ?4,"
				     " decision_day = ?5, next_at = NULL, cycle = cycle + 1, updated_at = ?6 WHERE id = ?1");
	int rc;

	sqlite3_bind_int64(s, 1, p->id);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, decision_no, -1, SQLITE_STATIC);
	if (decision_no)
		sqlite3_bind_int(s, 5, decision_day);
	sqlite3_bind_int64(s, 6, clock_now(d));
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	free(p->state);
	p->state = xstrdup(state);
	p->cycle++;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* grant - the registry row of a granted title */
static int grant(struct daemon *d, struct request *rq, const struct programme *pg, const struct proposal *p,
		 const char *decision_no, int32_t day)
{
	sqlite3_stmt *s = store_stmt(d->store, "INSERT INTO titles (proposal, programme, level, year, nominee, nominee_name,"
				     " nominee_kind, place, proposer, granted_by, decision_no, decision_day, valid_from, valid_to,"
				     " principal, granted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15)");
	int rc;

	sqlite3_bind_int64(s, 1, p->id);
	sqlite3_bind_text(s, 2, p->programme, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, p->level);
	sqlite3_bind_int(s, 4, p->year);
	sqlite3_bind_text(s, 5, p->nominee, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->nominee_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, p->nominee_kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, p->place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, p->proposer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, p->decider, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, decision_no, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 12, day);
	/* an award is given once: no validity period (an empty span, never valid on a day) */
	sqlite3_bind_int(s, 13, pg->award ? day - 1 : cal_add_months(day, pg->valid_months) - 1);
	sqlite3_bind_text(s, 14, rq_principal(rq), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 15, clock_now(d));
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* state_hint - what to do about a proposal that is not waiting for a decision */
static const char *state_hint(const char *state)
{
	if (!strcmp(state, "draft"))
		return "the proposer must submit it first (proposal.submit)";
	if (!strcmp(state, "returned"))
		return "it is back with the proposer, who may correct and resubmit it";
	if (!strcmp(state, "granted"))
		return "it was granted; the title is in the registry (titles.list)";
	return "it is closed; a new proposal is needed";
}

static int db_error(struct daemon *d, struct request *rq, const char *what)
{
	return rq_error(rq, store_last_full(d->store) ? "storage_full" : "internal",
			"%s could not be stored: %s; nothing was changed", what, store_errmsg(d->store));
}

/* proposal_decide_one - approve (to the next stage or granted), return, reject, or score only */
int proposal_decide_one(struct daemon *d, struct request *rq, const struct programme *pg, struct proposal *p,
	       const struct decision *dc)
{
	const char *a = dc->action, *principal = rq_principal(rq);
	const struct stage *st;
	struct verdict v;
	json_t *scores;
	int64_t ev;
	int last, override = 0, stage = p->stage;
	char why[512], decider[80];

	if (strcmp(p->state, "submitted"))
		return rq_error(rq, "bad_state", "proposal #%lld is %s, not waiting for a decision: %s", (long long)p->id,
				p->state, state_hint(p->state));
	if (p->stage < 1 || (size_t)p->stage > pg->nstages)
		return rq_error(rq, "bad_state", "proposal #%lld is at stage %d, but programme %s now has %zu stages; withdraw it and propose again",
				(long long)p->id, p->stage, pg->code, pg->nstages);
	st = &pg->stages[p->stage - 1];
	if (proposal_may_decide(d, rq, pg, p, !strcmp(a, "score") ? st->role | ROLE_REVIEWER | ROLE_APPROVER : st->role))
		return -1;
	/* the last stage in force: a later one that has not begun (or has ended) is not waited for */
	last = !stage_in_force(pg, p->stage + 1, registry_today(d));
	if ((!strcmp(a, "return") || !strcmp(a, "reject")) && (!dc->reason || !*dc->reason))
		return rq_error(rq, "reason_required", "to %s proposal #%lld give a reason the proposer will read (--reason)",
				a, (long long)p->id);
	if (dc->decision_no && !(last && !strcmp(a, "approve")))
		return rq_error(rq, "invalid_field", "a decision number is given only when approving the last stage (stage %zu of %s); proposal #%lld is at stage %d: leave out --decision-no",
				pg->nstages, pg->code, (long long)p->id, p->stage);
	if (last && !strcmp(a, "approve") && (!dc->decision_no || !*dc->decision_no))
		return rq_error(rq, "decision_no_required", "stage %d is the last of %s: approving proposal #%lld grants the title and needs the number of the decision (--decision-no, e.g. 15/QĐ-UBND)",
				p->stage, pg->code, (long long)p->id);
	if (!strcmp(a, "score") && !dc->scores)
		return rq_error(rq, "missing_field", "scoring proposal #%lld needs 'scores' {\"CRITERION\": value} (--score C=V)",
				(long long)p->id);
	scores = proposal_scores(d, p);
	if (dc->scores)
		json_object_update(scores, dc->scores);
	proposal_verdict(pg, scores, &v);
	json_decref(scores);
	if (!strcmp(a, "approve") && !v.passed) {
		if (proposal_exception_refusal(d, rq, pg, p, &v, dc->reason))
			return -1;
		override = 1;
	}
	if (last && !strcmp(a, "approve")) {
		if (proposal_decision_day_refusal(d, p, dc->decision_day, dc->decision_day_given, why, sizeof(why)))
			return rq_error(rq, "invalid_field", "%s", why);
		if (p->level == 1 && proposal_title_overlap(d, pg, p->nominee, p->place, dc->decision_day, why, sizeof(why)))
			return rq_error(rq, "title_held", "%s", why);
	}
	xstrlcpy(decider, p->decider ? p->decider : "", sizeof(decider));
	if (!strcmp(a, "score")) {
		ev = proposal_event_add(d, p, principal, "score", stage, decider, dc->reason, dc->scores, &v, 0, NULL, p->state);
		return ev < 0 ? db_error(d, rq, "the scores") : 0;
	}
	if (!strcmp(a, "approve") && !last) {
		ev = proposal_event_add(d, p, principal, "approve", stage, decider, dc->reason, dc->scores, &v, override, NULL, "submitted");
		if (ev < 0)
			return db_error(d, rq, "the decision");
		if (proposal_enter_stage(d, p, pg, p->stage + 1, ev, dc->group, why, sizeof(why)))
			return *why ? rq_error(rq, "no_decider", "%s", why) : db_error(d, rq, "the decision");
	} else {
		const char *state = !strcmp(a, "approve") ? "granted" : !strcmp(a, "return") ? "returned" : "rejected";

		ev = proposal_event_add(d, p, principal, a, stage, decider, dc->reason, dc->scores, &v, override, dc->decision_no, state);
		if (ev < 0 || finish(d, p, state, !strcmp(a, "approve") ? NULL : dc->reason, dc->decision_no, dc->decision_day)
		    || (!strcmp(state, "granted") && grant(d, rq, pg, p, dc->decision_no, dc->decision_day))
		    || proposal_notify(d, p, ev, state, p->proposer, dc->group))
			return db_error(d, rq, "the decision");
	}
	if (dc->group) {
		json_t *detail = json_pack("{s:I,s:s,s:i,s:s,s:s?,s:s?,s:b,s:b}", "batch", (json_int_t)p->batch, "action", a,
					   "stage", stage, "decider", decider, "reason", dc->reason, "decision_no", dc->decision_no,
					   "override", override, "exception", override);
		char object[64];

		json_object_set_new(detail, "state", json_string(p->state));
		snprintf(object, sizeof(object), "proposal/%lld", (long long)p->id);
		if (audit_append(d, principal, OP_PROPOSAL_DECIDE, object, p->proposer, detail))
			return db_error(d, rq, "the audit row of the decision");
	} else {
		/* the audit row of a single decision copies the request (audit_request): an
		 * exception is named there, not only in the proposal's history */
		if (override)
			json_object_set_new(rq_body(rq), "exception", json_true());
		events_emit(d, "proposal.decided", json_pack("{s:I,s:s,s:s,s:i,s:s,s:s}", "proposal", (json_int_t)p->id,
							     "programme", p->programme, "action", a, "stage", stage,
							     "state", p->state, "by", principal));
	}
	return 0;
}

/* escalation ---------------------------------------------------------------------------- */

static int64_t proposals_next_due(struct daemon *d)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT min(next_at) FROM proposals WHERE next_at IS NOT NULL");
	int64_t next = INT64_MAX;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		next = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return next;
}

/* escalate - a stage past its time limit: the deciding unit is told it is overdue, the
 * unit above it that the decision is late; once per stage */
static int escalate(struct daemon *d, int64_t id)
{
	struct proposal p;
	const struct unit *u, *up;
	sqlite3_stmt *s;
	int64_t ev;
	int rc = -1;

	if (proposal_load(d, id, &p))
		return -1;
	u = unitset_find(registry_units(d), p.decider);
	up = u ? unit_parent_at(u, registry_today(d)) : NULL;
	ev = proposal_event_add(d, &p, "thiduad", "escalate", p.stage, p.decider, NULL, NULL, NULL, 0, NULL, p.state);
	if (ev >= 0 && proposal_notify(d, &p, ev, "overdue", p.decider, 1) == 0
	    && (!up || proposal_notify(d, &p, ev, "escalation", up->code, 1) == 0)) {
		s = store_stmt(d->store, "UPDATE proposals SET next_at = NULL WHERE id = ?1");
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
		sqlite3_reset(s);
	}
	if (rc == 0)
		events_emit(d, "proposal.overdue", json_pack("{s:I,s:s,s:i,s:s,s:s?}", "proposal", (json_int_t)id,
							     "programme", p.programme, "stage", p.stage, "decider", p.decider,
							     "escalated_to", up ? up->code : NULL));
	proposal_clear(&p);
	return rc;
}

/* proposals_run - escalate every stage overdue by now, in batches */
static void proposals_run(struct daemon *d, int64_t now)
{
	long n = 0;
	int more = 1;

	while (more) {
		sqlite3_stmt *s = store_stmt(d->store, "SELECT id FROM proposals WHERE next_at IS NOT NULL AND next_at <= ?1"
					     " ORDER BY next_at, id LIMIT ?2");
		int64_t *ids = xcalloc(ESCALATE_BATCH, sizeof(*ids));
		size_t k = 0;

		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_int(s, 2, ESCALATE_BATCH);
		while (sqlite3_step(s) == SQLITE_ROW)
			ids[k++] = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		more = k == ESCALATE_BATCH;
		for (size_t i = 0; i < k; i++) {
			if (escalate(d, ids[i])) {
				log_err("proposals: escalating proposal %lld: %s", (long long)ids[i], store_errmsg(d->store));
				more = 0;
				break;
			}
			n++;
		}
		free(ids);
	}
	if (n)
		log_info("proposals: %ld overdue stages escalated", n);
}

static const struct due_source proposals_source = { "proposal stages", proposals_next_due, proposals_run };

/* render_proposal - the outbox's renderer of kind "proposal" */
static void render_proposal(struct daemon *d, const struct outbox_message *m, const struct unit *to,
			    const struct outbox_item *items, size_t n, int32_t today, enum tmpl_channel ch,
			    char **subject, char **body)
{
	(void)to;
	(void)items;
	(void)n;
	(void)today;
	proposals_render(d, m->id, m->step, m->key, m->recipient, ch, subject, body);
}

/* proposals_init - register the escalation with the scheduler, and the move of waiting
 * dossiers with a reorganisation's sweep, the renderer of its messages */
void proposals_init(void)
{
	sched_register(&proposals_source);
	reorg_on_sweep(proposals_reorg_sweep);
	outbox_renderer("proposal", render_proposal);
}

/* proposal_precheck - the checks a new proposal and an import share: the level exists,
 * the year is this one or the next, the proposer is open, may propose in this programme,
 * and the principal acts for it. 0 or the rq_error */
int proposal_precheck(struct daemon *d, struct request *rq, const struct programme *pg,
		      const struct unit *proposer, long long level, long long year, int32_t today, const char *what)
{
	char why[512];
	int y;
	unsigned m, dd;

	civil_from_days(today, &y, &m, &dd);
	if (level > pg->levels)
		return rq_error(rq, "invalid_field", "programme %s (%s) has only level 1", pg->code, pg->name);
	if (year > y + 1)
		return rq_error(rq, "invalid_field", "year %lld is too far ahead: a proposal is for this year (%d) or the next", year, y);
	if (closed_unit_refusal(d, rq, proposer, "propose"))
		return -1;
	if (!cfg_proposer_allowed(pg, proposer, why, sizeof(why)))
		return rq_error(rq, "not_a_proposer", "%s", why);
	if (proposal_may_propose(d, rq, proposer, what))
		return -1;
	return 0;
}
