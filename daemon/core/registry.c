/*
 * registry.c - the live unit registry: the configuration's units plus those imported into
 * the database, validated together. Rebuilt on start, reload and import, then swapped.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "registry.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

/* split_list - "a;b;c" to a vector, NULL for empty */
char **split_list(const char *s)
{
	char **v = NULL;

	while (s && *s) {
		const char *end = strchr(s, ';');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		char *item;

		while (n && *s == ' ')
			s++, n--;
		while (n && s[n - 1] == ' ')
			n--;
		if (n) {
			item = xstrndup(s, n);
			v = strv_append(v, item);
			free(item);
		}
		s = end ? end + 1 : NULL;
	}
	return v;
}

/* join_list - a vector to "a;b;c" (caller frees), NULL for empty */
char *join_list(char *const *v)
{
	size_t len = 0;
	char *out;

	if (!v || !v[0])
		return NULL;
	for (size_t i = 0; v[i]; i++)
		len += strlen(v[i]) + 1;
	out = xmalloc(len);
	out[0] = 0;
	len = 0;
	for (size_t i = 0; v[i]; i++) {
		size_t n = strlen(v[i]);

		if (i)
			out[len++] = ';';
		memcpy(out + len, v[i], n);
		len += n;
		out[len] = 0;
	}
	return out;
}

static char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* registry_build - cfg's units plus the database's, resolved; NULL with errors */
struct unitset *registry_build(struct daemon *d, const struct config *cfg, char ***errors)
{
	struct unitset *set = unitset_new();
	sqlite3_stmt *s = store_stmt(d->store,
		"SELECT code, name, level, parent, kind, attached, emails, chats, active_from,"
		" active_to, successors, source, line FROM units ORDER BY rowid");

	unitset_borrow(set, cfg->units);

	while (sqlite3_step(s) == SQLITE_ROW) {
		struct unit *u = unit_new();
		char *list;

		u->code = col_text(s, 0);
		u->name = col_text(s, 1);
		u->level_code = col_text(s, 2);
		u->parent_code = col_text(s, 3);
		u->kind = col_text(s, 4);
		u->attached = sqlite3_column_int(s, 5);
		list = col_text(s, 6);
		u->emails = split_list(list);
		free(list);
		list = col_text(s, 7);
		u->chats = split_list(list);
		free(list);
		if (sqlite3_column_type(s, 8) != SQLITE_NULL)
			u->active_from = sqlite3_column_int(s, 8);
		if (sqlite3_column_type(s, 9) != SQLITE_NULL)
			u->active_to = sqlite3_column_int(s, 9);
		list = col_text(s, 10);
		u->successor_codes = split_list(list);
		free(list);
		u->origin = col_text(s, 11);
		u->line = sqlite3_column_int(s, 12);
		u->imported = 1;
		unitset_add(set, &u);
	}
	sqlite3_reset(s);
	/* resolving links the shared config units again, to the same units: a config unit
	 * refers only to config units */
	if (unitset_resolve(set, errors)) {
		unitset_destroy(&set);
		return NULL;
	}
	malloc_trim(0);		/* give back what parsing a large file left behind */
	return set;
}

/* registry_today - the local date now */
int32_t registry_today(const struct daemon *d)
{
	return day_of_time(clock_now(d), d->cfg->utc_offset);
}

/* daemon_free - what the daemon holds once its sockets are closed: the database, the
 * units, the events not published, the configuration and the paths (main.c at exit,
 * and fuzz_api between its daemons) */
void daemon_free(struct daemon *d)
{
	store_close(&d->store);
	unitset_destroy(&d->pending_units);
	unitset_destroy(&d->units);
	json_decref(d->pending_events);
	d->pending_events = NULL;
	cfg_destroy(&d->cfg);
	free(d->state_dir);
	free(d->db_path);
	free(d->spool_dir);
	free(d->api_endpoint);
	free(d->events_endpoint);
	free(d->jobs_endpoint);
	free(d->web_endpoint);
	d->state_dir = d->db_path = d->spool_dir = NULL;
	d->api_endpoint = d->events_endpoint = d->jobs_endpoint = NULL;
}

static int (*on_import[4])(struct daemon *d);
static size_t non_import;

void registry_on_import(int (*fn)(struct daemon *d))
{
	for (size_t i = 0; i < non_import; i++)
		if (on_import[i] == fn)
			return;		/* registered again (a second in-process daemon) */
	if (non_import == sizeof(on_import) / sizeof(on_import[0]))
		fatal("registry_on_import: too many");
	on_import[non_import++] = fn;
}

int registry_imported(struct daemon *d)
{
	for (size_t i = 0; i < non_import; i++)
		if (on_import[i](d))
			return -1;
	return 0;
}

/* registry_units - the unit set of this turn: one an import made, else the live one */
const struct unitset *registry_units(struct daemon *d)
{
	return d->pending_units ? d->pending_units : d->units;
}
