/*
 * config_channels.c - the delivery channels and the message templates.
 */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "config.h"
#include "config_load.h"
#include "templates.h"
#include "utf8.h"
#include "xalloc.h"

static const char *const channel_keys[] = {
	"name", "kind", "url", "username", "password", "secret", "chat_id", "tls", "from", "from_name",
	"rate", "burst", "max_length", "split", "allow_http", "allow_private", "connect_timeout", "timeout",
	"expire_hours", "ca_file", "group_id", "phone", "template_id", "app_id", "app_secret", "refresh_token",
	"oauth_url", NULL
};

static const char *const template_keys[] = { "event", "channel", "subject", "body", "body_file", NULL };

static int is_loopback_url(const char *url)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	return !strncmp(h, "127.", 4) || !strncmp(h, "localhost", 9) || !strncmp(h, "[::1]", 5);
}

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

	if (!m || ld_get_string(ld, s, "ca_file", 0, "channel", &name) != 0)
		return;
	if (strcmp(c->kind, "smtp")) {
		ld_err_at(ld, m, "channel %s: ca_file is for smtp channels (a mail server certified by a private CA)", c->name);
		free(name);
		return;
	}
	if (!*name) {
		ld_err_at(ld, m, "channel %s: ca_file is empty: give the path of the CA's certificate (PEM)", c->name);
		free(name);
		return;
	}
	path = name[0] == '/' || !slash ? xstrdup(name) : xasprintf("%.*s/%s", (int)(slash - file), file, name);
	text = ld_read_file(path, CA_FILE_MAX, &len);
	if (!text)
		ld_err_at(ld, m, "channel %s: ca_file \"%s\" cannot be read (%s): %s", c->name, name, path,
		       errno == EFBIG ? "larger than 16 MiB" : errno == EINVAL ? "not a regular file" : strerror(errno));
	else if (!strstr(text, "-----BEGIN CERTIFICATE-----"))
		ld_err_at(ld, m, "channel %s: ca_file \"%s\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
		       c->name, name);
	else if (!(abs = realpath(path, NULL)))
		ld_err_at(ld, m, "channel %s: ca_file \"%s\": %s", c->name, name, strerror(errno));
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
		ld_err_at(ld, s, "channel %s: %s needs secret (the Official Account's access token), or app_id and app_secret"
		       " for thidua to hold and renew it (thiduactl zalo authorize)", c->name, c->kind);
	if ((zalo || zns) && (c->app_id || c->app_secret || c->refresh_token) && (!c->app_id || !c->app_secret))
		ld_err_at(ld, s, "channel %s: app_id and app_secret go together (the app's id and secret key), and"
		       " refresh_token needs them", c->name);
	if ((zalo || zns) && strncmp(c->oauth_url, "https://", 8)
	    && !(!strncmp(c->oauth_url, "http://", 7) && is_loopback_url(c->oauth_url + 7)))
		ld_err_at(ld, s, "channel %s: oauth_url must be https:// (http:// only to this machine)", c->name);
	if (zalo && !c->chat_id == !c->group_id)
		ld_err_at(ld, s, "channel %s: zalo needs either chat_id (the follower's user_id) or group_id (a group of the OA),"
		       " not both", c->name);
	if (zns && (!c->phone || !c->template_id))
		ld_err_at(ld, s, "channel %s: zns needs phone (the recipient, 84xxxxxxxxx) and template_id (an approved template)",
		       c->name);
	if (!zalo && !zns && (c->group_id || c->phone || c->template_id || c->app_id || c->app_secret || c->refresh_token))
		ld_err_at(ld, s, "channel %s: group_id, phone, template_id, app_id, app_secret and refresh_token belong to zalo and zns channels", c->name);
}

/* ld_load_channels - delivery channels; secrets stay in memory and never reach a log line */
void ld_load_channels(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	static const char *const kinds[] = {
		"smtp", "slack", "mattermost", "teams", "telegram", "googlechat", "discord", "json", "zalo", "zns", NULL
	};
	const config_setting_t *list = ld_list_member(ld, root, "channels", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->channels = xcalloc((size_t)n + 1, sizeof(*cfg->channels));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct channel *c = &cfg->channels[cfg->nchannels];
		int known = 0;

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, s, "channels: each channel must be a group { name = ...; kind = ...; url = ...; }");
			continue;
		}
		ld_check_keys(ld, s, "a channel", channel_keys);
		c->line = (int)config_setting_source_line(s);
		if (ld_get_string(ld, s, "name", 1, "channel", &c->name) || ld_get_string(ld, s, "kind", 1, "channel", &c->kind)
		    || ld_get_string(ld, s, "url", 1, "channel", &c->url)) {
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
			ld_err_at(ld, s, "channel %s: kind \"%s\" is not one of smtp, slack, mattermost, teams, telegram, googlechat, discord, json, zalo, zns",
			       c->name, c->kind);
		for (size_t k = 0; k + 1 < cfg->nchannels; k++)
			if (!strcmp(cfg->channels[k].name, c->name))
				ld_err_at(ld, s, "channel '%s' is declared twice (first at line %d)", c->name, cfg->channels[k].line);
		ld_get_string(ld, s, "username", 0, "channel", &c->username);
		ld_get_string(ld, s, "password", 0, "channel", &c->password);
		ld_get_string(ld, s, "secret", 0, "channel", &c->secret);
		ld_get_string(ld, s, "chat_id", 0, "channel", &c->chat_id);
		ld_get_string(ld, s, "group_id", 0, "channel", &c->group_id);
		ld_get_string(ld, s, "phone", 0, "channel", &c->phone);
		ld_get_string(ld, s, "template_id", 0, "channel", &c->template_id);
		ld_get_string(ld, s, "app_id", 0, "channel", &c->app_id);
		ld_get_string(ld, s, "app_secret", 0, "channel", &c->app_secret);
		ld_get_string(ld, s, "refresh_token", 0, "channel", &c->refresh_token);
		if (ld_get_string(ld, s, "oauth_url", 0, "channel", &c->oauth_url) != 0)
			c->oauth_url = xstrdup("https://oauth.zaloapp.com");
		ld_get_string(ld, s, "from", 0, "channel", &c->from);
		ld_get_string(ld, s, "from_name", 0, "channel", &c->from_name);
		if (ld_get_string(ld, s, "tls", 0, "channel", &c->tls) != 0)
			c->tls = xstrdup(!strncmp(c->url, "smtps://", 8) ? "tls" : "starttls");
		c->rate = ld_get_double(ld, s, "rate", "channel", 0, 0, 10000);
		c->burst = ld_get_int(ld, s, "burst", "channel", 0, 0, 100000);
		c->max_length = ld_get_int(ld, s, "max_length", "channel", 0, 0, 1000000);
		c->split = ld_get_bool(ld, s, "split", "channel", 1);
		c->allow_http = ld_get_bool(ld, s, "allow_http", "channel", 0);
		c->allow_private = ld_get_bool(ld, s, "allow_private", "channel", 0);
		c->connect_timeout = ld_get_int(ld, s, "connect_timeout", "channel", 10, 1, 300);
		c->timeout = ld_get_int(ld, s, "timeout", "channel", 30, 1, 3600);
		c->expire_hours = ld_get_int(ld, s, "expire_hours", "channel", 72, 1, 24 * 30);
		c->utc_offset = cfg->utc_offset;	/* the calendar's: the Date of its mail */
		load_ca_file(ld, s, c);
		if (!strcmp(c->kind, "smtp")) {
			if (strncmp(c->url, "smtp://", 7) && strncmp(c->url, "smtps://", 8))
				ld_err_at(ld, s, "channel %s: an smtp url starts with smtp:// or smtps://", c->name);
			if (strcmp(c->tls, "starttls") && strcmp(c->tls, "tls") && strcmp(c->tls, "none"))
				ld_err_at(ld, s, "channel %s: tls must be starttls, tls or none", c->name);
			else if (!strcmp(c->tls, "none") && !is_loopback_url(c->url))
				ld_err_at(ld, s, "channel %s: tls = \"none\" is allowed only to a server on this machine (127.0.0.1)", c->name);
			if (!c->from)
				ld_err_at(ld, s, "channel %s: 'from' (the sender address) is required for smtp", c->name);
		} else if (known) {
			if (strncmp(c->url, "https://", 8) && !(c->allow_http && !strncmp(c->url, "http://", 7))
			    && !(!strncmp(c->url, "http://", 7) && is_loopback_url(c->url + 7)))
				ld_err_at(ld, s, "channel %s: the url must be https:// (http:// only to this machine, or with allow_http = true)",
				       c->name);
			if (!strcmp(c->kind, "telegram") && !c->chat_id)
				ld_err_at(ld, s, "channel %s: telegram needs chat_id", c->name);
			check_zalo(ld, s, c);
		}
	}
	if (cfg->operator_channel && !cfg_channel(cfg, cfg->operator_channel))
		ld_err_at(ld, config_setting_get_member(root, "daemon"), "daemon: operator_channel '%s' is not a declared channel",
		       cfg->operator_channel);
	if (cfg->email_channel) {
		const struct channel *c = cfg_channel(cfg, cfg->email_channel);

		if (!c || strcmp(c->kind, "smtp"))
			ld_err_at(ld, config_setting_get_member(root, "daemon"), "daemon: email_channel '%s' is not a declared smtp channel",
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
	char *src = name && value ? ld_read_file(file, CONFIG_FILE_MAX, &len) : NULL, *out = NULL;
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
	ld_err_line(ld, file, line, "%s in %s; %s", e.msg, what, e.hint);
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
		ld_err_at(ld, s, "template %s: body_file is empty: give the path of a UTF-8 text file", label);
		return NULL;
	}
	if (name[0] == '/' || !slash)
		path = xstrdup(name);
	else
		path = xasprintf("%.*s/%s", (int)(slash - cfgfile), cfgfile, name);
	text = ld_read_file(path, TEMPLATE_FILE_MAX, &len);
	if (!text)
		ld_err_at(ld, s, "template %s: body_file \"%s\" cannot be read (%s): %s", label, name, path,
		       errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
	else if (!utf8_valid(text, len))
		ld_err_at(ld, s, "template %s: body_file \"%s\" is not UTF-8 text (save it as UTF-8)", label, name);
	else {
		what = xasprintf("the body of template %s", label);
		t = compile_template(ld, s, path, text, 1, what);
		free(what);
	}
	free(text);
	free(path);
	return t;
}

/* ld_load_templates - templates = ( { event; channel; subject; body or body_file; } ): every
 * text compiled now, so that a mistake is found at load and never at send time */
void ld_load_templates(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = ld_list_member(ld, root, "templates", 0);
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
			ld_err_at(ld, s, "templates: each template must be a group { event = \"reminder\"; subject = \"...\"; body = \"...\"; }");
			continue;
		}
		ld_check_keys(ld, s, "a template", template_keys);
		file = config_setting_source_file(s) ? config_setting_source_file(s) : ld->path;
		if (ld_get_string(ld, s, "event", 1, "template", &event))
			continue;
		ev = tmpl_event_code(event);
		if (ev < 0) {
			char names[512];
			size_t used = 0;

			for (int e = 0; e < TE_COUNT && used < sizeof(names); e++)
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", e ? ", " : "",
							 tmpl_event_name((enum tmpl_event)e));
			ld_err_at(ld, config_setting_get_member(s, "event"), "template: event \"%s\" is not one of %s", event, names);
			goto next;
		}
		switch (ld_get_string(ld, s, "channel", 0, "template", &channel)) {
		case -1:
			goto next;
		case 0:
			ch = tmpl_channel_code(channel);
			if (ch < 0) {
				ld_err_at(ld, config_setting_get_member(s, "channel"),
				       "template %s: channel \"%s\" is neither \"mail\" nor \"chat\" (leave it out for both)", event, channel);
				goto next;
			}
		}
		label = channel ? xasprintf("%s/%s", event, channel) : xstrdup(event);
		if (first[ev][ch])
			ld_err_at(ld, s, "template %s is declared twice (first at line %u)", label, first[ev][ch]);
		else
			first[ev][ch] = config_setting_source_line(s);
		ld_get_string(ld, s, "subject", 0, "template", &subject);
		ld_get_string(ld, s, "body", 0, "template", &body);
		ld_get_string(ld, s, "body_file", 0, "template", &body_file);
		if (config_setting_get_member(s, "body") && config_setting_get_member(s, "body_file"))
			ld_err_at(ld, config_setting_get_member(s, "body_file"), "template %s: give body or body_file, not both", label);
		else if (!config_setting_get_member(s, "subject") && !config_setting_get_member(s, "body")
			 && !config_setting_get_member(s, "body_file"))
			ld_err_at(ld, s, "template %s: give a subject, a body or a body_file", label);
		if (subject) {
			const config_setting_t *m = config_setting_get_member(s, "subject");
			size_t nl = strcspn(subject, "\r\n");

			if (subject[nl])
				ld_err_line(ld, file, literal_line(m, file, nl), "template %s: a subject is one line (no \\n in it)", label);
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
