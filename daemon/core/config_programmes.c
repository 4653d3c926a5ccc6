/*
 * config_programmes.c - the principals and the title and award programmes: stages,
 * rubric, windows.
 */
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_load.h"
#include "utf8.h"
#include "xalloc.h"

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

/* ld_load_principals - the people who act in the workflows, each in one unit of the file */
void ld_load_principals(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = ld_list_member(ld, root, "principals", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->principals = xcalloc((size_t)n + 1, sizeof(*cfg->principals));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct principal *p = &cfg->principals[cfg->nprincipals];
		char **roles;

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, s, "principals: each principal must be a group { name = \"...\"; unit = \"...\"; roles = [ ... ]; }");
			continue;
		}
		ld_check_keys(ld, s, "a principal", principal_keys);
		p->line = (int)config_setting_source_line(s);
		if (ld_get_string(ld, s, "name", 1, "principal", &p->name))
			continue;
		cfg->nprincipals++;
		if (!principal_name_valid(p->name))
			ld_err_at(ld, s, "principal name '%s' is not valid: lower case letters, digits, '.', '_' or '-', at most 64 characters (e.g. \"nguyen.thi.lan\")",
			       p->name);
		else if (!strcmp(p->name, "admin"))
			ld_err_at(ld, s, "principal name 'admin' is reserved for the local administrator: choose another name");
		if (ld_get_string(ld, s, "display_name", 0, "principal", &p->display_name) != 0)
			p->display_name = xstrdup(p->name);
		if (ld_get_string(ld, s, "unit", 1, "principal", &p->unit) == 0 && !unitset_find(cfg->units, p->unit))
			ld_err_at(ld, config_setting_get_member(s, "unit"), "principal %s: unit '%s' is not a unit of this file",
			       p->name, p->unit);
		roles = ld_get_strv(ld, s, "roles", "principal");
		if (!roles)
			ld_err_at(ld, s, "principal %s: 'roles' is required: one or more of submitter, reviewer, approver, admin, auditor", p->name);
		for (size_t k = 0; roles && roles[k]; k++) {
			unsigned r = role_code(roles[k]);

			if (!r)
				ld_err_at(ld, config_setting_get_member(s, "roles"),
				       "principal %s: role \"%s\" is not one of submitter, reviewer, approver, admin, auditor", p->name, roles[k]);
			p->roles |= r;
		}
		strv_free(&roles);
		roles = ld_get_strv(ld, s, "permissions", "principal");
		for (size_t k = 0; roles && roles[k]; k++) {
			if (!strcmp(roles[k], "exception"))
				p->permissions |= PERM_EXCEPTION;
			else
				ld_err_at(ld, config_setting_get_member(s, "permissions"),
				       "principal %s: permission \"%s\" is not known: the one permission is \"exception\" (approve a dossier that does not pass the rubric)",
				       p->name, roles[k]);
		}
		strv_free(&roles);
		ld_get_span(ld, s, "principal", &p->from, &p->until);
		/* the same person again: a move to another post, on dates of its own */
		for (size_t k = 0; k + 1 < cfg->nprincipals; k++)
			if (!strcmp(cfg->principals[k].name, p->name)
			    && p->from <= cfg->principals[k].until && cfg->principals[k].from <= p->until)
				ld_err_at(ld, s, "principal '%s' is declared twice with overlapping dates (first at line %d): a person moved to another post is declared again with from/until that do not overlap",
				       p->name, cfg->principals[k].line);
		if (ld_get_string(ld, s, "public_key", 0, "principal", &p->public_key) == 0 && !ld_z85_key_valid(p->public_key))
			ld_err_at(ld, config_setting_get_member(s, "public_key"),
			       "principal %s: public_key must be the 40-character key 'thiduactl keys generate' printed", p->name);
	}
}

/* load_stages - the path of a programme's dossiers: who decides, with which role, how fast */
static void load_stages(struct loader *ld, struct config *cfg, struct programme *pg, const config_setting_t *s)
{
	const config_setting_t *list = ld_list_member(ld, s, "stages", 1);
	int n = list ? config_setting_length(list) : 0;

	if (list && (n < 1 || n > 8))
		ld_err_at(ld, list, "programme %s: give 1 to 8 stages (it has %d)", pg->code, n);
	pg->stages = xcalloc((size_t)n + 1, sizeof(*pg->stages));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct stage *st = &pg->stages[pg->nstages];
		char *role = NULL;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, g, "programme %s: each stage must be a group { decider = \"parent\"; role = \"approver\"; days = 15; }",
			       pg->code);
			continue;
		}
		ld_check_keys(ld, g, "a stage", stage_keys);
		st->line = (int)config_setting_source_line(g);
		if (ld_get_string(ld, g, "decider", 1, "stage", &st->decider))
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
			ld_err_at(ld, config_setting_get_member(g, "decider"),
			       "programme %s: decider \"%s\" is not parent, level:LEVEL or unit:CODE of a declared level or unit",
			       pg->code, st->decider);
		}
		st->role = ROLE_APPROVER;
		if (ld_get_string(ld, g, "role", 0, "stage", &role) == 0) {
			st->role = role_code(role);
			if (!st->role || st->role == ROLE_SUBMITTER || st->role == ROLE_AUDITOR) {
				ld_err_at(ld, config_setting_get_member(g, "role"),
				       "programme %s: stage role \"%s\" is not one of reviewer, approver, admin", pg->code, role);
				st->role = ROLE_APPROVER;
			}
		}
		free(role);
		st->days = ld_get_int(ld, g, "days", "stage", 15, 1, 365);
		ld_get_span(ld, g, "stage", &st->from, &st->until);
	}
}

/* load_rubric - criteria in points (max) or met / not met, and the points needed */
static void load_rubric(struct loader *ld, struct programme *pg, const config_setting_t *g)
{
	const config_setting_t *list;
	int n, total = 0;

	ld_check_keys(ld, g, "rubric", rubric_keys);
	list = ld_list_member(ld, g, "criteria", 1);
	n = list ? config_setting_length(list) : 0;
	if (list && n == 0)
		ld_err_at(ld, list, "programme %s: the rubric has no criteria", pg->code);
	pg->criteria = xcalloc((size_t)n + 1, sizeof(*pg->criteria));
	for (int i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(list, (unsigned)i);
		struct criterion *cr = &pg->criteria[pg->ncriteria];

		if (config_setting_type(c) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, c, "programme %s: each criterion must be a group { code = \"TC1\"; name = \"...\"; max = 10; } or { ...; met = true; }",
			       pg->code);
			continue;
		}
		ld_check_keys(ld, c, "a criterion", criterion_keys);
		if (ld_get_string(ld, c, "code", 1, "criterion", &cr->code))
			continue;
		pg->ncriteria++;
		if (!unit_code_valid(cr->code))
			ld_err_at(ld, c, "programme %s: criterion code '%s' is not valid: letters, digits, '-', '_' or '.'", pg->code, cr->code);
		for (size_t k = 0; k + 1 < pg->ncriteria; k++)
			if (!strcmp(pg->criteria[k].code, cr->code))
				ld_err_at(ld, c, "programme %s: criterion '%s' is listed twice", pg->code, cr->code);
		if (ld_get_string(ld, c, "name", 1, "criterion", &cr->name))
			cr->name = xstrdup(cr->code);
		cr->met = ld_get_bool(ld, c, "met", "criterion", 0);
		cr->max = ld_get_int(ld, c, "max", "criterion", 0, 1, 1000);
		if (cr->met && config_setting_get_member(c, "max"))
			ld_err_at(ld, c, "programme %s: criterion %s has both 'max' (points) and 'met = true': choose one", pg->code, cr->code);
		else if (!cr->met && !cr->max)
			ld_err_at(ld, c, "programme %s: criterion %s needs 'max' (the most points) or 'met = true' (met or not met)",
			       pg->code, cr->code);
		total += cr->max;
	}
	pg->threshold = ld_get_int(ld, g, "threshold", "rubric", -1, 0, 100000);
	if (pg->threshold > total)
		ld_err_at(ld, config_setting_get_member(g, "threshold"),
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

	ld_get_string(ld, s, "name", 1, "programme", &pg->name);
	if (ld_get_string(ld, s, "nominee", 1, "programme", &pg->nominee) == 0) {
		for (size_t k = 0; nominee_kinds[k]; k++)
			known |= !strcmp(nominee_kinds[k], pg->nominee);
		if (!known)
			ld_err_at(ld, config_setting_get_member(s, "nominee"),
			       "programme %s: nominee \"%s\" is not one of commune, household, clan, hamlet, person, unit, district, collective",
			       pg->code, pg->nominee);
	}
	if ((g = ld_group_member(ld, s, "proposers", 1))) {
		ld_check_keys(ld, g, "proposers", proposer_keys);
		pg->proposers.kinds = ld_get_strv(ld, g, "kinds", "proposers");
		pg->proposers.levels = ld_get_strv(ld, g, "levels", "proposers");
		pg->proposers.units = ld_get_strv(ld, g, "units", "proposers");
		if (!pg->proposers.kinds && !pg->proposers.levels && !pg->proposers.units)
			ld_err_at(ld, g, "programme %s: proposers selects nobody: give kinds, levels or units", pg->code);
		for (size_t i = 0; pg->proposers.levels && pg->proposers.levels[i]; i++)
			if (unitset_level_index(cfg->units, pg->proposers.levels[i]) < 0)
				ld_err_at(ld, g, "programme %s: proposers level '%s' is not declared", pg->code, pg->proposers.levels[i]);
		for (size_t i = 0; pg->proposers.units && pg->proposers.units[i]; i++)
			if (!unitset_find(cfg->units, pg->proposers.units[i]))
				ld_err_at(ld, g, "programme %s: proposer '%s' is not a unit of this file", pg->code, pg->proposers.units[i]);
	}
	ld_get_span(ld, s, "programme", &pg->from, &pg->until);
	load_stages(ld, cfg, pg, s);
	if ((g = ld_group_member(ld, s, "window", 0))) {
		ld_check_keys(ld, g, "window", window_keys);
		if (config_setting_get_member(g, "dossier"))
			ld_get_monthday(ld, g, "dossier", "window", &pg->dossier_month, &pg->dossier_mday);
		if (config_setting_get_member(g, "decision"))
			ld_get_monthday(ld, g, "decision", "window", &pg->decision_month, &pg->decision_mday);
		if (pg->dossier_month && pg->decision_month
		    && pg->decision_month * 100 + pg->decision_mday < pg->dossier_month * 100 + pg->dossier_mday)
			ld_err_at(ld, g, "programme %s: the decision date comes before the dossier date: both fall in the programme's year",
			       pg->code);
	}
	if (ld_get_string(ld, s, "kind", 0, "programme", &kind) == 0) {
		pg->award = !strcmp(kind, "award");
		if (!pg->award && strcmp(kind, "title"))
			ld_err_at(ld, config_setting_get_member(s, "kind"),
			       "programme %s: kind \"%s\" is not title (danh hiệu: recognised, with levels and a validity) or award (khen thưởng: given once)",
			       pg->code, kind);
		free(kind);
	}
	for (size_t k = 0; pg->award && title_only[k]; k++)
		if (config_setting_get_member(s, title_only[k]))
			ld_err_at(ld, config_setting_get_member(s, title_only[k]),
			       "programme %s is an award (kind = \"award\"): an award is given once, with no level and no validity period; remove %s",
			       pg->code, title_only[k]);
	pg->repropose_after_rejection = ld_get_bool(ld, s, "repropose_after_rejection", "programme", 0);
	pg->levels = ld_get_int(ld, s, "levels", "programme", 1, 1, 2);
	pg->level2_after_months = ld_get_int(ld, s, "level2_after_months", "programme", 12, 0, 120);
	pg->valid_months = ld_get_int(ld, s, "valid_months", "programme", 36, 1, 240);
	if (pg->levels == 1 && config_setting_get_member(s, "level2_after_months"))
		ld_err_at(ld, config_setting_get_member(s, "level2_after_months"),
		       "programme %s: level2_after_months needs levels = 2", pg->code);
	pg->threshold = -1;
	if ((g = ld_group_member(ld, s, "rubric", 0)))
		load_rubric(ld, pg, g);
}

/* ld_load_programmes - the title and award programmes */
void ld_load_programmes(struct loader *ld, struct config *cfg, const config_setting_t *root)
{
	const config_setting_t *list = ld_list_member(ld, root, "programmes", 0);
	int n = list ? config_setting_length(list) : 0;

	cfg->programmes = xcalloc((size_t)n + 1, sizeof(*cfg->programmes));
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct programme *pg = &cfg->programmes[cfg->nprogrammes];

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			ld_err_at(ld, s, "programmes: each programme must be a group { code = ...; name = ...; nominee = ...; stages = ( ... ); }");
			continue;
		}
		ld_check_keys(ld, s, "a programme", programme_keys);
		pg->line = (int)config_setting_source_line(s);
		if (ld_get_string(ld, s, "code", 1, "programme", &pg->code))
			continue;
		cfg->nprogrammes++;
		if (!unit_code_valid(pg->code))
			ld_err_at(ld, s, "programme code '%s' is not valid: letters, digits, '-', '_' or '.'", pg->code);
		for (size_t k = 0; k + 1 < cfg->nprogrammes; k++)
			if (!strcmp(cfg->programmes[k].code, pg->code))
				ld_err_at(ld, s, "programme '%s' is declared twice (first at line %d)", pg->code, cfg->programmes[k].line);
		load_programme(ld, cfg, pg, s);
	}
}

/* ld_programmes_free - what ld_load_principals and ld_load_programmes allocated */
void ld_programmes_free(struct config *cfg)
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
