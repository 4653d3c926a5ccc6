/*
 * page_calendar.c - "Lịch", the calendar month for everyone (calendar.show): working
 * days, days off, make-up working days, the configured days not yet officially announced
 * marked, and the deadlines falling in the month (deadlines: the due date in force, and
 * why it moved); links to the month before and after. And "Lịch nhắc", a unit's schedule
 * of reminders (schedule): what the deadline engine will send about the unit's own
 * obligations, what will reach it about other units, what is queued for it now; with the
 * unit's contacts (units.show).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "web.h"
#include "web_util.h"

static const char *js(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* month_ok - "YYYY-MM" */
static int month_ok(const char *m, int *y, int *mo)
{
	char tail;

	return m && strlen(m) == 7 && sscanf(m, "%4d-%2d%c", y, mo, &tail) == 2 && *y >= 1900 && *y <= 9999 && *mo >= 1 &&
	       *mo <= 12 && m[4] == '-';
}

static int weekday_index(const char *wd)
{
	static const char *days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

	for (int i = 0; i < 7; i++)
		if (wd && !strcmp(days[i], wd))
			return i;
	return 0;
}

/* deadlines_on - the deadlines whose effective date is day, as HTML lines */
static void deadlines_on(struct buf *b, json_t *dl, const char *day)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(dl, "deadlines"), i, o)
		if (js(o, "effective_date") && !strcmp(js(o, "effective_date"), day))
			hput(b, "<span class=\"deadline\">Hạn: %s %s</span>", js(o, "report"), js(o, "period"));
}

void page_calendar(struct web_req *r, struct web_resp *w)
{
	static const char *heads[] = { "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật" };
	struct buf *b = &w->body;
	const char *q = query_get(r, "thang");
	char month[32], prev[32], next[32];
	int y, mo, col = 0, listed = 0;
	json_t *cal, *dl, *o;
	size_t i;

	if (q && *q) {
		if (!month_ok(q, &y, &mo)) {
			page_error(r, w, 400, "Lịch", "Tháng phải viết dạng NNNN-TT, ví dụ 2024-11.");
			return;
		}
	} else {
		json_t *clock = web_call(r, json_pack("{s:s}", "op", OP_CLOCK_SHOW));
		const char *now = js(clock, "now");

		if (!now || sscanf(now, "%4d-%2d", &y, &mo) != 2)
			y = 2024, mo = 1;
		json_decref(clock);
	}
	snprintf(month, sizeof(month), "%04d-%02d", y, mo);
	snprintf(prev, sizeof(prev), "%04d-%02d", mo == 1 ? y - 1 : y, mo == 1 ? 12 : mo - 1);
	snprintf(next, sizeof(next), "%04d-%02d", mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1);
	cal = web_call(r, json_pack("{s:s,s:s}", "op", OP_CALENDAR_SHOW, "month", month));
	if (!reply_ok(cal)) {
		page_daemon_error(r, w, cal);
		json_decref(cal);
		return;
	}
	dl = web_call(r, json_pack("{s:s}", "op", OP_DEADLINES));
	page_begin(r, w, "Lịch");
	hput(b, "<h1>Lịch tháng %d/%d</h1>\n<nav class=\"months\" aria-label=\"Tháng\"><a href=\"/lich?thang=%s\" rel=\"prev\">« Tháng trước</a> · "
		"<a href=\"/lich?thang=%s\" rel=\"next\">Tháng sau »</a></nav>\n"
		"<p class=\"sub\">%lld ngày làm việc. <span class=\"legend\"><span class=\"off\">Ngày nghỉ lễ</span>"
		"<span class=\"makeup\">Ngày làm bù</span><span class=\"weekend\">Cuối tuần</span>"
		"<span class=\"unconfirmed\">Chưa công bố chính thức</span></span></p>\n",
	     mo, y, prev, next, (long long)json_integer_value(json_object_get(cal, "working_days")));
	hput(b, "<table class=\"month\"><thead><tr>");
	for (int k = 0; k < 7; k++)
		hput(b, "<th scope=\"col\">%s</th>", heads[k]);
	hput(b, "</tr></thead><tbody><tr>");
	json_array_foreach(json_object_get(cal, "days"), i, o) {
		const char *date = js(o, "date"), *why = js(o, "why"), *name = js(o, "name");
		int wd = weekday_index(js(o, "weekday"));
		int unconfirmed = json_is_false(json_object_get(o, "confirmed"));
		const char *cls = !why ? "" : !strcmp(why, "holiday") ? "off" : !strcmp(why, "weekend") ? "weekend" : "makeup";

		if (!i)
			for (; col < wd; col++)
				hput(b, "<td class=\"blank\"></td>");
		if (col == 7) {
			hput(b, "</tr><tr>");
			col = 0;
		}
		hput(b, "<td class=\"%R%R\" data-label=\"%s %s\"><span class=\"day\">%d</span>", cls,
		     unconfirmed ? " unconfirmed" : "", heads[wd], date ? date + 8 : "", atoi(date ? date + 8 : "0"));
		if (why && strcmp(why, "weekend"))
			hput(b, "<span class=\"what\">%s%s%R</span>", !strcmp(why, "holiday") ? "Nghỉ: " : "Làm bù: ",
			     name ? name : "", unconfirmed ? " (chưa công bố chính thức)" : "");
		deadlines_on(b, dl, date ? date : "");
		hput(b, "</td>");
		col++;
	}
	for (; col < 7; col++)
		hput(b, "<td class=\"blank\"></td>");
	hput(b, "</tr></tbody></table>\n<h2>Hạn nộp báo cáo trong tháng</h2>\n");
	json_array_foreach(json_object_get(dl, "deadlines"), i, o) {
		const char *eff = js(o, "effective_date");
		char due[32];

		if (!eff || strncmp(eff, month, 7))
			continue;
		if (!listed++)
			hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Hạn</th><th scope=\"col\">Báo cáo</th>"
				"<th scope=\"col\">Kỳ</th><th scope=\"col\">Ghi chú</th></tr></thead><tbody>\n");
		time_text(js(o, "due_at"), due, sizeof(due));
		hput(b, "<tr><td data-label=\"Hạn\">%s</td><td data-label=\"Báo cáo\">%s <span class=\"code\">%s</span></td>"
			"<td data-label=\"Kỳ\">%s</td><td data-label=\"Ghi chú\">%s</td></tr>\n", due, js(o, "report_name"),
		     js(o, "report"), js(o, "period"), js(o, "reason") ? js(o, "reason") : "");
	}
	if (listed)
		hput(b, "</tbody></table>\n");
	else
		hput(b, "<p class=\"empty\">Không có hạn nộp nào trong tháng.</p>\n");
	page_end(w);
	json_decref(cal);
	json_decref(dl);
}

static const char *kind_vi(const char *kind)
{
	return !kind ? "" : !strcmp(kind, "reminder") ? "Nhắc hạn" : !strcmp(kind, "overdue") ? "Báo quá hạn"
	       : !strcmp(kind, "escalation") ? "Báo cấp trên" : kind;
}

void page_reminders(struct web_req *r, struct web_resp *w)
{
	struct buf *b = &w->body;
	const char *unit = query_get(r, "dv");
	json_t *u, *sched, *o, *v;
	size_t i, k, n = 0;

	if (!unit || !*unit)
		unit = r->me.unit;
	if (!unit) {
		page_error(r, w, 400, "Lịch nhắc", "Tài khoản của bạn không thuộc đơn vị nào.");
		return;
	}
	u = web_call(r, json_pack("{s:s,s:s}", "op", OP_UNITS_SHOW, "code", unit));
	if (!reply_ok(u)) {
		page_daemon_error(r, w, u);
		json_decref(u);
		return;
	}
	sched = web_call(r, json_pack("{s:s,s:s}", "op", OP_SCHEDULE, "unit", unit));
	page_begin(r, w, "Lịch nhắc");
	hput(b, "<h1>Lịch nhắc của %s</h1>\n<dl class=\"facts\"><dt>Mã đơn vị</dt><dd>%s</dd><dt>Thư điện tử</dt><dd>",
	     js(json_object_get(u, "unit"), "name"), unit);
	json_array_foreach(json_object_get(json_object_get(u, "unit"), "emails"), i, v)
		hput(b, "%R<a href=\"mailto:%s\">%s</a>", n++ ? ", " : "", json_string_value(v), json_string_value(v));
	if (!n)
		hput(b, "Chưa khai báo");
	hput(b, "</dd><dt>Kênh nhắn tin</dt><dd>");
	n = 0;
	json_array_foreach(json_object_get(json_object_get(u, "unit"), "chats"), i, v)
		hput(b, "%R%s", n++ ? ", " : "", json_string_value(v));
	if (!n)
		hput(b, "Chưa khai báo");
	hput(b, "</dd></dl>\n");
	if (!reply_ok(sched)) {
		const char *vi = err_text_vi(reply_code(sched));

		hput(b, "<p class=\"flash error\" role=\"alert\">Không xem được lịch nhắc của đơn vị này: %s</p>\n",
		     vi ? vi : reply_message(sched));
		goto end;
	}
	hput(b, "<h2>Nhắc về báo cáo của đơn vị</h2>\n");
	if (!json_array_size(json_object_get(sched, "about")))
		hput(b, "<p class=\"empty\">Không còn lần nhắc nào sắp tới.</p>\n");
	else
		hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Thời điểm</th><th scope=\"col\">Loại</th>"
			"<th scope=\"col\">Báo cáo</th><th scope=\"col\">Hạn nộp</th><th scope=\"col\">Gửi tới</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(sched, "about"), i, o) {
		char at[32], due[32];

		time_text(js(o, "moment"), at, sizeof(at));
		time_text(js(o, "due_at"), due, sizeof(due));
		hput(b, "<tr><td data-label=\"Thời điểm\">%s</td><td data-label=\"Loại\">%s <span class=\"code\">%s</span></td>"
			"<td data-label=\"Báo cáo\">%s, kỳ %s</td><td data-label=\"Hạn nộp\">%s</td><td data-label=\"Gửi tới\">",
		     at, kind_vi(js(o, "kind")), js(o, "step"), js(o, "report_name"), js(o, "period"), due);
		json_array_foreach(json_object_get(o, "recipients"), k, v)
			hput(b, "%R%s", k ? ", " : "", js(v, "name"));
		hput(b, "</td></tr>\n");
	}
	if (json_array_size(json_object_get(sched, "about")))
		hput(b, "</tbody></table>\n");
	hput(b, "<h2>Thông báo về đơn vị khác sẽ gửi tới đơn vị</h2>\n");
	if (!json_array_size(json_object_get(sched, "to")))
		hput(b, "<p class=\"empty\">Không có.</p>\n");
	else
		hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Thời điểm</th><th scope=\"col\">Loại</th>"
			"<th scope=\"col\">Báo cáo</th><th scope=\"col\">Các đơn vị chậm nộp</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(sched, "to"), i, o) {
		char at[32];

		time_text(js(o, "moment"), at, sizeof(at));
		hput(b, "<tr><td data-label=\"Thời điểm\">%s</td><td data-label=\"Loại\">%s</td><td data-label=\"Báo cáo\">%s, kỳ %s</td>"
			"<td data-label=\"Các đơn vị chậm nộp\">%zu đơn vị</td></tr>\n", at, kind_vi(js(o, "kind")),
		     js(o, "report_name"), js(o, "period"), json_array_size(json_object_get(o, "about")));
	}
	if (json_array_size(json_object_get(sched, "to")))
		hput(b, "</tbody></table>\n");
	hput(b, "<h2>Đang chờ gửi</h2>\n");
	if (!json_array_size(json_object_get(sched, "pending")))
		hput(b, "<p class=\"empty\">Không có thông báo nào đang chờ gửi.</p>\n");
	json_array_foreach(json_object_get(sched, "pending"), i, o) {
		char at[32];

		time_text(js(o, "send_after"), at, sizeof(at));
		hput(b, "%R<li>%s %s kỳ %s — gửi từ %s%R%s</li>%R", i ? "" : "<ul>", kind_vi(js(o, "kind")), js(o, "report"),
		     js(o, "period"), at, js(o, "error") ? "; lỗi lần trước: " : "", js(o, "error") ? js(o, "error") : "",
		     i + 1 == json_array_size(json_object_get(sched, "pending")) ? "</ul>\n" : "");
	}
end:
	page_end(w);
	json_decref(u);
	json_decref(sched);
}
