/*
 * page_office.c - "Tổng hợp", the receiving office's page: completeness of a report and
 * period under a unit (completeness), drawn as a bar chart per commune by thidua.js and
 * written as a table beside it (the page reads without JavaScript); the units still
 * missing with their contacts (one units.show with their codes) and their next reminder
 * (schedule); every obligation with its submission's files (obligations.list with_files,
 * links to /tep/RECEIPT/SHA256) and the review
 * forms (report.accept, report.return, report.waive), a refusal shown in the row it came
 * from; and /tong-hop.csv, the table as CSV for Excel (UTF-8 with a BOM, ';' between
 * fields, a decimal comma, formulas neutralised: thiduactl's --excel rules, csvout.h).
 *
 * The selection comes from the query: ?bc=REPORT&ky=PERIOD&dv=UNDER. Without one: the
 * first report the principal's unit receives (else the first report), its newest period
 * opened by the daemon's clock, and the daemon's default unit (the receiver, or its
 * parent when the receiver is attached).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvout.h"
#include "pages.h"
#include "period_text.h"
#include "web.h"
#include "web_util.h"
#include "xalloc.h"

/* a refusal of a review, shown next to the form of its row */
struct review_err {
	const char *unit;	/* the row */
	const char *text;	/* in Vietnamese */
	const char *detail;	/* the daemon's message */
	const char *reason;	/* what was typed, kept */
};

/* the selection, resolved */
struct sel {
	json_t *reports;	/* reports.list reply */
	json_t *deadlines;	/* deadlines reply of the chosen report */
	const char *report, *period, *under;	/* under may be NULL: the daemon's default */
	char now[40];
};

static const char *js(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long ji(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void sel_free(struct sel *s)
{
	json_decref(s->reports);
	json_decref(s->deadlines);
}

/* select_report - the report, period and unit of the query (or of a form), or the
 * defaults; 0, or -1 with *fail holding the daemon's refusal (owned) */
/* newest_open - the newest period of dl (a deadlines reply) opened by now, or NULL */
static const char *newest_open(const json_t *dl, const char *now)
{
	const char *period = NULL;
	json_t *o;
	size_t i;

	/* ordered by due date; one offset everywhere, so the texts compare as times */
	json_array_foreach(json_object_get(dl, "deadlines"), i, o) {
		const char *opens = js(o, "opens_at");

		if (opens && now[0] && strcmp(opens, now) <= 0)
			period = js(o, "period");
	}
	return period;
}

/* select_report - the report, period and unit of the query (or of a form), or the
 * defaults: the first report the principal's unit receives that has a period open (else
 * the first one it receives, else the first report), its newest open period; 0, or -1
 * with *fail holding the daemon's refusal (owned) */
static int select_report(struct web_req *r, const char *qr, const char *qp, const char *qu, struct sel *s,
			 json_t **fail)
{
	json_t *clock, *o, *first = NULL, *mine = NULL;
	size_t i;

	memset(s, 0, sizeof(*s));
	*fail = NULL;
	clock = web_call(r, json_pack("{s:s}", "op", OP_CLOCK_SHOW));
	snprintf(s->now, sizeof(s->now), "%s", js(clock, "now") ? js(clock, "now") : "");
	json_decref(clock);
	s->reports = web_call(r, json_pack("{s:s}", "op", OP_REPORTS_LIST));
	if (!reply_ok(s->reports)) {
		*fail = json_incref(s->reports);
		return -1;
	}
	json_array_foreach(json_object_get(s->reports, "reports"), i, o) {
		if (!first)
			first = o;
		if (qr && *qr && !strcmp(js(o, "code"), qr))
			s->report = js(o, "code");
	}
	if (!s->report && r->me.unit) {
		json_array_foreach(json_object_get(s->reports, "reports"), i, o) {
			json_t *dl;

			if (!js(o, "receiver") || strcmp(js(o, "receiver"), r->me.unit))
				continue;
			if (!mine)
				mine = o;
			dl = web_call(r, json_pack("{s:s,s:s}", "op", OP_DEADLINES, "report", js(o, "code")));
			if (newest_open(dl, s->now)) {
				s->report = js(o, "code");
				s->deadlines = dl;
				break;
			}
			json_decref(dl);
		}
	}
	if (!s->report)
		s->report = mine ? js(mine, "code") : first ? js(first, "code") : NULL;
	if (!s->report)
		return 0;
	if (!s->deadlines)
		s->deadlines = web_call(r, json_pack("{s:s,s:s}", "op", OP_DEADLINES, "report", s->report));
	if (!reply_ok(s->deadlines)) {
		*fail = json_incref(s->deadlines);
		return -1;
	}
	json_array_foreach(json_object_get(s->deadlines, "deadlines"), i, o)
		if (qp && *qp && !strcmp(js(o, "period"), qp))
			s->period = js(o, "period");
	if (!s->period)
		s->period = newest_open(s->deadlines, s->now);
	s->under = qu && *qu ? qu : NULL;
	return 0;
}

/* selector - the GET form choosing report, period and unit */
static void selector(struct web_req *r, struct buf *b, const struct sel *s, const char *under_shown)
{
	json_t *o;
	size_t i;

	(void)r;
	hput(b, "<form method=\"get\" action=\"/tong-hop\" class=\"selector\">"
		"<div class=\"field\"><label for=\"bc\">Báo cáo</label><select id=\"bc\" name=\"bc\">");
	json_array_foreach(json_object_get(s->reports, "reports"), i, o)
		hput(b, "<option value=\"%s\"%R>%s (%s)</option>", js(o, "code"),
		     s->report && !strcmp(s->report, js(o, "code")) ? " selected" : "", js(o, "name"), js(o, "code"));
	hput(b, "</select></div><div class=\"field\"><label for=\"ky\">Kỳ</label><select id=\"ky\" name=\"ky\">");
	json_array_foreach(json_object_get(s->deadlines, "deadlines"), i, o) {
		const char *opens = js(o, "opens_at");

		if (opens && s->now[0] && strcmp(opens, s->now) > 0)
			continue;	/* not open yet */
		hput(b, "<option value=\"%s\"%R>%s</option>", js(o, "period"),
		     s->period && !strcmp(s->period, js(o, "period")) ? " selected" : "", js(o, "period"));
	}
	hput(b, "</select></div><div class=\"field\"><label for=\"dv\">Tổng hợp theo đơn vị (mã)</label>"
		"<input id=\"dv\" name=\"dv\" type=\"text\" value=\"%s\" autocomplete=\"off\"></div>"
		"<div class=\"field\"><button type=\"submit\">Xem</button></div></form>\n",
	     under_shown ? under_shown : "");
}

static void chart(struct buf *b, json_t *rows)
{
	static const struct { const char *label, *color; } sets[] = {
		{ "Đúng hạn", "#1e7b34" }, { "Muộn", "#c77700" }, { "Chưa nộp", "#b00020" }, { "Bị trả lại", "#6a3d9a" },
	};
	json_t *d = json_object(), *labels = json_array(), *datasets = json_array(), *data[4], *row;
	size_t i;

	for (int k = 0; k < 4; k++)
		data[k] = json_array();
	json_array_foreach(rows, i, row) {
		long long missing = ji(row, "missing"), returned = ji(row, "returned");

		json_array_append_new(labels, json_string(js(row, "name") ? js(row, "name") : js(row, "unit")));
		json_array_append_new(data[0], json_integer(ji(row, "on_time")));
		json_array_append_new(data[1], json_integer(ji(row, "late")));
		json_array_append_new(data[2], json_integer(missing - returned));
		json_array_append_new(data[3], json_integer(returned));
	}
	for (int k = 0; k < 4; k++)
		json_array_append_new(datasets, json_pack("{s:s,s:o,s:s}", "label", sets[k].label, "data", data[k],
							  "color", sets[k].color));
	json_object_set_new(d, "type", json_string("bar"));
	json_object_set_new(d, "labels", labels);
	json_object_set_new(d, "datasets", datasets);
	json_object_set_new(d, "stacked", json_true());
	json_object_set_new(d, "horizontal", json_true());	/* one bar per unit, names readable */
	chart_canvas(b, d, "Biểu đồ số đơn vị nộp đúng hạn, muộn, chưa nộp, bị trả lại theo từng đơn vị "
		     "(số liệu ở bảng bên cạnh)");
	json_decref(d);
}

/* pct - a percentage with a decimal comma, as Vietnamese (and Excel in Vietnam) write it */
static void pct(char *out, size_t size, double v)
{
	char *x;

	snprintf(out, size, "%.1f", v);
	if ((x = strchr(out, '.')))
		*x = ',';
}

static void table_row(struct buf *b, const json_t *row, const char *name, int total)
{
	char p[32];

	pct(p, sizeof(p), json_number_value(json_object_get(row, "submitted_pct")));
	hput(b, "<tr%R><th scope=\"row\" data-label=\"Đơn vị\">%s</th><td data-label=\"Phải nộp\">%lld</td>"
		"<td data-label=\"Đúng hạn\">%lld</td><td data-label=\"Muộn\">%lld</td><td data-label=\"Chưa nộp\">%lld</td>"
		"<td data-label=\"Bị trả lại\">%lld</td><td data-label=\"Được miễn\">%lld</td>"
		"<td data-label=\"Tỷ lệ đã nộp\">%s%%</td></tr>\n",
	     total ? " class=\"total\"" : "", name, ji(row, "expected"), ji(row, "on_time"), ji(row, "late"),
	     ji(row, "missing"), ji(row, "returned"), ji(row, "waived"), p);
}

static void counts_table(struct buf *b, json_t *c)
{
	json_t *row;
	size_t i;

	hput(b, "<div class=\"table-scroll\"><table class=\"counts\"><caption>Số đơn vị theo tình trạng nộp (\"Chưa nộp\" gồm cả bị trả lại)</caption>"
		"<thead><tr><th scope=\"col\">Đơn vị</th><th scope=\"col\">Phải nộp</th><th scope=\"col\">Đúng hạn</th>"
		"<th scope=\"col\">Muộn</th><th scope=\"col\">Chưa nộp</th><th scope=\"col\">Bị trả lại</th>"
		"<th scope=\"col\">Được miễn</th><th scope=\"col\">Tỷ lệ đã nộp</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(c, "rows"), i, row)
		table_row(b, row, js(row, "name") ? js(row, "name") : js(row, "unit"), 0);
	hput(b, "</tbody><tfoot>");
	table_row(b, json_object_get(c, "total"), "Tổng cộng", 1);
	hput(b, "</tfoot></table></div>\n");
}

#define UNITS_PER_CALL 1000	/* units.show's codes: at most 1000 a call */

/* next_step - the next ladder step about unit that reaches the receiving office (its
 * schedule's `to`: the digests it will get), from sched (a schedule reply, may be failed) */
static void next_step(struct buf *b, json_t *sched, const char *unit, const char *report, const char *period)
{
	json_t *o, *u;
	size_t i, k;

	json_array_foreach(json_object_get(sched, "to"), i, o) {
		char at[32];
		const char *kind = js(o, "kind");

		if (strcmp(js(o, "report"), report) || strcmp(js(o, "period"), period))
			continue;
		json_array_foreach(json_object_get(o, "about"), k, u) {
			if (strcmp(js(u, "unit"), unit))
				continue;
			time_text(js(o, "moment"), at, sizeof(at));
			hput(b, "%s lúc %s <span class=\"code\">%s</span>", kind && !strcmp(kind, "reminder") ? "Nhắc"
			     : kind && !strcmp(kind, "overdue") ? "Báo quá hạn" : "Báo cấp trên", at, js(o, "step"));
			return;
		}
	}
	hput(b, "%s", reply_ok(sched) ? "Không còn bước nhắc nào gửi đơn vị nhận" : "Không xem được lịch nhắc");
}

/* contacts_of - the full unit objects of the units in list (objects with "unit"), by
 * code: one units.show per 1000 units, so a page's calls stay few however many are missing */
static json_t *contacts_of(struct web_req *r, json_t *list)
{
	json_t *byunit = json_object();
	size_t i = 0, n = json_array_size(list);

	while (i < n) {
		json_t *codes = json_array(), *reply, *u;
		size_t k;

		for (; i < n && json_array_size(codes) < UNITS_PER_CALL; i++)
			if (js(json_array_get(list, i), "unit"))
				json_array_append_new(codes, json_string(js(json_array_get(list, i), "unit")));
		if (!json_array_size(codes)) {
			json_decref(codes);
			continue;
		}
		reply = web_call(r, json_pack("{s:s,s:o}", "op", OP_UNITS_SHOW, "codes", codes));
		json_array_foreach(json_object_get(reply, "units"), k, u)
			json_object_set(byunit, js(u, "code"), u);
		json_decref(reply);
	}
	return byunit;
}

static void contacts(struct buf *b, const json_t *u)
{
	json_t *v;
	size_t i, n = 0;

	if (!u) {
		hput(b, "Không xem được liên hệ");
		return;
	}
	json_array_foreach(json_object_get(u, "emails"), i, v) {
		hput(b, "%R<a href=\"mailto:%s\">%s</a>", n++ ? ", " : "", json_string_value(v), json_string_value(v));
	}
	json_array_foreach(json_object_get(u, "chats"), i, v)
		hput(b, "%RZalo: %s", n++ ? ", " : "", json_string_value(v));
	if (!n)
		hput(b, "Chưa khai báo");
}

static void review_form(struct web_req *r, struct buf *b, const json_t *o, size_t idx, const struct sel *s,
			const char *under, const struct review_err *err);

static void missing_list(struct web_req *r, struct buf *b, json_t *c, const struct sel *s, const char *receiver,
			 const struct review_err *err)
{
	const char *report = s->report, *period = s->period;
	json_t *m = json_object_get(c, "missing"), *o, *sched, *units;
	size_t i;

	hput(b, "<h2 id=\"con-thieu\">Đơn vị chưa nộp (%zu)</h2>\n", json_array_size(m));
	if (!json_array_size(m)) {
		hput(b, "<p class=\"empty\">Tất cả đơn vị đã nộp.</p>\n");
		return;
	}
	sched = web_call(r, json_pack("{s:s,s:s}", "op", OP_SCHEDULE, "unit", receiver ? receiver : ""));
	units = contacts_of(r, m);
	hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Đơn vị</th><th scope=\"col\">Tình trạng</th>"
		"<th scope=\"col\">Liên hệ</th><th scope=\"col\">Lần nhắc tới</th><th scope=\"col\">Miễn nộp</th></tr></thead><tbody>\n");
	json_array_foreach(m, i, o) {
		int mine = err && err->unit && !strcmp(err->unit, js(o, "unit"));

		hput(b, "<tr class=\"st-%s\"><td data-label=\"Đơn vị\">%s <span class=\"code\">%s</span></td>"
			"<td data-label=\"Tình trạng\"><span class=\"state\">%s</span></td><td data-label=\"Liên hệ\">",
		     js(o, "state"), js(o, "name"), js(o, "unit"), state_text_vi(js(o, "state")));
		contacts(b, json_object_get(units, js(o, "unit")));
		hput(b, "</td><td data-label=\"Lần nhắc tới\">");
		next_step(b, sched, js(o, "unit"), report, period);
		hput(b, "</td><td data-label=\"Miễn nộp\"><details class=\"more\"%R><summary>Miễn nộp cho đơn vị này</summary>",
		     mine ? " open" : "");
		review_form(r, b, o, 1000 + i, s, s->under, err);
		hput(b, "</details></td></tr>\n");
	}
	hput(b, "</tbody></table>\n");
	json_decref(units);
	json_decref(sched);
}

/* files - the files of a receipt (its obligation row's files), each a link through the daemon */
static void files(struct buf *b, const char *number, const json_t *list)
{
	json_t *f;
	size_t i;

	hput(b, "<ul class=\"files\">");
	json_array_foreach(list, i, f) {
		char size[64];

		size_text((uint64_t)ji(f, "size"), size, sizeof(size));
		hput(b, "<li><a href=\"/tep/%u/%u\">%s</a> <span class=\"code\">%s</span></li>", number, js(f, "sha256"),
		     js(f, "name"), size);
	}
	hput(b, "</ul>");
}

static void review_form(struct web_req *r, struct buf *b, const json_t *o, size_t idx, const struct sel *s,
			const char *under, const struct review_err *err)
{
	const char *state = js(o, "state"), *unit = js(o, "unit");
	int mine = err && err->unit && !strcmp(err->unit, unit);
	int can_accept = !strcmp(state, "submitted");
	int can_return = can_accept || !strcmp(state, "accepted");
	int can_waive = !strcmp(state, "open") || !strcmp(state, "submitted") || !strcmp(state, "returned") ||
			!strcmp(state, "missing");

	if (!can_accept && !can_return && !can_waive) {
		hput(b, "—");
		return;
	}
	hput(b, "<form method=\"post\" action=\"/tong-hop/xet\" class=\"review\">");
	hidden_csrf(r, b);
	hput(b, "<input type=\"hidden\" name=\"don_vi\" value=\"%s\"><input type=\"hidden\" name=\"bc\" value=\"%s\">"
		"<input type=\"hidden\" name=\"ky\" value=\"%s\"><input type=\"hidden\" name=\"dv\" value=\"%s\">"
		"<div class=\"field%R\"><label for=\"ly-do-%zu\">Lý do (bắt buộc khi trả lại hoặc miễn nộp)</label>"
		"<textarea id=\"ly-do-%zu\" name=\"ly_do\" rows=\"2\" maxlength=\"10000\"%R>%s</textarea>",
	     unit, s->report, s->period, under ? under : "", mine ? " has-error" : "", idx, idx,
	     mine ? " aria-describedby=\"loi-xet\" aria-invalid=\"true\"" : "", mine && err->reason ? err->reason : "");
	if (mine) {
		hput(b, "<p class=\"field-error\" id=\"loi-xet\" role=\"alert\">%s", err->text);
		if (err->detail && *err->detail)
			hput(b, " <span class=\"detail\">%s</span>", err->detail);
		hput(b, "</p>");
	}
	hput(b, "</div><div class=\"actions\">");
	if (can_accept)
		hput(b, "<button type=\"submit\" name=\"hanh_dong\" value=\"accept\">Chấp nhận</button> ");
	if (can_return)
		hput(b, "<button type=\"submit\" name=\"hanh_dong\" value=\"return\" class=\"warn\">Trả lại</button> ");
	if (can_waive)
		hput(b, "<button type=\"submit\" name=\"hanh_dong\" value=\"waive\" class=\"secondary\">Miễn nộp</button>");
	hput(b, "</div></form>");
}

static void obligations(struct web_req *r, struct buf *b, const struct sel *s, const char *under,
			const struct review_err *err)
{
	json_t *reply = web_call(r, json_pack("{s:s,s:s,s:s,s:s,s:b}", "op", OP_OBLIGATIONS_LIST, "under", under, "report",
					      s->report, "period", s->period, "with_files", 1)), *o;
	size_t i, header = 0;

	hput(b, "<h2 id=\"xet\">Báo cáo đã nhận và xét duyệt</h2>\n");
	/* those never sent are in the list of units missing (with their waiver) */
	if (!reply_ok(reply)) {
		hput(b, "<p class=\"flash error\" role=\"alert\">%s</p>\n",
		     err_text_vi(reply_code(reply)) ? err_text_vi(reply_code(reply)) : reply_message(reply));
		json_decref(reply);
		return;
	}
	json_array_foreach(json_object_get(reply, "obligations"), i, o) {
		const char *receipt = js(o, "receipt"), *reason = js(o, "reason");
		char at[32];

		if (!receipt)
			continue;
		if (!header++)
			hput(b, "<table class=\"list obligations\"><thead><tr><th scope=\"col\">Đơn vị</th><th scope=\"col\">Tình trạng</th>"
				"<th scope=\"col\">Lần nộp</th><th scope=\"col\">Tệp</th><th scope=\"col\">Xét duyệt</th></tr></thead><tbody>\n");

		hput(b, "<tr class=\"st-%s\"><td data-label=\"Đơn vị\">%s <span class=\"code\">%s</span></td>"
			"<td data-label=\"Tình trạng\"><span class=\"state\">%s</span>",
		     js(o, "state"), js(o, "unit_name"), js(o, "unit"), state_text_vi(js(o, "state")));
		if (reason)
			hput(b, "<div class=\"returned\"><strong>Lý do:</strong> %s</div>", reason);
		hput(b, "</td><td data-label=\"Lần nộp\">");
		if (receipt) {
			time_text(js(o, "submitted_at"), at, sizeof(at));
			hput(b, "<a href=\"/bien-nhan/%u\">%s</a><br>lần %lld, %s<br><span class=\"%R\">%R</span>", receipt,
			     receipt, ji(o, "version"), at, json_is_true(json_object_get(o, "on_time")) ? "ontime" : "late",
			     json_is_true(json_object_get(o, "on_time")) ? "Đúng hạn" : "Muộn");
		} else {
			hput(b, "Chưa nộp");
		}
		hput(b, "</td><td data-label=\"Tệp\">");
		if (receipt)
			files(b, receipt, json_object_get(o, "files"));
		hput(b, "</td><td data-label=\"Xét duyệt\">");
		review_form(r, b, o, i, s, s->under, err);
		hput(b, "</td></tr>\n");
	}
	if (header)
		hput(b, "</tbody></table>\n");
	else
		hput(b, "<p class=\"empty\">Chưa đơn vị nào nộp báo cáo này.</p>\n");
	json_decref(reply);
}

static const char *receiver_of(const struct sel *s)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(s->reports, "reports"), i, o)
		if (!strcmp(js(o, "code"), s->report))
			return js(o, "receiver");
	return NULL;
}

/* office_page - the whole page for a selection; err: a refused review to show */
static void office_page(struct web_req *r, struct web_resp *w, const char *qr, const char *qp, const char *qu,
			const struct review_err *err)
{
	struct buf *b = &w->body;
	struct sel s;
	json_t *fail = NULL, *c = NULL;
	char due[32], named[512];
	const char *under;

	if (select_report(r, qr, qp, qu, &s, &fail) != 0) {
		page_daemon_error(r, w, fail);
		goto out;
	}
	if (s.report && s.period) {
		json_t *req = json_pack("{s:s,s:s,s:s}", "op", OP_COMPLETENESS, "report", s.report, "period", s.period);

		if (s.under)
			json_object_set_new(req, "under", json_string(s.under));
		c = web_call(r, req);
		if (!reply_ok(c)) {
			page_daemon_error(r, w, c);
			goto out;
		}
	}
	page_begin(r, w, "Tổng hợp");
	hput(b, "<h1>Tổng hợp tình hình nộp báo cáo</h1>\n");
	under = c ? js(c, "under") : NULL;
	selector(r, b, &s, s.under ? s.under : under);
	if (!c) {
		hput(b, "<p class=\"empty\">Chưa có kỳ báo cáo nào đang mở.</p>\n");
		page_end(w);
		goto out;
	}
	time_text(js(c, "due_at"), due, sizeof(due));
	report_period_text(js(c, "report_name"), 0, js(c, "period"), named, sizeof(named));
	hput(b, "<p class=\"sub\">%s (%s), hạn nộp %s; các đơn vị thuộc <span class=\"code\">%s</span>. "
		"<a href=\"/tong-hop.csv?bc=%u&amp;ky=%u&amp;dv=%u\" download>Tải bảng (CSV cho Excel)</a></p>\n",
	     named, js(c, "report"), due, under, s.report, s.period, under);
	if (err && !err->unit)
		hput(b, "<p class=\"flash error\" role=\"alert\">%s <span class=\"detail\">%s</span></p>\n", err->text,
		     err->detail ? err->detail : "");
	hput(b, "<div class=\"office-grid\">");
	chart(b, json_object_get(c, "rows"));
	counts_table(b, c);
	hput(b, "</div>\n");
	s.under = under;
	missing_list(r, b, c, &s, receiver_of(&s), err);
	obligations(r, b, &s, under, err);
	page_end(w);
out:
	json_decref(fail);
	json_decref(c);
	sel_free(&s);
}

void page_office(struct web_req *r, struct web_resp *w)
{
	office_page(r, w, query_get(r, "bc"), query_get(r, "ky"), query_get(r, "dv"), NULL);
}

void page_office_review(struct web_req *r, struct web_resp *w)
{
	const char *unit = form_get(r, "don_vi"), *report = form_get(r, "bc"), *period = form_get(r, "ky");
	const char *under = form_get(r, "dv"), *action = form_get(r, "hanh_dong"), *reason = form_get(r, "ly_do");
	const char *op = NULL, *tb = NULL;
	struct review_err err = { unit, NULL, NULL, reason };
	json_t *req, *reply = NULL;

	if (action && !strcmp(action, "accept"))
		op = OP_REPORT_ACCEPT, tb = "da-chap-nhan";
	else if (action && !strcmp(action, "return"))
		op = OP_REPORT_RETURN, tb = "da-tra-lai";
	else if (action && !strcmp(action, "waive"))
		op = OP_REPORT_WAIVE, tb = "da-mien";
	if (!unit || !report || !period || !op) {
		page_error(r, w, 400, "Tổng hợp", "Biểu mẫu xét duyệt thiếu thông tin (đơn vị, báo cáo, kỳ hoặc thao tác).");
		return;
	}
	if (strcmp(op, OP_REPORT_ACCEPT) && (!reason || !*reason)) {
		err.text = !strcmp(op, OP_REPORT_RETURN) ? "Hãy ghi lý do trả lại: đơn vị sẽ đọc lý do này để sửa báo cáo."
						       : "Hãy ghi lý do miễn nộp.";
		w->status = 400;
		office_page(r, w, report, period, under, &err);
		return;
	}
	req = json_pack("{s:s,s:s,s:s,s:s}", "op", op, "unit", unit, "report", report, "period", period);
	if (reason && *reason)
		json_object_set_new(req, "reason", json_string(reason));
	reply = web_call(r, req);
	if (reply_ok(reply)) {
		struct buf lb = { 0 };

		hput(&lb, "/tong-hop?bc=%u&ky=%u&dv=%u&tb=%u#xet", report, period, under ? under : "", tb);
		redirect(w, lb.p);
		free(lb.p);
	} else {
		const char *code = reply_code(reply);

		err.text = !strcmp(code, "bad_state") ? "Tình trạng báo cáo hiện tại không cho phép thao tác này."
			   : !strcmp(code, "reason_required") ? "Hãy ghi lý do."
			   : err_text_vi(code) ? err_text_vi(code) : "Máy chủ không thực hiện được.";
		err.detail = reply_message(reply);
		w->status = !strcmp(code, "forbidden") || !strcmp(code, "not_permitted") ? 403 : 400;
		office_page(r, w, report, period, under, &err);
	}
	json_decref(reply);
}

void page_office_csv(struct web_req *r, struct web_resp *w)
{
	struct sel s;
	json_t *fail = NULL, *c = NULL, *row, *req;
	struct csvout out = { NULL, 0, ';' };
	char *text = NULL;
	size_t len = 0, i;
	char name[200];

	if (select_report(r, query_get(r, "bc"), query_get(r, "ky"), query_get(r, "dv"), &s, &fail) != 0) {
		page_daemon_error(r, w, fail);
		goto out;
	}
	if (!s.report || !s.period) {
		page_error(r, w, 404, "Tổng hợp", "Chưa có kỳ báo cáo nào đang mở.");
		goto out;
	}
	req = json_pack("{s:s,s:s,s:s}", "op", OP_COMPLETENESS, "report", s.report, "period", s.period);
	if (s.under)
		json_object_set_new(req, "under", json_string(s.under));
	c = web_call(r, req);
	if (!reply_ok(c)) {
		page_daemon_error(r, w, c);
		goto out;
	}
	out.fp = open_memstream(&text, &len);
	if (!out.fp) {
		page_error(r, w, 500, "Tổng hợp", "Không tạo được tệp CSV.");
		goto out;
	}
	fputs("\xEF\xBB\xBF", out.fp);
	{
		static const char *head[] = { "Mã đơn vị", "Đơn vị", "Phải nộp", "Đúng hạn", "Muộn", "Chưa nộp", "Bị trả lại",
					      "Được miễn", "Đã chấp nhận", "Tỷ lệ đã nộp (%)", "Tỷ lệ đúng hạn (%)" };

		for (size_t k = 0; k < sizeof(head) / sizeof(head[0]); k++)
			csvout_field(&out, head[k]);
		csvout_end(&out);
	}
	for (i = 0; i <= json_array_size(json_object_get(c, "rows")); i++) {
		static const char *keys[] = { "expected", "on_time", "late", "missing", "returned", "waived", "accepted" };
		int total = i == json_array_size(json_object_get(c, "rows"));
		char num[32];

		row = total ? json_object_get(c, "total") : json_array_get(json_object_get(c, "rows"), i);
		csvout_excel_field(&out, total ? "" : js(row, "unit"));
		csvout_excel_field(&out, total ? "Tổng cộng" : js(row, "name") ? js(row, "name") : js(row, "unit"));
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			snprintf(num, sizeof(num), "%lld", ji(row, keys[k]));
			csvout_field(&out, num);
		}
		pct(num, sizeof(num), json_number_value(json_object_get(row, "submitted_pct")));
		csvout_field(&out, num);
		pct(num, sizeof(num), json_number_value(json_object_get(row, "on_time_pct")));
		csvout_field(&out, num);
		csvout_end(&out);
	}
	fclose(out.fp);
	buf_put(&w->body, text, len);
	free(text);
	w->content_type = "text/csv; charset=utf-8";
	snprintf(name, sizeof(name), "attachment; filename=\"tong-hop.csv\"");
	w->disposition = xstrdup(name);
out:
	json_decref(fail);
	json_decref(c);
	sel_free(&s);
}
