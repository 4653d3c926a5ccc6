/*
 * config_load.c - the configuration file read: libconfig parses it, each section is
 * loaded (config_daemon.c, config_calendar.c, config_units.c, config_reports.c,
 * config_channels.c, config_programmes.c), then references across sections and the unit
 * set as a whole are checked; the helpers every section uses to read its members.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "config.h"
#include "config_load.h"
#include "templates.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"

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

/* ld_err_at - record "FILE:LINE: message" for a setting (line 0 when unknown) */
void ld_err_at(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vline(ld, s ? config_setting_source_file(s) : NULL, s ? config_setting_source_line(s) : 0, fmt, ap);
	va_end(ap);
}

/* ld_err_line - record "FILE:LINE: message" for a line that is not a setting's own (a line
 * inside a multi-line string, a file the configuration names) */
void ld_err_line(struct loader *ld, const char *file, unsigned lineno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vline(ld, file, lineno, fmt, ap);
	va_end(ap);
}

/* ld_check_keys - every member of a group must be in allowed */
void ld_check_keys(struct loader *ld, const config_setting_t *group, const char *what,
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
			ld_err_at(ld, m, "unknown key '%s' in %s (allowed: %s)", name ? name : "?", what, list);
		}
	}
}

/* ld_get_string - a string member; 0 found, 1 absent, -1 wrong type or bad UTF-8 */
int ld_get_string(struct loader *ld, const config_setting_t *group, const char *name,
		  int required, const char *what, char **out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	const char *v;

	if (!s) {
		if (required)
			ld_err_at(ld, group, "%s: '%s' is required", what, name);
		return required ? -1 : 1;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ld_err_at(ld, s, "%s: '%s' must be a string in double quotes", what, name);
		return -1;
	}
	v = config_setting_get_string(s);
	if (!utf8_valid_str(v)) {
		ld_err_at(ld, s, "%s: '%s' is not valid UTF-8 (save the file as UTF-8)", what, name);
		return -1;
	}
	*out = xstrdup(v);
	return 0;
}

/* ld_get_bool - a boolean member, default when absent */
int ld_get_bool(struct loader *ld, const config_setting_t *group, const char *name,
		const char *what, int dflt)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	if (!s)
		return dflt;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		ld_err_at(ld, s, "%s: '%s' must be true or false", what, name);
		return dflt;
	}
	return config_setting_get_bool(s);
}

/* ld_get_strv - an array of strings; NULL when absent */
char **ld_get_strv(struct loader *ld, const config_setting_t *group, const char *name,
		   const char *what)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char **v = NULL;

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
		ld_err_at(ld, s, "%s: '%s' must be an array of strings like [\"a\", \"b\"]", what, name);
		return NULL;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ld_err_at(ld, e, "%s: every element of '%s' must be a string", what, name);
			continue;
		}
		if (!utf8_valid_str(config_setting_get_string(e))) {
			ld_err_at(ld, e, "%s: an element of '%s' is not valid UTF-8", what, name);
			continue;
		}
		v = strv_append(v, config_setting_get_string(e));
	}
	return v;
}

/* ld_get_date - a YYYY-MM-DD string member; dflt when absent */
int32_t ld_get_date(struct loader *ld, const config_setting_t *group, const char *name,
		    const char *what, int32_t dflt)
{
	char *text = NULL;
	int32_t day = dflt;

	if (ld_get_string(ld, group, name, 0, what, &text) != 0)
		return dflt;
	if (date_parse(text, &day)) {
		ld_err_at(ld, config_setting_get_member(group, name),
		       "%s: '%s' = \"%s\" is not a date: write YYYY-MM-DD, e.g. 2025-06-30", what, name, text);
		day = dflt;
	}
	free(text);
	return day;
}

/* ld_get_span - optional from / until dates of what names a unit or a level */
void ld_get_span(struct loader *ld, const config_setting_t *g, const char *what, int32_t *from, int32_t *until)
{
	*from = ld_get_date(ld, g, "from", what, DATE_NONE_FROM);
	*until = ld_get_date(ld, g, "until", what, DATE_NONE_TO);
	if (*until < *from)
		ld_err_at(ld, config_setting_get_member(g, "until"), "%s: 'until' is before 'from'", what);
}

static const char *const top_keys[] = {
	"movement", "daemon", "calendar", "levels", "units", "report_types", "channels", "workers", "templates",
	"principals", "programmes", "documents", "web", NULL
};

/* ld_group_member - a member that must be a group (or absent) */
const config_setting_t *ld_group_member(struct loader *ld, const config_setting_t *parent,
					const char *name, int required)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	if (!s) {
		if (required)
			ld_err_at(ld, parent, "the '%s' section is missing", name);
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		ld_err_at(ld, s, "'%s' must be a group: %s = { ... };", name, name);
		return NULL;
	}
	return s;
}

/* ld_list_member - a member that must be a list of groups (or absent) */
const config_setting_t *ld_list_member(struct loader *ld, const config_setting_t *parent,
				       const char *name, int required)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	if (!s) {
		if (required)
			ld_err_at(ld, parent, "the '%s' list is missing", name);
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		ld_err_at(ld, s, "'%s' must be a list of groups: %s = ( { ... }, { ... } );", name, name);
		return NULL;
	}
	return s;
}

/* ld_get_int - an integer member within [min, max]; dflt when absent */
int ld_get_int(struct loader *ld, const config_setting_t *group, const char *name,
	       const char *what, int dflt, int min, int max)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	int v;

	if (!s)
		return dflt;
	if (config_setting_type(s) != CONFIG_TYPE_INT) {
		ld_err_at(ld, s, "%s: '%s' must be a whole number", what, name);
		return dflt;
	}
	v = config_setting_get_int(s);
	if (v < min || v > max) {
		ld_err_at(ld, s, "%s: '%s' = %d is out of range (%d to %d)", what, name, v, min, max);
		return dflt;
	}
	return v;
}

/* ld_get_double - a number member (integer or float); dflt when absent */
double ld_get_double(struct loader *ld, const config_setting_t *g, const char *name, const char *what,
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
		ld_err_at(ld, s, "%s: '%s' must be a number", what, name);
		return dflt;
	}
	if (v < min || v > max) {
		ld_err_at(ld, s, "%s: '%s' = %g is out of range (%g to %g)", what, name, v, min, max);
		return dflt;
	}
	return v;
}

/* ld_read_file - a whole regular file of at most max bytes, NUL-terminated; NULL with errno */
char *ld_read_file(const char *path, size_t max, size_t *len)
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
	ld_check_keys(&ld, root, "the top level", top_keys);
	ld_load_movement(&ld, cfg, root);
	ld_load_daemon(&ld, cfg, root);
	ld_load_web(&ld, cfg, root);
	ld_load_calendar(&ld, cfg, root);
	ld_load_levels(&ld, cfg, root);
	ld_load_units(&ld, cfg, root);
	ld.nerr += unitset_resolve(cfg->units, errors);
	ld_load_reports(&ld, cfg, root);
	ld_load_channels(&ld, cfg, root);
	ld_load_workers(&ld, cfg, root);
	ld_load_templates(&ld, cfg, root);
	ld_load_principals(&ld, cfg, root);
	ld_load_programmes(&ld, cfg, root);
	ld_load_documents(&ld, cfg, root);
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
	ld_programmes_free(cfg);
	free(cfg);
	*self_p = NULL;
}
