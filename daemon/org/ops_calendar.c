/*
 * ops_calendar.c - calendar.show and deadlines: what the configured calendar makes of a
 * month, and when every report period is really due.
 *
 * Both only read the config (holidays, make-up Saturdays, report schedules); the period
 * arithmetic is calendar.c's, the same intake uses, so a deadline shown here is the one
 * obligations are held to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "clock.h"
#include "config.h"
#include "lookup.h"
#include "ops_calendar.h"
#include "rq.h"
#include "thiduad.h"
#include "timeutil.h"
#include "xalloc.h"

static const char *const weekday_en[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const weekday_vi[7] = {
	"thứ Hai (Monday)", "thứ Ba (Tuesday)", "thứ Tư (Wednesday)", "thứ Năm (Thursday)",
	"thứ Sáu (Friday)", "thứ Bảy (Saturday)", "Chủ nhật (Sunday)",
};

#define ART148 "chuyển sang ngày làm việc tiếp theo theo Điều 148 Bộ luật Dân sự 2015"

/* hhmm_json - minutes after midnight as "07:30" */
static json_t *hhmm_json(int minutes)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%02d:%02d", (minutes / 60) % 100, minutes % 60);
	return json_string(buf);
}

/* month_parse - "YYYY-MM" to its first day and its length; 0 ok, -1 not a month */
static int month_parse(const char *s, int32_t *first, int *ndays)
{
	char buf[16];
	int y;
	unsigned m, dd;
	int32_t next;

	if (strlen(s) != 7 || s[4] != '-')
		return -1;
	snprintf(buf, sizeof(buf), "%s-01", s);
	if (date_parse(buf, first))
		return -1;
	civil_from_days(*first, &y, &m, &dd);
	next = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
	*ndays = (int)(next - *first);
	return 0;
}

/* day_json - one day of the month: working or not, and why */
static json_t *day_json(const struct config *cfg, int32_t day)
{
	const struct holiday *h = cfg_holiday(cfg, day);
	int working = cal_is_working_day(cfg, day);
	const char *why = NULL;

	if (h)
		why = h->work ? "make-up working day" : "holiday";
	else if (!working)
		why = "weekend";
	return json_pack("{s:o,s:s,s:b,s:s?,s:s?,s:s?,s:o}",
			 "date", json_day(day), "weekday", weekday_en[weekday_of_day(day)],
			 "working", working, "why", why, "name", h ? h->name : NULL,
			 "source", h ? h->source : NULL,
			 "confirmed", h ? json_boolean(h->confirmed) : json_null());
}

/* op_calendar_show - one month: every day, working or not and why, and the count */
int op_calendar_show(struct daemon *d, struct request *rq, json_t *out)
{
	const struct config *cfg = d->cfg;
	const char *month = rq_str(rq, "month", 1);
	json_t *days = json_array();
	int32_t first;
	int ndays, working = 0;
	char off[8];

	if (!month) {
		json_decref(days);
		return -1;
	}
	if (month_parse(month, &first, &ndays)) {
		json_decref(days);
		return rq_error(rq, ERR_INVALID_FIELD, "'month' = \"%s\" is not a month: write YYYY-MM, e.g. 2024-09",
				month);
	}
	for (int i = 0; i < ndays; i++) {
		working += cal_is_working_day(cfg, first + i);
		json_array_append_new(days, day_json(cfg, first + i));
	}
	tz_offset_format(cfg->utc_offset, off, sizeof(off));
	json_object_set_new(out, "month", json_string(month));
	json_object_set_new(out, "timezone", json_string(cfg->timezone ? cfg->timezone : ""));
	json_object_set_new(out, "utc_offset", json_string(off));
	json_object_set_new(out, "working_hours", json_pack("{s:o,s:o}", "start", hhmm_json(cfg->work_start),
							    "end", hhmm_json(cfg->work_end)));
	json_object_set_new(out, "days", days);
	json_object_set_new(out, "working_days", json_integer(working));
	return 0;
}

/* move_reason - why a due date moved, in the words of the rule; NULL when it did not */
static char *move_reason(const struct config *cfg, const struct cal_period *p)
{
	const struct holiday *h;
	int y;
	unsigned m, dd;
	char when[16];

	if (p->due_day == p->nominal_day)
		return NULL;
	civil_from_days(p->nominal_day, &y, &m, &dd);
	snprintf(when, sizeof(when), "%02u/%02u/%04d", dd, m, y);
	h = cfg_holiday(cfg, p->nominal_day);
	if (h && !h->work) {
		/* "Nghỉ hoán đổi", "Nghỉ bù Tết" read as "ngày nghỉ hoán đổi", "ngày nghỉ bù Tết" */
		if (strncmp(h->name, "Nghỉ", strlen("Nghỉ")) == 0)
			return xasprintf("%s là ngày n%s: " ART148, when, h->name + 1);
		return xasprintf("%s là ngày nghỉ lễ %s: " ART148, when, h->name);
	}
	return xasprintf("%s là %s: " ART148, when, weekday_vi[weekday_of_day(p->nominal_day)]);
}

struct deadline {
	const struct report_type *rt;
	struct cal_period p;
	size_t order;		/* config order, to keep ties stable */
};

/* deadline_cmp - by the moment due, then by the configured date, then config order */
static int deadline_cmp(const void *a, const void *b)
{
	const struct deadline *x = a, *y = b;

	if (x->p.due_at != y->p.due_at)
		return x->p.due_at < y->p.due_at ? -1 : 1;
	if (x->p.nominal_day != y->p.nominal_day)
		return x->p.nominal_day < y->p.nominal_day ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* deadline_json - one period's deadline, configured and effective */
static json_t *deadline_json(const struct daemon *d, const struct deadline *dl)
{
	char *reason = move_reason(d->cfg, &dl->p);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:b,s:s?}",
			      "report", dl->rt->code, "report_name", dl->rt->name, "period", dl->p.name,
			      "receiver", dl->rt->receiver, "opens_at", json_time(d, dl->p.opens_at),
			      "due_date", json_day(dl->p.nominal_day), "effective_date", json_day(dl->p.due_day),
			      "due_at", json_time(d, dl->p.due_at), "moved", dl->p.due_day != dl->p.nominal_day,
			      "reason", reason);

	free(reason);
	return o;
}

/* period_error - the unknown_period reply, naming the periods that exist */
static int period_error(struct request *rq, const struct report_type *rt, const char *name)
{
	if (!rt)
		return rq_error(rq, ERR_UNKNOWN_PERIOD, "no report type has a period '%s'; 'thiduactl deadlines' lists every period",
				name);
	if (rt->yearly)
		return rq_error(rq, ERR_UNKNOWN_PERIOD, "report %s has no period '%s': its periods are the years %d to %d, e.g. \"%d\"",
				rt->code, name, rt->first_year, rt->last_year, rt->first_year);
	return rq_error(rq, ERR_UNKNOWN_PERIOD, "report %s has no period '%s': its only period is \"%s\"",
			rt->code, name, rt->once_period);
}

/* op_deadlines - every period of every report type (or of one, or one period), due order */
int op_deadlines(struct daemon *d, struct request *rq, json_t *out)
{
	const struct config *cfg = d->cfg;
	const char *code = rq_str(rq, "report", 0), *period;
	const struct report_type *only = NULL;
	struct deadline *v = NULL;
	size_t n = 0, cap = 0;
	json_t *list;

	if (rq_failed(rq))
		return -1;
	period = rq_str(rq, "period", 0);
	if (rq_failed(rq))
		return -1;
	if (code && !(only = cfg_report(cfg, code)))
		return rq_report_unknown(rq, d->cfg, code);
	for (size_t r = 0; r < cfg->nreports; r++) {
		const struct report_type *rt = &cfg->reports[r];
		struct cal_period p;

		if (only && rt != only)
			continue;
		for (int i = 0; cal_period(cfg, rt, i, &p) == 0; i++) {
			if (period && strcmp(p.name, period) != 0)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 32;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n] = (struct deadline){ rt, p, n };
			n++;
		}
	}
	if (period && n == 0)
		return period_error(rq, only, period);
	if (n)
		qsort(v, n, sizeof(*v), deadline_cmp);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, deadline_json(d, &v[i]));
	free(v);
	json_object_set_new(out, "deadlines", list);
	return 0;
}
