/*
 * config_calendar.c - the calendar section: zone, weekend, working hours, holidays.
 */
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_load.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"

static const char *const calendar_keys[] = { "timezone", "utc_offset", "weekend", "working_hours", "holidays", NULL };

static const char *const hours_keys[] = { "start", "end", NULL };

static const char *const holiday_keys[] = { "date", "kind", "name", "source", "confirmed", NULL };

static int cmp_holiday(const void *a, const void *b)
{
	const struct holiday *x = a, *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

static void load_holidays(struct loader *ld, struct config *cfg, const config_setting_t *cal)
{
	const config_setting_t *list = ld_list_member(ld, cal, "holidays", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->holidays = xcalloc((size_t)n + 1, sizeof(*cfg->holidays));
	for (int i = 0; i < n; i++) {
		const config_setting_t *h = config_setting_get_elem(list, (unsigned)i);
		struct holiday *hd = &cfg->holidays[cfg->nholidays];
		char *kind = NULL;

		if (config_setting_type(h) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, h, "calendar.holidays: each holiday must be a group { date = ...; kind = ...; name = ...; }");
			continue;
		}
		ld_check_keys(ld, h, "a holiday", holiday_keys);
		hd->line = (int)config_setting_source_line(h);
		if (!config_setting_get_member(h, "date")) {
			ld_err_at(ld, h, "calendar.holidays: 'date' is required");
			continue;
		}
		hd->day = ld_get_date(ld, h, "date", "holiday", DATE_NONE_FROM);
		if (hd->day == DATE_NONE_FROM)
			continue;
		if (ld_get_string(ld, h, "kind", 1, "holiday", &kind) == 0) {
			if (strcmp(kind, "off") == 0)
				hd->work = 0;
			else if (strcmp(kind, "work") == 0)
				hd->work = 1;
			else
				ld_err_at(ld, config_setting_get_member(h, "kind"),
				       "holiday: kind \"%s\" is neither \"off\" (a day off) nor \"work\" (a make-up working day)", kind);
		}
		free(kind);
		if (ld_get_string(ld, h, "name", 1, "holiday", &hd->name) != 0)
			hd->name = xstrdup("");
		ld_get_string(ld, h, "source", 0, "holiday", &hd->source);
		hd->confirmed = ld_get_bool(ld, h, "confirmed", "holiday", 1);
		cfg->nholidays++;
	}
	qsort(cfg->holidays, cfg->nholidays, sizeof(*cfg->holidays), cmp_holiday);
	for (size_t i = 1; i < cfg->nholidays; i++) {
		if (cfg->holidays[i].day == cfg->holidays[i - 1].day) {
			char d[16];
			char *msg;

			date_format(cfg->holidays[i].day, d, sizeof(d));
			msg = xasprintf("%s:%d: calendar.holidays: %s is listed twice (also at line %d)",
					ld->path, cfg->holidays[i].line, d, cfg->holidays[i - 1].line);
			*ld->errors = strv_append(*ld->errors, msg);
			free(msg);
			ld->nerr++;
		}
	}
}

void ld_load_calendar(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	const config_setting_t *g = ld_group_member(ld, root, "calendar", 1);
	const config_setting_t *hours;
	char *offset = NULL, **weekend;

	cfg->utc_offset = 7 * 3600;
	cfg->weekend_mask = (1u << 5) | (1u << 6);
	cfg->work_start = 7 * 60 + 30;
	cfg->work_end = 17 * 60;
	if (!g) {
		cfg->holidays = xcalloc(1, sizeof(*cfg->holidays));
		return;
	}
	ld_check_keys(ld, g, "calendar", calendar_keys);
	if (ld_get_string(ld, g, "timezone", 0, "calendar", &cfg->timezone) != 0)
		cfg->timezone = xstrdup("Asia/Ho_Chi_Minh");
	if (ld_get_string(ld, g, "utc_offset", 1, "calendar", &offset) == 0
	    && tz_offset_parse(offset, &cfg->utc_offset))
		ld_err_at(ld, config_setting_get_member(g, "utc_offset"),
		       "calendar: utc_offset \"%s\" is not a time zone offset: write ±HH:MM between -12:00 and +14:00, e.g. \"+07:00\"",
		       offset);
	free(offset);
	weekend = ld_get_strv(ld, g, "weekend", "calendar");
	if (config_setting_get_member(g, "weekend")) {
		cfg->weekend_mask = 0;
		for (size_t i = 0; weekend && weekend[i]; i++) {
			size_t d;

			for (d = 0; d < 7; d++)
				if (strcmp(weekend[i], days[d]) == 0)
					break;
			if (d == 7)
				ld_err_at(ld, config_setting_get_member(g, "weekend"),
				       "calendar: weekend day \"%s\" is not one of mon, tue, wed, thu, fri, sat, sun", weekend[i]);
			else
				cfg->weekend_mask |= 1u << d;
		}
	}
	strv_free(&weekend);
	hours = ld_group_member(ld, g, "working_hours", 0);
	if (hours) {
		char *start = NULL, *end = NULL;

		ld_check_keys(ld, hours, "calendar.working_hours", hours_keys);
		if (ld_get_string(ld, hours, "start", 1, "working_hours", &start) == 0
		    && hhmm_parse(start, &cfg->work_start))
			ld_err_at(ld, config_setting_get_member(hours, "start"), "working_hours: start \"%s\" is not a time like 07:30", start);
		if (ld_get_string(ld, hours, "end", 1, "working_hours", &end) == 0
		    && hhmm_parse(end, &cfg->work_end))
			ld_err_at(ld, config_setting_get_member(hours, "end"), "working_hours: end \"%s\" is not a time like 17:00", end);
		if (cfg->work_end <= cfg->work_start)
			ld_err_at(ld, hours, "working_hours: end must be after start");
		free(start);
		free(end);
	}
	load_holidays(ld, cfg, g);
}
