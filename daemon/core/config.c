/*
 * config.c - libconfig file to struct config, with whole-file validation.
 *
 * Each section has a table of the keys it allows; anything else is an error, so that a
 * misspelt key cannot silently switch a feature off. Every string is checked for UTF-8.
 */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <zmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "templates.h"
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
static void err_line(struct loader *ld, const char *file, unsigned lineno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void err_vline(struct loader *ld, const char *file, unsigned lineno, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* err_vline - record "FILE:LINE: message" */
static void err_vline(struct loader *ld, const char *file, unsigned lineno, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap), *line;

	line = xasprintf("%s:%u: %s", file ? file : ld->path, lineno, msg);
	*ld->errors = strv_append(*ld->errors, line);
	free(line);
	free(msg);
	ld->nerr++;
}

/* err_at - record "FILE:LINE: message" for a setting (line 0 when unknown) */
static void err_at(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vline(ld, s ? config_setting_source_file(s) : NULL, s ? config_setting_source_line(s) : 0, fmt, ap);
	va_end(ap);
}

/* err_line - record "FILE:LINE: message" for a line that is not a setting's own (a line
 * inside a multi-line string, a file the configuration names) */
static void err_line(struct loader *ld, const char *file, unsigned lineno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vline(ld, file, lineno, fmt, ap);
	va_end(ap);
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

/* get_span - optional from / until dates of what names a unit or a level */
static void get_span(struct loader *ld, const config_setting_t *g, const char *what, int32_t *from, int32_t *until)
{
	*from = get_date(ld, g, "from", what, DATE_NONE_FROM);
	*until = get_date(ld, g, "until", what, DATE_NONE_TO);
	if (*until < *from)
		err_at(ld, config_setting_get_member(g, "until"), "%s: 'until' is before 'from'", what);
}

static const char *const top_keys[] = {
	"movement", "daemon", "calendar", "levels", "units", "report_types", "channels", "workers", "templates",
	"principals", "programmes", "documents", "web", NULL
};
static const char *const report_keys[] = {
	"code", "name", "receiver", "submitters", "yearly", "once", "roll_to_working_day",
	"late_until_days", "return_working_days", "max_file_bytes", "reminders", "escalation", "receipt_notice",
	"from", "until", "on_reorganisation", "how_to_submit", "compiles", NULL
};
static const char *const escalation_keys[] = { "after", "to", "repeat_every", "repeat_times", NULL };
static const char *const selector_keys[] = { "kinds", "levels", "units", "under", NULL };
static const char *const yearly_keys[] = { "due", "opens", "first", "last", NULL };
static const char *const once_keys[] = { "period", "due", "opens", NULL };
static const char *const movement_keys[] = { "name", "plan", "plan_name", "how_to_submit", "starts", NULL };
static const char *const daemon_keys[] = {
	"state_dir", "api", "events", "jobs", "max_request_bytes", "operator_channel", "email_channel",
	"curve_key_file", "worker_keys", "requests_per_second", "reply_to", "web", NULL
};
static const char *const web_keys[] = { "url", "idle_minutes", "max_hours", "invite_hours", NULL };
static const char *const reply_to_keys[] = { "local", "domain", NULL };
static const char *const channel_keys[] = {
	"name", "kind", "url", "username", "password", "secret", "chat_id", "tls", "from", "from_name",
	"rate", "burst", "max_length", "split", "allow_http", "allow_private", "connect_timeout", "timeout",
	"expire_hours", "ca_file", "group_id", "phone", "template_id", "app_id", "app_secret", "refresh_token",
	"oauth_url", NULL
};
static const char *const worker_keys[] = { "program", "count", "args", NULL };
static const char *const template_keys[] = { "event", "channel", "subject", "body", "body_file", NULL };
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

/* load_reply_to - daemon.reply_to = { local; domain; }: the address units reply to with
 * their report (LOCAL+TOKEN@DOMAIN); both parts or neither */
static void load_reply_to(struct loader *ld, struct config *cfg, const config_setting_t *daemon)
{
	const config_setting_t *g = group_member(ld, daemon, "reply_to", 0);
	static const char local_ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	static const char domain_ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";

	if (!g)
		return;
	check_keys(ld, g, "daemon.reply_to", reply_to_keys);
	if (get_string(ld, g, "local", 1, "daemon.reply_to", &cfg->reply_local)
	    | get_string(ld, g, "domain", 1, "daemon.reply_to", &cfg->reply_domain))
		return;
	if (!*cfg->reply_local || strlen(cfg->reply_local) > 40 || strspn(cfg->reply_local, local_ok) != strlen(cfg->reply_local))
		err_at(ld, g, "daemon.reply_to: local \"%s\" must be 1 to 40 letters, digits, '.', '_' or '-' (no '+': the token follows it), e.g. \"nopbaocao\"",
		       cfg->reply_local);
	if (!strchr(cfg->reply_domain, '.') || strlen(cfg->reply_domain) > 200
	    || strspn(cfg->reply_domain, domain_ok) != strlen(cfg->reply_domain))
		err_at(ld, g, "daemon.reply_to: domain \"%s\" must be a domain name of letters, digits, '.' and '-', e.g. \"cuchi.example.org\"",
		       cfg->reply_domain);
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

	cfg->movement_starts = DATE_NONE_FROM;
	if (!g)
		return;
	check_keys(ld, g, "movement", movement_keys);
	get_string(ld, g, "name", 0, "movement", &cfg->movement_name);
	get_string(ld, g, "plan", 0, "movement", &cfg->movement_plan);
	get_string(ld, g, "plan_name", 0, "movement", &cfg->plan_name);
	get_string(ld, g, "how_to_submit", 0, "movement", &cfg->how_to_submit);
	cfg->movement_starts = get_date(ld, g, "starts", "movement", DATE_NONE_FROM);
}

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
		err_at(ld, s, "report %s: its first period %d is due %s, before the movement starts (movement.starts = %s):"
		       " nothing is owed for a date before the plan; set yearly.first = %d", rt->code, rt->first_year,
		       due, starts, y);
	} else if (rt->once_period && rt->once_due < cfg->movement_starts) {
		date_format(rt->once_due, due, sizeof(due));
		err_at(ld, s, "report %s: its period %s is due %s, before the movement starts (movement.starts = %s):"
		       " nothing is owed for a date before the plan; give a due date on or after %s, or remove the type",
		       rt->code, rt->once_period, due, starts, starts);
	}
}

static const char *const documents_keys[] = { "template", "place", NULL };

/* load_documents - documents = { template = "DIR"; place = "NAME"; }: the directory of
 * WordprocessingML parts thiduactl summary fills (relative to this file; thiduactl reads
 * it, perhaps on another machine, and says when it is not a template); the place name of
 * the documents' date line */
static void load_documents(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *g = group_member(ld, root, "documents", 0);
	const char *file, *slash;
	char *dir = NULL;

	if (!g)
		return;
	check_keys(ld, g, "documents", documents_keys);
	get_string(ld, g, "place", 0, "documents", &cfg->doc_place);
	if (get_string(ld, g, "template", 0, "documents", &dir) || !dir)
		return;
	file = config_setting_source_file(g) ? config_setting_source_file(g) : ld->path;
	slash = strrchr(file, '/');
	if (dir[0] == '/' || !slash)
		cfg->doc_template = xstrdup(dir);
	else
		cfg->doc_template = xasprintf("%.*s/%s", (int)(slash - file), file, dir);
	free(dir);
}

/* get_int - an integer member within [min, max]; dflt when absent */
static int get_int(struct loader *ld, const config_setting_t *group, const char *name,
		   const char *what, int dflt, int min, int max)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	int v;

	if (!s)
		return dflt;
	if (config_setting_type(s) != CONFIG_TYPE_INT) {
		err_at(ld, s, "%s: '%s' must be a whole number", what, name);
		return dflt;
	}
	v = config_setting_get_int(s);
	if (v < min || v > max) {
		err_at(ld, s, "%s: '%s' = %d is out of range (%d to %d)", what, name, v, min, max);
		return dflt;
	}
	return v;
}

/* z85_key_valid - 40 characters of the Z85 alphabet */
static int z85_key_valid(const char *k)
{
	static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

	if (strlen(k) != 40)
		return 0;
	for (; *k; k++)
		if (!strchr(z85, *k))
			return 0;
	return 1;
}

/* load_curve - the daemon's secret key file (one line: the Z85 secret, as written by
 * thiduactl keys generate) and the workers' public keys; the secret never reaches a log */
static void load_curve(struct loader *ld, struct config *cfg, const config_setting_t *g)
{
	char *file = NULL;

	cfg->worker_keys = get_strv(ld, g, "worker_keys", "daemon");
	for (size_t i = 0; cfg->worker_keys && cfg->worker_keys[i]; i++)
		if (!z85_key_valid(cfg->worker_keys[i]))
			err_at(ld, config_setting_get_member(g, "worker_keys"),
			       "daemon: worker_keys[%zu] is not a 40-character public key", i);
	if (get_string(ld, g, "curve_key_file", 0, "daemon", &file) == 0) {
		FILE *fp = fopen(file, "r");
		size_t n = fp ? fread(cfg->curve_secret, 1, 40, fp) : 0;

		if (fp)
			fclose(fp);
		cfg->curve_secret[40] = 0;
		if (n != 40 || !z85_key_valid(cfg->curve_secret) || zmq_curve_public(cfg->curve_public, cfg->curve_secret)) {
			err_at(ld, config_setting_get_member(g, "curve_key_file"),
			       "daemon: curve_key_file %s does not hold a secret key: write one with 'thiduactl keys generate thiduad'",
			       file);
			memset(cfg->curve_secret, 0, sizeof(cfg->curve_secret));
		}
		free(file);
	}
}

static void load_daemon(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *g = group_member(ld, root, "daemon", 0);
	const config_setting_t *s;

	cfg->max_request_bytes = CFG_DEFAULT_MAX_REQUEST;
	cfg->requests_per_second = 50;
	if (!g)
		return;
	check_keys(ld, g, "daemon", daemon_keys);
	get_string(ld, g, "state_dir", 0, "daemon", &cfg->state_dir);
	get_string(ld, g, "api", 0, "daemon", &cfg->api_endpoint);
	get_string(ld, g, "events", 0, "daemon", &cfg->events_endpoint);
	get_string(ld, g, "jobs", 0, "daemon", &cfg->jobs_endpoint);
	cfg->requests_per_second = get_int(ld, g, "requests_per_second", "daemon", 50, 0, 100000);
	get_string(ld, g, "operator_channel", 0, "daemon", &cfg->operator_channel);
	get_string(ld, g, "email_channel", 0, "daemon", &cfg->email_channel);
	get_string(ld, g, "web", 0, "daemon", &cfg->web_endpoint);
	load_reply_to(ld, cfg, g);
	load_curve(ld, cfg, g);
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

/* load_web - the web section: where people open the pages, how long sessions and
 * invitations last (daemon/accounts) */
static void load_web(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *g = group_member(ld, root, "web", 0);

	cfg->web_idle_minutes = 30;
	cfg->web_max_hours = 12;
	cfg->web_invite_hours = 72;
	if (g) {
		check_keys(ld, g, "web", web_keys);
		get_string(ld, g, "url", 0, "web", &cfg->web_url);
		cfg->web_idle_minutes = get_int(ld, g, "idle_minutes", "web", 30, 1, 1440);
		cfg->web_max_hours = get_int(ld, g, "max_hours", "web", 12, 1, 168);
		cfg->web_invite_hours = get_int(ld, g, "invite_hours", "web", 72, 1, 720);
	}
	if (cfg->web_url && strncmp(cfg->web_url, "http://", 7) && strncmp(cfg->web_url, "https://", 8))
		err_at(ld, config_setting_get_member(g, "url"), "web: url '%s' must start with http:// or https:// (the address people open, e.g. https://thidua.example.gov.vn)",
		       cfg->web_url);
	if (!cfg->web_url)
		cfg->web_url = xstrdup("http://127.0.0.1:8470");
	else if (*cfg->web_url && cfg->web_url[strlen(cfg->web_url) - 1] == '/')
		cfg->web_url[strlen(cfg->web_url) - 1] = 0;
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

	if (list && config_setting_length(list) == 0)
		err_at(ld, list, "levels: declare at least one level, top down");
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
		u->origin = xstrdup(config_setting_source_file(s) ? config_setting_source_file(s) : ld->path);
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


/* get_monthday - "MM-DD" for yearly schedules (29 February is refused: not every year has it) */
static int get_monthday(struct loader *ld, const config_setting_t *g, const char *name,
			const char *what, int *month, int *mday)
{
	char *text = NULL;
	int32_t day;
	char buf[16];

	if (get_string(ld, g, name, 1, what, &text))
		return -1;
	snprintf(buf, sizeof(buf), "2023-%.5s", text);
	if (strlen(text) != 5 || date_parse(buf, &day)) {
		err_at(ld, config_setting_get_member(g, name), "%s: '%s' = \"%s\" is not a month and day: write MM-DD, e.g. \"11-15\"",
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
	check_keys(ld, g, "submitters", selector_keys);
	rt->who.kinds = get_strv(ld, g, "kinds", "submitters");
	rt->who.levels = get_strv(ld, g, "levels", "submitters");
	rt->who.units = get_strv(ld, g, "units", "submitters");
	get_string(ld, g, "under", 0, "submitters", &rt->who.under);
	if (!rt->who.kinds && !rt->who.levels && !rt->who.units && !rt->who.under)
		err_at(ld, g, "report %s: submitters selects nobody: give kinds, levels, units or under", rt->code);
}

/* check_report_units - receiver, selector units and levels must exist */
static void check_report_units(struct loader *ld, struct config *cfg, const struct report_type *rt,
			       const config_setting_t *s)
{
	if (rt->receiver && !unitset_find(cfg->units, rt->receiver))
		err_at(ld, s, "report %s: receiver '%s' is not a unit of this file", rt->code, rt->receiver);
	if (rt->who.under && !unitset_find(cfg->units, rt->who.under))
		err_at(ld, s, "report %s: submitters.under '%s' is not a unit of this file", rt->code, rt->who.under);
	for (size_t i = 0; rt->who.units && rt->who.units[i]; i++)
		if (!unitset_find(cfg->units, rt->who.units[i]))
			err_at(ld, s, "report %s: submitter '%s' is not a unit of this file", rt->code, rt->who.units[i]);
	for (size_t i = 0; rt->who.levels && rt->who.levels[i]; i++)
		if (unitset_level_index(cfg->units, rt->who.levels[i]) < 0)
			err_at(ld, s, "report %s: submitters level '%s' is not declared", rt->code, rt->who.levels[i]);
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
	char **rem = get_strv(ld, s, "reminders", "report type");
	const config_setting_t *esc = list_member(ld, s, "escalation", 0);

	for (size_t i = 0; rem && rem[i]; i++) {
		struct step *st = add_step(rt);

		if (parse_offset(rem[i], &st->at)) {
			err_at(ld, config_setting_get_member(s, "reminders"),
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
			err_at(ld, e, "escalation: each step must be a group { after = \"1wd\"; to = [ \"self\" ]; }");
			continue;
		}
		check_keys(ld, e, "an escalation step", escalation_keys);
		if (get_string(ld, e, "after", 1, "escalation", &after))
			continue;
		if (parse_offset(after, &at)) {
			err_at(ld, e, "escalation: after = \"%s\" is not an offset: write 1wd (working days) or 7d (days)", after);
			free(after);
			continue;
		}
		times = get_int(ld, e, "repeat_times", "escalation", 0, 0, 100);
		if (get_string(ld, e, "repeat_every", 0, "escalation", &every) == 0
		    && (parse_offset(every, &ev) || ev.working || ev.n < 1))
			err_at(ld, e, "escalation: repeat_every = \"%s\" must be calendar days, e.g. \"7d\"", every);
		if (times && !every)
			err_at(ld, e, "escalation: repeat_times needs repeat_every");
		to = get_strv(ld, e, "to", "escalation");
		if (!to)
			err_at(ld, e, "escalation: 'to' is required: self, parent, receiver, level:CODE or unit:CODE");
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
					err_at(ld, e, "escalation: target \"%s\" is not self, parent, receiver, level:LEVEL or unit:CODE of a declared level or unit",
					       to[k]);
		}
		strv_free(&to);
		free(after);
		free(every);
	}
	for (size_t i = 0; i < rt->nsteps; i++)
		for (size_t k = i + 1; k < rt->nsteps; k++)
			if (!strcmp(rt->steps[i].id, rt->steps[k].id))
				err_at(ld, s, "report %s: the step %s is listed twice", rt->code, rt->steps[i].id);
}

static void load_reports(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = list_member(ld, root, "report_types", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->reports = xcalloc((size_t)n + 1, sizeof(*cfg->reports));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		const config_setting_t *g;
		struct report_type *rt = &cfg->reports[cfg->nreports];

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			err_at(ld, s, "report_types: each report type must be a group { code = ...; ... }");
			continue;
		}
		check_keys(ld, s, "a report type", report_keys);
		rt->line = (int)config_setting_source_line(s);
		if (get_string(ld, s, "code", 1, "report type", &rt->code))
			continue;
		cfg->nreports++;
		if (!unit_code_valid(rt->code))
			err_at(ld, s, "report code '%s' is not valid: letters, digits, '-', '_' or '.'", rt->code);
		for (size_t k = 0; k + 1 < cfg->nreports; k++)
			if (strcmp(cfg->reports[k].code, rt->code) == 0)
				err_at(ld, s, "report type '%s' is declared twice (first at line %d)", rt->code, cfg->reports[k].line);
		get_string(ld, s, "name", 1, "report type", &rt->name);
		get_string(ld, s, "receiver", 1, "report type", &rt->receiver);
		if ((g = group_member(ld, s, "submitters", 1)))
			load_selector(ld, rt, g);
		rt->roll = get_bool(ld, s, "roll_to_working_day", "report type", 1);
		rt->late_days = get_int(ld, s, "late_until_days", "report type", -1, -1, 3650);
		rt->return_days = get_int(ld, s, "return_working_days", "report type", 5, 1, 365);
		rt->receipt_notice = get_bool(ld, s, "receipt_notice", "report type", 0);
		get_string(ld, s, "how_to_submit", 0, "report type", &rt->how_to_submit);
		get_string(ld, s, "compiles", 0, "report type", &rt->compiles);
		rt->max_file_bytes = get_int(ld, s, "max_file_bytes", "report type", 25 * 1024 * 1024, 1, 1 << 30);
		if ((g = group_member(ld, s, "yearly", 0))) {
			rt->yearly = 1;
			check_keys(ld, g, "yearly", yearly_keys);
			get_monthday(ld, g, "due", "yearly", &rt->due_month, &rt->due_mday);
			rt->open_month = 1;
			rt->open_mday = 1;
			if (config_setting_get_member(g, "opens"))
				get_monthday(ld, g, "opens", "yearly", &rt->open_month, &rt->open_mday);
			rt->first_year = get_int(ld, g, "first", "yearly", 2024, 2000, 2100);
			rt->last_year = get_int(ld, g, "last", "yearly", 2030, 2000, 2100);
			if (rt->last_year < rt->first_year)
				err_at(ld, g, "yearly: last year %d is before first year %d", rt->last_year, rt->first_year);
			if (rt->open_month * 100 + rt->open_mday > rt->due_month * 100 + rt->due_mday)
				err_at(ld, g, "yearly: a period must open (opens) on or before its due date (due) in the same year");
		}
		if ((g = group_member(ld, s, "once", 0))) {
			if (rt->yearly)
				err_at(ld, g, "report %s has both 'yearly' and 'once': choose one", rt->code);
			check_keys(ld, g, "once", once_keys);
			get_string(ld, g, "period", 1, "once", &rt->once_period);
			rt->once_due = get_date(ld, g, "due", "once", DATE_NONE_FROM);
			rt->once_open = get_date(ld, g, "opens", "once", rt->once_due);
			if (!config_setting_get_member(g, "due"))
				err_at(ld, g, "once: 'due' is required");
			else if (rt->once_open > rt->once_due)
				err_at(ld, g, "once: opens is after due");
		} else if (!rt->yearly) {
			err_at(ld, s, "report %s has no schedule: add yearly = { due = \"MM-DD\"; } or once = { period = ...; due = \"YYYY-MM-DD\"; }",
			       rt->code);
		}
		get_span(ld, s, "report type", &rt->from, &rt->until);
		if (config_setting_get_member(s, "on_reorganisation")) {
			char *rule = NULL;

			if (get_string(ld, s, "on_reorganisation", 0, "report type", &rule) == 0) {
				rt->on_reorg_successor = !strcmp(rule, "successor");
				if (strcmp(rule, "successor") && strcmp(rule, "close"))
					err_at(ld, config_setting_get_member(s, "on_reorganisation"),
					       "report %s: on_reorganisation \"%s\" is not \"successor\" or \"close\"", rt->code, rule);
			}
			free(rule);
		}
		if (rt->yearly || rt->once_period) {
			char why[256];

			if (cfg_span_clip(rt, why, sizeof(why)))
				err_at(ld, s, "report %s: %s", rt->code, why);
		}
		check_report_units(ld, cfg, rt, s);
		check_report_start(ld, cfg, rt, s);
		load_ladder(ld, cfg, rt, s);
	}
	for (size_t i = 0; i < cfg->nreports; i++) {	/* compiles: another report type of the file */
		const struct report_type *rt = &cfg->reports[i], *in = rt->compiles ? cfg_report(cfg, rt->compiles) : NULL;

		if (rt->compiles && (!in || in == rt))
			err_line(ld, config_setting_source_file(list), (unsigned)rt->line,
				 "report %s: compiles \"%s\", which is %s: name the report type whose reports it compiles",
				 rt->code, rt->compiles, in ? "itself" : "not a report type of this file");
	}
}

/* get_double - a number member (integer or float); dflt when absent */
static double get_double(struct loader *ld, const config_setting_t *g, const char *name, const char *what,
			 double dflt, double min, double max)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	double v;

	if (!s)
		return dflt;
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else {
		err_at(ld, s, "%s: '%s' must be a number", what, name);
		return dflt;
	}
	if (v < min || v > max) {
		err_at(ld, s, "%s: '%s' = %g is out of range (%g to %g)", what, name, v, min, max);
		return dflt;
	}
	return v;
}

static int is_loopback_url(const char *url)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	return !strncmp(h, "127.", 4) || !strncmp(h, "localhost", 9) || !strncmp(h, "[::1]", 5);
}

static char *read_file(const char *path, size_t max, size_t *len);

#define CA_FILE_MAX (16 * 1024 * 1024)

/* load_ca_file - an smtp channel's ca_file: a readable PEM file of certificates, checked
 * now rather than at the first message; kept as an absolute path (a relative one is
 * relative to the file that names it), since the worker runs elsewhere */
static void load_ca_file(struct loader *ld, const config_setting_t *s, struct channel *c)
{
	const config_setting_t *m = config_setting_get_member(s, "ca_file");
	const char *file = config_setting_source_file(s) ? config_setting_source_file(s) : ld->path;
	const char *slash = file ? strrchr(file, '/') : NULL;
	char *name = NULL, *path, *text, *abs;
	size_t len;

	if (!m || get_string(ld, s, "ca_file", 0, "channel", &name) != 0)
		return;
	if (strcmp(c->kind, "smtp")) {
		err_at(ld, m, "channel %s: ca_file is for smtp channels (a mail server certified by a private CA)", c->name);
		free(name);
		return;
	}
	if (!*name) {
		err_at(ld, m, "channel %s: ca_file is empty: give the path of the CA's certificate (PEM)", c->name);
		free(name);
		return;
	}
	path = name[0] == '/' || !slash ? xstrdup(name) : xasprintf("%.*s/%s", (int)(slash - file), file, name);
	text = read_file(path, CA_FILE_MAX, &len);
	if (!text)
		err_at(ld, m, "channel %s: ca_file \"%s\" cannot be read (%s): %s", c->name, name, path,
		       errno == EFBIG ? "larger than 16 MiB" : errno == EINVAL ? "not a regular file" : strerror(errno));
	else if (!strstr(text, "-----BEGIN CERTIFICATE-----"))
		err_at(ld, m, "channel %s: ca_file \"%s\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
		       c->name, name);
	else if (!(abs = realpath(path, NULL)))
		err_at(ld, m, "channel %s: ca_file \"%s\": %s", c->name, name, strerror(errno));
	else
		c->ca_file = abs;
	free(text);
	free(path);
	free(name);
}

/* check_zalo - a zalo channel names one follower (chat_id = the user_id) or one group
 * (group_id); a zns channel a phone and a template; both carry the OA access token as secret */
static void check_zalo(struct loader *ld, const config_setting_t *s, const struct channel *c)
{
	int zalo = !strcmp(c->kind, "zalo"), zns = !strcmp(c->kind, "zns");

	if ((zalo || zns) && !c->secret && !c->app_id)
		err_at(ld, s, "channel %s: %s needs secret (the Official Account's access token), or app_id and app_secret"
		       " for thidua to hold and renew it (thiduactl zalo authorize)", c->name, c->kind);
	if ((zalo || zns) && (c->app_id || c->app_secret || c->refresh_token) && (!c->app_id || !c->app_secret))
		err_at(ld, s, "channel %s: app_id and app_secret go together (the app's id and secret key), and"
		       " refresh_token needs them", c->name);
	if ((zalo || zns) && strncmp(c->oauth_url, "https://", 8)
	    && !(!strncmp(c->oauth_url, "http://", 7) && is_loopback_url(c->oauth_url + 7)))
		err_at(ld, s, "channel %s: oauth_url must be https:// (http:// only to this machine)", c->name);
	if (zalo && !c->chat_id == !c->group_id)
		err_at(ld, s, "channel %s: zalo needs either chat_id (the follower's user_id) or group_id (a group of the OA),"
		       " not both", c->name);
	if (zns && (!c->phone || !c->template_id))
		err_at(ld, s, "channel %s: zns needs phone (the recipient, 84xxxxxxxxx) and template_id (an approved template)",
		       c->name);
	if (!zalo && !zns && (c->group_id || c->phone || c->template_id || c->app_id || c->app_secret || c->refresh_token))
		err_at(ld, s, "channel %s: group_id, phone, template_id, app_id, app_secret and refresh_token belong to zalo and zns channels", c->name);
}

/* load_channels - delivery channels; secrets stay in memory and never reach a log line */
static void load_channels(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	static const char *const kinds[] = {
		"smtp", "slack", "mattermost", "teams", "telegram", "googlechat", "discord", "json", "zalo", "zns", NULL
	};
	const config_setting_t *list = list_member(ld, root, "channels", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->channels = xcalloc((size_t)n + 1, sizeof(*cfg->channels));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct channel *c = &cfg->channels[cfg->nchannels];
		int known = 0;

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			err_at(ld, s, "channels: each channel must be a group { name = ...; kind = ...; url = ...; }");
			continue;
		}
		check_keys(ld, s, "a channel", channel_keys);
		c->line = (int)config_setting_source_line(s);
		if (get_string(ld, s, "name", 1, "channel", &c->name) || get_string(ld, s, "kind", 1, "channel", &c->kind)
		    || get_string(ld, s, "url", 1, "channel", &c->url)) {
			free(c->name);
			free(c->kind);
			free(c->url);
			memset(c, 0, sizeof(*c));
			continue;
		}
		cfg->nchannels++;
		for (size_t k = 0; kinds[k]; k++)
			known |= !strcmp(kinds[k], c->kind);
		if (!known)
			err_at(ld, s, "channel %s: kind \"%s\" is not one of smtp, slack, mattermost, teams, telegram, googlechat, discord, json, zalo, zns",
			       c->name, c->kind);
		for (size_t k = 0; k + 1 < cfg->nchannels; k++)
			if (!strcmp(cfg->channels[k].name, c->name))
				err_at(ld, s, "channel '%s' is declared twice (first at line %d)", c->name, cfg->channels[k].line);
		get_string(ld, s, "username", 0, "channel", &c->username);
		get_string(ld, s, "password", 0, "channel", &c->password);
		get_string(ld, s, "secret", 0, "channel", &c->secret);
		get_string(ld, s, "chat_id", 0, "channel", &c->chat_id);
		get_string(ld, s, "group_id", 0, "channel", &c->group_id);
		get_string(ld, s, "phone", 0, "channel", &c->phone);
		get_string(ld, s, "template_id", 0, "channel", &c->template_id);
		get_string(ld, s, "app_id", 0, "channel", &c->app_id);
		get_string(ld, s, "app_secret", 0, "channel", &c->app_secret);
		get_string(ld, s, "refresh_token", 0, "channel", &c->refresh_token);
		if (get_string(ld, s, "oauth_url", 0, "channel", &c->oauth_url) != 0)
			c->oauth_url = xstrdup("https://oauth.zaloapp.com");
		get_string(ld, s, "from", 0, "channel", &c->from);
		get_string(ld, s, "from_name", 0, "channel", &c->from_name);
		if (get_string(ld, s, "tls", 0, "channel", &c->tls) != 0)
			c->tls = xstrdup(!strncmp(c->url, "smtps://", 8) ? "tls" : "starttls");
		c->rate = get_double(ld, s, "rate", "channel", 0, 0, 10000);
		c->burst = get_int(ld, s, "burst", "channel", 0, 0, 100000);
		c->max_length = get_int(ld, s, "max_length", "channel", 0, 0, 1000000);
		c->split = get_bool(ld, s, "split", "channel", 1);
		c->allow_http = get_bool(ld, s, "allow_http", "channel", 0);
		c->allow_private = get_bool(ld, s, "allow_private", "channel", 0);
		c->connect_timeout = get_int(ld, s, "connect_timeout", "channel", 10, 1, 300);
		c->timeout = get_int(ld, s, "timeout", "channel", 30, 1, 3600);
		c->expire_hours = get_int(ld, s, "expire_hours", "channel", 72, 1, 24 * 30);
		c->utc_offset = cfg->utc_offset;	/* the calendar's: the Date of its mail */
		load_ca_file(ld, s, c);
		if (!strcmp(c->kind, "smtp")) {
			if (strncmp(c->url, "smtp://", 7) && strncmp(c->url, "smtps://", 8))
				err_at(ld, s, "channel %s: an smtp url starts with smtp:// or smtps://", c->name);
			if (strcmp(c->tls, "starttls") && strcmp(c->tls, "tls") && strcmp(c->tls, "none"))
				err_at(ld, s, "channel %s: tls must be starttls, tls or none", c->name);
			else if (!strcmp(c->tls, "none") && !is_loopback_url(c->url))
				err_at(ld, s, "channel %s: tls = \"none\" is allowed only to a server on this machine (127.0.0.1)", c->name);
			if (!c->from)
				err_at(ld, s, "channel %s: 'from' (the sender address) is required for smtp", c->name);
		} else if (known) {
			if (strncmp(c->url, "https://", 8) && !(c->allow_http && !strncmp(c->url, "http://", 7))
			    && !(!strncmp(c->url, "http://", 7) && is_loopback_url(c->url + 7)))
				err_at(ld, s, "channel %s: the url must be https:// (http:// only to this machine, or with allow_http = true)",
				       c->name);
			if (!strcmp(c->kind, "telegram") && !c->chat_id)
				err_at(ld, s, "channel %s: telegram needs chat_id", c->name);
			check_zalo(ld, s, c);
		}
	}
	if (cfg->operator_channel && !cfg_channel(cfg, cfg->operator_channel))
		err_at(ld, config_setting_get_member(root, "daemon"), "daemon: operator_channel '%s' is not a declared channel",
		       cfg->operator_channel);
	if (cfg->email_channel) {
		const struct channel *c = cfg_channel(cfg, cfg->email_channel);

		if (!c || strcmp(c->kind, "smtp"))
			err_at(ld, config_setting_get_member(root, "daemon"), "daemon: email_channel '%s' is not a declared smtp channel",
			       cfg->email_channel);
	}
	for (size_t i = 0; i < cfg->units->nunits; i++) {
		const struct unit *u = cfg->units->units[i];

		for (size_t k = 0; u->chats && u->chats[k]; k++) {
			const struct channel *c = cfg_channel(cfg, u->chats[k]);

			if (!c || !strcmp(c->kind, "smtp")) {
				char *msg = xasprintf("%s:%d: unit %s: chat channel '%s' is not a declared chat channel",
						      u->origin, u->line, u->code, u->chats[k]);

				*ld->errors = strv_append(*ld->errors, msg);
				free(msg);
				ld->nerr++;
			}
		}
	}
}

static void load_workers(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = list_member(ld, root, "workers", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->workers = xcalloc((size_t)n + 1, sizeof(*cfg->workers));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct worker_spec *w = &cfg->workers[cfg->nworkers];

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			err_at(ld, s, "workers: each worker must be a group { program = \"thidua-mail\"; count = 1; }");
			continue;
		}
		check_keys(ld, s, "a worker", worker_keys);
		w->line = (int)config_setting_source_line(s);
		if (get_string(ld, s, "program", 1, "worker", &w->program))
			continue;
		cfg->nworkers++;
		w->count = get_int(ld, s, "count", "worker", 1, 0, 64);
		w->args = get_strv(ld, s, "args", "worker");
	}
}

#define TEMPLATE_FILE_MAX (1024 * 1024)
#define CONFIG_FILE_MAX (64 * 1024 * 1024)

/* read_file - a whole regular file of at most max bytes, NUL-terminated; NULL with errno */
static char *read_file(const char *path, size_t max, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	char *buf;
	size_t n;
	int e;

	if (!fp)
		return NULL;
	if (fstat(fileno(fp), &st))
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if ((uint64_t)st.st_size > max)
		e = EFBIG;
	else
		e = 0;
	if (e) {
		fclose(fp);
		errno = e;
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = fread(buf, 1, (size_t)st.st_size, fp);
	e = ferror(fp) ? errno : 0;
	fclose(fp);
	if (e) {
		free(buf);
		errno = e;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* find_assignment - where "name =" or "name :" starts on the line at p, or NULL */
static const char *find_assignment(const char *p, const char *name)
{
	const char *eol = strchr(p, '\n');
	size_t n = strlen(name);

	for (const char *q = strstr(p, name); q && (!eol || q < eol); q = strstr(q + 1, name)) {
		const char *a = q + n;

		if (q > p && (q[-1] == '_' || q[-1] == '-' || isalnum((unsigned char)q[-1])))
			continue;
		while (*a == ' ' || *a == '\t')
			a++;
		if (*a == '=' || *a == ':')
			return q;
	}
	return NULL;
}

/* literal_line - the line of the file where byte offset of a string setting's value was
 * written. The value may be several "pieces" on several lines, or one piece with line
 * breaks in it: the literal is read again from the file, and when that does not give back
 * the value exactly, the setting's own line is the answer. */
static unsigned literal_line(const config_setting_t *s, const char *file, size_t offset)
{
	unsigned line = config_setting_source_line(s), cur = 1, found = 0;
	const char *name = config_setting_name(s), *value = config_setting_get_string(s), *p;
	size_t len, vlen = value ? strlen(value) : 0, o = 0;
	char *src = name && value ? read_file(file, CONFIG_FILE_MAX, &len) : NULL, *out = NULL;
	int assigned = 0, pieces = 0;

	if (!src)
		return line;
	for (p = src; cur < line && (p = strchr(p, '\n')); cur++)
		p++;
	if (!p || !(p = find_assignment(p, name)))
		goto out;
	p += strlen(name);
	out = xmalloc(vlen + 1);
	for (;;) {
		if (*p == '\n') {
			cur++;
			p++;
		} else if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
		} else if (!assigned && (*p == '=' || *p == ':')) {
			assigned = 1;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			if (!e)
				goto out;
			for (; p < e; p++)
				cur += *p == '\n';
			p = e + 2;
		} else if (*p == '"' && assigned) {
			for (p++, pieces++; *p && *p != '"'; o++) {
				unsigned here = cur;
				char c;

				if (*p == '\\') {
					static const char esc[] = "n\nr\rt\tf\f\\\\\"\"";
					const char *k = p[1] ? strchr(esc, p[1]) : NULL;

					if (p[1] == 'x' && p[2] && p[3] && strchr("0123456789abcdefABCDEF", p[2]) &&
					    strchr("0123456789abcdefABCDEF", p[3])) {
						char hex[3] = { p[2], p[3], 0 };

						c = (char)strtol(hex, NULL, 16);
						p += 4;
					} else if (k && (k - esc) % 2 == 0) {
						c = k[1];
						p += 2;
					} else {
						goto out;
					}
				} else {
					cur += *p == '\n';
					c = *p++;
				}
				if (o >= vlen)
					goto out;
				if (o == offset)
					found = here;
				out[o] = c;
			}
			if (*p != '"')
				goto out;
			p++;
		} else {
			break;
		}
	}
	if (pieces && o == vlen && !memcmp(out, value, vlen) && found)
		line = found;
out:
	free(out);
	free(src);
	return line;
}

/* compile_template - one text; a mistake is reported at the line it is on: in a body file,
 * counted from the file's top; in the configuration, where the literal holds it */
static struct tmpl *compile_template(struct loader *ld, const config_setting_t *s, const char *file,
				     const char *text, int own_file, const char *what)
{
	struct tmpl_error e;
	struct tmpl *t = tmpl_compile(text, &e);
	unsigned line = 1;

	if (t)
		return t;
	if (own_file)
		for (size_t i = 0; i < e.offset && text[i]; i++)
			line += text[i] == '\n';
	else
		line = literal_line(s, file, e.offset);
	err_line(ld, file, line, "%s in %s; %s", e.msg, what, e.hint);
	return NULL;
}

/* load_body_file - body_file = "path", relative to the file that names it */
static struct tmpl *load_body_file(struct loader *ld, const config_setting_t *s, const char *cfgfile,
				   const char *name, const char *label)
{
	const char *slash = strrchr(cfgfile, '/');
	char *path, *text, *what;
	struct tmpl *t = NULL;
	size_t len;

	if (!*name) {
		err_at(ld, s, "template %s: body_file is empty: give the path of a UTF-8 text file", label);
		return NULL;
	}
	if (name[0] == '/' || !slash)
		path = xstrdup(name);
	else
		path = xasprintf("%.*s/%s", (int)(slash - cfgfile), cfgfile, name);
	text = read_file(path, TEMPLATE_FILE_MAX, &len);
	if (!text)
		err_at(ld, s, "template %s: body_file \"%s\" cannot be read (%s): %s", label, name, path,
		       errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
	else if (!utf8_valid(text, len))
		err_at(ld, s, "template %s: body_file \"%s\" is not UTF-8 text (save it as UTF-8)", label, name);
	else {
		what = xasprintf("the body of template %s", label);
		t = compile_template(ld, s, path, text, 1, what);
		free(what);
	}
	free(text);
	free(path);
	return t;
}

/* load_templates - templates = ( { event; channel; subject; body or body_file; } ): every
 * text compiled now, so that a mistake is found at load and never at send time */
static void load_templates(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = list_member(ld, root, "templates", 0);
	int n = list ? config_setting_length(list) : 0;
	unsigned first[TE_COUNT][TC_COUNT] = { { 0 } };

	cfg->templates = templates_new();
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		char *event = NULL, *channel = NULL, *subject = NULL, *body = NULL, *body_file = NULL;
		char *label = NULL, *what;
		struct tmpl *ts = NULL, *tb = NULL;
		const char *file;
		int ev, ch = TC_ANY;

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			err_at(ld, s, "templates: each template must be a group { event = \"reminder\"; subject = \"...\"; body = \"...\"; }");
			continue;
		}
		check_keys(ld, s, "a template", template_keys);
		file = config_setting_source_file(s) ? config_setting_source_file(s) : ld->path;
		if (get_string(ld, s, "event", 1, "template", &event))
			continue;
		ev = tmpl_event_code(event);
		if (ev < 0) {
			char names[512];
			size_t used = 0;

			for (int e = 0; e < TE_COUNT && used < sizeof(names); e++)
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", e ? ", " : "",
							 tmpl_event_name((enum tmpl_event)e));
			err_at(ld, config_setting_get_member(s, "event"), "template: event \"%s\" is not one of %s", event, names);
			goto next;
		}
		switch (get_string(ld, s, "channel", 0, "template", &channel)) {
		case -1:
			goto next;
		case 0:
			ch = tmpl_channel_code(channel);
			if (ch < 0) {
				err_at(ld, config_setting_get_member(s, "channel"),
				       "template %s: channel \"%s\" is neither \"mail\" nor \"chat\" (leave it out for both)", event, channel);
				goto next;
			}
		}
		label = channel ? xasprintf("%s/%s", event, channel) : xstrdup(event);
		if (first[ev][ch])
			err_at(ld, s, "template %s is declared twice (first at line %u)", label, first[ev][ch]);
		else
			first[ev][ch] = config_setting_source_line(s);
		get_string(ld, s, "subject", 0, "template", &subject);
		get_string(ld, s, "body", 0, "template", &body);
		get_string(ld, s, "body_file", 0, "template", &body_file);
		if (config_setting_get_member(s, "body") && config_setting_get_member(s, "body_file"))
			err_at(ld, config_setting_get_member(s, "body_file"), "template %s: give body or body_file, not both", label);
		else if (!config_setting_get_member(s, "subject") && !config_setting_get_member(s, "body")
			 && !config_setting_get_member(s, "body_file"))
			err_at(ld, s, "template %s: give a subject, a body or a body_file", label);
		if (subject) {
			const config_setting_t *m = config_setting_get_member(s, "subject");
			size_t nl = strcspn(subject, "\r\n");

			if (subject[nl])
				err_line(ld, file, literal_line(m, file, nl), "template %s: a subject is one line (no \\n in it)", label);
			what = xasprintf("the subject of template %s", label);
			ts = compile_template(ld, m, file, subject, 0, what);
			free(what);
		}
		if (body) {
			what = xasprintf("the body of template %s", label);
			tb = compile_template(ld, config_setting_get_member(s, "body"), file, body, 0, what);
			free(what);
		} else if (body_file) {
			tb = load_body_file(ld, config_setting_get_member(s, "body_file"), file, body_file, label);
		}
		templates_set(cfg->templates, (enum tmpl_event)ev, (enum tmpl_channel)ch, &ts, &tb);
next:
		tmpl_destroy(&ts);
		tmpl_destroy(&tb);
		free(label);
		free(event);
		free(channel);
		free(subject);
		free(body);
		free(body_file);
	}
}

/* principals and programmes ------------------------------------------------------ */

static const char *const principal_keys[] = {
	"name", "display_name", "unit", "roles", "public_key", "from", "until", "permissions", NULL
};
static const char *const programme_keys[] = {
	"code", "name", "nominee", "proposers", "stages", "window", "levels", "level2_after_months",
	"valid_months", "rubric", "from", "until", "kind", "repropose_after_rejection", NULL
};
static const char *const proposer_keys[] = { "kinds", "levels", "units", NULL };
static const char *const stage_keys[] = { "decider", "role", "days", "from", "until", NULL };
static const char *const window_keys[] = { "dossier", "decision", NULL };
static const char *const rubric_keys[] = { "threshold", "criteria", NULL };
static const char *const criterion_keys[] = { "code", "name", "max", "met", NULL };

static const char *const role_names[] = { "submitter", "reviewer", "approver", "admin", "auditor", NULL };
static const char *const nominee_kinds[] = {
	"commune", "household", "clan", "hamlet", "person", "unit", "district", "collective", NULL
};

/* cfg_role_name - the name of one ROLE_* bit */
const char *cfg_role_name(unsigned role)
{
	for (size_t i = 0; role_names[i]; i++)
		if (role == 1u << i)
			return role_names[i];
	return "?";
}

/* role_code - a role name to its ROLE_* bit, 0 when unknown */
static unsigned role_code(const char *name)
{
	for (size_t i = 0; role_names[i]; i++)
		if (!strcmp(name, role_names[i]))
			return 1u << i;
	return 0;
}

/* principal_name_valid - [a-z0-9][a-z0-9._-]*, at most 64 bytes */
static int principal_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || strchr("._-", name[i])))
			return 0;
	return 1;
}

/* load_principals - the people who act in the workflows, each in one unit of the file */
static void load_principals(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = list_member(ld, root, "principals", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->principals = xcalloc((size_t)n + 1, sizeof(*cfg->principals));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct principal *p = &cfg->principals[cfg->nprincipals];
		char **roles;

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			err_at(ld, s, "principals: each principal must be a group { name = \"...\"; unit = \"...\"; roles = [ ... ]; }");
			continue;
		}
		check_keys(ld, s, "a principal", principal_keys);
		p->line = (int)config_setting_source_line(s);
		if (get_string(ld, s, "name", 1, "principal", &p->name))
			continue;
		cfg->nprincipals++;
		if (!principal_name_valid(p->name))
			err_at(ld, s, "principal name '%s' is not valid: lower case letters, digits, '.', '_' or '-', at most 64 characters (e.g. \"nguyen.thi.lan\")",
			       p->name);
		else if (!strcmp(p->name, "admin"))
			err_at(ld, s, "principal name 'admin' is reserved for the local administrator: choose another name");
		if (get_string(ld, s, "display_name", 0, "principal", &p->display_name) != 0)
			p->display_name = xstrdup(p->name);
		if (get_string(ld, s, "unit", 1, "principal", &p->unit) == 0 && !unitset_find(cfg->units, p->unit))
			err_at(ld, config_setting_get_member(s, "unit"), "principal %s: unit '%s' is not a unit of this file",
			       p->name, p->unit);
		roles = get_strv(ld, s, "roles", "principal");
		if (!roles)
			err_at(ld, s, "principal %s: 'roles' is required: one or more of submitter, reviewer, approver, admin, auditor", p->name);
		for (size_t k = 0; roles && roles[k]; k++) {
			unsigned r = role_code(roles[k]);

			if (!r)
				err_at(ld, config_setting_get_member(s, "roles"),
				       "principal %s: role \"%s\" is not one of submitter, reviewer, approver, admin, auditor", p->name, roles[k]);
			p->roles |= r;
		}
		strv_free(&roles);
		roles = get_strv(ld, s, "permissions", "principal");
		for (size_t k = 0; roles && roles[k]; k++) {
			if (!strcmp(roles[k], "exception"))
				p->permissions |= PERM_EXCEPTION;
			else
				err_at(ld, config_setting_get_member(s, "permissions"),
				       "principal %s: permission \"%s\" is not known: the one permission is \"exception\" (approve a dossier that does not pass the rubric)",
				       p->name, roles[k]);
		}
		strv_free(&roles);
		get_span(ld, s, "principal", &p->from, &p->until);
		/* the same person again: a move to another post, on dates of its own */
		for (size_t k = 0; k + 1 < cfg->nprincipals; k++)
			if (!strcmp(cfg->principals[k].name, p->name)
			    && p->from <= cfg->principals[k].until && cfg->principals[k].from <= p->until)
				err_at(ld, s, "principal '%s' is declared twice with overlapping dates (first at line %d): a person moved to another post is declared again with from/until that do not overlap",
				       p->name, cfg->principals[k].line);
		if (get_string(ld, s, "public_key", 0, "principal", &p->public_key) == 0 && !z85_key_valid(p->public_key))
			err_at(ld, config_setting_get_member(s, "public_key"),
			       "principal %s: public_key must be the 40-character key 'thiduactl keys generate' printed", p->name);
	}
}

/* load_stages - the path of a programme's dossiers: who decides, with which role, how fast */
static void load_stages(struct loader *ld, struct config *cfg, struct programme *pg, const config_setting_t *s)
{
	const config_setting_t *list = list_member(ld, s, "stages", 1);
	int n = list ? config_setting_length(list) : 0;

	if (list && (n < 1 || n > 8))
		err_at(ld, list, "programme %s: give 1 to 8 stages (it has %d)", pg->code, n);
	pg->stages = xcalloc((size_t)n + 1, sizeof(*pg->stages));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct stage *st = &pg->stages[pg->nstages];
		char *role = NULL;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			err_at(ld, g, "programme %s: each stage must be a group { decider = \"parent\"; role = \"approver\"; days = 15; }",
			       pg->code);
			continue;
		}
		check_keys(ld, g, "a stage", stage_keys);
		st->line = (int)config_setting_source_line(g);
		if (get_string(ld, g, "decider", 1, "stage", &st->decider))
			continue;
		pg->nstages++;
		if (!strcmp(st->decider, "parent")) {
			st->kind = DK_PARENT;
		} else if (!strncmp(st->decider, "level:", 6) && unitset_level_index(cfg->units, st->decider + 6) >= 0) {
			st->kind = DK_LEVEL;
			st->arg = xstrdup(st->decider + 6);
		} else if (!strncmp(st->decider, "unit:", 5) && unitset_find(cfg->units, st->decider + 5)) {
			st->kind = DK_UNIT;
			st->arg = xstrdup(st->decider + 5);
		} else {
			err_at(ld, config_setting_get_member(g, "decider"),
			       "programme %s: decider \"%s\" is not parent, level:LEVEL or unit:CODE of a declared level or unit",
			       pg->code, st->decider);
		}
		st->role = ROLE_APPROVER;
		if (get_string(ld, g, "role", 0, "stage", &role) == 0) {
			st->role = role_code(role);
			if (!st->role || st->role == ROLE_SUBMITTER || st->role == ROLE_AUDITOR) {
				err_at(ld, config_setting_get_member(g, "role"),
				       "programme %s: stage role \"%s\" is not one of reviewer, approver, admin", pg->code, role);
				st->role = ROLE_APPROVER;
			}
		}
		free(role);
		st->days = get_int(ld, g, "days", "stage", 15, 1, 365);
		get_span(ld, g, "stage", &st->from, &st->until);
	}
}

/* load_rubric - criteria in points (max) or met / not met, and the points needed */
static void load_rubric(struct loader *ld, struct programme *pg, const config_setting_t *g)
{
	const config_setting_t *list;
	int n, total = 0;

	check_keys(ld, g, "rubric", rubric_keys);
	list = list_member(ld, g, "criteria", 1);
	n = list ? config_setting_length(list) : 0;
	if (list && n == 0)
		err_at(ld, list, "programme %s: the rubric has no criteria", pg->code);
	pg->criteria = xcalloc((size_t)n + 1, sizeof(*pg->criteria));
	for (int i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(list, (unsigned)i);
		struct criterion *cr = &pg->criteria[pg->ncriteria];

		if (config_setting_type(c) != CONFIG_TYPE_GROUP) {
			err_at(ld, c, "programme %s: each criterion must be a group { code = \"TC1\"; name = \"...\"; max = 10; } or { ...; met = true; }",
			       pg->code);
			continue;
		}
		check_keys(ld, c, "a criterion", criterion_keys);
		if (get_string(ld, c, "code", 1, "criterion", &cr->code))
			continue;
		pg->ncriteria++;
		if (!unit_code_valid(cr->code))
			err_at(ld, c, "programme %s: criterion code '%s' is not valid: letters, digits, '-', '_' or '.'", pg->code, cr->code);
		for (size_t k = 0; k + 1 < pg->ncriteria; k++)
			if (!strcmp(pg->criteria[k].code, cr->code))
				err_at(ld, c, "programme %s: criterion '%s' is listed twice", pg->code, cr->code);
		if (get_string(ld, c, "name", 1, "criterion", &cr->name))
			cr->name = xstrdup(cr->code);
		cr->met = get_bool(ld, c, "met", "criterion", 0);
		cr->max = get_int(ld, c, "max", "criterion", 0, 1, 1000);
		if (cr->met && config_setting_get_member(c, "max"))
			err_at(ld, c, "programme %s: criterion %s has both 'max' (points) and 'met = true': choose one", pg->code, cr->code);
		else if (!cr->met && !cr->max)
			err_at(ld, c, "programme %s: criterion %s needs 'max' (the most points) or 'met = true' (met or not met)",
			       pg->code, cr->code);
		total += cr->max;
	}
	pg->threshold = get_int(ld, g, "threshold", "rubric", -1, 0, 100000);
	if (pg->threshold > total)
		err_at(ld, config_setting_get_member(g, "threshold"),
		       "programme %s: threshold %d can never be reached: the criteria give at most %d points", pg->code,
		       pg->threshold, total);
}

/* load_programme - one title or award programme */
static void load_programme(struct loader *ld, struct config *cfg, struct programme *pg, const config_setting_t *s)
{
	static const char *const title_only[] = { "levels", "level2_after_months", "valid_months", NULL };
	const config_setting_t *g;
	char *kind = NULL;
	int known = 0;

	get_string(ld, s, "name", 1, "programme", &pg->name);
	if (get_string(ld, s, "nominee", 1, "programme", &pg->nominee) == 0) {
		for (size_t k = 0; nominee_kinds[k]; k++)
			known |= !strcmp(nominee_kinds[k], pg->nominee);
		if (!known)
			err_at(ld, config_setting_get_member(s, "nominee"),
			       "programme %s: nominee \"%s\" is not one of commune, household, clan, hamlet, person, unit, district, collective",
			       pg->code, pg->nominee);
	}
	if ((g = group_member(ld, s, "proposers", 1))) {
		check_keys(ld, g, "proposers", proposer_keys);
		pg->proposers.kinds = get_strv(ld, g, "kinds", "proposers");
		pg->proposers.levels = get_strv(ld, g, "levels", "proposers");
		pg->proposers.units = get_strv(ld, g, "units", "proposers");
		if (!pg->proposers.kinds && !pg->proposers.levels && !pg->proposers.units)
			err_at(ld, g, "programme %s: proposers selects nobody: give kinds, levels or units", pg->code);
		for (size_t i = 0; pg->proposers.levels && pg->proposers.levels[i]; i++)
			if (unitset_level_index(cfg->units, pg->proposers.levels[i]) < 0)
				err_at(ld, g, "programme %s: proposers level '%s' is not declared", pg->code, pg->proposers.levels[i]);
		for (size_t i = 0; pg->proposers.units && pg->proposers.units[i]; i++)
			if (!unitset_find(cfg->units, pg->proposers.units[i]))
				err_at(ld, g, "programme %s: proposer '%s' is not a unit of this file", pg->code, pg->proposers.units[i]);
	}
	get_span(ld, s, "programme", &pg->from, &pg->until);
	load_stages(ld, cfg, pg, s);
	if ((g = group_member(ld, s, "window", 0))) {
		check_keys(ld, g, "window", window_keys);
		if (config_setting_get_member(g, "dossier"))
			get_monthday(ld, g, "dossier", "window", &pg->dossier_month, &pg->dossier_mday);
		if (config_setting_get_member(g, "decision"))
			get_monthday(ld, g, "decision", "window", &pg->decision_month, &pg->decision_mday);
		if (pg->dossier_month && pg->decision_month
		    && pg->decision_month * 100 + pg->decision_mday < pg->dossier_month * 100 + pg->dossier_mday)
			err_at(ld, g, "programme %s: the decision date comes before the dossier date: both fall in the programme's year",
			       pg->code);
	}
	if (get_string(ld, s, "kind", 0, "programme", &kind) == 0) {
		pg->award = !strcmp(kind, "award");
		if (!pg->award && strcmp(kind, "title"))
			err_at(ld, config_setting_get_member(s, "kind"),
			       "programme %s: kind \"%s\" is not title (danh hiệu: recognised, with levels and a validity) or award (khen thưởng: given once)",
			       pg->code, kind);
		free(kind);
	}
	for (size_t k = 0; pg->award && title_only[k]; k++)
		if (config_setting_get_member(s, title_only[k]))
			err_at(ld, config_setting_get_member(s, title_only[k]),
			       "programme %s is an award (kind = \"award\"): an award is given once, with no level and no validity period; remove %s",
			       pg->code, title_only[k]);
	pg->repropose_after_rejection = get_bool(ld, s, "repropose_after_rejection", "programme", 0);
	pg->levels = get_int(ld, s, "levels", "programme", 1, 1, 2);
	pg->level2_after_months = get_int(ld, s, "level2_after_months", "programme", 12, 0, 120);
	pg->valid_months = get_int(ld, s, "valid_months", "programme", 36, 1, 240);
	if (pg->levels == 1 && config_setting_get_member(s, "level2_after_months"))
		err_at(ld, config_setting_get_member(s, "level2_after_months"),
		       "programme %s: level2_after_months needs levels = 2", pg->code);
	pg->threshold = -1;
	if ((g = group_member(ld, s, "rubric", 0)))
		load_rubric(ld, pg, g);
}

/* load_programmes - the title and award programmes */
static void load_programmes(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = list_member(ld, root, "programmes", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->programmes = xcalloc((size_t)n + 1, sizeof(*cfg->programmes));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct programme *pg = &cfg->programmes[cfg->nprogrammes];

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			err_at(ld, s, "programmes: each programme must be a group { code = ...; name = ...; nominee = ...; stages = ( ... ); }");
			continue;
		}
		check_keys(ld, s, "a programme", programme_keys);
		pg->line = (int)config_setting_source_line(s);
		if (get_string(ld, s, "code", 1, "programme", &pg->code))
			continue;
		cfg->nprogrammes++;
		if (!unit_code_valid(pg->code))
			err_at(ld, s, "programme code '%s' is not valid: letters, digits, '-', '_' or '.'", pg->code);
		for (size_t k = 0; k + 1 < cfg->nprogrammes; k++)
			if (!strcmp(cfg->programmes[k].code, pg->code))
				err_at(ld, s, "programme '%s' is declared twice (first at line %d)", pg->code, cfg->programmes[k].line);
		load_programme(ld, cfg, pg, s);
	}
}

/* programmes_free - what load_principals and load_programmes allocated */
static void programmes_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nprincipals; i++) {
		free(cfg->principals[i].name);
		free(cfg->principals[i].display_name);
		free(cfg->principals[i].unit);
		free(cfg->principals[i].public_key);
	}
	free(cfg->principals);
	for (size_t i = 0; i < cfg->nprogrammes; i++) {
		struct programme *pg = &cfg->programmes[i];

		free(pg->code);
		free(pg->name);
		free(pg->nominee);
		strv_free(&pg->proposers.kinds);
		strv_free(&pg->proposers.levels);
		strv_free(&pg->proposers.units);
		for (size_t k = 0; k < pg->nstages; k++) {
			free(pg->stages[k].arg);
			free(pg->stages[k].decider);
		}
		free(pg->stages);
		for (size_t k = 0; k < pg->ncriteria; k++) {
			free(pg->criteria[k].code);
			free(pg->criteria[k].name);
		}
		free(pg->criteria);
	}
	free(cfg->programmes);
}

/* cfg_principal - a principal by name */
const struct principal *cfg_principal(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->nprincipals; i++)
		if (!strcmp(cfg->principals[i].name, name))
			return &cfg->principals[i];
	return NULL;
}

/* cfg_programme - a programme by code */
const struct programme *cfg_programme(const struct config *cfg, const char *code)
{
	for (size_t i = 0; code && i < cfg->nprogrammes; i++)
		if (!strcmp(cfg->programmes[i].code, code))
			return &cfg->programmes[i];
	return NULL;
}

/* cfg_channel - a channel by name */
const struct channel *cfg_channel(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->nchannels; i++)
		if (!strcmp(cfg->channels[i].name, name))
			return &cfg->channels[i];
	return NULL;
}

/* cfg_report - a report type by code */
const struct report_type *cfg_report(const struct config *cfg, const char *code)
{
	for (size_t i = 0; code && i < cfg->nreports; i++)
		if (strcmp(cfg->reports[i].code, code) == 0)
			return &cfg->reports[i];
	return NULL;
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
	load_web(&ld, cfg, root);
	load_calendar(&ld, cfg, root);
	load_levels(&ld, cfg, root);
	load_units(&ld, cfg, root);
	ld.nerr += unitset_resolve(cfg->units, errors);
	load_reports(&ld, cfg, root);
	load_channels(&ld, cfg, root);
	load_workers(&ld, cfg, root);
	load_templates(&ld, cfg, root);
	load_principals(&ld, cfg, root);
	load_programmes(&ld, cfg, root);
	load_documents(&ld, cfg, root);
	if (!ld.nerr)
		ld.nerr += cfg_check_spans(cfg, errors);
	config_destroy(&lc);
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
	free(cfg->plan_name);
	free(cfg->how_to_submit);
	free(cfg->doc_template);
	free(cfg->doc_place);
	free(cfg->state_dir);
	free(cfg->api_endpoint);
	free(cfg->events_endpoint);
	free(cfg->jobs_endpoint);
	free(cfg->operator_channel);
	strv_free(&cfg->worker_keys);
	memset(cfg->curve_secret, 0, sizeof(cfg->curve_secret));
	free(cfg->email_channel);
	free(cfg->reply_local);
	free(cfg->reply_domain);
	free(cfg->web_endpoint);
	free(cfg->web_url);
	for (size_t i = 0; i < cfg->nchannels; i++) {
		struct channel *c = &cfg->channels[i];

		free(c->name); free(c->kind); free(c->url); free(c->username); free(c->password);
		free(c->secret); free(c->chat_id); free(c->group_id); free(c->phone); free(c->template_id);
		free(c->app_id); free(c->app_secret); free(c->refresh_token); free(c->oauth_url); free(c->tls); free(c->from); free(c->from_name); free(c->ca_file);
	}
	free(cfg->channels);
	for (size_t i = 0; i < cfg->nworkers; i++) {
		free(cfg->workers[i].program);
		strv_free(&cfg->workers[i].args);
	}
	free(cfg->workers);
	templates_destroy(&cfg->templates);
	free(cfg->timezone);
	for (size_t i = 0; i < cfg->nholidays; i++) {
		free(cfg->holidays[i].name);
		free(cfg->holidays[i].source);
	}
	free(cfg->holidays);
	unitset_destroy(&cfg->units);
	for (size_t i = 0; i < cfg->nreports; i++) {
		struct report_type *rt = &cfg->reports[i];

		free(rt->code);
		free(rt->name);
		free(rt->receiver);
		free(rt->how_to_submit);
		free(rt->compiles);
		strv_free(&rt->who.kinds);
		strv_free(&rt->who.levels);
		strv_free(&rt->who.units);
		free(rt->who.under);
		free(rt->once_period);
		for (size_t k = 0; k < rt->nsteps; k++) {
			for (size_t j = 0; j < rt->steps[k].nto; j++)
				free(rt->steps[k].to[j].arg);
			free(rt->steps[k].to);
		}
		free(rt->steps);
	}
	free(cfg->reports);
	programmes_free(cfg);
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
