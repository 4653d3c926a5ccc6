/*
 * config.c - libconfig file to struct config, with whole-file validation.
 *
 * Each section has a table of the keys it allows; anything else is an error, so that a
 * misspelt key cannot silently switch a feature off. Every string is checked for UTF-8.
 */
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"

struct loader {
	const char *path;
	char ***errors;
	int nerr;
};

static void err_at(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* err_at - record "FILE:LINE: message" for a setting (line 0 when unknown) */
static void err_at(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;
	const char *file = s ? config_setting_source_file(s) : NULL;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	line = xasprintf("%s:%u: %s", file ? file : ld->path, s ? config_setting_source_line(s) : 0, msg);
	*ld->errors = strv_append(*ld->errors, line);
	free(line);
	free(msg);
	ld->nerr++;
}

/* check_keys - every member of a group must be in allowed */
static void check_keys(struct loader *ld, const config_setting_t *group, const char *what,
		       const char *const *allowed)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		int ok = 0;

		for (size_t k = 0; allowed[k]; k++)
			if (name && strcmp(name, allowed[k]) == 0)
				ok = 1;
		if (!ok) {
			char list[512] = "";
			size_t used = 0;

			for (size_t k = 0; allowed[k] && used < sizeof(list); k++)
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
							 k ? ", " : "", allowed[k]);
			err_at(ld, m, "unknown key '%s' in %s (allowed: %s)", name ? name : "?", what, list);
		}
	}
}

/* get_string - a string member; 0 found, 1 absent, -1 wrong type or bad UTF-8 */
static int get_string(struct loader *ld, const config_setting_t *group, const char *name,
		      int required, const char *what, char **out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	const char *v;

	if (!s) {
		if (required)
			err_at(ld, group, "%s: '%s' is required", what, name);
		return required ? -1 : 1;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		err_at(ld, s, "%s: '%s' must be a string in double quotes", what, name);
		return -1;
	}
	v = config_setting_get_string(s);
	if (!utf8_valid_str(v)) {
		err_at(ld, s, "%s: '%s' is not valid UTF-8 (save the file as UTF-8)", what, name);
		return -1;
	}
	*out = xstrdup(v);
	return 0;
}

/* get_bool - a boolean member, default when absent */
static int get_bool(struct loader *ld, const config_setting_t *group, const char *name,
		    const char *what, int dflt)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	if (!s)
		return dflt;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		err_at(ld, s, "%s: '%s' must be true or false", what, name);
		return dflt;
	}
	return config_setting_get_bool(s);
}

/* get_strv - an array of strings; NULL when absent */
static char **get_strv(struct loader *ld, const config_setting_t *group, const char *name,
		       const char *what)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char **v = NULL;

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
		err_at(ld, s, "%s: '%s' must be an array of strings like [\"a\", \"b\"]", what, name);
		return NULL;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			err_at(ld, e, "%s: every element of '%s' must be a string", what, name);
			continue;
		}
		if (!utf8_valid_str(config_setting_get_string(e))) {
			err_at(ld, e, "%s: an element of '%s' is not valid UTF-8", what, name);
			continue;
		}
		v = strv_append(v, config_setting_get_string(e));
	}
	return v;
}

/* get_date - a YYYY-MM-DD string member; dflt when absent */
static int32_t get_date(struct loader *ld, const config_setting_t *group, const char *name,
			const char *what, int32_t dflt)
{
	char *text = NULL;
	int32_t day = dflt;

	if (get_string(ld, group, name, 0, what, &text) != 0)
		return dflt;
	if (date_parse(text, &day)) {
		err_at(ld, config_setting_get_member(group, name),
		       "%s: '%s' = \"%s\" is not a date: write YYYY-MM-DD, e.g. 2025-06-30", what, name, text);
		day = dflt;
	}
	free(text);
	return day;
}

static const char *const top_keys[] = { "movement", "daemon", "calendar", "levels", "units", NULL };
static const char *const movement_keys[] = { "name", "plan", NULL };
static const char *const daemon_keys[] = { "state_dir", "api", "events", "max_request_bytes", NULL };
static const char *const calendar_keys[] = { "timezone", "utc_offset", "weekend", "working_hours", "holidays", NULL };
static const char *const hours_keys[] = { "start", "end", NULL };
static const char *const holiday_keys[] = { "date", "kind", "name", "source", "confirmed", NULL };
static const char *const level_keys[] = { "code", "name", NULL };
static const char *const unit_keys[] = {
	"code", "name", "level", "parent", "attached", "kind", "emails", "chats",
	"active_from", "active_to", "successors", NULL
};

/* group_member - a member that must be a group (or absent) */
static const config_setting_t *group_member(struct loader *ld, const config_setting_t *parent,
					    const char *name, int required)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	if (!s) {
		if (required)
			err_at(ld, parent, "the '%s' section is missing", name);
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		err_at(ld, s, "'%s' must be a group: %s = { ... };", name, name);
		return NULL;
	}
	return s;
}

/* list_member - a member that must be a list of groups (or absent) */
static const config_setting_t *list_member(struct loader *ld, const config_setting_t *parent,
					   const char *name, int required)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	if (!s) {
		if (required)
			err_at(ld, parent, "the '%s' list is missing", name);
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		err_at(ld, s, "'%s' must be a list of groups: %s = ( { ... }, { ... } );", name, name);
		return NULL;
	}
	return s;
}

static void load_movement(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *g = group_member(ld, root, "movement", 0);

	if (!g)
		return;
	check_keys(ld, g, "movement", movement_keys);
	get_string(ld, g, "name", 0, "movement", &cfg->movement_name);
	get_string(ld, g, "plan", 0, "movement", &cfg->movement_plan);
}

static void load_daemon(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *g = group_member(ld, root, "daemon", 0);
	const config_setting_t *s;

	cfg->max_request_bytes = CFG_DEFAULT_MAX_REQUEST;
	if (!g)
		return;
	check_keys(ld, g, "daemon", daemon_keys);
	get_string(ld, g, "state_dir", 0, "daemon", &cfg->state_dir);
	get_string(ld, g, "api", 0, "daemon", &cfg->api_endpoint);
	get_string(ld, g, "events", 0, "daemon", &cfg->events_endpoint);
	s = config_setting_get_member(g, "max_request_bytes");
	if (s) {
		long long v;

		if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
			err_at(ld, s, "daemon: 'max_request_bytes' must be a whole number of bytes");
			return;
		}
		v = config_setting_get_int64(s);
		if (config_setting_type(s) == CONFIG_TYPE_INT)
			v = config_setting_get_int(s);
		if (v < 1024 || v > 1024LL * 1024 * 1024)
			err_at(ld, s, "daemon: 'max_request_bytes' = %lld is out of range (1024 to 1073741824)", v);
		else
			cfg->max_request_bytes = (size_t)v;
	}
}

static int cmp_holiday(const void *a, const void *b)
{
	const struct holiday *x = a, *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

static void load_holidays(struct loader *ld, struct config *cfg, const config_setting_t *cal)
{
	const config_setting_t *list = list_member(ld, cal, "holidays", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->holidays = xcalloc((size_t)n + 1, sizeof(*cfg->holidays));
	for (int i = 0; i < n; i++) {
		const config_setting_t *h = config_setting_get_elem(list, (unsigned)i);
		struct holiday *hd = &cfg->holidays[cfg->nholidays];
		char *kind = NULL;

		if (config_setting_type(h) != CONFIG_TYPE_GROUP) {
			err_at(ld, h, "calendar.holidays: each holiday must be a group { date = ...; kind = ...; name = ...; }");
			continue;
		}
		check_keys(ld, h, "a holiday", holiday_keys);
		hd->line = (int)config_setting_source_line(h);
		if (!config_setting_get_member(h, "date")) {
			err_at(ld, h, "calendar.holidays: 'date' is required");
			continue;
		}
		hd->day = get_date(ld, h, "date", "holiday", DATE_NONE_FROM);
		if (hd->day == DATE_NONE_FROM)
			continue;
		if (get_string(ld, h, "kind", 1, "holiday", &kind) == 0) {
			if (strcmp(kind, "off") == 0)
				hd->work = 0;
			else if (strcmp(kind, "work") == 0)
				hd->work = 1;
			else
				err_at(ld, config_setting_get_member(h, "kind"),
				       "holiday: kind \"%s\" is neither \"off\" (a day off) nor \"work\" (a make-up working day)", kind);
		}
		free(kind);
		if (get_string(ld, h, "name", 1, "holiday", &hd->name) != 0)
			hd->name = xstrdup("");
		get_string(ld, h, "source", 0, "holiday", &hd->source);
		hd->confirmed = get_bool(ld, h, "confirmed", "holiday", 1);
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

static void load_calendar(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	const config_setting_t *g = group_member(ld, root, "calendar", 1);
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
	check_keys(ld, g, "calendar", calendar_keys);
	if (get_string(ld, g, "timezone", 0, "calendar", &cfg->timezone) != 0)
		cfg->timezone = xstrdup("Asia/Ho_Chi_Minh");
	if (get_string(ld, g, "utc_offset", 1, "calendar", &offset) == 0
	    && tz_offset_parse(offset, &cfg->utc_offset))
		err_at(ld, config_setting_get_member(g, "utc_offset"),
		       "calendar: utc_offset \"%s\" is not a time zone offset: write ±HH:MM between -12:00 and +14:00, e.g. \"+07:00\"",
		       offset);
	free(offset);
	weekend = get_strv(ld, g, "weekend", "calendar");
	if (config_setting_get_member(g, "weekend")) {
		cfg->weekend_mask = 0;
		for (size_t i = 0; weekend && weekend[i]; i++) {
			size_t d;

			for (d = 0; d < 7; d++)
				if (strcmp(weekend[i], days[d]) == 0)
					break;
			if (d == 7)
				err_at(ld, config_setting_get_member(g, "weekend"),
				       "calendar: weekend day \"%s\" is not one of mon, tue, wed, thu, fri, sat, sun", weekend[i]);
			else
				cfg->weekend_mask |= 1u << d;
		}
	}
	strv_free(&weekend);
	hours = group_member(ld, g, "working_hours", 0);
	if (hours) {
		char *start = NULL, *end = NULL;

		check_keys(ld, hours, "calendar.working_hours", hours_keys);
		if (get_string(ld, hours, "start", 1, "working_hours", &start) == 0
		    && hhmm_parse(start, &cfg->work_start))
			err_at(ld, config_setting_get_member(hours, "start"), "working_hours: start \"%s\" is not a time like 07:30", start);
		if (get_string(ld, hours, "end", 1, "working_hours", &end) == 0
		    && hhmm_parse(end, &cfg->work_end))
			err_at(ld, config_setting_get_member(hours, "end"), "working_hours: end \"%s\" is not a time like 17:00", end);
		if (cfg->work_end <= cfg->work_start)
			err_at(ld, hours, "working_hours: end must be after start");
		free(start);
		free(end);
	}
	load_holidays(ld, cfg, g);
}

static void load_levels(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = list_member(ld, root, "levels", 1);

	for (int i = 0; list && i < config_setting_length(list); i++) {
		const config_setting_t *l = config_setting_get_elem(list, (unsigned)i);
		char *code = NULL, *name = NULL;

		if (config_setting_type(l) != CONFIG_TYPE_GROUP) {
			err_at(ld, l, "levels: each level must be a group { code = \"...\"; name = \"...\"; }");
			continue;
		}
		check_keys(ld, l, "a level", level_keys);
		if (get_string(ld, l, "code", 1, "level", &code) == 0) {
			int ok = code[0] >= 'a' && code[0] <= 'z';

			for (const char *p = code; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
					ok = 0;
			if (!ok)
				err_at(ld, l, "level code \"%s\" must be lower case letters, digits, '-' or '_'", code);
			else if (unitset_level_index(cfg->units, code) >= 0)
				err_at(ld, l, "level '%s' is declared twice", code);
			else {
				if (get_string(ld, l, "name", 0, "level", &name) != 0)
					name = xstrdup(code);
				unitset_add_level(cfg->units, code, name, (int)config_setting_source_line(l));
			}
		}
		free(code);
		free(name);
	}
}

static void load_units(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = list_member(ld, root, "units", 1);

	for (int i = 0; list && i < config_setting_length(list); i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct unit *u;
		int before = ld->nerr;

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			err_at(ld, s, "units: each unit must be a group { code = \"...\"; name = \"...\"; ... }");
			continue;
		}
		check_keys(ld, s, "a unit", unit_keys);
		u = unit_new();
		u->origin = xstrdup(ld->path);
		u->line = (int)config_setting_source_line(s);
		get_string(ld, s, "code", 1, "unit", &u->code);
		get_string(ld, s, "name", 1, "unit", &u->name);
		get_string(ld, s, "level", 1, "unit", &u->level_code);
		get_string(ld, s, "parent", 0, "unit", &u->parent_code);
		get_string(ld, s, "kind", 1, "unit", &u->kind);
		u->attached = get_bool(ld, s, "attached", "unit", 0);
		u->emails = get_strv(ld, s, "emails", "unit");
		u->chats = get_strv(ld, s, "chats", "unit");
		u->successor_codes = get_strv(ld, s, "successors", "unit");
		u->active_from = get_date(ld, s, "active_from", "unit", DATE_NONE_FROM);
		u->active_to = get_date(ld, s, "active_to", "unit", DATE_NONE_TO);
		if (!u->code || !u->level_code || ld->nerr > before + 2) {
			unit_destroy(&u);
			continue;
		}
		unitset_add(cfg->units, &u);
	}
}

/* cfg_load - read, check every section, then check the unit set as a whole */
struct config *cfg_load(const char *path, char ***errors)
{
	struct loader ld = { .path = path, .errors = errors };
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	config_t lc;
	const config_setting_t *root;

	cfg->path = xstrdup(path);
	cfg->units = unitset_new();
	config_init(&lc);
	if (!config_read_file(&lc, path)) {
		char *msg;

		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			msg = xasprintf("%s:0: cannot read the file (check the path and its permissions)", path);
		else
			msg = xasprintf("%s:%d: %s", config_error_file(&lc) ? config_error_file(&lc) : path,
					config_error_line(&lc), config_error_text(&lc));
		*errors = strv_append(*errors, msg);
		free(msg);
		config_destroy(&lc);
		cfg_destroy(&cfg);
		return NULL;
	}
	root = config_root_setting(&lc);
	check_keys(&ld, root, "the top level", top_keys);
	load_movement(&ld, cfg, root);
	load_daemon(&ld, cfg, root);
	load_calendar(&ld, cfg, root);
	load_levels(&ld, cfg, root);
	load_units(&ld, cfg, root);
	config_destroy(&lc);
	ld.nerr += unitset_resolve(cfg->units, errors);
	if (ld.nerr) {
		cfg_destroy(&cfg);
		return NULL;
	}
	return cfg;
}

/* cfg_destroy - free everything; accepts NULL and clears the pointer */
void cfg_destroy(struct config **self_p)
{
	struct config *cfg = *self_p;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->movement_name);
	free(cfg->movement_plan);
	free(cfg->state_dir);
	free(cfg->api_endpoint);
	free(cfg->events_endpoint);
	free(cfg->timezone);
	for (size_t i = 0; i < cfg->nholidays; i++) {
		free(cfg->holidays[i].name);
		free(cfg->holidays[i].source);
	}
	free(cfg->holidays);
	unitset_destroy(&cfg->units);
	free(cfg);
	*self_p = NULL;
}

/* cfg_holiday - binary search of the sorted holiday table */
const struct holiday *cfg_holiday(const struct config *cfg, int32_t day)
{
	size_t lo = 0, hi = cfg->nholidays;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cfg->holidays[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cfg->nholidays && cfg->holidays[lo].day == day ? &cfg->holidays[lo] : NULL;
}
