/*
 * reorg.c - units closed by a reorganisation, in the running daemon (docs/CONFIG.md,
 * "Effective dates"). On the day after a unit's active_to it no longer submits or decides,
 * its principals lose their roles unless declared again under another unit, and a dossier
 * waiting at a stage that is no longer in force goes on to the stage in force after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "calendar.h"
#include "clock.h"
#include "config.h"
#include "events.h"
#include "ladder.h"
#include "log.h"
#include "registry.h"
#include "reorg.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

void successors_text(const struct unit *u, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < u->nsuccessors && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s (%s)", i ? ", " : "", u->successors[i]->code,
					 u->successors[i]->name);
	if (!u->nsuccessors)
		snprintf(buf, size, "no successor");
}

/* span_text - "from A until B" in dd/mm/yyyy, an open end left out */
static void span_text(int32_t from, int32_t until, char *buf, size_t size)
{
	char a[16], b[16];

	cal_vn_day(from, a, sizeof(a));
	cal_vn_day(until, b, sizeof(b));
	if (from != DATE_NONE_FROM && until != DATE_NONE_TO)
		snprintf(buf, size, "from %s until %s", a, b);
	else if (from != DATE_NONE_FROM)
		snprintf(buf, size, "from %s", a);
	else
		snprintf(buf, size, "until %s", b);
}

int stage_skip_refusal(struct daemon *d, const struct programme *pg, int *n, int32_t today, char *why,
		       size_t size)
{
	int k = stage_in_force(pg, *n, today);
	char day[16], span[64];

	(void)d;
	if (k) {
		*n = k;
		return 0;
	}
	cal_vn_day(today, day, sizeof(day));
	if (*n >= 1 && (size_t)*n <= pg->nstages)
		span_text(pg->stages[*n - 1].from, pg->stages[*n - 1].until, span, sizeof(span));
	else
		snprintf(span, sizeof(span), "-");
	snprintf(why, size, "no stage of %s from stage %d on is in force on %s (stage %d is in force %s); add the stage that replaces it to programme %s in the configuration",
		 pg->code, *n, day, *n, span, pg->code);
	return -1;
}

int programme_span_refusal(struct daemon *d, const struct programme *pg, char *why, size_t size)
{
	int32_t today = registry_today(d);
	char day[16], span[64];

	if (span_contains(pg->from, pg->until, today))
		return 0;
	cal_vn_day(today, day, sizeof(day));
	span_text(pg->from, pg->until, span, sizeof(span));
	snprintf(why, size, "programme %s (%s) takes dossiers %s, and today is %s; see 'thiduactl programmes' for the programmes in force",
		 pg->code, pg->name, span, day);
	return -1;
}

int principal_refusal(struct daemon *d, struct request *rq, const struct principal *p)
{
	int32_t today = registry_today(d);
	const struct unit *u = unitset_find(d->units, p->unit);
	char day[16], span[64], succ[512];

	if (principal_in_force(d->cfg, p, today))
		return 0;
	cal_vn_day(today, day, sizeof(day));
	if (u && !unit_active_at(u, today)) {
		char closed[16];

		cal_vn_day(u->active_to, closed, sizeof(closed));
		successors_text(u, succ, sizeof(succ));
		return rq_error(rq, ERR_ROLES_ENDED, "%s (%s) held its roles in %s (%s), which closed on %s in the reorganisation (successor: %s); today is %s: a principal of the successor acts now",
				p->name, p->display_name, u->code, u->name, closed, succ, day);
	}
	span_text(p->from, p->until, span, sizeof(span));
	return rq_error(rq, ERR_ROLES_ENDED, "%s (%s) holds its roles in %s %s, and today is %s", p->name, p->display_name,
			p->unit, span, day);
}

int closed_unit_refusal(struct daemon *d, struct request *rq, const struct unit *u, const char *what)
{
	int32_t today = registry_today(d);
	char closed[16], opened[16], day[16], succ[512];

	if (unit_active_at(u, today))
		return 0;
	cal_vn_day(today, day, sizeof(day));
	if (today < u->active_from) {
		cal_vn_day(u->active_from, opened, sizeof(opened));
		return rq_error(rq, ERR_UNIT_NOT_IN_FORCE, "unit %s (%s) exists from %s; today is %s: it cannot %s yet",
				u->code, u->name, opened, day, what);
	}
	cal_vn_day(u->active_to, closed, sizeof(closed));
	successors_text(u, succ, sizeof(succ));
	return rq_error(rq, ERR_UNIT_CLOSED, "unit %s (%s) closed on %s in the reorganisation and cannot %s; its successor %s acts for it from the next day (today is %s)",
			u->code, u->name, closed, what, succ, day);
}

/* the sweep on the day of a reorganisation ----------------------------------------------- */

static int64_t reorg_through;	/* the moment the sweep last ran; 0: not since start-up */
static const void *swept_cfg, *swept_units;	/* what it ran with: a reload or an import runs it again */

const char *reorg_recipient(struct daemon *d, const char *code, int32_t today)
{
	const struct unit *u = unitset_find(registry_units(d), code);

	for (int hops = 0; u && today > u->active_to && u->nsuccessors == 1 && hops < 16; hops++)
		u = u->successors[0];
	return u ? u->code : code;
}

/* move_obligation - the open obligation id of a closed unit: passed to its successor by the
 * report type's rule (on_reorganisation = "successor"), or closed with the reason */
static int move_obligation(struct daemon *d, int64_t id, const struct report_type *rt, const struct unit *u,
			   const char *period, int64_t due_at, int64_t now)
{
	const struct unit *to = rt->on_reorg_successor && u->nsuccessors == 1 ? u->successors[0] : NULL;
	char closed[16], reason[512], object[64];
	sqlite3_stmt *s;
	int taken = 0, rc;

	cal_vn_day(u->active_to, closed, sizeof(closed));
	if (to) {
		int64_t next_at = ladder_next(d->cfg, rt, due_at, now);

		snprintf(reason, sizeof(reason), "chuyển từ %s (%s): đơn vị đã sắp xếp lại ngày %s", u->code, u->name, closed);
		s = store_stmt(d->store, "INSERT OR IGNORE INTO obligations (report, unit, period, due_at, updated_at, next_at,"
			       " steps_through, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?7)");
		sqlite3_bind_text(s, 1, rt->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, to->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, period, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, due_at);
		sqlite3_bind_int64(s, 5, now);
		if (next_at)
			sqlite3_bind_int64(s, 6, next_at);
		sqlite3_bind_text(s, 7, reason, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return -1;
		taken = sqlite3_changes(store_db(d->store)) == 1;
		snprintf(reason, sizeof(reason), "đơn vị đã sắp xếp lại ngày %s; %s %s (%s)", closed,
			 taken ? "nghĩa vụ chuyển cho" : "nghĩa vụ đã có ở", to->code, to->name);
	} else {
		snprintf(reason, sizeof(reason), "đơn vị đã sắp xếp lại ngày %s", closed);
	}
	s = store_stmt(d->store, "UPDATE obligations SET state = 'waived', reason = ?2, next_at = NULL, updated_at = ?3"
		       " WHERE id = ?1");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	snprintf(object, sizeof(object), "obligation/%lld", (long long)id);
	return audit_append(d, "thiduad", "obligation.reorganise", object, u->code,
			    json_pack("{s:s,s:s,s:s,s:s?,s:s}", "report", rt->code, "period", period, "unit", u->code,
				      "to", to && taken ? to->code : NULL, "reason", reason));
}

/* sweep_obligations - every open or returned obligation of a unit closed by today */
static int sweep_obligations(struct daemon *d, int64_t now, int32_t today)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT id, report, unit, period, due_at FROM obligations"
				     " WHERE state IN ('open', 'returned') ORDER BY id");
	struct row { int64_t id, due_at; char report[80], unit[80], period[40]; } *rows = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	while (sqlite3_step(s) == SQLITE_ROW) {
		const struct unit *u = unitset_find(d->units, (const char *)sqlite3_column_text(s, 2));

		if (!u || today <= u->active_to)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		rows[n].id = sqlite3_column_int64(s, 0);
		rows[n].due_at = sqlite3_column_int64(s, 4);
		xstrlcpy(rows[n].report, (const char *)sqlite3_column_text(s, 1), sizeof(rows[n].report));
		xstrlcpy(rows[n].unit, u->code, sizeof(rows[n].unit));
		xstrlcpy(rows[n].period, (const char *)sqlite3_column_text(s, 3), sizeof(rows[n].period));
		n++;
	}
	sqlite3_reset(s);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct report_type *rt = cfg_report(d->cfg, rows[i].report);

		/* past its lock an obligation is history (missing), not work to move */
		if (!rt || (rt->late_days >= 0 && now > rows[i].due_at + (int64_t)rt->late_days * DAY_SECONDS))
			continue;
		rc = move_obligation(d, rows[i].id, rt, unitset_find(d->units, rows[i].unit), rows[i].period,
				     rows[i].due_at, now);
		if (rc == 0)
			log_info("reorganisation: obligation %s %s of %s closed with its unit", rows[i].report,
				 rows[i].period, rows[i].unit);
	}
	free(rows);
	return rc;
}

static int (*on_sweep[4])(struct daemon *d, int32_t today);
static size_t non_sweep;

/* reorg_on_sweep - what else a reorganisation moves (proposals: dossiers waiting at a
 * stage that ended or before a unit that closed), registered at start-up */
void reorg_on_sweep(int (*fn)(struct daemon *d, int32_t today))
{
	for (size_t i = 0; i < non_sweep; i++)
		if (on_sweep[i] == fn)
			return;
	if (non_sweep == sizeof(on_sweep) / sizeof(on_sweep[0]))
		fatal("reorg_on_sweep: too many");
	on_sweep[non_sweep++] = fn;
}

static int swept_by_others(struct daemon *d, int32_t today)
{
	for (size_t i = 0; i < non_sweep; i++)
		if (on_sweep[i](d, today))
			return -1;
	return 0;
}

/* earliest_after - *next becomes the midnight after last_day when that is sooner and not
 * yet swept */
static void earliest_after(const struct daemon *d, int32_t last_day, int64_t *next)
{
	int64_t m;

	if (last_day == DATE_NONE_TO)
		return;
	m = day_start(last_day + 1, d->cfg->utc_offset);
	if (m > reorg_through && m < *next)
		*next = m;
}

/* reorg_next_due - the first midnight after a unit's last day, or a stage's, not yet swept;
 * at once after start-up, a reload or an import (a unit may have been closed in the past) */
static int64_t reorg_next_due(struct daemon *d)
{
	int64_t next = INT64_MAX;

	if (!reorg_through || swept_cfg != (const void *)d->cfg || swept_units != (const void *)d->units)
		return clock_now(d);
	for (size_t i = 0; i < d->units->nunits; i++)
		earliest_after(d, d->units->units[i]->active_to, &next);
	for (size_t i = 0; i < d->cfg->nprogrammes; i++)
		for (size_t k = 0; k < d->cfg->programmes[i].nstages; k++)
			earliest_after(d, d->cfg->programmes[i].stages[k].until, &next);
	return next;
}

static void reorg_run(struct daemon *d, int64_t now)
{
	int32_t today = day_of_time(now, d->cfg->utc_offset);

	if (sweep_obligations(d, now, today) || swept_by_others(d, today))
		log_err("reorganisation of %s: %s", d->cfg->path, store_errmsg(d->store));
	reorg_through = now;
	swept_cfg = d->cfg;
	swept_units = d->units;
}

static const struct due_source reorg_source = { "reorganisation", reorg_next_due, reorg_run };

void reorg_init(void)
{
	sched_register(&reorg_source);
}

/* history under successors --------------------------------------------------------------- */

/* leads_to - a's successors, and theirs, reach succ */
static int leads_to(const struct unit *a, const struct unit *succ, int depth)
{
	for (size_t i = 0; depth < 16 && i < a->nsuccessors; i++)
		if (a->successors[i] == succ || leads_to(a->successors[i], succ, depth + 1))
			return 1;
	return 0;
}

const struct unit *reorg_predecessor_in(const struct unit *u, const struct unit *under, int32_t day)
{
	for (int guard = 0; u && guard < 64; guard++, u = unit_parent_at(u, day))
		if (leads_to(u, under, 0))
			return u;
	return NULL;
}
