/*
 * config_reports.c - the report types: schedules, who owes them, reminders and
 * escalation.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_load.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"

static const char *const report_keys[] = {
	"code", "name", "receiver", "submitters", "yearly", "once", "roll_to_working_day",
	"late_until_days", "return_working_days", "max_file_bytes", "reminders", "escalation", "receipt_notice",
	"from", "until", "on_reorganisation", "how_to_submit", "compiles", NULL
};

static const char *const escalation_keys[] = { "after", "to", "repeat_every", "repeat_times", NULL };

static const char *const selector_keys[] = { "kinds", "levels", "units", "under", NULL };

static const char *const yearly_keys[] = { "due", "opens", "first", "last", NULL };

static const char *const once_keys[] = { "period", "due", "opens", NULL };

/* check_report_start - nothing is owed for a date before the movement starts (the plan's
 * date): a first period due before it is an error that names the first year that is not */
static void check_report_start(struct loader *ld, const struct config *cfg, const struct report_type *rt,
			       const config_setting_t *s)
{
	char due[16], starts[16];
	int32_t first_due;

	if (cfg->movement_starts == DATE_NONE_FROM)
		return;
	date_format(cfg->movement_starts, starts, sizeof(starts));
	if (rt->yearly) {
		int y = rt->first_year;

		first_due = days_from_civil(y, (unsigned)rt->due_month, (unsigned)rt->due_mday);
		if (first_due >= cfg->movement_starts)
			return;
		while (y <= 2100 && days_from_civil(y, (unsigned)rt->due_month, (unsigned)rt->due_mday) < cfg->movement_starts)
			y++;
		date_format(first_due, due, sizeof(due));
		ld_err_at(ld, s, "report %s: its first period %d is due %s, before the movement starts (movement.starts = %s):"
		       " nothing is owed for a date before the plan; set yearly.first = %d", rt->code, rt->first_year,
		       due, starts, y);
	} else if (rt->once_period && rt->once_due < cfg->movement_starts) {
		date_format(rt->once_due, due, sizeof(due));
		ld_err_at(ld, s, "report %s: its period %s is due %s, before the movement starts (movement.starts = %s):"
		       " nothing is owed for a date before the plan; give a due date on or after %s, or remove the type",
		       rt->code, rt->once_period, due, starts, starts);
	}
}

/* ld_get_monthday - "MM-DD" for yearly schedules (29 February is refused: not every year has it) */
int ld_get_monthday(struct loader *ld, const config_setting_t *g, const char *name,
		    const char *what, int *month, int *mday)
{
	char *text = NULL;
	int32_t day;
	char buf[16];

	if (ld_get_string(ld, g, name, 1, what, &text))
		return -1;
	snprintf(buf, sizeof(buf), "2023-%.5s", text);
	if (strlen(text) != 5 || date_parse(buf, &day)) {
		ld_err_at(ld, config_setting_get_member(g, name), "%s: '%s' = \"%s\" is not a month and day: write MM-DD, e.g. \"11-15\"",
		       what, name, text);
		free(text);
		return -1;
	}
	*month = (text[0] - '0') * 10 + text[1] - '0';
	*mday = (text[3] - '0') * 10 + text[4] - '0';
	free(text);
	return 0;
}

static void load_selector(struct loader *ld, struct report_type *rt, const config_setting_t *g)
{
	ld_check_keys(ld, g, "submitters", selector_keys);
	rt->who.kinds = ld_get_strv(ld, g, "kinds", "submitters");
	rt->who.levels = ld_get_strv(ld, g, "levels", "submitters");
	rt->who.units = ld_get_strv(ld, g, "units", "submitters");
	ld_get_string(ld, g, "under", 0, "submitters", &rt->who.under);
	if (!rt->who.kinds && !rt->who.levels && !rt->who.units && !rt->who.under)
		ld_err_at(ld, g, "report %s: submitters selects nobody: give kinds, levels, units or under", rt->code);
}

/* check_report_units - receiver, selector units and levels must exist */
static void check_report_units(struct loader *ld, struct config *cfg, const struct report_type *rt,
			       const config_setting_t *s)
{
	if (rt->receiver && !unitset_find(cfg->units, rt->receiver))
		ld_err_at(ld, s, "report %s: receiver '%s' is not a unit of this file", rt->code, rt->receiver);
	if (rt->who.under && !unitset_find(cfg->units, rt->who.under))
		ld_err_at(ld, s, "report %s: submitters.under '%s' is not a unit of this file", rt->code, rt->who.under);
	for (size_t i = 0; rt->who.units && rt->who.units[i]; i++)
		if (!unitset_find(cfg->units, rt->who.units[i]))
			ld_err_at(ld, s, "report %s: submitter '%s' is not a unit of this file", rt->code, rt->who.units[i]);
	for (size_t i = 0; rt->who.levels && rt->who.levels[i]; i++)
		if (unitset_level_index(cfg->units, rt->who.levels[i]) < 0)
			ld_err_at(ld, s, "report %s: submitters level '%s' is not declared", rt->code, rt->who.levels[i]);
}

/* parse_offset - "10wd" (working days) or "3d" (calendar days) */
static int parse_offset(const char *s, struct offset *o)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (end == s || n < 0 || n > 3650)
		return -1;
	if (!strcmp(end, "wd"))
		o->working = 1;
	else if (!strcmp(end, "d"))
		o->working = 0;
	else
		return -1;
	o->n = (int)n;
	return 0;
}

/* parse_target - self, parent, receiver, level:CODE, unit:CODE */
static int parse_target(struct config *cfg, const char *s, struct target *t)
{
	t->arg = NULL;
	if (!strcmp(s, "self"))
		t->kind = T_SELF;
	else if (!strcmp(s, "parent"))
		t->kind = T_PARENT;
	else if (!strcmp(s, "receiver"))
		t->kind = T_RECEIVER;
	else if (!strncmp(s, "level:", 6) && unitset_level_index(cfg->units, s + 6) >= 0)
		t->kind = T_LEVEL;
	else if (!strncmp(s, "unit:", 5) && unitset_find(cfg->units, s + 5))
		t->kind = T_UNIT;
	else
		return -1;
	if (t->kind == T_LEVEL || t->kind == T_UNIT)
		t->arg = xstrdup(strchr(s, ':') + 1);
	return 0;
}

static struct step *add_step(struct report_type *rt)
{
	rt->steps = xrealloc(rt->steps, (rt->nsteps + 1) * sizeof(*rt->steps));
	memset(&rt->steps[rt->nsteps], 0, sizeof(*rt->steps));
	return &rt->steps[rt->nsteps++];
}

/* load_ladder - reminders = ["10wd", "3wd", "1d"]; escalation = ( { after; to; repeat } ) */
static void load_ladder(struct loader *ld, struct config *cfg, struct report_type *rt, const config_setting_t *s)
{
	char **rem = ld_get_strv(ld, s, "reminders", "report type");
	const config_setting_t *esc = ld_list_member(ld, s, "escalation", 0);

	for (size_t i = 0; rem && rem[i]; i++) {
		struct step *st = add_step(rt);

		if (parse_offset(rem[i], &st->at)) {
			ld_err_at(ld, config_setting_get_member(s, "reminders"),
			       "report %s: reminder \"%s\" is not an offset: write 10wd (working days) or 3d (days) before the due date",
			       rt->code, rem[i]);
			rt->nsteps--;
			continue;
		}
		snprintf(st->id, sizeof(st->id), "r%d%s", st->at.n, st->at.working ? "wd" : "d");
		st->to = xcalloc(1, sizeof(*st->to));
		st->to[0].kind = T_SELF;
		st->nto = 1;
	}
	strv_free(&rem);
	for (int i = 0; esc && i < config_setting_length(esc); i++) {
		const config_setting_t *e = config_setting_get_elem(esc, (unsigned)i);
		char *after = NULL, *every = NULL, **to;
		struct offset at, ev = { 0, 0 };
		int times;

		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, e, "escalation: each step must be a group { after = \"1wd\"; to = [ \"self\" ]; }");
			continue;
		}
		ld_check_keys(ld, e, "an escalation step", escalation_keys);
		if (ld_get_string(ld, e, "after", 1, "escalation", &after))
			continue;
		if (parse_offset(after, &at)) {
			ld_err_at(ld, e, "escalation: after = \"%s\" is not an offset: write 1wd (working days) or 7d (days)", after);
			free(after);
			continue;
		}
		times = ld_get_int(ld, e, "repeat_times", "escalation", 0, 0, 100);
		if (ld_get_string(ld, e, "repeat_every", 0, "escalation", &every) == 0
		    && (parse_offset(every, &ev) || ev.working || ev.n < 1))
			ld_err_at(ld, e, "escalation: repeat_every = \"%s\" must be calendar days, e.g. \"7d\"", every);
		if (times && !every)
			ld_err_at(ld, e, "escalation: repeat_times needs repeat_every");
		to = ld_get_strv(ld, e, "to", "escalation");
		if (!to)
			ld_err_at(ld, e, "escalation: 'to' is required: self, parent, receiver, level:CODE or unit:CODE");
		for (int r = 0; r <= times && to; r++) {
			struct step *st = add_step(rt);

			st->escalation = 1;
			st->at = at;
			st->extra_days = r * ev.n;
			snprintf(st->id, sizeof(st->id), "e%d%s%s%.0d", at.n, at.working ? "wd" : "d", r ? "+" : "", r);
			st->nto = strv_len(to);
			st->to = xcalloc(st->nto, sizeof(*st->to));
			for (size_t k = 0; k < st->nto; k++)
				if (parse_target(cfg, to[k], &st->to[k]))
					ld_err_at(ld, e, "escalation: target \"%s\" is not self, parent, receiver, level:LEVEL or unit:CODE of a declared level or unit",
					       to[k]);
		}
		strv_free(&to);
		free(after);
		free(every);
	}
	for (size_t i = 0; i < rt->nsteps; i++)
		for (size_t k = i + 1; k < rt->nsteps; k++)
			if (!strcmp(rt->steps[i].id, rt->steps[k].id))
				ld_err_at(ld, s, "report %s: the step %s is listed twice", rt->code, rt->steps[i].id);
}

void ld_load_reports(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = ld_list_member(ld, root, "report_types", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->reports = xcalloc((size_t)n + 1, sizeof(*cfg->reports));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		const config_setting_t *g;
		struct report_type *rt = &cfg->reports[cfg->nreports];

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, s, "report_types: each report type must be a group { code = ...; ... }");
			continue;
		}
		ld_check_keys(ld, s, "a report type", report_keys);
		rt->line = (int)config_setting_source_line(s);
		if (ld_get_string(ld, s, "code", 1, "report type", &rt->code))
			continue;
		cfg->nreports++;
		if (!unit_code_valid(rt->code))
			ld_err_at(ld, s, "report code '%s' is not valid: letters, digits, '-', '_' or '.'", rt->code);
		for (size_t k = 0; k + 1 < cfg->nreports; k++)
			if (strcmp(cfg->reports[k].code, rt->code) == 0)
				ld_err_at(ld, s, "report type '%s' is declared twice (first at line %d)", rt->code, cfg->reports[k].line);
		ld_get_string(ld, s, "name", 1, "report type", &rt->name);
		ld_get_string(ld, s, "receiver", 1, "report type", &rt->receiver);
		if ((g = ld_group_member(ld, s, "submitters", 1)))
			load_selector(ld, rt, g);
		rt->roll = ld_get_bool(ld, s, "roll_to_working_day", "report type", 1);
		rt->late_days = ld_get_int(ld, s, "late_until_days", "report type", -1, -1, 3650);
		rt->return_days = ld_get_int(ld, s, "return_working_days", "report type", 5, 1, 365);
		rt->receipt_notice = ld_get_bool(ld, s, "receipt_notice", "report type", 0);
		ld_get_string(ld, s, "how_to_submit", 0, "report type", &rt->how_to_submit);
		ld_get_string(ld, s, "compiles", 0, "report type", &rt->compiles);
		rt->max_file_bytes = ld_get_int(ld, s, "max_file_bytes", "report type", 25 * 1024 * 1024, 1, 1 << 30);
		if ((g = ld_group_member(ld, s, "yearly", 0))) {
			rt->yearly = 1;
			ld_check_keys(ld, g, "yearly", yearly_keys);
			ld_get_monthday(ld, g, "due", "yearly", &rt->due_month, &rt->due_mday);
			rt->open_month = 1;
			rt->open_mday = 1;
			if (config_setting_get_member(g, "opens"))
				ld_get_monthday(ld, g, "opens", "yearly", &rt->open_month, &rt->open_mday);
			rt->first_year = ld_get_int(ld, g, "first", "yearly", 2024, 2000, 2100);
			rt->last_year = ld_get_int(ld, g, "last", "yearly", 2030, 2000, 2100);
			if (rt->last_year < rt->first_year)
				ld_err_at(ld, g, "yearly: last year %d is before first year %d", rt->last_year, rt->first_year);
			if (rt->open_month * 100 + rt->open_mday > rt->due_month * 100 + rt->due_mday)
				ld_err_at(ld, g, "yearly: a period must open (opens) on or before its due date (due) in the same year");
		}
		if ((g = ld_group_member(ld, s, "once", 0))) {
			if (rt->yearly)
				ld_err_at(ld, g, "report %s has both 'yearly' and 'once': choose one", rt->code);
			ld_check_keys(ld, g, "once", once_keys);
			ld_get_string(ld, g, "period", 1, "once", &rt->once_period);
			rt->once_due = ld_get_date(ld, g, "due", "once", DATE_NONE_FROM);
			rt->once_open = ld_get_date(ld, g, "opens", "once", rt->once_due);
			if (!config_setting_get_member(g, "due"))
				ld_err_at(ld, g, "once: 'due' is required");
			else if (rt->once_open > rt->once_due)
				ld_err_at(ld, g, "once: opens is after due");
		} else if (!rt->yearly) {
			ld_err_at(ld, s, "report %s has no schedule: add yearly = { due = \"MM-DD\"; } or once = { period = ...; due = \"YYYY-MM-DD\"; }",
			       rt->code);
		}
		ld_get_span(ld, s, "report type", &rt->from, &rt->until);
		if (config_setting_get_member(s, "on_reorganisation")) {
			char *rule = NULL;

			if (ld_get_string(ld, s, "on_reorganisation", 0, "report type", &rule) == 0) {
				rt->on_reorg_successor = !strcmp(rule, "successor");
				if (strcmp(rule, "successor") && strcmp(rule, "close"))
					ld_err_at(ld, config_setting_get_member(s, "on_reorganisation"),
					       "report %s: on_reorganisation \"%s\" is not \"successor\" or \"close\"", rt->code, rule);
			}
			free(rule);
		}
		if (rt->yearly || rt->once_period) {
			char why[256];

			if (cfg_span_clip(rt, why, sizeof(why)))
				ld_err_at(ld, s, "report %s: %s", rt->code, why);
		}
		check_report_units(ld, cfg, rt, s);
		check_report_start(ld, cfg, rt, s);
		load_ladder(ld, cfg, rt, s);
	}
	for (size_t i = 0; i < cfg->nreports; i++) {	/* compiles: another report type of the file */
		const struct report_type *rt = &cfg->reports[i], *in = rt->compiles ? cfg_report(cfg, rt->compiles) : NULL;

		if (rt->compiles && (!in || in == rt))
			ld_err_line(ld, config_setting_source_file(list), (unsigned)rt->line,
				 "report %s: compiles \"%s\", which is %s: name the report type whose reports it compiles",
				 rt->code, rt->compiles, in ? "itself" : "not a report type of this file");
	}
}
