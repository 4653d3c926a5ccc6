/*
 * config_span.c - effective dates of what names a unit or a level (docs/CONFIG.md,
 * "Effective dates").
 *
 * A report type, a stage, a programme and a principal may carry from / until. Whatever
 * they name (a receiver, a submitters.under unit, an escalation target, a stage's deciding
 * unit or level, a principal's unit) must be in force over the span in which it is named:
 * a stage decided by the district after the district closed is refused at load, with its
 * line and the dates, instead of failing on the day a dossier reaches it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "proposals.h"
#include "timeutil.h"
#include "xalloc.h"

int span_contains(int32_t from, int32_t until, int32_t day)
{
	return day >= from && day <= until;
}

/* fmt_day - a span end as people read it */
static const char *fmt_day(int32_t day, char *buf, size_t size)
{
	if (day == DATE_NONE_FROM)
		snprintf(buf, size, "the start");
	else if (day == DATE_NONE_TO)
		snprintf(buf, size, "no end");
	else
		date_format(day, buf, size);
	return buf;
}

/* yearly_due - the due date of year y as written (before any roll to a working day) */
static int32_t yearly_due(const struct report_type *rt, int y)
{
	return days_from_civil(y, (unsigned)rt->due_month, (unsigned)rt->due_mday);
}

int cfg_span_clip(struct report_type *rt, char *buf, size_t size)
{
	char a[16], b[16];

	if (rt->from == DATE_NONE_FROM && rt->until == DATE_NONE_TO)
		return 0;
	if (!rt->yearly) {
		if (span_contains(rt->from, rt->until, rt->once_due))
			return 0;
		date_format(rt->once_due, a, sizeof(a));
		snprintf(buf, size, "its period \"%s\" is due %s, outside its from/until (%s to %s)", rt->once_period, a,
			 fmt_day(rt->from, b, sizeof(b)), fmt_day(rt->until, a, sizeof(a)));
		return -1;
	}
	while (rt->first_year <= rt->last_year && yearly_due(rt, rt->first_year) < rt->from)
		rt->first_year++;
	while (rt->last_year >= rt->first_year && yearly_due(rt, rt->last_year) > rt->until)
		rt->last_year--;
	if (rt->first_year <= rt->last_year)
		return 0;
	snprintf(buf, size, "no yearly period is due between %s and %s (from/until): widen them or remove the report type",
		 fmt_day(rt->from, a, sizeof(a)), fmt_day(rt->until, b, sizeof(b)));
	return -1;
}

/* span of a report type: the first period's opening to the last period's due date */
static void report_span(const struct report_type *rt, int32_t *from, int32_t *until)
{
	if (rt->yearly) {
		*from = days_from_civil(rt->first_year, (unsigned)rt->open_month, (unsigned)rt->open_mday);
		*until = yearly_due(rt, rt->last_year);
	} else {
		*from = rt->once_open;
		*until = rt->once_due;
	}
}

struct checker {
	const struct config *cfg;
	char ***errors;
	int n;
};

static void problem(struct checker *ck, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(struct checker *ck, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg, *text;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	text = xasprintf("%s:%d: %s", ck->cfg->path, line, msg);
	*ck->errors = strv_append(*ck->errors, text);
	free(text);
	free(msg);
	ck->n++;
}

/* unit_covers - is u in force on every day of [from, until]? An open start is the
 * unit's own start: what is named from the beginning begins with the unit */
static int unit_covers(const struct unit *u, int32_t from, int32_t until)
{
	return (from == DATE_NONE_FROM || u->active_from <= from) && u->active_to >= until;
}

/* level_covers - some unit of the level (not an attached office) is in force on every day
 * of [from, until] (an open start: from the first of them; an open end: one of them never
 * closes); else 0 with the first day of the gap in *gap and its last in *gap_end */
static int level_covers(const struct unitset *set, const char *level, int32_t from, int32_t until,
			int32_t *gap, int32_t *gap_end)
{
	int lvl = unitset_level_index(set, level);
	int32_t day = from;

	if (day == DATE_NONE_FROM) {
		day = DATE_NONE_TO;
		for (size_t i = 0; i < set->nunits; i++)
			if (set->units[i]->level == lvl && !set->units[i]->attached && set->units[i]->active_from < day)
				day = set->units[i]->active_from;
	}
	for (;;) {
		int32_t reach = 0, next = DATE_NONE_TO;
		int found = 0;

		/* of the units in force on day, the one that lasts longest; the next to begin */
		for (size_t i = 0; i < set->nunits; i++) {
			const struct unit *u = set->units[i];

			if (u->level != lvl || u->attached)
				continue;
			if (unit_active_at(u, day) && (!found || u->active_to > reach)) {
				reach = u->active_to;
				found = 1;
			} else if (u->active_from > day && u->active_from < next) {
				next = u->active_from;
			}
		}
		if (!found) {
			*gap = day;
			*gap_end = next == DATE_NONE_TO ? DATE_NONE_TO : next - 1;
			if (*gap_end > until)
				*gap_end = until;
			return 0;
		}
		if (reach >= until)
			return 1;
		day = reach + 1;
	}
}

/* gap_text - "on D" for one day, "on D (nor up to E)" for more */
static const char *gap_text(int32_t gap, int32_t gap_end, char *buf, size_t size)
{
	char a[16], b[16];

	if (gap_end == gap)
		snprintf(buf, size, "on %s", fmt_day(gap, a, sizeof(a)));
	else if (gap_end == DATE_NONE_TO)
		snprintf(buf, size, "on %s (nor on any day after it)", fmt_day(gap, a, sizeof(a)));
	else
		snprintf(buf, size, "on %s (nor up to %s)", fmt_day(gap, a, sizeof(a)), fmt_day(gap_end, b, sizeof(b)));
	return buf;
}

/* unit_span_text - "in force from A to B" for a unit */
static void unit_span_text(const struct unit *u, char *buf, size_t size)
{
	char a[16], b[16];

	snprintf(buf, size, "in force from %s to %s", fmt_day(u->active_from, a, sizeof(a)),
		 fmt_day(u->active_to, b, sizeof(b)));
}

/* check_unit_ref - u must be in force over [from, until]; what names the reference */
static void check_unit_ref(struct checker *ck, int line, const char *what, const char *code, int32_t from,
			   int32_t until, const char *fix)
{
	const struct unit *u = unitset_find(ck->cfg->units, code);
	char a[16], b[16], span[80];

	if (!u || unit_covers(u, from, until))
		return;
	unit_span_text(u, span, sizeof(span));
	problem(ck, line, "%s names %s (%s), which is %s, but it is named from %s to %s: %s", what, u->code, u->name,
		span, fmt_day(from, a, sizeof(a)), fmt_day(until, b, sizeof(b)), fix);
}

static void check_level_ref(struct checker *ck, int line, const char *what, const char *level, int32_t from,
			    int32_t until, const char *fix)
{
	int32_t gap = 0, gap_end = 0;
	char a[16], b[16], g[64];

	if (unitset_level_index(ck->cfg->units, level) < 0
	    || level_covers(ck->cfg->units, level, from, until, &gap, &gap_end))
		return;
	problem(ck, line, "%s names level:%s, but no unit of level %s is in force %s (it is named from %s to %s): %s",
		what, level, level, gap_text(gap, gap_end, g, sizeof(g)), fmt_day(from, a, sizeof(a)),
		fmt_day(until, b, sizeof(b)), fix);
}

/* check_parent_ref - a stage decided by "parent": the parent of every unit that may propose
 * must be in force on every day of [from, until] the proposer is (a closed parent with one
 * successor hands over to it, as unit_parent_at does in the running daemon) */
static void check_parent_ref(struct checker *ck, int line, const char *what, const struct programme *pg,
			     int32_t from, int32_t until, const char *fix)
{
	char why[8], a[16], b[16], c[16], d[16], span[80];
	const struct unitset *set = ck->cfg->units;

	for (size_t i = 0; i < set->nunits; i++) {
		const struct unit *u = set->units[i], *p = u->parent;
		int32_t start = from > u->active_from ? from : u->active_from;
		int32_t end = until < u->active_to ? until : u->active_to;

		if (!p || start > end || !proposer_allowed(NULL, pg, u, why, sizeof(why)))
			continue;
		for (int hops = 0; p && hops < 16; hops++) {
			if (p->active_from > start) {
				unit_span_text(p, span, sizeof(span));
				problem(ck, line, "%s: the parent of proposer %s is %s (%s), which is %s, but %s may propose from %s to %s: %s",
					what, u->code, p->code, p->name, span, u->code, fmt_day(start, a, sizeof(a)),
					fmt_day(end, b, sizeof(b)), fix);
				break;
			}
			if (p->active_to >= end)
				break;
			if (p->nsuccessors != 1) {
				problem(ck, line, "%s: the parent of proposer %s, %s (%s), closes on %s (%s) inside the span from %s to %s in which %s may propose, and no single unit succeeds it on %s: %s",
					what, u->code, p->code, p->name, fmt_day(p->active_to, a, sizeof(a)),
					p->nsuccessors ? "several successors" : "no successor", fmt_day(start, b, sizeof(b)),
					fmt_day(end, c, sizeof(c)), u->code, fmt_day(p->active_to + 1, d, sizeof(d)), fix);
				break;
			}
			start = p->active_to + 1;
			p = p->successors[0];
		}
	}
}

static void check_report(struct checker *ck, const struct report_type *rt)
{
	int32_t from, until;
	char what[160];
	const char *fix = "give the report type until = \"YYYY-MM-DD\" (the last day it is owed) and declare the one that replaces it";

	report_span(rt, &from, &until);
	snprintf(what, sizeof(what), "report %s: receiver", rt->code);
	if (rt->receiver)
		check_unit_ref(ck, rt->line, what, rt->receiver, from, until, fix);
	snprintf(what, sizeof(what), "report %s: submitters.under", rt->code);
	if (rt->who.under)
		check_unit_ref(ck, rt->line, what, rt->who.under, from, until, fix);
	snprintf(what, sizeof(what), "report %s: submitters.units", rt->code);
	for (size_t i = 0; rt->who.units && rt->who.units[i]; i++)
		check_unit_ref(ck, rt->line, what, rt->who.units[i], from, until, fix);
	for (size_t i = 0; i < rt->nsteps; i++) {
		const struct step *st = &rt->steps[i];

		for (size_t k = 0; k < st->nto; k++) {
			snprintf(what, sizeof(what), "report %s: escalation step %s", rt->code, st->id);
			if (st->to[k].kind == T_UNIT)
				check_unit_ref(ck, rt->line, what, st->to[k].arg, from, until, fix);
			else if (st->to[k].kind == T_LEVEL)
				check_level_ref(ck, rt->line, what, st->to[k].arg, from, until, fix);
		}
	}
}

static void check_programme(struct checker *ck, const struct programme *pg)
{
	const char *fix = "give the stage until = \"YYYY-MM-DD\" (the last day of that unit) and a stage after it, from the next day, decided by the unit that took over";
	char who[160];

	snprintf(who, sizeof(who), "programme %s: proposers.units", pg->code);
	for (size_t i = 0; pg->proposers.units && pg->proposers.units[i]; i++)
		check_unit_ref(ck, pg->line, who, pg->proposers.units[i], pg->from, pg->until,
			       "give the programme until = \"YYYY-MM-DD\" (the last day of that unit), or list the unit that took over");

	for (size_t i = 0; i < pg->nstages; i++) {
		const struct stage *st = &pg->stages[i];
		int32_t from = st->from > pg->from ? st->from : pg->from;
		int32_t until = st->until < pg->until ? st->until : pg->until;
		char what[160];

		snprintf(what, sizeof(what), "programme %s: stage %zu (decider \"%s\")", pg->code, i + 1, st->decider);
		if (st->kind == DK_UNIT && st->arg)
			check_unit_ref(ck, st->line, what, st->arg, from, until, fix);
		else if (st->kind == DK_LEVEL && st->arg)
			check_level_ref(ck, st->line, what, st->arg, from, until, fix);
		else if (st->kind == DK_PARENT)
			check_parent_ref(ck, st->line, what, pg, from, until, fix);
	}
}

static void check_principal(struct checker *ck, const struct principal *p)
{
	const struct unit *u = p->unit ? unitset_find(ck->cfg->units, p->unit) : NULL;
	char a[16], b[16], c[16], span[80];

	if (!u)
		return;
	if ((p->until > u->active_to) || (p->from != DATE_NONE_FROM && p->from < u->active_from)) {
		unit_span_text(u, span, sizeof(span));
		problem(ck, p->line, "principal %s acts for %s (%s), which is %s, but holds its roles from %s to %s: give the principal until = \"%s\" (or from) within the unit's dates, and declare its next post as another principal",
			p->name, u->code, u->name, span, fmt_day(p->from, a, sizeof(a)), fmt_day(p->until, b, sizeof(b)),
			fmt_day(u->active_to, c, sizeof(c)));
	}
}

int cfg_check_spans(struct config *cfg, char ***errors)
{
	struct checker ck = { cfg, errors, 0 };

	for (size_t i = 0; i < cfg->nreports; i++)
		check_report(&ck, &cfg->reports[i]);
	for (size_t i = 0; i < cfg->nprogrammes; i++)
		check_programme(&ck, &cfg->programmes[i]);
	for (size_t i = 0; i < cfg->nprincipals; i++)
		check_principal(&ck, &cfg->principals[i]);
	return ck.n;
}

int stage_in_force(const struct programme *pg, int n, int32_t day)
{
	for (int i = n; i >= 1 && (size_t)i <= pg->nstages; i++)
		if (span_contains(pg->stages[i - 1].from, pg->stages[i - 1].until, day))
			return i;
	return 0;
}

int principal_in_force(const struct config *cfg, const struct principal *p, int32_t day)
{
	const struct unit *u = unitset_find(cfg->units, p->unit);

	return span_contains(p->from, p->until, day) && (!u || unit_active_at(u, day));
}

const struct principal *cfg_principal_at(const struct config *cfg, const char *name, int32_t day)
{
	const struct principal *first = NULL, *began = NULL;

	for (size_t i = 0; name && i < cfg->nprincipals; i++) {
		const struct principal *p = &cfg->principals[i];

		if (strcmp(p->name, name))
			continue;
		if (span_contains(p->from, p->until, day))
			return p;
		if (!first)
			first = p;
		if (p->from <= day && (!began || p->from > began->from))
			began = p;
	}
	return began ? began : first;
}
