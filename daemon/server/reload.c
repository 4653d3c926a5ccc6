/*
 * reload.c - the configuration read again (SIGHUP, config.reload): a file with any error
 * leaves the running configuration as it is. In the library, not in main.c, so that every
 * program linking the daemon's code (unit tests, fuzz targets) finds it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "calwarn.h"
#include "channels.h"
#include "config.h"
#include "deadlines.h"
#include "events.h"
#include "intake.h"
#include "log.h"
#include "notify.h"
#include "proto.h"
#include "registry.h"
#include "reload.h"
#include "replyto.h"
#include "store.h"
#include "thiduad.h"
#include "units.h"
#include "utf8.h"
#include "xalloc.h"

/* join_errors - the first few errors in one message for a log line or a reply */
static void join_errors(char **errors, char *buf, size_t size)
{
	size_t used = 0, n = strv_len(errors);

	buf[0] = 0;
	for (size_t i = 0; i < n && i < 5 && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "; " : "", errors[i]);
	if (n > 5 && used < size)
		snprintf(buf + used, size - used, "; and %zu more", n - 5);
	utf8_sanitize(buf);	/* the bound may have cut a character of a Vietnamese message */
}

/* warn_if_readable - the file holds secrets (SMTP passwords, webhook secrets): say so when
 * other users can read it */
void warn_if_readable(const struct config *cfg)
{
	struct stat st;
	int secrets = 0;

	for (size_t i = 0; i < cfg->nchannels; i++)
		secrets |= cfg->channels[i].password || cfg->channels[i].secret
			   || !strcmp(cfg->channels[i].kind, "telegram");
	if (secrets && stat(cfg->path, &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("%s holds channel secrets and is readable by every user: chmod o-r %s (and keep it 0640 root:thidua)",
			 cfg->path, cfg->path);
}

/* daemon_reload - load the file again; on any error keep what runs */
int daemon_reload(struct daemon *d, char *err, size_t errsize)
{
	char **errors = NULL;
	struct config *cfg = cfg_load(d->config_path, &errors);
	struct unitset *units = NULL;

	notify_send_state("RELOADING=1");
	if (cfg)
		units = registry_build(d, cfg, &errors);
	if (!cfg || !units) {
		for (size_t i = 0; errors && errors[i]; i++)
			log_err("reload: %s", errors[i]);
		join_errors(errors, err, errsize);
		log_err("reload: the configuration %s has errors; the running configuration stays", d->config_path);
		strv_free(&errors);
		cfg_destroy(&cfg);
		notify_send_state("READY=1");
		return -1;
	}
	if ((cfg->api_endpoint && strcmp(cfg->api_endpoint, d->api_endpoint))
	    || (cfg->events_endpoint && strcmp(cfg->events_endpoint, d->events_endpoint))
	    || (cfg->web_endpoint && strcmp(cfg->web_endpoint, d->web_endpoint)))
		log_warn("reload: endpoints changed in the file take effect at the next restart");
	unitset_destroy(&d->units);	/* it shares the old config's units: free it first */
	cfg_destroy(&d->cfg);
	d->cfg = cfg;
	d->units = units;
	warn_if_readable(d->cfg);
	{
		char kerr[512];

		if (replyto_init(d, kerr, sizeof(kerr)))
			log_err("reload: %s: mail goes out without a Reply-To", kerr);
	}
	if (!store_in_txn(d->store)) {
		if (store_begin(d->store) || intake_reconcile(d) || deadlines_replan(d) || (channels_reconcile(d), 0)
		    || store_commit(d->store))
			log_err("reload: adding the obligations of the new configuration failed: %s", store_errmsg(d->store));
	} else if (intake_reconcile(d) || deadlines_replan(d)) {
		log_err("reload: adding the obligations of the new configuration failed: %s", store_errmsg(d->store));
	} else {
		channels_reconcile(d);	/* a disabled channel with a new url or credentials comes back */
	}
	{
		int own = !store_in_txn(d->store);
		json_t *detail = json_pack("{s:s,s:I,s:I,s:I}", "config", d->config_path, "units", (json_int_t)d->units->nunits,
					   "report_types", (json_int_t)d->cfg->nreports, "channels", (json_int_t)d->cfg->nchannels);

		if (own && store_begin(d->store)) {
			json_decref(detail);
			log_err("reload: the audit log could not record it: %s", store_errmsg(d->store));
		} else if (audit_append(d, "admin", OP_CONFIG_RELOAD, NULL, NULL, detail) || (own && store_commit(d->store))) {
			log_err("reload: the audit log could not record it: %s", store_errmsg(d->store));
		}
	}
	log_notice("configuration reloaded from %s: %zu units", d->config_path, d->units->nunits);
	calwarn_log(d);
	notify_send_state("READY=1");
	notify_status("configuration reloaded: %zu units", d->units->nunits);
	events_emit(d, "config.reloaded", json_pack("{s:s,s:I}", "config", d->config_path,
						    "units", (json_int_t)d->units->nunits));
	return 0;
}
