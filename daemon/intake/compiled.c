/*
 * compiled.c - the receiver's contact in messages, and the inputs of a compiled report: the district summary is made from the units' reports,
 * so its receipt, its completeness and its reminders say how many of them were in.
 *
 * "At a moment" is read from the submissions' received_at: a unit's report received by
 * then counts as in, whatever happened to it after (a return does not unfile the summary
 * made from it). Nothing is stored for it: the receipt read again says the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiled.h"
#include "thiduad.h"
#include "xalloc.h"

void unit_contact_text(const struct unit *u, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; u && u->emails && u->emails[i]; i++) {	/* whole addresses only */
		size_t n = strlen(u->emails[i]) + (i ? 2 : 0);

		if (used + n >= size)
			break;
		snprintf(buf + used, size - used, "%s%s", i ? ", " : "", u->emails[i]);
		used += n;
	}
}

int compiled_inputs(struct daemon *d, const struct report_type *rt, const char *period, int64_t at, struct inputs *in)
{
	const struct report_type *of = rt && rt->compiles ? cfg_report(d->cfg, rt->compiles) : NULL;
	sqlite3_stmt *s;

	memset(in, 0, sizeof(*in));
	if (!of)
		return -1;
	in->of = of;
	in->missing_codes = xcalloc(INPUTS_JSON, sizeof(*in->missing_codes));
	s = store_stmt(d->store, "SELECT o.unit, EXISTS (SELECT 1 FROM submissions s WHERE s.obligation = o.id"
		       " AND s.received_at <= ?3) FROM obligations o WHERE o.report = ?1 AND o.period = ?2"
		       " AND o.state <> 'waived' ORDER BY o.unit");
	sqlite3_bind_text(s, 1, of->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, period, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, at);
	while (sqlite3_step(s) == SQLITE_ROW) {
		in->expected++;
		if (sqlite3_column_int(s, 1)) {
			in->received++;
			continue;
		}
		in->missing++;
		if (in->nlisted < INPUTS_JSON)
			in->missing_codes[in->nlisted++] = xstrdup((const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_reset(s);
	return 0;
}

void inputs_free(struct inputs *in)
{
	for (size_t i = 0; i < in->nlisted; i++)
		free(in->missing_codes[i]);
	free(in->missing_codes);
	memset(in, 0, sizeof(*in));
}

/* name_of - a unit's name, or its code when it is gone from the registry */
static const char *name_of(struct daemon *d, const char *code)
{
	const struct unit *u = unitset_find(d->units, code);

	return u ? u->name : code;
}

json_t *inputs_json(struct daemon *d, const struct inputs *in)
{
	json_t *o = json_object(), *list = json_array();

	for (size_t i = 0; i < in->nlisted; i++)
		json_array_append_new(list, json_pack("{s:s,s:s}", "unit", in->missing_codes[i],
						      "name", name_of(d, in->missing_codes[i])));
	json_object_set_new(o, "report", json_string(in->of->code));
	json_object_set_new(o, "expected", json_integer(in->expected));
	json_object_set_new(o, "received", json_integer(in->received));
	json_object_set_new(o, "missing", json_integer(in->missing));
	json_object_set_new(o, "missing_units", list);
	json_object_set_new(o, "more", json_integer(in->missing - (long)in->nlisted));
	return o;
}

void inputs_missing_text(struct daemon *d, const struct inputs *in, char *buf, size_t size)
{
	size_t used = 0, shown = 0, want = in->nlisted < INPUTS_LISTED ? in->nlisted : INPUTS_LISTED;
	char piece[512];

	buf[0] = '\0';
	for (; shown < want; shown++) {	/* whole names only: a name cut short is not one */
		int n = snprintf(piece, sizeof(piece), "%s%s (%s)", shown ? ", " : "", name_of(d, in->missing_codes[shown]),
				 in->missing_codes[shown]);

		if (n < 0 || (size_t)n >= sizeof(piece) || used + (size_t)n + 40 >= size)
			break;
		memcpy(buf + used, piece, (size_t)n + 1);
		used += (size_t)n;
	}
	if (in->missing > (long)shown)
		snprintf(buf + used, size - used, shown ? " và %ld đơn vị khác" : "%ld đơn vị", in->missing - (long)shown);
}
