/*
 * units_csv.c - CSV text to units for units.import (see units_csv.h). The columns are
 * named by the header row, in any order; unknown columns and missing required ones are
 * errors, so that a misspelt header cannot silently drop a field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units_csv.h"
#include "xalloc.h"

static const char *const import_columns[] = {
	"code", "name", "level", "parent", "kind", "attached", "emails", "chats",
	"active_from", "active_to", "successors", NULL
};

/* row_error - "FILE:LINE: message" into the error list */
static void row_error(char ***errors, const char *file, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void row_error(char ***errors, const char *file, size_t line, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	full = xasprintf("%s:%zu: %s", file, line, msg);
	*errors = strv_append(*errors, full);
	free(full);
	free(msg);
}

/* csv_unit - one data row to a unit; NULL with errors added */
static struct unit *csv_unit(const struct csv_row *row, const int *col, const char *file,
			     char ***errors)
{
	struct unit *u = unit_new();
	const char *f[11];
	int bad = 0;

	for (int k = 0; k < 11; k++)
		f[k] = col[k] >= 0 && (size_t)col[k] < row->nfields ? row->fields[col[k]] : "";
	u->origin = xstrdup(file);
	u->line = (int)row->line;
	u->code = xstrdup(f[0]);
	u->name = xstrdup(f[1]);
	u->level_code = xstrdup(f[2]);
	u->parent_code = *f[3] ? xstrdup(f[3]) : NULL;
	u->kind = xstrdup(f[4]);
	if (!*f[5] || !strcmp(f[5], "no") || !strcmp(f[5], "false") || !strcmp(f[5], "0"))
		u->attached = 0;
	else if (!strcmp(f[5], "yes") || !strcmp(f[5], "true") || !strcmp(f[5], "1"))
		u->attached = 1;
	else {
		row_error(errors, file, row->line, "attached = \"%s\": write yes or no", f[5]);
		bad = 1;
	}
	u->emails = split_list(f[6]);
	u->chats = split_list(f[7]);
	if (*f[8] && date_parse(f[8], &u->active_from)) {
		row_error(errors, file, row->line, "active_from \"%s\" is not a date: write YYYY-MM-DD", f[8]);
		bad = 1;
	}
	if (*f[9] && date_parse(f[9], &u->active_to)) {
		row_error(errors, file, row->line, "active_to \"%s\" is not a date: write YYYY-MM-DD", f[9]);
		bad = 1;
	}
	u->successor_codes = split_list(f[10]);
	if (row->nfields != (size_t)col[11]) {
		row_error(errors, file, row->line, "the row has %zu fields but the header has %d", row->nfields, col[11]);
		bad = 1;
	}
	if (bad)
		unit_destroy(&u);
	return u;
}

/* units_csv_parse - the header, then each row; all or nothing is the caller's */
int units_csv_parse(struct unitset *set, const char *data, size_t size, const char *file,
		    char ***errors, size_t *count)
{
	char err[256];
	struct csv *csv = csv_parse(data, size, err, sizeof(err));
	int col[12], nerr = 0;

	if (!csv) {
		row_error(errors, file, 0, "%s", err);
		return 1;
	}
	if (csv->nrows < 2) {
		row_error(errors, file, 1, "the file has no units: a header row and at least one unit row are needed");
		csv_destroy(&csv);
		return 1;
	}
	for (size_t i = 0; i < csv->rows[0].nfields; i++) {
		int known = 0;

		for (int k = 0; import_columns[k]; k++)
			if (csv_field_index(&csv->rows[0], import_columns[k]) == (int)i)
				known = 1;
		if (!known) {
			row_error(errors, file, 1, "unknown column '%s' (the columns are code, name, level, parent, kind, attached, emails, chats, active_from, active_to, successors)",
				  csv->rows[0].fields[i]);
			nerr++;
		}
	}
	for (int k = 0; import_columns[k]; k++) {
		col[k] = csv_field_index(&csv->rows[0], import_columns[k]);
		if (col[k] < 0 && (k == 0 || k == 1 || k == 2 || k == 4)) {
			row_error(errors, file, 1, "the required column '%s' is missing from the header row", import_columns[k]);
			nerr++;
		}
	}
	col[11] = (int)csv->rows[0].nfields;
	for (size_t r = 1; !nerr && r < csv->nrows; r++) {
		struct unit *u = csv_unit(&csv->rows[r], col, file, errors);

		if (!u) {
			nerr++;
			continue;
		}
		u->imported = 1;
		unitset_add(set, &u);
		(*count)++;
	}
	csv_destroy(&csv);
	return nerr;
}
