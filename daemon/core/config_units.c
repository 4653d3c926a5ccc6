/*
 * config_units.c - the levels and units sections.
 */
#include <libconfig.h>
#include <stdlib.h>

#include "config.h"
#include "config_load.h"
#include "utf8.h"
#include "xalloc.h"

static const char *const level_keys[] = { "code", "name", NULL };

static const char *const unit_keys[] = {
	"code", "name", "level", "parent", "attached", "kind", "emails", "chats",
	"active_from", "active_to", "successors", NULL
};

void ld_load_levels(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = ld_list_member(ld, root, "levels", 1);

	if (list && config_setting_length(list) == 0)
		ld_err_at(ld, list, "levels: declare at least one level, top down");
	for (int i = 0; list && i < config_setting_length(list); i++) {
		const config_setting_t *l = config_setting_get_elem(list, (unsigned)i);
		char *code = NULL, *name = NULL;

		if (config_setting_type(l) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, l, "levels: each level must be a group { code = \"...\"; name = \"...\"; }");
			continue;
		}
		ld_check_keys(ld, l, "a level", level_keys);
		if (ld_get_string(ld, l, "code", 1, "level", &code) == 0) {
			int ok = code[0] >= 'a' && code[0] <= 'z';

			for (const char *p = code; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
					ok = 0;
			if (!ok)
				ld_err_at(ld, l, "level code \"%s\" must be lower case letters, digits, '-' or '_'", code);
			else if (unitset_level_index(cfg->units, code) >= 0)
				ld_err_at(ld, l, "level '%s' is declared twice", code);
			else {
				if (ld_get_string(ld, l, "name", 0, "level", &name) != 0)
					name = xstrdup(code);
				unitset_add_level(cfg->units, code, name, (int)config_setting_source_line(l));
			}
		}
		free(code);
		free(name);
	}
}

void ld_load_units(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = ld_list_member(ld, root, "units", 1);

	for (int i = 0; list && i < config_setting_length(list); i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct unit *u;
		int before = ld->nerr;

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, s, "units: each unit must be a group { code = \"...\"; name = \"...\"; ... }");
			continue;
		}
		ld_check_keys(ld, s, "a unit", unit_keys);
		u = unit_new();
		u->origin = xstrdup(config_setting_source_file(s) ? config_setting_source_file(s) : ld->path);
		u->line = (int)config_setting_source_line(s);
		ld_get_string(ld, s, "code", 1, "unit", &u->code);
		ld_get_string(ld, s, "name", 1, "unit", &u->name);
		ld_get_string(ld, s, "level", 1, "unit", &u->level_code);
		ld_get_string(ld, s, "parent", 0, "unit", &u->parent_code);
		ld_get_string(ld, s, "kind", 1, "unit", &u->kind);
		u->attached = ld_get_bool(ld, s, "attached", "unit", 0);
		u->emails = ld_get_strv(ld, s, "emails", "unit");
		u->chats = ld_get_strv(ld, s, "chats", "unit");
		u->successor_codes = ld_get_strv(ld, s, "successors", "unit");
		u->active_from = ld_get_date(ld, s, "active_from", "unit", DATE_NONE_FROM);
		u->active_to = ld_get_date(ld, s, "active_to", "unit", DATE_NONE_TO);
		if (!u->code || !u->level_code || ld->nerr > before + 2) {
			unit_destroy(&u);
			continue;
		}
		unitset_add(cfg->units, &u);
	}
}
