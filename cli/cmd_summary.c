/*
 * cmd_summary.c - thiduactl summary --report R --period P --docx FILE: the draft of a
 * summary report (BC-TONGHOP: what the district education office sends up every year)
 * from the data the daemon already serves, as a Word document in the layout of Nghị định
 * 30/2020/NĐ-CP, Phụ lục I (the template, docx.c, holds the layout; this file writes the
 * body).
 *
 * Only read ops, each as any other client calls them (so the principal's read rules
 * apply): status (the movement, the template and the place name), reports.list and
 * obligations.list (the report, who writes it, who receives it), units.show (their
 * names), deadlines (the reports the writer receives for the same period: the sources),
 * completeness of each source (by commune and by office, the units still missing),
 * units.list (which rows are communes, which offices) and titles.list (granted in the
 * period, and valid at its end).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "cmd_summary.h"
#include "docx.h"
#include "period_text.h"
#include "proto.h"
#include "xalloc.h"

struct span {
	char from[11], to[11];	/* YYYY-MM-DD, both included */
};

/* period_span - the days a period name covers: 2024, 2023-2025, 2024-Q1 */
static int period_span(const char *p, struct span *s)
{
	static const char *const qend[] = { "03-31", "06-30", "09-30", "12-31" };
	int y1, y2, q, n = 0;

	if (sscanf(p, "%4d%n", &y1, &n) == 1 && n == 4 && !p[4]) {
		snprintf(s->from, sizeof(s->from), "%04d-01-01", y1);
		snprintf(s->to, sizeof(s->to), "%04d-12-31", y1);
	} else if (sscanf(p, "%4d-%4d%n", &y1, &y2, &n) == 2 && n == 9 && !p[9] && y1 <= y2) {
		snprintf(s->from, sizeof(s->from), "%04d-01-01", y1);
		snprintf(s->to, sizeof(s->to), "%04d-12-31", y2);
	} else if (sscanf(p, "%4d-Q%1d%n", &y1, &q, &n) == 2 && n == 7 && !p[7] && q >= 1 && q <= 4) {
		snprintf(s->from, sizeof(s->from), "%04d-%02d-01", y1, 3 * q - 2);
		snprintf(s->to, sizeof(s->to), "%04d-%s", y1, qend[q - 1]);
	} else {
		return -1;
	}
	return y1 >= 1900 && y1 <= 9999 ? 0 : -1;
}

/* vn_date - YYYY-MM-DD... as dd/mm/yyyy */
static const char *vn_date(const char *iso, char *out, size_t size)
{
	if (strlen(iso) < 10)
		snprintf(out, size, "%s", iso);
	else
		snprintf(out, size, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
	return out;
}

/* vn_pct - a percentage the Vietnamese way: "87,5%", "100%" */
static const char *vn_pct(const json_t *v, char *out, size_t size)
{
	double x = json_number_value(v);
	long long tenths = (long long)(x * 10 + 0.5);

	if (tenths % 10)
		snprintf(out, size, "%lld,%lld%%", tenths / 10, tenths % 10);
	else
		snprintf(out, size, "%lld%%", tenths / 10);
	return out;
}

static long long jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* the body, in WordprocessingML ---------------------------------------------------- */

enum { P_BOLD = 1, P_ITALIC = 2, P_HEAD = 4, P_CENTER = 8, P_RIGHT = 16, P_CELL = 32 };

/* para - one paragraph of text: body style (indented, justified) or a cell's */
static void para(struct buf *b, unsigned how, const char *text)
{
	BUF_PUT(b, "<w:p><w:pPr>");
	if (how & P_CELL)
		BUF_PUT(b, "<w:pStyle w:val=\"O\"/>");
	else
		BUF_PUT(b, "<w:pStyle w:val=\"NoiDung\"/>");
	if (how & P_HEAD)
		BUF_PUT(b, "<w:keepNext/><w:spacing w:before=\"240\"/>");
	if (how & P_CENTER)
		BUF_PUT(b, "<w:ind w:firstLine=\"0\"/><w:jc w:val=\"center\"/>");
	else if (how & P_RIGHT)
		BUF_PUT(b, "<w:ind w:firstLine=\"0\"/><w:jc w:val=\"right\"/>");
	else if (how & P_CELL)
		BUF_PUT(b, "<w:jc w:val=\"left\"/>");
	BUF_PUT(b, "</w:pPr><w:r>");
	if (how & (P_BOLD | P_ITALIC)) {
		BUF_PUT(b, "<w:rPr>");
		if (how & P_BOLD)
			BUF_PUT(b, "<w:b/>");
		if (how & P_ITALIC)
			BUF_PUT(b, "<w:i/>");
		BUF_PUT(b, "</w:rPr>");
	}
	BUF_PUT(b, "<w:t xml:space=\"preserve\">");
	docx_esc(b, text);
	BUF_PUT(b, "</w:t></w:r></w:p>");
}

static void parap(struct buf *b, unsigned how, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void parap(struct buf *b, unsigned how, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	para(b, how, text);
	free(text);
}

struct table_def {
	size_t ncols;
	const unsigned *widths;		/* twips; they add up to the text width */
	const char *const *head;
};

/* table_start - a bordered table and its header row (repeated on each page) */
static void table_start(struct buf *b, const struct table_def *t)
{
	unsigned total = 0;

	for (size_t i = 0; i < t->ncols; i++)
		total += t->widths[i];
	buf_printf(b, "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"%u\" w:type=\"dxa\"/>"
		   "<w:tblLayout w:type=\"fixed\"/><w:tblLook w:val=\"04A0\"/></w:tblPr><w:tblGrid>", total);
	for (size_t i = 0; i < t->ncols; i++)
		buf_printf(b, "<w:gridCol w:w=\"%u\"/>", t->widths[i]);
	BUF_PUT(b, "</w:tblGrid><w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>");
	for (size_t i = 0; i < t->ncols; i++) {
		buf_printf(b, "<w:tc><w:tcPr><w:tcW w:w=\"%u\" w:type=\"dxa\"/><w:vAlign w:val=\"center\"/></w:tcPr>", t->widths[i]);
		para(b, P_CELL | P_BOLD | P_CENTER, t->head[i]);
		BUF_PUT(b, "</w:tc>");
	}
	BUF_PUT(b, "</w:tr>");
}

/* table_row - one row; column 1 (the name) left, the others centred */
static void table_row(struct buf *b, const struct table_def *t, const char *const *cells, int bold)
{
	BUF_PUT(b, "<w:tr><w:trPr><w:cantSplit/></w:trPr>");
	for (size_t i = 0; i < t->ncols; i++) {
		buf_printf(b, "<w:tc><w:tcPr><w:tcW w:w=\"%u\" w:type=\"dxa\"/></w:tcPr>", t->widths[i]);
		para(b, P_CELL | (bold ? P_BOLD : 0) | (i == 1 ? 0 : P_CENTER), cells[i]);
		BUF_PUT(b, "</w:tc>");
	}
	BUF_PUT(b, "</w:tr>");
}

static void table_end(struct buf *b)
{
	/* a table cannot end the document or touch the next one: an empty paragraph after */
	BUF_PUT(b, "</w:tbl><w:p><w:pPr><w:pStyle w:val=\"O\"/></w:pPr></w:p>");
}

/* completeness ----------------------------------------------------------------------- */

static const unsigned count_widths[] = { 760, 3654, 960, 960, 960, 960, 1100 };
static const char *const count_head[] = {
	"STT", "Đơn vị", "Phải gửi", "Đúng hạn", "Trễ hạn", "Chưa gửi", "Tỷ lệ đã gửi",
};
static const struct table_def count_table = { 7, count_widths, count_head };

/* count_cells - the counters of a row (or a sum) as cells 2..6 */
static void count_cells(const long long c[4], char b[5][32], const char **cells)
{
	json_t *pct = json_real(c[0] ? 100.0 * (double)(c[1] + c[2]) / (double)c[0] : 0);

	for (int i = 0; i < 4; i++) {
		snprintf(b[i], sizeof(b[i]), "%lld", c[i]);
		cells[2 + i] = b[i];
	}
	cells[6] = vn_pct(pct, b[4], sizeof(b[4]));
	json_decref(pct);
}

/* group_table - the rows of completeness whose unit is (attached) or is not (!attached)
 * a body of 'under'; 0 when there are none */
static int group_table(struct buf *b, const json_t *rows, const json_t *units, int attached, const char *label)
{
	static const char *const keys[] = { "expected", "on_time", "late", "missing" };
	long long sum[4] = { 0 };
	char nbuf[24], cb[5][32];
	const char *cells[7];
	size_t i, n = 0;
	json_t *row;

	json_array_foreach(rows, i, row) {
		const json_t *u = json_object_get(units, jstr(row, "unit"));

		if (json_is_true(json_object_get(u, "attached")) != attached)
			continue;
		if (!n++) {
			para(b, P_ITALIC, label);
			table_start(b, &count_table);
		}
		long long c[4];

		for (int k = 0; k < 4; k++)
			sum[k] += c[k] = jint(row, keys[k]);
		snprintf(nbuf, sizeof(nbuf), "%zu", n);
		cells[0] = nbuf;
		cells[1] = jstr(row, "name");
		count_cells(c, cb, cells);
		table_row(b, &count_table, cells, 0);
	}
	if (!n)
		return 0;
	cells[0] = "";
	cells[1] = "Cộng";
	count_cells(sum, cb, cells);
	table_row(b, &count_table, cells, 1);
	table_end(b);
	return 1;
}

/* section_source - one source report: its totals, its tables, the units missing */
static int section_source(struct buf *b, int k, const char *report, const char *period, const char *under, int *rc)
{
	json_t *req = json_pack("{s:s,s:s,s:s}", "op", OP_COMPLETENESS, "report", report, "period", period);
	json_t *r, *ul, *units, *u, *tot, *m;
	char due[16], day[16], pct[32], waived[64], title[1024];
	char letter = 'a';
	size_t i;

	if (under)
		json_object_set_new(req, "under", json_string(under));
	r = cli_call_part(req, rc);
	if (!r)
		return -1;
	tot = json_object_get(r, "total");
	/* which rows are the offices of 'under': its units on the due date */
	snprintf(day, sizeof(day), "%.10s", jstr(r, "due_at"));
	ul = cli_call_part(json_pack("{s:s,s:s,s:s}", "op", OP_UNITS_LIST, "under", jstr(r, "under"), "at", day), rc);
	if (!ul) {
		json_decref(r);
		return -1;
	}
	units = json_object();
	json_array_foreach(json_object_get(ul, "units"), i, u)
		json_object_set(units, jstr(u, "code"), u);
	vn_date(jstr(r, "due_at"), due, sizeof(due));
	report_period_text(jstr(r, "report_name"), 0, period, title, sizeof(title));
	parap(b, P_BOLD, "%d. %s (hạn gửi %s)", k, title, due);
	waived[0] = 0;
	if (jint(tot, "waived"))
		snprintf(waived, sizeof(waived), "; được miễn: %lld", jint(tot, "waived"));
	parap(b, 0, "Số đơn vị phải gửi: %lld; đã gửi đúng hạn: %lld; gửi trễ hạn: %lld; chưa gửi: %lld%s; tỷ lệ đã gửi: %s.",
	      jint(tot, "expected"), jint(tot, "on_time"), jint(tot, "late"), jint(tot, "missing"), waived,
	      vn_pct(json_object_get(tot, "submitted_pct"), pct, sizeof(pct)));
	if (!jint(tot, "expected") && !json_array_size(json_object_get(r, "missing"))) {
		parap(b, P_ITALIC, "Không có đơn vị nào thuộc %s phải gửi báo cáo này.", jstr(r, "under"));
	} else {
		char label[96];

		snprintf(label, sizeof(label), "%c) Các xã, thị trấn:", letter);
		letter += group_table(b, json_object_get(r, "rows"), units, 0, label);
		snprintf(label, sizeof(label), "%c) Các cơ quan, đơn vị cấp huyện:", letter);
		letter += group_table(b, json_object_get(r, "rows"), units, 1, label);
		if (!json_array_size(json_object_get(r, "missing"))) {
			parap(b, P_ITALIC, "%c) Tất cả các đơn vị đã gửi báo cáo.", letter);
		} else {
			parap(b, P_ITALIC, "%c) Các đơn vị chưa gửi báo cáo (%zu):", letter, json_array_size(json_object_get(r, "missing")));
			json_array_foreach(json_object_get(r, "missing"), i, m)
				parap(b, 0, "- %s%s;", jstr(m, "name"), !strcmp(jstr(m, "state"), "returned")
				      ? " (báo cáo bị trả lại, chưa gửi lại)" : "");
		}
	}
	json_decref(units);
	json_decref(ul);
	json_decref(r);
	return 0;
}

/* titles ------------------------------------------------------------------------------ */

static const unsigned title_widths[] = { 760, 4254, 1100, 1540, 1700 };

/* title_key - "programme\tlevel" */
static char *title_key(const json_t *t)
{
	return xasprintf("%s\t%lld", jstr(t, "programme"), jint(t, "level"));
}

/* tally - count titles by programme and level into counts[key][col]; names and order of
 * first appearance kept in order (an array of [key, name, level]) */
static void tally(const json_t *titles, json_t *counts, json_t *order, int col, const struct span *sp)
{
	size_t i;
	json_t *t;

	json_array_foreach(titles, i, t) {
		const char *day = jstr(t, "decision_date");
		char *key;
		json_t *c;

		if (sp && (strcmp(day, sp->from) < 0 || strcmp(day, sp->to) > 0))
			continue;
		key = title_key(t);
		c = json_object_get(counts, key);
		if (!c) {
			c = json_pack("[i,i]", 0, 0);
			json_object_set_new(counts, key, c);
			json_array_append_new(order, json_pack("[s,s,O]", key, jstr(t, "programme_name"),
							       json_object_get(t, "level")));
		}
		json_array_set_new(c, (size_t)col, json_integer(json_integer_value(json_array_get(c, (size_t)col)) + 1));
		free(key);
	}
}

/* call_pages - a list op asked page after page (by "after", the last row's id) until it
 * has no more: one reply holding every row of list; req is taken */
static json_t *call_pages(json_t *req, const char *list, int *rc)
{
	json_t *all = NULL;

	json_object_set_new(req, "limit", json_integer(1000));
	for (;;) {
		json_t *r = cli_call_part(json_deep_copy(req), rc), *rows, *last;
		int more;

		if (!r) {
			json_decref(all);
			all = NULL;
			break;
		}
		rows = json_object_get(r, list);
		more = json_is_true(json_object_get(r, "more")) && json_array_size(rows);
		last = more ? json_array_get(rows, json_array_size(rows) - 1) : NULL;
		if (last)
			json_object_set_new(req, "after", json_integer(jint(last, "id")));
		if (!all) {
			all = r;
		} else {
			json_array_extend(json_object_get(all, list), rows);
			json_decref(r);
		}
		if (!more)
			break;
	}
	json_decref(req);
	if (all)
		json_object_set_new(all, "more", json_false());
	return all;
}

/* section_titles - the titles and awards granted in the period, and those valid at its end */
static int section_titles(struct buf *b, const char *under, const struct span *sp, int *rc)
{
	json_t *req = json_pack("{s:s}", "op", OP_TITLES_LIST), *all, *valid, *counts = json_object(), *order = json_array();
	json_t *communes = NULL, *o, *t;
	char from[16], to[16], head3[64], nbuf[24], c1[24], c2[24];
	const char *head[5] = { "STT", "Danh hiệu, hình thức khen thưởng", "Cấp độ", "Trong kỳ", head3 };
	struct table_def def = { 5, title_widths, head };
	long long in_period = 0;
	size_t i;
	int ret = -1;

	if (under)
		json_object_set_new(req, "under", json_string(under));
	all = call_pages(req, "titles", rc);
	req = json_pack("{s:s,s:s}", "op", OP_TITLES_LIST, "valid_at", sp->to);
	if (under)
		json_object_set_new(req, "under", json_string(under));
	valid = all ? call_pages(req, "titles", rc) : (json_decref(req), NULL);
	if (!all || !valid)
		goto out;
	vn_date(sp->from, from, sizeof(from));
	vn_date(sp->to, to, sizeof(to));
	snprintf(head3, sizeof(head3), "Còn hiệu lực ngày %s", to);
	tally(json_object_get(all, "titles"), counts, order, 0, sp);
	tally(json_object_get(valid, "titles"), counts, order, 1, NULL);
	json_array_foreach(order, i, o)
		in_period += json_integer_value(json_array_get(json_object_get(counts, json_string_value(json_array_get(o, 0))), 0));
	if (!json_array_size(order)) {
		parap(b, 0, "Từ ngày %s đến ngày %s chưa có danh hiệu thi đua, hình thức khen thưởng nào được công nhận, tặng thưởng; "
		      "không có danh hiệu nào còn hiệu lực ngày %s.", from, to, to);
		ret = 0;
		goto out;
	}
	parap(b, 0, "Từ ngày %s đến ngày %s có %lld danh hiệu thi đua, hình thức khen thưởng được công nhận, tặng thưởng:",
	      from, to, in_period);
	table_start(b, &def);
	json_array_foreach(order, i, o) {
		json_t *c = json_object_get(counts, json_string_value(json_array_get(o, 0)));
		char lv[16];
		const char *cells[5] = { nbuf, json_string_value(json_array_get(o, 1)), lv, c1, c2 };

		snprintf(nbuf, sizeof(nbuf), "%zu", i + 1);
		if (json_is_null(json_array_get(o, 2)))	/* an award: no level */
			snprintf(lv, sizeof(lv), "-");
		else
			snprintf(lv, sizeof(lv), "%lld", (long long)json_integer_value(json_array_get(o, 2)));
		snprintf(c1, sizeof(c1), "%lld", (long long)json_integer_value(json_array_get(c, 0)));
		snprintf(c2, sizeof(c2), "%lld", (long long)json_integer_value(json_array_get(c, 1)));
		table_row(b, &def, cells, 0);
	}
	table_end(b);
	/* the communes recognised as learning communities, out of all: the plan's measure */
	communes = json_object();
	json_array_foreach(json_object_get(valid, "titles"), i, t)
		if (!strcmp(jstr(t, "nominee_kind"), "commune")) {
			json_t *names = json_object_get(communes, jstr(t, "programme_name"));

			if (!names)
				json_object_set_new(communes, jstr(t, "programme_name"), names = json_object());
			json_object_set_new(names, jstr(t, "nominee"), json_true());
		}
	if (json_object_size(communes)) {
		json_t *req2 = json_pack("{s:s,s:s,s:s}", "op", OP_UNITS_LIST, "level", "commune", "at", sp->to);
		json_t *ul, *names;
		const char *pg;

		if (under)
			json_object_set_new(req2, "under", json_string(under));
		ul = cli_call_part(req2, rc);
		if (!ul)
			goto out;
		json_object_foreach(communes, pg, names)
			parap(b, 0, "Số xã, thị trấn đạt danh hiệu “%s” còn hiệu lực ngày %s: %zu/%lld.", pg, to,
			      json_object_size(names), jint(ul, "count"));
		json_decref(ul);
	}
	ret = 0;
out:
	json_decref(communes);
	json_decref(counts);
	json_decref(order);
	json_decref(all);
	json_decref(valid);
	return ret;
}

/* the command ------------------------------------------------------------------------ */

/* find_report - the report type code in a reports.list reply */
static const json_t *find_report(const json_t *list, const char *code)
{
	size_t i;
	json_t *rt;

	json_array_foreach(json_object_get(list, "reports"), i, rt)
		if (!strcmp(jstr(rt, "code"), code))
			return rt;
	return NULL;
}

/* unit_field - a string member of a unit (units.show), "" when it has none; NULL when the
 * call failed */
static char *unit_field(const char *code, const char *field, int *rc)
{
	json_t *r = cli_call_part(json_pack("{s:s,s:s}", "op", OP_UNITS_SHOW, "code", code), rc);
	char *s;

	if (!r)
		return NULL;
	s = xstrdup(jstr(json_object_get(r, "unit"), field));
	json_decref(r);
	return s;
}

/* cmd_summary - summary --report R --period P --docx FILE [--under U] [...] */
int cmd_summary(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "report", "report", 0, NULL }, { "period", "period", 0, NULL }, { "docx", "docx", 0, NULL },
		{ "under", "under", 0, NULL }, { "template", "template", 0, NULL }, { "place", "place", 0, NULL },
		{ "authority", "authority", 0, NULL }, { "position", "position", 0, NULL }, { "signer", "signer", 0, NULL },
		{ NULL, NULL, 0, NULL },
	};
	json_t *o = json_object(), *status = NULL, *reports = NULL, *obl = NULL, *dl = NULL, *d;
	const json_t *rt;
	const char *report, *period, *file, *under, *tmpl, *place, *issuer;
	char *issuer_name = NULL, *parent = NULL, *parent_name = NULL, *receiver_name = NULL, *trich_yeu = NULL;
	char *ky = NULL, err[512];
	struct buf body = { 0 };
	struct span sp;
	int rc = EXIT_USAGE, first = cli_options(argc, argv, opts, o, NULL), k = 0;
	size_t i;

	report = json_string_value(json_object_get(o, "report"));
	period = json_string_value(json_object_get(o, "period"));
	file = json_string_value(json_object_get(o, "docx"));
	under = json_string_value(json_object_get(o, "under"));
	if (first < 0)
		goto out;
	if (first < argc) {
		rc = cli_usage_error("summary: unexpected argument '%s'", argv[first]);
		goto out;
	}
	if (!report || !period || !file) {
		rc = cli_usage_error("summary needs --report TYPE, --period P and --docx FILE%s", "");
		goto out;
	}
	if (period_span(period, &sp)) {
		rc = cli_usage_error("summary: cannot tell the days of period '%s': use a year (2024), years (2023-2025) or a quarter (2024-Q1)", period);
		goto out;
	}
	if (!(status = cli_call_part(json_pack("{s:s}", "op", OP_STATUS), &rc))
	    || !(reports = cli_call_part(json_pack("{s:s}", "op", OP_REPORTS_LIST), &rc)))
		goto out;
	rc = EXIT_DAEMON_ERROR;
	if (!(rt = find_report(reports, report))) {
		fprintf(stderr, "thiduactl: summary: no report type %s ('thiduactl reports' lists them)\n", report);
		goto out;
	}
	tmpl = json_string_value(json_object_get(o, "template"));
	if (!tmpl)
		tmpl = json_string_value(json_object_get(json_object_get(status, "documents"), "template"));
	if (!tmpl || !*tmpl) {
		fprintf(stderr, "thiduactl: summary: no document template: set documents.template in the daemon's configuration (docs/CONFIG.md) or give --template DIR\n");
		goto out;
	}
	place = json_string_value(json_object_get(o, "place"));
	if (!place)
		place = json_string_value(json_object_get(json_object_get(status, "documents"), "place"));
	/* the writer of the report: who owes it for the period */
	obl = cli_call_part(json_pack("{s:s,s:s,s:s}", "op", OP_OBLIGATIONS_LIST, "report", report, "period", period), &rc);
	if (!obl)
		goto out;
	issuer = jstr(json_array_get(json_object_get(obl, "obligations"), 0), "unit");
	if (!*issuer) {
		rc = EXIT_DAEMON_ERROR;
		fprintf(stderr, "thiduactl: summary: no unit owes %s for period %s (that you may read): the document names the unit that writes it\n",
			report, period);
		goto out;
	}
	if (!(issuer_name = unit_field(issuer, "name", &rc)) || !(parent = unit_field(issuer, "parent", &rc))
	    || !(parent_name = *parent ? unit_field(parent, "name", &rc) : xstrdup(""))
	    || !(receiver_name = unit_field(jstr(rt, "receiver"), "name", &rc)))
		goto out;
	/* the sources: the reports the writer receives, for a period of the same name */
	if (!(dl = cli_call_part(json_pack("{s:s,s:s}", "op", OP_DEADLINES, "period", period), &rc)))
		goto out;
	BUF_PUT(&body, "");
	parap(&body, P_BOLD | P_HEAD, "I. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ");
	json_array_foreach(json_object_get(dl, "deadlines"), i, d) {
		if (strcmp(jstr(d, "receiver"), issuer) || !strcmp(jstr(d, "report"), report))
			continue;
		if (section_source(&body, ++k, jstr(d, "report"), period, under, &rc))
			goto out;
	}
	if (!k)
		parap(&body, 0, "Không có báo cáo nào các đơn vị gửi về %s cho kỳ %s.", issuer_name, period);
	parap(&body, P_BOLD | P_HEAD, "II. DANH HIỆU THI ĐUA VÀ HÌNH THỨC KHEN THƯỞNG");
	if (section_titles(&body, under, &sp, &rc))
		goto out;
	ky = strlen(period) == 4 ? xasprintf("năm %s", period) : xasprintf("kỳ %s", period);
	if (*jstr(status, "movement"))
		trich_yeu = xasprintf("Tổng hợp kết quả thực hiện Phong trào thi đua “%s” %s", jstr(status, "movement"), ky);
	else
		trich_yeu = xasprintf("%s %s", jstr(rt, "name"), ky);
	{
		const char *dots = "……………………";
		const char *authority = json_string_value(json_object_get(o, "authority"));
		const char *position = json_string_value(json_object_get(o, "position"));
		const char *signer = json_string_value(json_object_get(o, "signer"));
		const struct docx_field fields[] = {
			{ "co_quan_chu_quan", parent_name, 0 },
			{ "co_quan_ban_hanh", issuer_name, 0 },
			{ "dia_danh", place && *place ? place : "……", 0 },
			{ "trich_yeu", trich_yeu, 0 },
			{ "ky", ky, 0 },
			{ "noi_nhan", receiver_name, 0 },
			{ "quyen_han", authority ? authority : "", 0 },
			{ "chuc_vu", position ? position : dots, 0 },
			{ "ho_ten", signer ? signer : dots, 0 },
			{ "noi_dung", body.p, 1 },
		};

		if (docx_write(tmpl, file, fields, sizeof(fields) / sizeof(fields[0]), err, sizeof(err))) {
			fprintf(stderr, "thiduactl: summary: %s\n", err);
			rc = EXIT_DAEMON_ERROR;
			goto out;
		}
	}
	printf("%s (%s, %s): %s\n", file, report, ky, trich_yeu);
	rc = EXIT_OK;
out:
	free(body.p);
	free(issuer_name);
	free(parent);
	free(parent_name);
	free(receiver_name);
	free(trich_yeu);
	free(ky);
	json_decref(dl);
	json_decref(obl);
	json_decref(reports);
	json_decref(status);
	json_decref(o);
	return rc;
}
