/*
 * config_daemon.c - the daemon, movement, documents and workers sections.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "config.h"
#include "config_load.h"
#include "utf8.h"
#include "xalloc.h"

static const char *const movement_keys[] = { "name", "plan", "plan_name", "how_to_submit", "starts", NULL };

static const char *const daemon_keys[] = {
	"state_dir", "api", "events", "jobs", "max_request_bytes", "operator_channel", "email_channel",
	"curve_key_file", "worker_keys", "requests_per_second", "reply_to", "web", NULL
};

static const char *const web_keys[] = { "url", "idle_minutes", "max_hours", "invite_hours", NULL };

static const char *const reply_to_keys[] = { "local", "domain", NULL };

static const char *const worker_keys[] = { "program", "count", "args", NULL };

/* load_reply_to - daemon.reply_to = { local; domain; }: the address units reply to with
 * their report (LOCAL+TOKEN@DOMAIN); both parts or neither */
static void load_reply_to(struct loader *ld, struct config *cfg, const config_setting_t *daemon)
{
	const config_setting_t *g = ld_group_member(ld, daemon, "reply_to", 0);
	static const char local_ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	static const char domain_ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";

	if (!g)
		return;
	ld_check_keys(ld, g, "daemon.reply_to", reply_to_keys);
	if (ld_get_string(ld, g, "local", 1, "daemon.reply_to", &cfg->reply_local)
	    | ld_get_string(ld, g, "domain", 1, "daemon.reply_to", &cfg->reply_domain))
		return;
	if (!*cfg->reply_local || strlen(cfg->reply_local) > 40 || strspn(cfg->reply_local, local_ok) != strlen(cfg->reply_local))
		ld_err_at(ld, g, "daemon.reply_to: local \"%s\" must be 1 to 40 letters, digits, '.', '_' or '-' (no '+': the token follows it), e.g. \"nopbaocao\"",
		       cfg->reply_local);
	if (!strchr(cfg->reply_domain, '.') || strlen(cfg->reply_domain) > 200
	    || strspn(cfg->reply_domain, domain_ok) != strlen(cfg->reply_domain))
		ld_err_at(ld, g, "daemon.reply_to: domain \"%s\" must be a domain name of letters, digits, '.' and '-', e.g. \"cuchi.example.org\"",
		       cfg->reply_domain);
}

void ld_load_movement(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *g = ld_group_member(ld, root, "movement", 0);

	cfg->movement_starts = DATE_NONE_FROM;
	if (!g)
		return;
	ld_check_keys(ld, g, "movement", movement_keys);
	ld_get_string(ld, g, "name", 0, "movement", &cfg->movement_name);
	ld_get_string(ld, g, "plan", 0, "movement", &cfg->movement_plan);
	ld_get_string(ld, g, "plan_name", 0, "movement", &cfg->plan_name);
	ld_get_string(ld, g, "how_to_submit", 0, "movement", &cfg->how_to_submit);
	cfg->movement_starts = ld_get_date(ld, g, "starts", "movement", DATE_NONE_FROM);
}

static const char *const documents_keys[] = { "template", "place", NULL };

/* ld_load_documents - documents = { template = "DIR"; place = "NAME"; }: the directory of
 * WordprocessingML parts thiduactl summary fills (relative to this file; thiduactl reads
 * it, perhaps on another machine, and says when it is not a template); the place name of
 * the documents' date line */
void ld_load_documents(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *g = ld_group_member(ld, root, "documents", 0);
	const char *file, *slash;
	char *dir = NULL;

	if (!g)
		return;
	ld_check_keys(ld, g, "documents", documents_keys);
	ld_get_string(ld, g, "place", 0, "documents", &cfg->doc_place);
	if (ld_get_string(ld, g, "template", 0, "documents", &dir) || !dir)
		return;
	file = config_setting_source_file(g) ? config_setting_source_file(g) : ld->path;
	slash = strrchr(file, '/');
	if (dir[0] == '/' || !slash)
		cfg->doc_template = xstrdup(dir);
	else
		cfg->doc_template = xasprintf("%.*s/%s", (int)(slash - file), file, dir);
	free(dir);
}

/* ld_z85_key_valid - 40 characters of the Z85 alphabet */
int ld_z85_key_valid(const char *k)
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

	cfg->worker_keys = ld_get_strv(ld, g, "worker_keys", "daemon");
	for (size_t i = 0; cfg->worker_keys && cfg->worker_keys[i]; i++)
		if (!ld_z85_key_valid(cfg->worker_keys[i]))
			ld_err_at(ld, config_setting_get_member(g, "worker_keys"),
			       "daemon: worker_keys[%zu] is not a 40-character public key", i);
	if (ld_get_string(ld, g, "curve_key_file", 0, "daemon", &file) == 0) {
		FILE *fp = fopen(file, "r");
		size_t n = fp ? fread(cfg->curve_secret, 1, 40, fp) : 0;

		if (fp)
			fclose(fp);
		cfg->curve_secret[40] = 0;
		if (n != 40 || !ld_z85_key_valid(cfg->curve_secret) || zmq_curve_public(cfg->curve_public, cfg->curve_secret)) {
			ld_err_at(ld, config_setting_get_member(g, "curve_key_file"),
			       "daemon: curve_key_file %s does not hold a secret key: write one with 'thiduactl keys generate thiduad'",
			       file);
			memset(cfg->curve_secret, 0, sizeof(cfg->curve_secret));
		}
		free(file);
	}
}

void ld_load_daemon(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *g = ld_group_member(ld, root, "daemon", 0);
	const config_setting_t *s;

	cfg->max_request_bytes = CFG_DEFAULT_MAX_REQUEST;
	cfg->requests_per_second = 50;
	if (!g)
		return;
	ld_check_keys(ld, g, "daemon", daemon_keys);
	ld_get_string(ld, g, "state_dir", 0, "daemon", &cfg->state_dir);
	ld_get_string(ld, g, "api", 0, "daemon", &cfg->api_endpoint);
	ld_get_string(ld, g, "events", 0, "daemon", &cfg->events_endpoint);
	ld_get_string(ld, g, "jobs", 0, "daemon", &cfg->jobs_endpoint);
	cfg->requests_per_second = ld_get_int(ld, g, "requests_per_second", "daemon", 50, 0, 100000);
	ld_get_string(ld, g, "operator_channel", 0, "daemon", &cfg->operator_channel);
	ld_get_string(ld, g, "email_channel", 0, "daemon", &cfg->email_channel);
	ld_get_string(ld, g, "web", 0, "daemon", &cfg->web_endpoint);
	load_reply_to(ld, cfg, g);
	load_curve(ld, cfg, g);
	s = config_setting_get_member(g, "max_request_bytes");
	if (s) {
		long long v;

		if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
			ld_err_at(ld, s, "daemon: 'max_request_bytes' must be a whole number of bytes");
			return;
		}
		v = config_setting_get_int64(s);
		if (config_setting_type(s) == CONFIG_TYPE_INT)
			v = config_setting_get_int(s);
		if (v < 1024 || v > 1024LL * 1024 * 1024)
			ld_err_at(ld, s, "daemon: 'max_request_bytes' = %lld is out of range (1024 to 1073741824)", v);
		else
			cfg->max_request_bytes = (size_t)v;
	}
}

void ld_load_workers(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = ld_list_member(ld, root, "workers", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->workers = xcalloc((size_t)n + 1, sizeof(*cfg->workers));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct worker_spec *w = &cfg->workers[cfg->nworkers];

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, s, "workers: each worker must be a group { program = \"thidua-mail\"; count = 1; }");
			continue;
		}
		ld_check_keys(ld, s, "a worker", worker_keys);
		w->line = (int)config_setting_source_line(s);
		if (ld_get_string(ld, s, "program", 1, "worker", &w->program))
			continue;
		cfg->nworkers++;
		w->count = ld_get_int(ld, s, "count", "worker", 1, 0, 64);
		w->args = ld_get_strv(ld, s, "args", "worker");
	}
}

/* load_web - the web section: where people open the pages, how long sessions and
 * invitations last (daemon/accounts) */
void ld_load_web(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *g = ld_group_member(ld, root, "web", 0);

	cfg->web_idle_minutes = 30;
	cfg->web_max_hours = 12;
	cfg->web_invite_hours = 72;
	if (g) {
		ld_check_keys(ld, g, "web", web_keys);
		ld_get_string(ld, g, "url", 0, "web", &cfg->web_url);
		cfg->web_idle_minutes = ld_get_int(ld, g, "idle_minutes", "web", 30, 1, 1440);
		cfg->web_max_hours = ld_get_int(ld, g, "max_hours", "web", 12, 1, 168);
		cfg->web_invite_hours = ld_get_int(ld, g, "invite_hours", "web", 72, 1, 720);
	}
	if (cfg->web_url && strncmp(cfg->web_url, "http://", 7) && strncmp(cfg->web_url, "https://", 8))
		ld_err_at(ld, config_setting_get_member(g, "url"), "web: url '%s' must start with http:// or https:// (the address people open, e.g. https://thidua.example.gov.vn)",
			  cfg->web_url);
	if (!cfg->web_url)
		cfg->web_url = xstrdup("http://127.0.0.1:8470");
	else if (*cfg->web_url && cfg->web_url[strlen(cfg->web_url) - 1] == '/')
		cfg->web_url[strlen(cfg->web_url) - 1] = 0;
}
