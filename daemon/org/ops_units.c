/*
 * ops_units.c - the unit ops: units.list, units.show, units.import.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "log.h"
#include "thiduad.h"
#include "units_csv.h"
#include "timeutil.h"
#include "xalloc.h"
#include "clock.h"
#include "events.h"
#include "lookup.h"
#include "ops_units.h"
#include "registry.h"
#include "rq.h"
#include "store.h"
#include "units.h"

static json_t *json_strv(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* unit_json - a unit as seen on day: its parent is the one in force that day */
json_t *unit_json(const struct daemon *d, const struct unit *u, int32_t day, int full)
{
	const struct unit *p = unit_parent_at(u, day);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s?,s:s,s:b,s:b}",
			      "code", u->code, "name", u->name, "level", u->level_code,
			      "parent", p ? p->code : NULL, "kind", u->kind,
			      "attached", u->attached, "active", unit_active_at(u, day));

	json_object_set_new(o, "active_from", json_day(u->active_from));
	json_object_set_new(o, "active_to", json_day(u->active_to));
	json_object_set_new(o, "successors", json_strv(u->successor_codes));
	if (full) {
		json_t *kids = json_array();
		const struct unit *closest = u->parent;

		json_object_set_new(o, "level_name", json_string(d->units->levels[u->level].name));
		json_object_set_new(o, "declared_parent", closest ? json_string(closest->code) : json_null());
		json_object_set_new(o, "emails", json_strv(u->emails));
		json_object_set_new(o, "chats", json_strv(u->chats));
		json_object_set_new(o, "source", json_sprintf("%s:%d", u->origin ? u->origin : "-", u->line));
		for (size_t i = 0; i < d->units->nunits; i++) {
			const struct unit *c = d->units->units[i];

			if (unit_active_at(c, day) && unit_parent_at(c, day) == u)
				json_array_append_new(kids, json_string(c->code));
		}
		json_object_set_new(o, "children", kids);
		kids = json_array();
		for (size_t i = 0; i < d->units->nunits; i++) {
			const struct unit *c = d->units->units[i];

			for (size_t k = 0; k < c->nsuccessors; k++)
				if (c->successors[k] == u)
					json_array_append_new(kids, json_string(c->code));
		}
		json_object_set_new(o, "predecessors", kids);
	}
	return o;
}

/* op_units_list - units filtered by level, kind, subtree and date */
int op_units_list(struct daemon *d, struct request *rq, json_t *out)
{
	const char *level = rq_str(rq, "level", 0), *kind = rq_str(rq, "kind", 0);
	const struct unit *under = NULL;
	int32_t day = registry_today(d);
	json_t *list;
	int lvl = -1, all = 0;

	if (rq_day(rq, "at", 0, &day) < 0 || rq_bool(rq, "all", &all) < 0)
		return -1;
	if (json_object_get(rq_body(rq), "under") && !(under = rq_unit(d, rq, "under")))
		return -1;
	if (level) {
		lvl = unitset_level_index(d->units, level);
		if (lvl < 0) {
			char names[256] = "";
			size_t used = 0;

			for (size_t i = 0; i < d->units->nlevels && used < sizeof(names); i++)
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
							 d->units->levels[i].code);
			return rq_error(rq, "unknown_level", "there is no level '%s'; the levels are: %s", level, names);
		}
	}
	list = json_array();
	for (size_t i = 0; i < d->units->nunits; i++) {
		const struct unit *u = d->units->units[i];

		if (!all && !unit_active_at(u, day))
			continue;
		if (lvl >= 0 && u->level != lvl)
			continue;
		if (kind && strcmp(u->kind, kind) != 0)
			continue;
		if (under && !unit_is_under_at(u, under, day))
			continue;
		json_array_append_new(list, unit_json(d, u, day, 0));
	}
	json_object_set_new(out, "at", json_day(day));
	json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(list)));
	json_object_set_new(out, "units", list);
	return 0;
}

#define UNITS_SHOW_MAX_CODES 1000	/* units.show's codes: a page of units at once */

/* units_show_many - units.show with codes: the full form of each unit asked, in order */
static int units_show_many(struct daemon *d, struct request *rq, const json_t *codes, json_t *out)
{
	int32_t day = registry_today(d);
	json_t *list, *v;
	size_t i;

	if (!json_is_null(json_object_get(rq_body(rq), "code")) && json_object_get(rq_body(rq), "code"))
		return rq_error(rq, "invalid_field", "give either code (one unit) or codes (a list), not both");
	if (!json_is_array(codes) || !json_array_size(codes) || json_array_size(codes) > UNITS_SHOW_MAX_CODES)
		return rq_error(rq, "invalid_field", "codes must be a list of 1 to %d unit codes", UNITS_SHOW_MAX_CODES);
	json_array_foreach(codes, i, v)
		if (!json_is_string(v))
			return rq_error(rq, "invalid_field", "codes[%zu] is not a string: codes is a list of unit codes", i);
	json_array_foreach(codes, i, v)
		if (!unitset_find(d->units, json_string_value(v)))
			return rq_unit_unknown(rq, d->units, json_string_value(v));
	if (rq_day(rq, "at", 0, &day) < 0)
		return -1;
	list = json_array();
	json_array_foreach(codes, i, v)
		json_array_append_new(list, unit_json(d, unitset_find(d->units, json_string_value(v)), day, 1));
	json_object_set_new(out, "at", json_day(day));
	json_object_set_new(out, "units", list);
	return 0;
}

/* op_units_show - one unit with its contacts, children and history (code), or several
 * (codes) */
int op_units_show(struct daemon *d, struct request *rq, json_t *out)
{
	const json_t *codes = json_object_get(rq_body(rq), "codes");
	struct unit *u;
	int32_t day = registry_today(d);

	if (codes && !json_is_null(codes))
		return units_show_many(d, rq, codes, out);
	u = rq_unit(d, rq, "code");
	if (!u || rq_day(rq, "at", 0, &day) < 0)
		return -1;
	json_object_set_new(out, "at", json_day(day));
	json_object_set_new(out, "unit", unit_json(d, u, day, 1));
	return 0;
}

/* import_store - insert the new units (the tail of set) into the database */
static int import_store(struct daemon *d, struct unitset *set, size_t first)
{
	for (size_t i = first; i < set->nunits; i++) {
		const struct unit *u = set->units[i];
		sqlite3_stmt *s = store_stmt(d->store,
			"INSERT INTO units(code, name, level, parent, kind, attached, emails, chats,"
			" active_from, active_to, successors, source, line, imported_at)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
		int rc;

		sqlite3_bind_text(s, 1, u->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, u->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, u->level_code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, u->parent_code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, u->kind, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, u->attached);
		sqlite3_bind_text(s, 7, join_list(u->emails), -1, free);
		sqlite3_bind_text(s, 8, join_list(u->chats), -1, free);
		if (u->active_from != DATE_NONE_FROM)
			sqlite3_bind_int(s, 9, u->active_from);
		if (u->active_to != DATE_NONE_TO)
			sqlite3_bind_int(s, 10, u->active_to);
		sqlite3_bind_text(s, 11, join_list(u->successor_codes), -1, free);
		sqlite3_bind_text(s, 12, u->origin, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 13, u->line);
		sqlite3_bind_int64(s, 14, clock_now(d));
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

/* op_units_import - all or nothing: every bad row reported with its line */
int op_units_import(struct daemon *d, struct request *rq, json_t *out)
{
	const char *file = rq_file_name(rq, "filename");
	const struct unitset *base = d->pending_units ? d->pending_units : d->units;
	struct unitset *set, *prev;
	char **errors = NULL;
	size_t size, count = 0, first;
	const void *data;
	int nerr;
	json_t *codes;

	if (rq_failed(rq))
		return -1;
	if (rq_nfiles(rq) != 1)
		return rq_error(rq, "missing_file", "units.import needs exactly one file frame holding the CSV text (got %zu)",
				rq_nfiles(rq));
	if (!file)
		file = "import.csv";
	data = rq_file(rq, 0, &size);
	set = unitset_dup(base);
	first = set->nunits;
	nerr = units_csv_parse(set, data, size, file, &errors, &count);
	if (!nerr)
		nerr = unitset_resolve(set, &errors);
	if (nerr) {
		json_t *list = json_array();

		for (size_t i = 0; errors && errors[i]; i++)
			json_array_append_new(list, json_string(errors[i]));
		rq_error(rq, "invalid_csv", "%s: %d problem%s found, nothing was imported: %s", file, nerr,
			 nerr == 1 ? "" : "s", errors && errors[0] ? errors[0] : "");
		rq_error_set(rq, "errors", list);
		strv_free(&errors);
		unitset_destroy(&set);
		return -1;
	}
	if (import_store(d, set, first)) {
		unitset_destroy(&set);
		return rq_error(rq, store_last_full(d->store) ? "storage_full" : "internal",
				"the units could not be stored: %s", store_errmsg(d->store));
	}
	codes = json_array();
	for (size_t i = first; i < set->nunits; i++)
		json_array_append_new(codes, json_string(set->units[i]->code));
	events_emit(d, "units.imported", json_pack("{s:s,s:O}", "file", file, "units", codes));
	json_object_set_new(out, "imported", json_integer((json_int_t)count));
	json_object_set_new(out, "units", codes);
	/* the new set is seen by this turn's later requests, and swapped in after the commit;
	 * if anything below fails the previous one stays */
	prev = d->pending_units;
	d->pending_units = set;
	if (registry_imported(d)) {
		d->pending_units = prev;
		unitset_destroy(&set);
		return rq_error(rq, "internal", "the obligations of the new units could not be created: %s",
				store_errmsg(d->store));
	}
	unitset_destroy(&prev);
	return 0;
}
