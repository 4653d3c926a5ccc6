/*
 * export.h - a listing of thiduactl as a file for machines or for people: --csv (RFC 4180,
 * UTF-8, the daemon's member names as the header), --csv --excel (the same for Excel in the
 * vi-VN locale: a UTF-8 byte-order mark, ';' between fields, a decimal comma) and --xlsx FILE
 * (an Excel workbook written with libxlsxwriter: a title row naming the report, period, unit
 * and the moment of export, a frozen Vietnamese header row, dates as dates, numbers as
 * numbers, percentages as percentages, columns as wide as their content).
 */
#ifndef THIDUA_EXPORT_H
#define THIDUA_EXPORT_H

#include <jansson.h>
#include <stddef.h>

enum export_type {
	EX_TEXT,	/* a string (a number or boolean as written) */
	EX_INT,		/* a whole number */
	EX_PCT,		/* a percentage given as 0..100: a number with a % format in Excel */
	EX_DATE,	/* YYYY-MM-DD: an Excel date */
	EX_TIME,	/* YYYY-MM-DDTHH:MM:SS+07:00: an Excel date and time, as written (the movement's zone) */
	EX_JSON,	/* an object or array: its compact JSON text */
};

/* a value and how people read it in the workbook ("submitted" -> "đã nộp") */
struct export_label {
	const char *value, *label;
};

struct export_col {
	const char *key;		/* the member of each row; the CSV header */
	const char *vi;			/* the workbook's header */
	enum export_type type;
	const struct export_label *labels;	/* NULL, or ended by a NULL value */
};

struct export_spec {
	const char *sheet;		/* the sheet's name (at most 31 characters) */
	const char *title;		/* what the listing is: "Tình hình nộp báo cáo" */
	const char *report;		/* the report or programme it is about, or NULL */
	const char *period;		/* "kỳ 2024", "năm 2025", ... or NULL: all */
	const char *unit;		/* the unit code it is limited to, or NULL: all you may see */
	const struct export_col *cols;
	size_t ncols;
	const json_t *rows;		/* array of objects */
	const json_t *total;		/* an object written last, in bold, or NULL */
	const char *total_key;		/* the column that says "TOTAL" on the total row */
	int more;			/* the daemon has more rows than it sent (a --limit) */
};

/* the options every listing takes: --csv, --excel, --xlsx FILE (a struct cli_opt each) */
#define EXPORT_CLI_OPTS \
	{ "csv", NULL, 1, export_opt_csv }, { "excel", NULL, 1, export_opt_excel }, \
	{ "xlsx", NULL, 0, export_opt_xlsx }

int export_opt_csv(json_t *req, const char *value);
int export_opt_excel(json_t *req, const char *value);
int export_opt_xlsx(json_t *req, const char *value);

/* export_check - after the options: EXIT_USAGE (said why) when --excel came without --csv */
int export_check(void);

/* export_wanted - 1 when --csv or --xlsx was given (the table for people is not printed) */
int export_wanted(void);

/* export_time_text - "2024-11-15T23:59:59+07:00" as people read it: "15/11/2024 23:59" */
const char *export_time_text(const char *iso, char *buf, size_t size);

/* export_write - the listing as --csv asked (to stdout, unless --json) and as --xlsx asked
 * (to the file). Returns EXIT_OK, or EXIT_DAEMON_ERROR (EXIT_USAGE for a path that cannot
 * be written) with the reason on stderr. */
int export_write(const struct export_spec *spec);

#endif
