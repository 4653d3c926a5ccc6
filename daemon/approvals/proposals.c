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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "jdump.h"
#include "log.h"
#include "proposals.h"
#include "reorg.h"
#include "thiduad.h"
#include "timeutil.h"
#include "xalloc.h"

#define ESCALATE_BATCH 2000
#define RENDER_MAX 50		/* proposals listed in one message; the rest are counted */

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	return col(s, i) ? xstrdup(col(s, i)) : NULL;
}

/* vn_day - dd/mm/yyyy, as dates are written in Vietnamese documents */
void vn_day(int32_t day, char *buf, size_t size)
{
	int y;
	unsigned m, dd;

	civil_from_days(day, &y, &m, &dd);
	snprintf(buf, size, "%02u/%02u/%04d", dd % 100u, m % 100u, y % 10000);
}

/* add_months - day plus n months; a day the month lacks becomes its last */
int32_t add_months(int32_t day, int n)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y;
	unsigned m, dd, last;
	long months;

	civil_from_days(day, &y, &m, &dd);
	months = (long)y * 12 + (long)(m - 1) + n;
	y = (int)(months / 12);
	m = (unsigned)(months % 12) + 1;
	last = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	return days_from_civil(y, m, dd > last ? last : dd);
}

/* proposal_units - the unit set of this turn */
const struct unitset *proposal_units(struct daemon *d)
{
	return d->pending_units ? d->pending_units : d->units;
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

/* the rubric ------------------------------------------------------------------------- */

/* criteria_list - "TC1, TC2, TC3" */
static void criteria_list(const struct programme *pg, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < pg->ncriteria && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", pg->criteria[i].code);
}

/* word_is - text equals one of the words (ASCII letters compared without case) */
static int word_is(const char *text, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(text, words[i]))
			return 1;
	return 0;
}

/* score_text - one value of criterion c from text */
int score_text(const struct programme *pg, size_t c, const char *text, json_t **value, char *why, size_t size)
{
	static const char *const yes[] = { "yes", "true", "1", "met", "x", "đạt", "có", NULL };
	static const char *const no[] = { "no", "false", "0", "not met", "không", "không đạt", "chưa đạt", NULL };
	const struct criterion *cr = &pg->criteria[c];
	char buf[64];
	size_t n;
	char *end;
	double v;

	while (*text == ' ' || *text == '\t')
		text++;
	n = xstrlcpy(buf, text, sizeof(buf));
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = 0;
	if (cr->met) {
		if (word_is(buf, yes)) {
			*value = json_true();
			return 0;
		}
		if (word_is(buf, no)) {
			*value = json_false();
			return 0;
		}
		snprintf(why, size, "%s (%s) is met or not met: write yes or no (đạt / không đạt), not \"%s\"", cr->code,
			 cr->name, buf);
		return -1;
	}
	v = strtod(buf, &end);
	if (end == buf || *end || !isfinite(v) || v < 0 || v > cr->max) {
		snprintf(why, size, "%s (%s) is scored from 0 to %d points, not \"%s\"", cr->code, cr->name, cr->max, buf);
		return -1;
	}
	*value = v == floor(v) ? json_integer((json_int_t)v) : json_real(v);
	return 0;
}

/* scores_parse - {criterion: value} against the rubric */
json_t *scores_parse(const struct programme *pg, json_t *in, char *why, size_t size)
{
	json_t *out, *v;
	const char *key;
	char list[512];

	if (!json_is_object(in)) {
		snprintf(why, size, "'scores' must be an object {\"CRITERION\": value, ...}");
		return NULL;
	}
	if (!pg->ncriteria && json_object_size(in)) {
		snprintf(why, size, "programme %s has no rubric: send no scores", pg->code);
		return NULL;
	}
	criteria_list(pg, list, sizeof(list));
	out = json_object();
	json_object_foreach(in, key, v) {
		char text[64];
		json_t *value;
		size_t c;

		for (c = 0; c < pg->ncriteria && strcmp(pg->criteria[c].code, key); c++)
			;
		if (c == pg->ncriteria) {
			snprintf(why, size, "programme %s has no criterion '%s'; its criteria are %s", pg->code, key, list);
			json_decref(out);
			return NULL;
		}
		if (json_is_string(v))
			xstrlcpy(text, json_string_value(v), sizeof(text));
		else if (json_is_integer(v))
			snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(text, sizeof(text), "%.17g", json_real_value(v));
		else if (json_is_boolean(v))
			snprintf(text, sizeof(text), "%s", json_is_true(v) ? "yes" : "no");
		else {
			snprintf(why, size, "the score of %s must be a number, true or false", key);
			json_decref(out);
			return NULL;
		}
		if (score_text(pg, c, text, &value, why, size)) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, key, value);
	}
	return out;
}

/* rubric_verdict - total, completeness and pass of scores under pg's rubric */
void rubric_verdict(const struct programme *pg, json_t *scores, struct verdict *v)
{
	size_t used = 0;

	memset(v, 0, sizeof(*v));
	v->complete = v->met_all = 1;
	for (size_t i = 0; i < pg->ncriteria; i++) {
		const struct criterion *cr = &pg->criteria[i];
		json_t *x = json_object_get(scores, cr->code);

		v->max_total += cr->max;
		if (!x) {
			v->complete = 0;
			if (used < sizeof(v->why))
				used += (size_t)snprintf(v->why + used, sizeof(v->why) - used, "%s%s has no score",
							 used ? "; " : "", cr->code);
		} else if (cr->met) {
			if (!json_is_true(x)) {
				v->met_all = 0;
				if (used < sizeof(v->why))
					used += (size_t)snprintf(v->why + used, sizeof(v->why) - used, "%s%s is not met",
								 used ? "; " : "", cr->code);
			}
		} else {
			v->total += json_number_value(x);
		}
	}
	v->passed = !pg->ncriteria || (v->complete && v->met_all && (pg->threshold < 0 || v->total >= pg->threshold));
	if (pg->ncriteria && pg->threshold >= 0 && v->total < pg->threshold && used < sizeof(v->why))
		snprintf(v->why + used, sizeof(v->why) - used, "%s%g of %d points, below the threshold of %d",
			 used ? "; " : "", v->total, v->max_total, pg->threshold);
}

/* proposal_scores - self-assessment, then each stage's scores in order */
json_t *proposal_scores(struct daemon *d, const struct proposal *p)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT scores FROM proposal_events WHERE proposal = ?1"
				     " AND scores IS NOT NULL ORDER BY id");
	json_t *all = json_deep_copy(p->self_scores);

	sqlite3_bind_int64(s, 1, p->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *x = json_loads(col(s, 0), 0, NULL);

		if (x)
			json_object_update(all, x);
		json_decref(x);
	}
	sqlite3_reset(s);
	return all;
}

/* who may act ----------------------------------------------------------------------- */

/* proposer_allowed - pg's proposers selector: listed units, or kinds and levels */
int proposer_allowed(struct daemon *d, const struct programme *pg, const struct unit *u, char *why, size_t size)
{
	const struct selector *s = &pg->proposers;
	size_t used;
	int ok;

	(void)d;
	for (size_t i = 0; s->units && s->units[i]; i++)
		if (!strcmp(s->units[i], u->code))
			return 1;
	ok = s->kinds || s->levels;
	if (s->kinds) {
		int k = 0;

		for (size_t i = 0; s->kinds[i]; i++)
			k |= !strcmp(s->kinds[i], u->kind);
		ok &= k;
	}
	if (s->levels) {
		int l = 0;

		for (size_t i = 0; s->levels[i]; i++)
			l |= !strcmp(s->levels[i], u->level_code) && !u->attached;
		ok &= l;
	}
	if (ok)
		return 1;
	if (!strcmp(u->kind, u->level_code))	/* a hamlet of kind hamlet: said once */
		used = (size_t)snprintf(why, size, "%s (%s, %s) may not propose %s (%s): its proposers are", u->code, u->name,
					u->kind, pg->code, pg->name);
	else
		used = (size_t)snprintf(why, size, "%s (%s, %s at level %s) may not propose %s (%s): its proposers are", u->code,
					u->name, u->kind, u->level_code, pg->code, pg->name);
	for (size_t i = 0; s->units && s->units[i] && used < size; i++)
		used += (size_t)snprintf(why + used, size - used, "%s %s", i ? "," : "", s->units[i]);
	if (s->kinds && used < size) {
		used += (size_t)snprintf(why + used, size - used, "%s units of kind", s->units ? " and" : "");
		for (size_t i = 0; s->kinds[i] && used < size; i++)
			used += (size_t)snprintf(why + used, size - used, "%s %s", i ? " or" : "", s->kinds[i]);
	}
	if (s->levels && used < size) {
		used += (size_t)snprintf(why + used, size - used, "%s at level", s->kinds ? "" : s->units ? " and units" : " units");
		for (size_t i = 0; s->levels[i] && used < size; i++)
			used += (size_t)snprintf(why + used, size - used, "%s %s", i ? " or" : "", s->levels[i]);
	}
	return 0;
}

/* acting - the request's principal, NULL for the local administrator */
static const struct principal *acting(struct daemon *d, struct request *rq)
{
	return cfg_principal_at(d->cfg, rq_principal(rq), registry_today(d));
}

/* may_propose - a submitter (or admin) of u or of a unit above it */
int may_propose(struct daemon *d, struct request *rq, const struct unit *u, const char *what)
{
	const struct principal *p = acting(d, rq);
	const struct unit *home;

	if (!p)
		return 0;
	home = unitset_find(proposal_units(d), p->unit);
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

/* may_decide - the role in the stored deciding unit; the local administrator always */
int may_decide(struct daemon *d, struct request *rq, const struct programme *pg, const struct proposal *p,
	       unsigned roles)
{
	const struct principal *me = acting(d, rq);
	const struct unit *u = unitset_find(proposal_units(d), p->decider);
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

/* window_refusal - the dossier deadline of the year, rolled to a working day, has passed */
int window_refusal(struct daemon *d, const struct programme *pg, int year, int64_t now, char *why, size_t size)
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
	vn_day(day, buf, sizeof(buf));
	used = (size_t)snprintf(why, size, "the dossier window of %s (%s) for %d closed at the end of %s; ", pg->code,
				pg->name, year, buf);
	/* what can be proposed now: this year or the next (proposal_precheck), while open */
	civil_from_days(day_of_time(now, d->cfg->utc_offset), &y, &m, &dd);
	for (int k = y; k <= y + 1 && used < size; k++) {
		day = cal_roll(d->cfg, days_from_civil(k, (unsigned)pg->dossier_month, (unsigned)pg->dossier_mday));
		if (now > cal_end_of_day(d->cfg, day))
			continue;
		vn_day(day, buf, sizeof(buf));
		used += (size_t)snprintf(why + used, size - used, "%s%d (dossier by %s)", open ? " or " : "proposals can now be made for ",
					 k, buf);
		open++;
	}
	if (!open && used < size)
		snprintf(why + used, size - used, "no year can be proposed now");
	return -1;
}

/* level2_refusal - a valid level-1 title granted at least level2_after_months ago */
int level2_refusal(struct daemon *d, const struct programme *pg, const char *nominee, const char *place,
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
		allowed = add_months(vf, pg->level2_after_months);
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
	vn_day(valid_from, since, sizeof(since));
	vn_day(allowed, from, sizeof(from));
	snprintf(why, size, "%s holds level 1 of %s (%s) only since %s (decision %s): level 2 may be proposed %d months after level 1, from %s",
		 nominee, pg->code, pg->name, since, no, pg->level2_after_months, from);
	return -1;
}

/* nominees ------------------------------------------------------------------------------ */

/* unit_nominee - the nominee is a unit: commune, hamlet, district (at that level, not an
 * attached office) or any unit */
static int unit_nominee(const char *kind)
{
	return !strcmp(kind, "commune") || !strcmp(kind, "hamlet") || !strcmp(kind, "district") || !strcmp(kind, "unit");
}

/* text_problem - why a name or code is refused, or NULL */
static const char *text_problem(const char *s, size_t max)
{
	if (!*s)
		return "is empty";
	if (strlen(s) > max)
		return "is too long";
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "contains a control character";
	return NULL;
}

/* nominee_resolve - who is proposed: a unit (by code, the proposer by default) or a
 * household, clan, person or collective (a name, an optional code, and the hamlet or unit
 * it belongs to, which must be the proposer or under it) */
int nominee_resolve(struct daemon *d, const struct programme *pg, const struct unit *proposer, const char *code,
		    const char *name, const char *hamlet, struct nominee *out, char *why, size_t size)
{
	const struct unitset *units = proposal_units(d);
	int32_t today = registry_today(d);
	const char *bad;

	memset(out, 0, sizeof(*out));
	if (code && !*code)
		code = NULL;
	if (name && !*name)
		name = NULL;
	if (hamlet && !*hamlet)
		hamlet = NULL;
	if (unit_nominee(pg->nominee)) {
		const struct unit *u;
		int lvl = unitset_level_index(units, pg->nominee);

		if (hamlet) {
			snprintf(why, size, "%s recognises a %s, which is a unit: give no hamlet", pg->code, pg->nominee);
			return -1;
		}
		if (!code && name) {
			snprintf(why, size, "%s recognises a %s, which is a unit: give its code (\"%s\" is a name)", pg->code,
				 pg->nominee, name);
			return -1;
		}
		u = code ? unitset_find(units, code) : proposer;
		if (!u) {
			const char *s = unitset_suggest(units, code);

			snprintf(why, size, "there is no unit '%s'%s%s%s; 'thiduactl units list' shows the codes", code,
				 s ? " (did you mean " : "", s ? s : "", s ? "?)" : "");
			return -1;
		}
		if (strcmp(pg->nominee, "unit") && lvl >= 0 && (u->level != lvl || u->attached)) {
			snprintf(why, size, "%s (%s) is not a %s: %s recognises units at the %s level that are not attached offices",
				 u->code, u->name, pg->nominee, pg->code, pg->nominee);
			return -1;
		}
		if (u != proposer && !unit_is_under_at(u, proposer, today)
		    && !(proposer->attached && unit_parent_at(proposer, today) == u)) {
			snprintf(why, size, "%s (%s) cannot be proposed by %s (%s): a unit proposes itself, a unit under it, or (an attached office) its own authority",
				 u->code, u->name, proposer->code, proposer->name);
			return -1;
		}
		xstrlcpy(out->code, u->code, sizeof(out->code));
		xstrlcpy(out->name, u->name, sizeof(out->name));
		return 0;
	}
	if (!name) {
		snprintf(why, size, "the %s's name is missing: %s needs the nominee's name (and may take a code)", pg->nominee,
			 pg->code);
		return -1;
	}
	if ((bad = text_problem(name, sizeof(out->name) - 1))) {
		snprintf(why, size, "the nominee's name %s", bad);
		return -1;
	}
	if (code && (bad = text_problem(code, 64))) {
		snprintf(why, size, "the nominee's code %s (at most 64 bytes)", bad);
		return -1;
	}
	if (hamlet) {
		const struct unit *h = unitset_find(units, hamlet);

		if (!h || !unit_active_at(h, today)) {
			const char *s = h ? NULL : unitset_suggest(units, hamlet);

			snprintf(why, size, "hamlet '%s' is %s%s%s%s", hamlet, h ? "closed" : "not a unit", s ? " (did you mean " : "",
				 s ? s : "", s ? "?)" : "");
			return -1;
		}
		if (h != proposer && !unit_is_under_at(h, proposer, today)) {
			snprintf(why, size, "hamlet %s (%s) is not under the proposer %s (%s)", h->code, h->name, proposer->code,
				 proposer->name);
			return -1;
		}
	}
	xstrlcpy(out->code, code ? code : name, sizeof(out->code));
	xstrlcpy(out->name, name, sizeof(out->name));
	xstrlcpy(out->place, hamlet ? hamlet : proposer->code, sizeof(out->place));
	return 0;
}

/* proposal_existing - the open or granted proposal for the same nominee, year and level;
 * its id (and state), or 0 */
int64_t proposal_existing(struct daemon *d, const char *programme, const struct nominee *nm, int year, int level,
			  char *state, size_t size)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT id, state FROM proposals WHERE programme = ?1 AND nominee = ?2"
				     " AND place = ?3 AND year = ?4 AND level = ?5"
				     " AND " PROPOSAL_ACTIVE);
	int64_t id = 0;

	sqlite3_bind_text(s, 1, programme, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nm->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, nm->place, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, year);
	sqlite3_bind_int(s, 5, level);
	if (sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		xstrlcpy(state, col(s, 1), size);
	}
	sqlite3_reset(s);
	return id;
}

/* events and messages ------------------------------------------------------------------ */

/* event_add - one row of the proposal's history */
int64_t event_add(struct daemon *d, const struct proposal *p, const char *principal, const char *action,
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

/* message_for - the pending outbox message of key, or (once it left) one of its own */
static int64_t message_for(struct daemon *d, const struct proposal *p, const char *key, const char *step,
			   const char *recipient, int64_t now)
{
	char year[16], own[600];
	int64_t outbox = -1;

	snprintf(year, sizeof(year), "%d", p->year);
	snprintf(own, sizeof(own), "%s/p%lld", key, (long long)p->id);
	for (int attempt = 0; attempt < 2 && outbox < 0; attempt++) {
		sqlite3_stmt *s = store_stmt(d->store,
			"INSERT INTO outbox (dedup_key, recipient, kind, report, period, step, moment, created_at, send_after, late)"
			" VALUES (?1, ?2, 'proposal', ?3, ?4, ?5, ?6, ?6, ?7, 0)"
			" ON CONFLICT (dedup_key) DO UPDATE SET dedup_key = excluded.dedup_key RETURNING id, state");

		sqlite3_bind_text(s, 1, attempt ? own : key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, recipient, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, p->programme, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, year, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, step, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 6, now);
		sqlite3_bind_int64(s, 7, working_moment(d->cfg, now));
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_reset(s);
			return -1;
		}
		if (attempt == 1 || !strcmp(col(s, 1), "pending"))
			outbox = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	return outbox;
}

/* notify - one notice: proposal p, its event, in the message for (step, recipient) */
int notify(struct daemon *d, const struct proposal *p, int64_t event, const char *step, const char *recipient,
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
	outbox = message_for(d, p, key, step, recipient, now);
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

/* stage_decider - the deciding unit of st for the proposer on day, or NULL */
const struct unit *stage_decider(struct daemon *d, const struct stage *st, const struct unit *proposer,
					int32_t day)
{
	const struct unitset *units = proposal_units(d);
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

/* enter_stage - p reaches stage n */
int enter_stage(struct daemon *d, struct proposal *p, const struct programme *pg, int n, int64_t event,
		int group, char *why, size_t size)
{
	const struct unit *proposer = unitset_find(proposal_units(d), p->proposer), *u;
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
	u = stage_decider(d, st, proposer, today);
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
	return notify(d, p, event, "pending", u->code, group);
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
	sqlite3_bind_int(s, 13, pg->award ? day - 1 : add_months(day, pg->valid_months) - 1);
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

/* decide_one - approve (to the next stage or granted), return, reject, or score only */
int decide_one(struct daemon *d, struct request *rq, const struct programme *pg, struct proposal *p,
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
	if (may_decide(d, rq, pg, p, !strcmp(a, "score") ? st->role | ROLE_REVIEWER | ROLE_APPROVER : st->role))
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
	rubric_verdict(pg, scores, &v);
	json_decref(scores);
	if (!strcmp(a, "approve") && !v.passed) {
		if (exception_refusal(d, rq, pg, p, &v, dc->reason))
			return -1;
		override = 1;
	}
	if (last && !strcmp(a, "approve")) {
		if (decision_day_refusal(d, p, dc->decision_day, dc->decision_day_given, why, sizeof(why)))
			return rq_error(rq, "invalid_field", "%s", why);
		if (p->level == 1 && title_overlap(d, pg, p->nominee, p->place, dc->decision_day, why, sizeof(why)))
			return rq_error(rq, "title_held", "%s", why);
	}
	xstrlcpy(decider, p->decider ? p->decider : "", sizeof(decider));
	if (!strcmp(a, "score")) {
		ev = event_add(d, p, principal, "score", stage, decider, dc->reason, dc->scores, &v, 0, NULL, p->state);
		return ev < 0 ? db_error(d, rq, "the scores") : 0;
	}
	if (!strcmp(a, "approve") && !last) {
		ev = event_add(d, p, principal, "approve", stage, decider, dc->reason, dc->scores, &v, override, NULL, "submitted");
		if (ev < 0)
			return db_error(d, rq, "the decision");
		if (enter_stage(d, p, pg, p->stage + 1, ev, dc->group, why, sizeof(why)))
			return *why ? rq_error(rq, "no_decider", "%s", why) : db_error(d, rq, "the decision");
	} else {
		const char *state = !strcmp(a, "approve") ? "granted" : !strcmp(a, "return") ? "returned" : "rejected";

		ev = event_add(d, p, principal, a, stage, decider, dc->reason, dc->scores, &v, override, dc->decision_no, state);
		if (ev < 0 || finish(d, p, state, !strcmp(a, "approve") ? NULL : dc->reason, dc->decision_no, dc->decision_day)
		    || (!strcmp(state, "granted") && grant(d, rq, pg, p, dc->decision_no, dc->decision_day))
		    || notify(d, p, ev, state, p->proposer, dc->group))
			return db_error(d, rq, "the decision");
	}
	if (dc->group) {
		json_t *detail = json_pack("{s:I,s:s,s:i,s:s,s:s?,s:s?,s:b,s:b}", "batch", (json_int_t)p->batch, "action", a,
					   "stage", stage, "decider", decider, "reason", dc->reason, "decision_no", dc->decision_no,
					   "override", override, "exception", override);
		char object[64];

		json_object_set_new(detail, "state", json_string(p->state));
		snprintf(object, sizeof(object), "proposal/%lld", (long long)p->id);
		if (audit_append(d, principal, "proposal.decide", object, p->proposer, detail))
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
	u = unitset_find(proposal_units(d), p.decider);
	up = u ? unit_parent_at(u, registry_today(d)) : NULL;
	ev = event_add(d, &p, "thiduad", "escalate", p.stage, p.decider, NULL, NULL, NULL, 0, NULL, p.state);
	if (ev >= 0 && notify(d, &p, ev, "overdue", p.decider, 1) == 0
	    && (!up || notify(d, &p, ev, "escalation", up->code, 1) == 0)) {
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

/* proposals_init - register the escalation with the scheduler */
void proposals_init(void)
{
	sched_register(&proposals_source);
}

/* message texts ------------------------------------------------------------------------- */

/* one proposal of a message, as the notice recorded it, with its values as text */
struct render_item {
	char *nominee, *nominee_name, *proposer, *reason;
	char id[24], level[16], where[512];
};

/* proposal_event - the template event of a step; an unknown step reads as a withdrawal, as
 * it always has */
static enum tmpl_event proposal_event(const char *step)
{
	char name[64];
	int ev;

	snprintf(name, sizeof(name), "proposal_%s", step);
	ev = tmpl_event_code(name);
	return ev >= TE_PROPOSAL_PENDING && ev <= TE_PROPOSAL_MOVED ? (enum tmpl_event)ev : TE_PROPOSAL_WITHDRAWN;
}

/* proposals_render - one message about one or many proposals: the first RENDER_MAX are
 * listed, the rest counted; the words come from the templates (docs/CONFIG.md) */
void proposals_render(struct daemon *d, int64_t outbox, const char *step, const char *key, const char *recipient,
		      enum tmpl_channel ch, char **subject, char **body)
{
	sqlite3_stmt *s = store_stmt(d->store,
		"SELECT p.id, p.programme, p.year, p.level, p.nominee, p.nominee_name, p.proposer, n.stage, e.reason,"
		" e.decision_no, n.due_at, p.decision_day, count(*) OVER (), p.place FROM proposal_notices n"
		" JOIN proposals p ON p.id = n.proposal JOIN proposal_events e ON e.id = n.event"
		" WHERE n.outbox = ?1 ORDER BY p.id LIMIT ?2");
	const struct unit *to = unitset_find(d->units, recipient);
	const struct programme *pg = NULL;
	struct render_item items[RENDER_MAX];
	struct tmpl_item list[RENDER_MAX];
	struct tmpl_values v = { .proposals = list };
	char *programme = NULL, *no = NULL;
	char due[16] = "", date[16] = "", year[16] = "0", stage[16] = "0", total[24] = "0", more[24] = "0";
	const char *reason = NULL;
	long count = 0;
	size_t n = 0;
	int same_reason = 1;

	memset(list, 0, sizeof(list));
	sqlite3_bind_int64(s, 1, outbox);
	sqlite3_bind_int(s, 2, RENDER_MAX);
	while (n < RENDER_MAX && sqlite3_step(s) == SQLITE_ROW) {
		struct render_item *it = &items[n];
		const struct unit *pu;

		if (!n) {
			programme = col_dup(s, 1);
			pg = cfg_programme(d->cfg, programme);
			snprintf(year, sizeof(year), "%d", sqlite3_column_int(s, 2));
			snprintf(stage, sizeof(stage), "%d", sqlite3_column_int(s, 7));
			count = (long)sqlite3_column_int64(s, 12);
			if (sqlite3_column_type(s, 10) != SQLITE_NULL)
				vn_day(day_of_time(sqlite3_column_int64(s, 10), d->cfg->utc_offset), due, sizeof(due));
			no = col_dup(s, 9);
			if (sqlite3_column_type(s, 11) != SQLITE_NULL)
				vn_day(sqlite3_column_int(s, 11), date, sizeof(date));
		}
		snprintf(it->id, sizeof(it->id), "%lld", (long long)sqlite3_column_int64(s, 0));
		if (pg && pg->award)
			it->level[0] = 0;	/* an award has no level: its line says none */
		else
			snprintf(it->level, sizeof(it->level), "%d", sqlite3_column_int(s, 3));
		it->nominee = col_dup(s, 4);
		it->nominee_name = col_dup(s, 5);
		it->proposer = col_dup(s, 6);
		it->reason = col_dup(s, 8);
		if (n && strcmp(it->reason ? it->reason : "", reason ? reason : ""))
			same_reason = 0;
		reason = items[0].reason;
		pu = unitset_find(d->units, it->proposer);
		list[n].v[TV_PROPOSAL_ID] = it->id;
		list[n].v[TV_NOMINEE_CODE] = it->nominee;
		/* a nominee without a code of its own is known by its name: the parenthesis then
		 * says where it belongs, not the name again */
		if (it->nominee && it->nominee_name && !strcmp(it->nominee, it->nominee_name)) {
			const struct unit *pl = unitset_find(d->units, col(s, 13));

			xstrlcpy(it->where, pl ? pl->name : col(s, 13), sizeof(it->where));
			list[n].v[TV_NOMINEE_CODE] = it->where;
		}
		list[n].v[TV_NOMINEE_NAME] = it->nominee_name;
		list[n].v[TV_LEVEL] = it->level;
		list[n].v[TV_PROPOSER_NAME] = pu ? pu->name : it->proposer;
		list[n].v[TV_PROPOSER_CODE] = it->proposer;
		list[n].v[TV_PROPOSAL_REASON] = it->reason;
		n++;
	}
	sqlite3_reset(s);
	snprintf(total, sizeof(total), "%ld", count);
	if (count > (long)n)
		snprintf(more, sizeof(more), "%ld", count - (long)n);
	v.nproposals = n;
	v.v[TV_RECIPIENT_NAME] = to ? to->name : recipient;
	v.v[TV_PROGRAMME_NAME] = pg ? pg->name : programme ? programme : "";
	v.v[TV_PROGRAMME_CODE] = programme ? programme : "";
	v.v[TV_YEAR] = year;
	v.v[TV_STAGE] = stage;
	v.v[TV_DUE_DATE] = due;
	v.v[TV_PROPOSAL_COUNT] = total;
	v.v[TV_MORE_COUNT] = more;
	v.v[TV_DECISION_NO] = no ? no : "";
	v.v[TV_DECISION_DATE] = date;
	v.v[TV_REASON] = same_reason && reason ? reason : "";
	v.v[TV_DEDUP_KEY] = key;
	v.v[TV_PLAN_NO] = d->cfg->movement_plan;
	v.v[TV_PLAN_NAME] = d->cfg->plan_name;
	templates_render(d->cfg->templates, proposal_event(step), ch, &v, subject, body);
	for (size_t i = 0; i < n; i++) {
		free(items[i].nominee);
		free(items[i].nominee_name);
		free(items[i].proposer);
		free(items[i].reason);
	}
	free(programme);
	free(no);
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
	if (!proposer_allowed(d, pg, proposer, why, sizeof(why)))
		return rq_error(rq, "not_a_proposer", "%s", why);
	if (may_propose(d, rq, proposer, what))
		return -1;
	return 0;
}
