/*
 * export.c - thiduactl's listings as CSV and as Excel workbooks (see export.h).
 *
 * The workbook is for people: one sheet, row 1 the title (what, which report and period,
 * which unit, when exported by the daemon's clock), row 2 the Vietnamese headers (frozen,
 * with a filter), then the rows. Times are written as the daemon gives them, in the
 * movement's zone (the zone is named in the title): Excel has no zones. The file is written
 * beside FILE and renamed over it, so a failed export leaves no half-written workbook.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "cli.h"
#include "csvout.h"
#include "export.h"
#include "proto.h"
#include "table.h"
#include "timeutil.h"
#include "xalloc.h"

#define WIDTH_MAX 60		/* the widest column, in characters */
#define CELL_MAX 32000		/* Excel's limit is 32767 characters in a cell */

static struct {
	int csv, excel;
	const char *xlsx;
} ex;

int export_opt_csv(json_t *req, const char *value)
{
	(void)req, (void)value;
	ex.csv = 1;
	return 0;
}

int export_opt_excel(json_t *req, const char *value)
{
	(void)req, (void)value;
	ex.excel = 1;
	return 0;
}

int export_opt_xlsx(json_t *req, const char *value)
{
	(void)req;
	if (!*value) {
		cli_usage_error("--xlsx needs a file name, e.g. --xlsx bao-cao.xlsx%s", "");
		return -1;
	}
	ex.xlsx = value;
	return 0;
}

int export_check(void)
{
	if (ex.excel && !ex.csv)
		return cli_usage_error("--excel changes what --csv writes: give --csv --excel (or --xlsx FILE for a workbook)%s", "");
	return 0;
}

int export_wanted(void)
{
	return ex.csv || ex.xlsx;
}

/* label - the label of value in col, or value */
static const char *label(const struct export_col *col, const char *value)
{
	for (const struct export_label *l = col->labels; l && l->value; l++)
		if (!strcmp(l->value, value))
			return l->label;
	return value;
}

/* cell_text - a member as CSV text: jtext, objects and arrays as compact JSON (*owned set) */
static const char *cell_text(const json_t *row, const struct export_col *col, char *buf, size_t size, char **owned)
{
	const json_t *v = json_object_get(row, col->key);

	*owned = NULL;
	if (json_is_object(v) || json_is_array(v))
		return *owned = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	return jtext(row, col->key, buf, size);
}

/* csv_row - one row; for --excel a decimal comma in real numbers and no formulas */
static void csv_row(struct csvout *w, const json_t *row, const struct export_spec *s)
{
	for (size_t c = 0; c < s->ncols; c++) {
		const struct export_col *col = &s->cols[c];
		const json_t *v = json_object_get(row, col->key);
		char buf[64], *owned, *x = NULL;
		const char *text = cell_text(row, col, buf, sizeof(buf), &owned);

		if (row == s->total && col->key == s->total_key)
			text = "TOTAL";
		if (ex.excel && json_is_real(v) && (x = strchr(buf, '.')))
			*x = ',';
		if (ex.excel && json_is_string(v))
			csvout_excel_field(w, text);	/* Excel would run "=..." as a formula */
		else
			csvout_field(w, text);
		free(owned);
	}
	csvout_end(w);
}

static void write_csv(const struct export_spec *s)
{
	struct csvout w = { stdout, 0, ex.excel ? ';' : ',' };
	size_t i;
	json_t *row;

	if (ex.excel)
		fputs("\xEF\xBB\xBF", stdout);
	for (size_t c = 0; c < s->ncols; c++)
		csvout_field(&w, s->cols[c].key);
	csvout_end(&w);
	json_array_foreach(s->rows, i, row)
		csv_row(&w, row, s);
	if (s->total)
		csv_row(&w, s->total, s);
	fflush(stdout);
}

/* quiet_call - one request whose failure only means less detail in the title */
static json_t *quiet_call(json_t *req)
{
	char id[64];
	int rc;
	json_t *r;

	client_new_id(id, sizeof(id));
	json_object_set_new(req, "id", json_string(id));
	if (cl.as)
		json_object_set_new(req, "as", json_string(cl.as));
	r = client_call(&cl, req, NULL, 0, &rc);
	if (r && !json_is_true(json_object_get(r, "ok")))
		json_decref(r), r = NULL;
	return r;
}

/* parse_time - "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS..." into an Excel date and time */
static int parse_time(const char *s, lxw_datetime *dt, int with_time)
{
	int32_t day;
	char date[11];
	int h = 0, m = 0, sec = 0, n = 0;

	if (strlen(s) < 10)
		return -1;
	memcpy(date, s, 10);
	date[10] = 0;
	if (date_parse(date, &day) || (!with_time && s[10]))
		return -1;
	if (with_time && (sscanf(s + 10, "T%2d:%2d:%2d%n", &h, &m, &sec, &n) != 3 || n != 9
			  || h > 23 || m > 59 || sec > 59 || h < 0 || m < 0 || sec < 0))
		return -1;
	sscanf(date, "%4d-%2d-%2d", &dt->year, &dt->month, &dt->day);
	if (dt->year < 1900)
		return -1;
	dt->hour = h;
	dt->min = m;
	dt->sec = sec;
	return 0;
}

const char *export_time_text(const char *iso, char *buf, size_t size)
{
	lxw_datetime dt;

	if (parse_time(iso, &dt, 1))
		snprintf(buf, size, "%s", iso);
	else
		snprintf(buf, size, "%02d/%02d/%04d %02d:%02d", dt.day, dt.month, dt.year, dt.hour, dt.min);
	return buf;
}

/* digits - the display width of a whole number */
static size_t digits(long long v)
{
	size_t n = v < 0 ? 2 : 1;

	while (v <= -10 || v >= 10)
		v /= 10, n++;
	return n;
}

/* clip - at most CELL_MAX characters of UTF-8 text (a copy in *owned when cut) */
static const char *clip(const char *s, char **owned)
{
	size_t chars = 0, i = 0;

	*owned = NULL;
	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > CELL_MAX) {
			*owned = xasprintf("%.*s…", (int)i, s);
			return *owned;
		}
	return s;
}

struct formats {
	lxw_format *title, *head, *date, *time, *pct, *bold, *bold_pct;
};

/* write_cell - one value with its type; returns its display width */
static size_t write_cell(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const json_t *row, const struct export_col *col,
			 const struct formats *f, int bold)
{
	const json_t *v = json_object_get(row, col->key);
	lxw_datetime dt;
	char buf[64], *owned, *cut;
	const char *text;
	size_t w;

	if (!v || json_is_null(v))
		return 0;
	if (col->type == EX_PCT && json_is_number(v)) {
		worksheet_write_number(ws, r, c, json_number_value(v) / 100.0, bold ? f->bold_pct : f->pct);
		return 7;
	}
	if (col->type == EX_INT && json_is_integer(v)) {
		worksheet_write_number(ws, r, c, (double)json_integer_value(v), bold ? f->bold : NULL);
		return digits((long long)json_integer_value(v));
	}
	if ((col->type == EX_DATE || col->type == EX_TIME) && json_is_string(v)
	    && !parse_time(json_string_value(v), &dt, col->type == EX_TIME)) {
		worksheet_write_datetime(ws, r, c, &dt, col->type == EX_TIME ? f->time : f->date);
		return col->type == EX_TIME ? 19 : 10;
	}
	text = label(col, cell_text(row, col, buf, sizeof(buf), &owned));
	worksheet_write_string(ws, r, c, clip(text, &cut), bold ? f->bold : NULL);
	w = text_width(text);
	free(cut);
	free(owned);
	return w;
}

/* title_text - "WHAT: REPORT – năm P – đơn vị: NAME (CODE) – xuất lúc dd/mm/yyyy hh:mm:ss (UTC+07:00)" */
static char *title_text(const struct export_spec *s, char *moment, size_t size)
{
	json_t *clock = quiet_call(json_pack("{s:s}", "op", OP_CLOCK_SHOW)), *unit = NULL;
	const char *now = jstr(clock, "now");
	lxw_datetime dt;
	char unitbuf[512];
	char *text;

	if (!parse_time(now, &dt, 1) && strlen(now) >= 20)
		snprintf(moment, size, "%02d/%02d/%04d %02d:%02d:%02d (UTC%s)", dt.day, dt.month, dt.year, dt.hour, dt.min,
			 (int)dt.sec, now[19] == 'Z' ? "+00:00" : now + 19);
	else {
		time_t t = time(NULL);

		strftime(moment, size, "%d/%m/%Y %H:%M:%S (giờ máy này)", localtime(&t));
	}
	if (s->unit && (unit = quiet_call(json_pack("{s:s,s:s}", "op", OP_UNITS_SHOW, "code", s->unit))))
		snprintf(unitbuf, sizeof(unitbuf), "%s (%s)", jstr(json_object_get(unit, "unit"), "name"), s->unit);
	else
		snprintf(unitbuf, sizeof(unitbuf), "%s", s->unit ? s->unit : "mọi đơn vị được xem");
	text = xasprintf("%s%s%s%s%s – đơn vị: %s – xuất lúc %s%s", s->title, s->report ? ": " : "", s->report ? s->report : "",
			 s->period && !*s->period ? "" : " – ", s->period ? s->period : "mọi kỳ", unitbuf, moment,
			 s->more ? " – chỉ gồm những dòng đầu: còn dòng khác (tăng --limit hoặc lọc thêm)" : "");
	json_decref(clock);
	json_decref(unit);
	return text;
}

/* write_xlsx - the workbook into path.part, renamed to path when complete */
static int write_xlsx(const struct export_spec *s)
{
	char *tmp = xasprintf("%s.part", ex.xlsx), *title, moment[96];
	lxw_workbook *wb = workbook_new(tmp);
	lxw_worksheet *ws;
	lxw_doc_properties props = { 0 };
	struct formats f;
	size_t *width, i;
	lxw_row_t r = 2;
	lxw_error e;
	json_t *row;

	if (!wb) {
		fprintf(stderr, "thiduactl: cannot write %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return EXIT_USAGE;
	}
	title = title_text(s, moment, sizeof(moment));
	ws = workbook_add_worksheet(wb, s->sheet);
	f.title = workbook_add_format(wb);
	format_set_bold(f.title);
	format_set_font_size(f.title, 13);
	f.head = workbook_add_format(wb);
	format_set_bold(f.head);
	format_set_bg_color(f.head, 0xDDEBF7);
	format_set_border(f.head, LXW_BORDER_THIN);
	format_set_align(f.head, LXW_ALIGN_CENTER);
	f.date = workbook_add_format(wb);
	format_set_num_format(f.date, "dd/mm/yyyy");
	f.time = workbook_add_format(wb);
	format_set_num_format(f.time, "dd/mm/yyyy hh:mm:ss");
	f.pct = workbook_add_format(wb);
	format_set_num_format(f.pct, "0.0%");
	f.bold = workbook_add_format(wb);
	format_set_bold(f.bold);
	f.bold_pct = workbook_add_format(wb);
	format_set_bold(f.bold_pct);
	format_set_num_format(f.bold_pct, "0.0%");

	worksheet_write_string(ws, 0, 0, title, f.title);
	width = xcalloc(s->ncols, sizeof(*width));
	for (size_t c = 0; c < s->ncols; c++) {
		worksheet_write_string(ws, 1, (lxw_col_t)c, s->cols[c].vi, f.head);
		width[c] = text_width(s->cols[c].vi) + 3;	/* room for the filter's button */
	}
	json_array_foreach(s->rows, i, row) {
		for (size_t c = 0; c < s->ncols; c++) {
			size_t w = write_cell(ws, r, (lxw_col_t)c, row, &s->cols[c], &f, 0);

			if (w > width[c])
				width[c] = w;
		}
		r++;
	}
	if (s->total) {
		for (size_t c = 0; c < s->ncols; c++) {
			size_t w;

			if (s->cols[c].key == s->total_key) {
				worksheet_write_string(ws, r, (lxw_col_t)c, "Tổng cộng", f.bold);
				w = text_width("Tổng cộng");
			} else {
				w = write_cell(ws, r, (lxw_col_t)c, s->total, &s->cols[c], &f, 1);
			}
			if (w > width[c])
				width[c] = w;
		}
		r++;
	}
	for (size_t c = 0; c < s->ncols; c++)
		worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, (double)(width[c] + 2 > WIDTH_MAX ? WIDTH_MAX : width[c] + 2),
				     NULL);
	worksheet_freeze_panes(ws, 2, 0);
	worksheet_autofilter(ws, 1, 0, r > 2 ? r - 1 : 2, (lxw_col_t)(s->ncols - 1));
	props.title = title;
	props.subject = (char *)s->title;
	props.comments = moment;
	workbook_set_properties(wb, &props);
	e = workbook_close(wb);
	free(width);
	free(title);
	if (e != LXW_NO_ERROR) {
		fprintf(stderr, "thiduactl: cannot write %s: %s\n", ex.xlsx, lxw_strerror(e));
		unlink(tmp);
		free(tmp);
		return EXIT_USAGE;
	}
	if (rename(tmp, ex.xlsx)) {
		fprintf(stderr, "thiduactl: cannot write %s: %s\n", ex.xlsx, strerror(errno));
		unlink(tmp);
		free(tmp);
		return EXIT_USAGE;
	}
	free(tmp);
	return EXIT_OK;
}

int export_write(const struct export_spec *s)
{
	if (ex.csv && !cl.json)
		write_csv(s);
	return ex.xlsx ? write_xlsx(s) : EXIT_OK;
}
