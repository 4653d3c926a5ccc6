/*
 * proposals_nominee.c - who is proposed: a unit, or a household, clan or person named in a
 * place, resolved and checked once for a proposal and an import; an existing proposal of
 * the same nominee found.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "proposals.h"
#include "registry.h"
#include "store.h"
#include "thiduad.h"
#include "xalloc.h"

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* nominees ------------------------------------------------------------------------------ */

/* unit_nominee - the nominee is a unit: commune, hamlet, district (at that level, not an
 * attached office) or any unit */
static int unit_nominee(const char *kind)
{
	return !strcmp(kind, "commune") || !strcmp(kind, "hamlet") || !strcmp(kind, "district") || !strcmp(kind, "unit");
}

/* text_problem - why a name or code is refused, or NULL */
static const char *text_problem(const char *s, size_t max)
{
	if (!*s)
		return "is empty";
	if (strlen(s) > max)
		return "is too long";
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "contains a control character";
	return NULL;
}

/* proposal_nominee_resolve - who is proposed: a unit (by code, the proposer by default) or a
 * household, clan, person or collective (a name, an optional code, and the hamlet or unit
 * it belongs to, which must be the proposer or under it) */
int proposal_nominee_resolve(struct daemon *d, const struct programme *pg, const struct unit *proposer, const char *code,
		    const char *name, const char *hamlet, struct nominee *out, char *why, size_t size)
{
	const struct unitset *units = registry_units(d);
	int32_t today = registry_today(d);
	const char *bad;

	memset(out, 0, sizeof(*out));
	if (code && !*code)
		code = NULL;
	if (name && !*name)
		name = NULL;
	if (hamlet && !*hamlet)
		hamlet = NULL;
	if (unit_nominee(pg->nominee)) {
		const struct unit *u;
		int lvl = unitset_level_index(units, pg->nominee);

		if (hamlet) {
			snprintf(why, size, "%s recognises a %s, which is a unit: give no hamlet", pg->code, pg->nominee);
			return -1;
		}
		if (!code && name) {
			snprintf(why, size, "%s recognises a %s, which is a unit: give its code (\"%s\" is a name)", pg->code,
				 pg->nominee, name);
			return -1;
		}
		u = code ? unitset_find(units, code) : proposer;
		if (!u) {
			const char *s = unitset_suggest(units, code);

			snprintf(why, size, "there is no unit '%s'%s%s%s; 'thiduactl units list' shows the codes", code,
				 s ? " (did you mean " : "", s ? s : "", s ? "?)" : "");
			return -1;
		}
		if (strcmp(pg->nominee, "unit") && lvl >= 0 && (u->level != lvl || u->attached)) {
			snprintf(why, size, "%s (%s) is not a %s: %s recognises units at the %s level that are not attached offices",
				 u->code, u->name, pg->nominee, pg->code, pg->nominee);
			return -1;
		}
		if (u != proposer && !unit_is_under_at(u, proposer, today)
		    && !(proposer->attached && unit_parent_at(proposer, today) == u)) {
			snprintf(why, size, "%s (%s) cannot be proposed by %s (%s): a unit proposes itself, a unit under it, or (an attached office) its own authority",
				 u->code, u->name, proposer->code, proposer->name);
			return -1;
		}
		xstrlcpy(out->code, u->code, sizeof(out->code));
		xstrlcpy(out->name, u->name, sizeof(out->name));
		return 0;
	}
	if (!name) {
		snprintf(why, size, "the %s's name is missing: %s needs the nominee's name (and may take a code)", pg->nominee,
			 pg->code);
		return -1;
	}
	if ((bad = text_problem(name, sizeof(out->name) - 1))) {
		snprintf(why, size, "the nominee's name %s", bad);
		return -1;
	}
	if (code && (bad = text_problem(code, 64))) {
		snprintf(why, size, "the nominee's code %s (at most 64 bytes)", bad);
		return -1;
	}
	if (hamlet) {
		const struct unit *h = unitset_find(units, hamlet);

		if (!h || !unit_active_at(h, today)) {
			const char *s = h ? NULL : unitset_suggest(units, hamlet);

			snprintf(why, size, "hamlet '%s' is %s%s%s%s", hamlet, h ? "closed" : "not a unit", s ? " (did you mean " : "",
				 s ? s : "", s ? "?)" : "");
			return -1;
		}
		if (h != proposer && !unit_is_under_at(h, proposer, today)) {
			snprintf(why, size, "hamlet %s (%s) is not under the proposer %s (%s)", h->code, h->name, proposer->code,
				 proposer->name);
			return -1;
		}
	}
	xstrlcpy(out->code, code ? code : name, sizeof(out->code));
	xstrlcpy(out->name, name, sizeof(out->name));
	xstrlcpy(out->place, hamlet ? hamlet : proposer->code, sizeof(out->place));
	return 0;
}

/* proposal_existing - the open or granted proposal for the same nominee, year and level;
 * its id (and state), or 0 */
int64_t proposal_existing(struct daemon *d, const char *programme, const struct nominee *nm, int year, int level,
			  char *state, size_t size)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT id, state FROM proposals WHERE programme = ?1 AND nominee = ?2"
				     " AND place = ?3 AND year = ?4 AND level = ?5"
				     " AND " PROPOSAL_ACTIVE);
	int64_t id = 0;

	sqlite3_bind_text(s, 1, programme, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nm->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, nm->place, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, year);
	sqlite3_bind_int(s, 5, level);
	if (sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		xstrlcpy(state, col(s, 1), size);
	}
	sqlite3_reset(s);
	return id;
}
