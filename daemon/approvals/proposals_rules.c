/*
 * proposals_rules.c - the rules a proposal meets besides its rubric (see proposals.h):
 * one valid level-1 title at a time, no new proposal after a rejection for the same year,
 * a decision dated on a working day after the dossier it decides, and an approval against
 * the rubric only as the named exception permission of the decider.
 */
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "proposals.h"
#include "registry.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"

static const char *text(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t ? t : "";
}

/* proposal_title_overlap - the level-1 title of pg that nominee (at place) holds on day */
int proposal_title_overlap(struct daemon *d, const struct programme *pg, const char *nominee, const char *place, int32_t day,
		  char *why, size_t size)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT decision_no, valid_from, valid_to, proposal FROM titles"
				     " WHERE programme = ?1 AND nominee = ?2 AND place = ?3 AND level = 1"
				     " AND valid_from <= ?4 AND valid_to >= ?4 ORDER BY valid_to DESC LIMIT 1");
	char from[16], to[16], next[16];
	int found = 0;

	if (pg->award)
		return 0;
	sqlite3_bind_text(s, 1, pg->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nominee, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, place, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, day);
	if (sqlite3_step(s) == SQLITE_ROW) {
		found = 1;
		cal_vn_day(sqlite3_column_int(s, 1), from, sizeof(from));
		cal_vn_day(sqlite3_column_int(s, 2), to, sizeof(to));
		cal_vn_day(sqlite3_column_int(s, 2) + 1, next, sizeof(next));
		snprintf(why, size, "%s already holds level 1 of %s (%s), decision %s (proposal #%lld), valid from %s to %s: a second level-1 title would overlap it; propose level 1 again for a recognition from %s%s",
			 nominee, pg->code, pg->name, text(s, 0), (long long)sqlite3_column_int64(s, 3), from, to, next,
			 pg->levels > 1 ? ", or level 2" : "");
	}
	sqlite3_reset(s);
	return found;
}

/* proposal_nominee_refusal - a valid level-1 title, or a rejection of the same programme and year */
int proposal_nominee_refusal(struct daemon *d, const struct programme *pg, const struct nominee *nm, int year, int level,
		    int32_t today, const char **code, char *why, size_t size)
{
	sqlite3_stmt *s;
	int found = 0;

	if (level == 1 && proposal_title_overlap(d, pg, nm->code, nm->place, today, why, size)) {
		*code = ERR_TITLE_HELD;
		return -1;
	}
	if (pg->repropose_after_rejection)
		return 0;
	s = store_stmt(d->store, "SELECT p.id, e.at, e.principal, e.reason, p.level FROM proposals p"
		       " JOIN proposal_events e ON e.proposal = p.id AND e.action = 'reject'"
		       " WHERE p.programme = ?1 AND p.nominee = ?2 AND p.place = ?3 AND p.year = ?4 AND p.state = 'rejected'"
		       " ORDER BY e.id DESC LIMIT 1");
	sqlite3_bind_text(s, 1, pg->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nm->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, nm->place, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, year);
	if (sqlite3_step(s) == SQLITE_ROW) {
		char on[16];

		found = 1;
		cal_vn_day(day_of_time(sqlite3_column_int64(s, 1), d->cfg->utc_offset), on, sizeof(on));
		snprintf(why, size, "%s (%s) was rejected for %s %d: proposal #%lld, rejected on %s by %s (\"%s\"); a rejected nominee is not proposed again for the same year (programme %s has no repropose_after_rejection): propose for %d",
			 nm->name, nm->code, pg->code, year, (long long)sqlite3_column_int64(s, 0), on, text(s, 2), text(s, 3),
			 pg->code, year + 1);
		*code = ERR_REJECTED_THIS_YEAR;
	}
	sqlite3_reset(s);
	return found ? -1 : 0;
}

/* proposal_decision_day_refusal - the decision is dated on or after the day the dossier in force
 * was submitted and, when the date was given, on a working day */
int proposal_decision_day_refusal(struct daemon *d, const struct proposal *p, int32_t day, int given, char *why, size_t size)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT at FROM proposal_events WHERE proposal = ?1"
				     " AND action IN ('submit', 'resubmit') ORDER BY id DESC LIMIT 1");
	int32_t submitted = -1;
	char a[16], b[16];
	const struct holiday *h;

	sqlite3_bind_int64(s, 1, p->id);
	if (sqlite3_step(s) == SQLITE_ROW)
		submitted = day_of_time(sqlite3_column_int64(s, 0), d->cfg->utc_offset);
	sqlite3_reset(s);
	cal_vn_day(day, a, sizeof(a));
	if (submitted >= 0 && day < submitted) {
		cal_vn_day(submitted, b, sizeof(b));
		snprintf(why, size, "the decision date %s is before the dossier of proposal #%lld was submitted (%s): a decision is dated on or after %s",
			 a, (long long)p->id, b, b);
		return -1;
	}
	if (given && !cal_is_working_day(d->cfg, day)) {
		h = cfg_holiday(d->cfg, day);
		snprintf(why, size, "the decision date %s is a day off (%s): give the working day the decision was signed (--decision-date)",
			 a, h && !h->work ? h->name : weekday_of_day(day) == 5 ? "Saturday" : "Sunday");
		return -1;
	}
	return 0;
}

/* proposal_exception_refusal - approving against the rubric takes a reason and the decider's
 * permission "exception"; the local administrator has none */
int proposal_exception_refusal(struct daemon *d, struct request *rq, const struct programme *pg, const struct proposal *p,
		      const struct verdict *v, const char *reason)
{
	const struct principal *me = cfg_principal_at(d->cfg, rq_principal(rq), registry_today(d));
	char who[512] = "";
	size_t used = 0;

	if (me && (me->permissions & PERM_EXCEPTION) && reason && *reason)
		return 0;
	for (size_t i = 0; i < d->cfg->nprincipals && used < sizeof(who); i++) {
		const struct principal *x = &d->cfg->principals[i];

		if (!strcmp(x->unit, p->decider ? p->decider : "") && (x->permissions & PERM_EXCEPTION)
		    && principal_in_force(d->cfg, x, registry_today(d)))
			used += (size_t)snprintf(who + used, sizeof(who) - used, "%s%s", used ? ", " : "", x->name);
	}
	if (me && (me->permissions & PERM_EXCEPTION))
		return rq_error(rq, ERR_BELOW_THRESHOLD, "proposal #%lld (%s) does not pass the rubric of %s: %s; to approve it as an exception (xét đặc cách) give its reason (--reason), or return it",
				(long long)p->id, p->nominee_name, pg->code, v->why);
	return rq_error(rq, ERR_EXCEPTION_NOT_PERMITTED, "proposal #%lld (%s) does not pass the rubric of %s: %s; approving it anyway is an exception (xét đặc cách), which %s may not grant: it takes a decider with the permission \"exception\" (principals: permissions = [ \"exception\" ])%s%s; return or reject it",
			(long long)p->id, p->nominee_name, pg->code, v->why, me ? me->name : "the local administrator",
			*who ? "; it is held by " : "", who);
}
