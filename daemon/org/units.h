/*
 * units.h - the unit hierarchy: levels, units with effective dates, and the queries every
 * workflow asks (who is active on a date, who is under whom, who took over from whom).
 *
 * A unitset owns its levels and units. It is built from the configuration and the units
 * imported into the database, validated as a whole by unitset_resolve(), and then read only;
 * a change (reload, import) builds a new set and swaps it in.
 */
#ifndef THIDUA_UNITS_H
#define THIDUA_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define DATE_NONE_FROM INT32_MIN
#define DATE_NONE_TO INT32_MAX

struct level {
	char *code;
	char *name;
	int line;
};

struct unit {
	char *code, *name, *level_code, *parent_code, *kind;
	int attached;
	char **emails, **chats, **successor_codes;	/* strv, may be NULL */
	int32_t active_from, active_to;
	char *origin;		/* where it was declared: file name */
	int line;		/* line in origin */
	int imported;		/* from units.import, kept in the database */

	/* filled by unitset_resolve */
	int level;
	struct unit *parent;
	struct unit **successors;
	size_t nsuccessors;
};

struct unitset {
	struct level *levels;
	size_t nlevels;
	struct unit **units;	/* in declaration order */
	size_t nunits;
	size_t nborrowed;	/* units[0..nborrowed) belong to another set (the config's) */
	struct unit **slots;	/* open-addressing index by code */
	size_t nslots;
};

struct unitset *unitset_new(void);
void unitset_destroy(struct unitset **self_p);
void unitset_add_level(struct unitset *set, const char *code, const char *name, int line);
struct unit *unit_new(void);
void unit_destroy(struct unit **self_p);
struct unit *unit_dup(const struct unit *u);
void unitset_add(struct unitset *set, struct unit **unit_p);	/* takes ownership */
struct unitset *unitset_dup(const struct unitset *set);
void unitset_borrow(struct unitset *set, const struct unitset *from);	/* levels copied, units shared */

/* unitset_resolve - link parents, levels, successors; append every problem to *errors
 * as "ORIGIN:LINE: message". Returns the number of problems. */
int unitset_resolve(struct unitset *set, char ***errors);

struct unit *unitset_find(const struct unitset *set, const char *code);
int unitset_level_index(const struct unitset *set, const char *code);
const char *unitset_suggest(const struct unitset *set, const char *code);

int unit_active_at(const struct unit *u, int32_t day);
struct unit *unit_parent_at(const struct unit *u, int32_t day);
int unit_is_under_at(const struct unit *u, const struct unit *ancestor, int32_t day);

int unit_code_valid(const char *code);
size_t text_distance(const char *a, const char *b);
int email_valid(const char *addr);

#endif
