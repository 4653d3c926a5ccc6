/*
 * units.c - the unit registry: storage, validation as a whole, and hierarchy queries.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

/* unitset_new - an empty set */
struct unitset *unitset_new(void)
{
	return xcalloc(1, sizeof(struct unitset));
}

/* unit_new - an empty unit, active forever */
struct unit *unit_new(void)
{
	struct unit *u = xcalloc(1, sizeof(*u));

	u->active_from = DATE_NONE_FROM;
	u->active_to = DATE_NONE_TO;
	u->level = -1;
	return u;
}

/* unit_destroy - free a unit; accepts NULL and clears the pointer */
void unit_destroy(struct unit **self_p)
{
	struct unit *u = *self_p;

	if (!u)
		return;
	free(u->code);
	free(u->name);
	free(u->level_code);
	free(u->parent_code);
	free(u->kind);
	free(u->origin);
	strv_free(&u->emails);
	strv_free(&u->chats);
	strv_free(&u->successor_codes);
	free(u->successors);
	free(u);
	*self_p = NULL;
}

static char **strv_dup(char *const *v)
{
	char **out = NULL;

	for (size_t i = 0; v && v[i]; i++)
		out = strv_append(out, v[i]);
	return out;
}

static char *opt_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* unit_dup - a deep copy of the declared fields (links are not copied) */
struct unit *unit_dup(const struct unit *u)
{
	struct unit *c = unit_new();

	c->code = opt_dup(u->code);
	c->name = opt_dup(u->name);
	c->level_code = opt_dup(u->level_code);
	c->parent_code = opt_dup(u->parent_code);
	c->kind = opt_dup(u->kind);
	c->attached = u->attached;
	c->emails = strv_dup(u->emails);
	c->chats = strv_dup(u->chats);
	c->successor_codes = strv_dup(u->successor_codes);
	c->active_from = u->active_from;
	c->active_to = u->active_to;
	c->origin = opt_dup(u->origin);
	c->line = u->line;
	c->imported = u->imported;
	return c;
}

/* unitset_destroy - free the set, its levels and units */
void unitset_destroy(struct unitset **self_p)
{
	struct unitset *set = *self_p;

	if (!set)
		return;
	for (size_t i = 0; i < set->nlevels; i++) {
		free(set->levels[i].code);
		free(set->levels[i].name);
	}
	free(set->levels);
	for (size_t i = set->nborrowed; i < set->nunits; i++)
		unit_destroy(&set->units[i]);
	free(set->units);
	free(set->slots);
	free(set);
	*self_p = NULL;
}

/* unitset_add_level - append a level below those already declared */
void unitset_add_level(struct unitset *set, const char *code, const char *name, int line)
{
	set->levels = xrealloc(set->levels, (set->nlevels + 1) * sizeof(*set->levels));
	set->levels[set->nlevels].code = xstrdup(code);
	set->levels[set->nlevels].name = xstrdup(name);
	set->levels[set->nlevels].line = line;
	set->nlevels++;
}

/* unitset_add - append a unit; the set takes ownership */
void unitset_add(struct unitset *set, struct unit **unit_p)
{
	set->units = xrealloc(set->units, (set->nunits + 1) * sizeof(*set->units));
	set->units[set->nunits++] = *unit_p;
	*unit_p = NULL;
}

/* unitset_dup - copy levels and units, unresolved */
struct unitset *unitset_dup(const struct unitset *set)
{
	struct unitset *c = unitset_new();

	for (size_t i = 0; i < set->nlevels; i++)
		unitset_add_level(c, set->levels[i].code, set->levels[i].name, set->levels[i].line);
	for (size_t i = 0; i < set->nunits; i++) {
		struct unit *u = unit_dup(set->units[i]);

		unitset_add(c, &u);
	}
	return c;
}

/* unitset_borrow - start an empty set with from's levels and units, without copying the
 * units: the registry shares the configuration's units (which outlive it) and owns only
 * the ones it adds */
void unitset_borrow(struct unitset *set, const struct unitset *from)
{
	if (set->nunits)
		fatal("unitset_borrow: the set is not empty");
	for (size_t i = 0; i < from->nlevels; i++)
		unitset_add_level(set, from->levels[i].code, from->levels[i].name, from->levels[i].line);
	set->units = xmalloc((from->nunits + 1) * sizeof(*set->units));
	memcpy(set->units, from->units, from->nunits * sizeof(*set->units));
	set->nunits = set->nborrowed = from->nunits;
}

static uint32_t hash_code(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* unitset_find - look a unit up by code */
struct unit *unitset_find(const struct unitset *set, const char *code)
{
	if (!set->nslots || !code)
		return NULL;
	for (size_t i = hash_code(code) & (set->nslots - 1);; i = (i + 1) & (set->nslots - 1)) {
		struct unit *u = set->slots[i];

		if (!u)
			return NULL;
		if (strcmp(u->code, code) == 0)
			return u;
	}
}

/* unitset_level_index - position of a level code, or -1 */
int unitset_level_index(const struct unitset *set, const char *code)
{
	for (size_t i = 0; code && i < set->nlevels; i++)
		if (strcmp(set->levels[i].code, code) == 0)
			return (int)i;
	return -1;
}

/* text_distance - Levenshtein distance, case-insensitive, for suggestions */
size_t text_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = xmalloc((lb + 1) * sizeof(size_t));
	size_t d;

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

/* unitset_suggest - the closest existing code, when close enough to be a typo */
const char *unitset_suggest(const struct unitset *set, const char *code)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(code) / 3 + 2;

	for (size_t i = 0; i < set->nunits; i++) {
		size_t d = text_distance(code, set->units[i]->code);

		if (d < best_d) {
			best_d = d;
			best = set->units[i]->code;
		}
	}
	return best_d <= limit ? best : NULL;
}

/* unit_code_valid - [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 bytes */
int unit_code_valid(const char *code)
{
	size_t n = strlen(code);

	if (n == 0 || n > 64 || !isalnum((unsigned char)code[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)code[i]) && !strchr("_.-", code[i]))
			return 0;
	return 1;
}

/* email_valid - local@domain with a dot in the domain, no spaces or angle brackets */
int email_valid(const char *addr)
{
	const char *at = strchr(addr, '@');

	if (!at || at == addr || strchr(at + 1, '@') || !strchr(at + 1, '.'))
		return 0;
	if (at[1] == '.' || addr[strlen(addr) - 1] == '.')
		return 0;
	for (const char *p = addr; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("<>()[],;:\"\\", *p))
			return 0;
	return 1;
}

static void add_error(char ***errors, const struct unit *u, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_error(char ***errors, const struct unit *u, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	line = xasprintf("%s:%d: %s", u->origin ? u->origin : "-", u->line, msg);
	*errors = strv_append(*errors, line);
	free(line);
	free(msg);
}

/* build_index - size the hash to a power of two at least twice the unit count */
static void build_index(struct unitset *set, char ***errors, int *nerr)
{
	size_t n = 16;

	while (n < set->nunits * 2)
		n *= 2;
	free(set->slots);
	set->slots = xcalloc(n, sizeof(*set->slots));
	set->nslots = n;
	for (size_t k = 0; k < set->nunits; k++) {
		struct unit *u = set->units[k];
		size_t i = hash_code(u->code) & (n - 1);

		for (; set->slots[i]; i = (i + 1) & (n - 1)) {
			if (strcmp(set->slots[i]->code, u->code) == 0)
				break;
		}
		if (set->slots[i]) {
			const struct unit *first = set->slots[i];

			add_error(errors, u, "unit code '%s' is used twice (first at %s:%d); give each unit its own code",
				  u->code, first->origin ? first->origin : "-", first->line);
			(*nerr)++;
			continue;
		}
		set->slots[i] = u;
	}
}

/* check_fields - what can be checked of one unit on its own */
static int check_fields(struct unitset *set, struct unit *u, char ***errors)
{
	int n = 0;
	char from[16], to[16];

	if (!unit_code_valid(u->code)) {
		add_error(errors, u, "unit code '%s' is not valid: use letters, digits, '-', '_' or '.', at most 64 characters", u->code);
		n++;
	}
	if (!u->name || !*u->name) {
		add_error(errors, u, "unit %s has no name", u->code);
		n++;
	}
	if (!u->kind || !*u->kind) {
		add_error(errors, u, "unit %s has no kind (e.g. commune, office, organisation)", u->code);
		n++;
	}
	u->level = unitset_level_index(set, u->level_code);
	if (u->level < 0) {
		add_error(errors, u, "unit %s: level '%s' is not declared in 'levels'", u->code,
			  u->level_code ? u->level_code : "");
		n++;
	}
	if (u->active_from != DATE_NONE_FROM && u->active_to != DATE_NONE_TO
	    && u->active_to < u->active_from) {
		date_format(u->active_from, from, sizeof(from));
		date_format(u->active_to, to, sizeof(to));
		add_error(errors, u, "unit %s: active_to %s is before active_from %s", u->code, to, from);
		n++;
	}
	for (size_t i = 0; u->emails && u->emails[i]; i++) {
		if (!email_valid(u->emails[i])) {
			add_error(errors, u, "unit %s: '%s' is not an email address", u->code, u->emails[i]);
			n++;
		}
	}
	if (u->successor_codes && u->successor_codes[0] && u->active_to == DATE_NONE_TO) {
		add_error(errors, u, "unit %s has successors but no active_to: give the last day it exists", u->code);
		n++;
	}
	return n;
}

/* check_links - parent, level order and successors, after the index exists */
static int check_links(struct unitset *set, struct unit *u, char ***errors)
{
	int n = 0;

	u->parent = NULL;
	if (u->parent_code && *u->parent_code) {
		u->parent = unitset_find(set, u->parent_code);
		if (!u->parent) {
			const char *s = unitset_suggest(set, u->parent_code);

			add_error(errors, u, "unit %s: parent '%s' does not exist%s%s%s", u->code,
				  u->parent_code, s ? " (did you mean " : "", s ? s : "", s ? "?)" : "");
			n++;
		} else if (u->level >= 0 && u->parent->level >= 0) {
			const struct level *l = &set->levels[u->level];
			const struct level *pl = &set->levels[u->parent->level];

			if (u->attached && u->level != u->parent->level) {
				add_error(errors, u, "unit %s is attached to %s, so its level must be '%s' like its parent's, not '%s'",
					  u->code, u->parent->code, pl->code, l->code);
				n++;
			} else if (!u->attached && u->level <= u->parent->level) {
				add_error(errors, u, "unit %s: level '%s' is not below its parent %s's level '%s' (set attached = true for a body of its parent)",
					  u->code, l->code, u->parent->code, pl->code);
				n++;
			}
		}
	} else if (u->attached) {
		add_error(errors, u, "unit %s is attached but has no parent", u->code);
		n++;
	}
	free(u->successors);
	u->successors = NULL;
	u->nsuccessors = 0;
	for (size_t i = 0; u->successor_codes && u->successor_codes[i]; i++) {
		struct unit *s = unitset_find(set, u->successor_codes[i]);

		if (!s) {
			add_error(errors, u, "unit %s: successor '%s' does not exist", u->code,
				  u->successor_codes[i]);
			n++;
			continue;
		}
		if (s == u) {
			add_error(errors, u, "unit %s cannot be its own successor", u->code);
			n++;
			continue;
		}
		u->successors = xrealloc(u->successors, (u->nsuccessors + 1) * sizeof(*u->successors));
		u->successors[u->nsuccessors++] = s;
	}
	return n;
}

/* check_cycle - walk up from u; more steps than units means a loop */
static int check_cycle(struct unitset *set, struct unit *u, char ***errors)
{
	const struct unit *p = u->parent;

	for (size_t steps = 0; p; p = p->parent, steps++) {
		if (p == u || steps > set->nunits) {
			add_error(errors, u, "unit %s: the parent chain loops back to itself (a cycle through %s)",
				  u->code, u->parent->code);
			return 1;
		}
	}
	return 0;
}

/* unitset_resolve - validate the whole set, then link it */
int unitset_resolve(struct unitset *set, char ***errors)
{
	int nerr = 0;

	build_index(set, errors, &nerr);
	for (size_t i = 0; i < set->nunits; i++)
		nerr += check_fields(set, set->units[i], errors);
	for (size_t i = 0; i < set->nunits; i++)
		nerr += check_links(set, set->units[i], errors);
	for (size_t i = 0; i < set->nunits; i++)
		nerr += check_cycle(set, set->units[i], errors);
	return nerr;
}

/* unit_active_at - the unit exists on that day */
int unit_active_at(const struct unit *u, int32_t day)
{
	return day >= u->active_from && day <= u->active_to;
}

/* unit_parent_at - the parent on that day: a closed parent with exactly one successor
 * hands its children to the successor (history rolls up) */
struct unit *unit_parent_at(const struct unit *u, int32_t day)
{
	struct unit *p = u->parent;

	for (int hops = 0; p && day > p->active_to && p->nsuccessors == 1 && hops < 16; hops++)
		p = p->successors[0];
	return p;
}

/* unit_is_under_at - ancestor is a strict ancestor of u on that day */
int unit_is_under_at(const struct unit *u, const struct unit *ancestor, int32_t day)
{
	size_t guard = 0;

	for (const struct unit *p = unit_parent_at(u, day); p && guard < 1024;
	     p = unit_parent_at(p, day), guard++)
		if (p == ancestor)
			return 1;
	return 0;
}
