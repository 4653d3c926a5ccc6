/*
 * page_todo.c - "Việc cần làm": the open obligations of the clerk's unit, with the due
 * date in force, the days left by the daemon's clock, the state, and for a returned
 * report the reason and the new due date. Accepted and waived ones are listed after.
 */
#include <stdio.h>
#include <string.h>

#include "pages.h"
#include "web.h"
#include "web_util.h"

/* row - one obligation */
static void row(struct web_req *r, struct buf *b, json_t *o, int32_t today, int have_today)
{
	const char *state = json_string_value(json_object_get(o, "state"));
	const char *due = json_string_value(json_object_get(o, "due_at"));
	const char *receipt = json_string_value(json_object_get(o, "receipt"));
	const char *reason = json_string_value(json_object_get(o, "reason"));
	char due_text[32], left[48];
	int can_submit = state && (!strcmp(state, "open") || !strcmp(state, "submitted") || !strcmp(state, "returned"));

	(void)r;
	time_text(due, due_text, sizeof(due_text));
	left[0] = 0;
	if (have_today && can_submit)
		days_left_text(today, due, left, sizeof(left));
	hput(b, "<tr class=\"st-%s\"><td data-label=\"Báo cáo\">%s <span class=\"code\">%s</span></td>"
		"<td data-label=\"Kỳ\">%s</td><td data-label=\"Hạn nộp\">%s",
	     state, json_string_value(json_object_get(o, "report_name")), json_string_value(json_object_get(o, "report")),
	     json_string_value(json_object_get(o, "period")), due_text);
	if (left[0])
		hput(b, "<br><span class=\"left\">%s</span>", left);
	hput(b, "</td><td data-label=\"Tình trạng\"><span class=\"state\">%s</span>", state_text_vi(state));
	if (state && !strcmp(state, "returned")) {
		hput(b, "<div class=\"returned\"><strong>Lý do trả lại:</strong> %s<br><strong>Hạn nộp lại:</strong> %s</div>",
		     reason ? reason : "", due_text);
	}
	hput(b, "</td><td data-label=\"Thao tác\">");
	if (can_submit)
		hput(b, "<a class=\"button\" href=\"/nop/%u/%u/%u\">%s</a> ", json_string_value(json_object_get(o, "unit")),
		     json_string_value(json_object_get(o, "report")), json_string_value(json_object_get(o, "period")),
		     state && !strcmp(state, "open") ? "Nộp báo cáo" : "Nộp bản mới");
	if (receipt)
		hput(b, "<a href=\"/bien-nhan/%u\">Biên nhận %s</a>", receipt, receipt);
	hput(b, "</td></tr>\n");
}

static void table(struct web_req *r, struct buf *b, json_t *list, int done, int32_t today, int have_today)
{
	size_t i, n = 0;
	json_t *o;

	json_array_foreach(list, i, o) {
		const char *s = json_string_value(json_object_get(o, "state"));
		int is_done = s && (!strcmp(s, "accepted") || !strcmp(s, "waived"));

		if (is_done != done)
			continue;
		if (!n++)
			hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Báo cáo</th><th scope=\"col\">Kỳ</th>"
				"<th scope=\"col\">Hạn nộp</th><th scope=\"col\">Tình trạng</th><th scope=\"col\">Thao tác</th>"
				"</tr></thead><tbody>\n");
		row(r, b, o, today, have_today);
	}
	if (n)
		hput(b, "</tbody></table>\n");
	else
		hput(b, "<p class=\"empty\">%s</p>\n", done ? "Chưa có báo cáo nào được chấp nhận hoặc miễn."
						      : "Đơn vị không còn báo cáo nào phải nộp.");
}

void page_todo(struct web_req *r, struct web_resp *w)
{
	json_t *reply;
	int32_t today = 0;
	int have_today;

	if (!r->me.unit) {
		page_error(r, w, 400, "Việc cần làm", "Tài khoản của bạn không thuộc đơn vị nào.");
		return;
	}
	have_today = daemon_today(r, &today) == 0;
	reply = web_call(r, json_pack("{s:s,s:s}", "op", OP_OBLIGATIONS_LIST, "unit", r->me.unit));
	if (!reply_ok(reply)) {
		page_daemon_error(r, w, reply);
		json_decref(reply);
		return;
	}
	page_begin(r, w, "Việc cần làm");
	hput(&w->body, "<h1>Việc cần làm</h1>\n<p class=\"sub\">Báo cáo %s phải nộp</p>\n",
	     r->me.unit_name ? r->me.unit_name : r->me.unit);
	table(r, &w->body, json_object_get(reply, "obligations"), 0, today, have_today);
	hput(&w->body, "<h2>Đã xong</h2>\n");
	table(r, &w->body, json_object_get(reply, "obligations"), 1, today, have_today);
	page_end(w);
	json_decref(reply);
}
