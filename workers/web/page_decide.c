/*
 * page_decide.c - "Xét duyệt", the decider's page: the proposals waiting at the stage of
 * the principal's unit (proposals.list with stage = the unit, and the programme and year
 * of the filter form: ?ct=PROGRAMME&nam=YEAR), each with its dossier files, scores and
 * history, all from one proposals.list with with_dossier (the daemon counts each request
 * against its per-principal rate, so the page asks once, not once per proposal): 50 a
 * page, the next page by ?sau=LAST_ID; one decision (approve, return, reject, with
 * a reason and, for a last stage's approval, a decision number) for the proposals ticked,
 * each sent as its own proposal.decide, and a report saying what happened to each.
 *
 * The daemon decides who may: a principal without the stage's role gets not_permitted
 * for each proposal, shown in the report. The gateway checks only what a person forgot
 * (nothing ticked, no action, no reason for a return or rejection, no decision number for
 * a last stage) and puts it next to the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "web.h"
#include "web_util.h"

#define MAX_BATCH 25		/* proposals decided per submission: the daemon limits requests a second */

struct decide_form {
	const char *action, *reason, *decision_no, *decision_date;
	const char *err_pick, *err_action, *err_reason, *err_no;	/* next to their fields */
	struct buf results;	/* the report, HTML */
	int done, failed;
};

static const char *js(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long ji(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void field_error(struct buf *b, const char *id, const char *text)
{
	if (text)
		hput(b, "<p class=\"field-error\" id=\"%s\" role=\"alert\">%s</p>", id, text);
}

/* number_arg - a query value as a whole number from min to max: 0 when absent or empty, -1 when not */
static long long number_arg(const char *v, long long min, long long max)
{
	char *end;
	long long n;

	if (!v || !*v)
		return 0;
	n = strtoll(v, &end, 10);
	return *end || n < min || n > max ? -1 : n;
}

/* pager - links to the first page and to the proposals after the last one shown, with
 * the same filter; nothing when all of them are on this page */
static void pager(struct buf *b, const char *ct, const char *nam, json_t *list, long long after)
{
	json_t *rows = json_object_get(list, "proposals");
	int more = json_is_true(json_object_get(list, "more"));
	char last[32];

	if (!more && !after)
		return;
	snprintf(last, sizeof(last), "%lld", ji(json_array_get(rows, json_array_size(rows) - 1), "id"));
	hput(b, "<nav class=\"pager\" aria-label=\"Trang\">");
	if (after)
		hput(b, "<a href=\"/xet-duyet?ct=%u&amp;nam=%u\" rel=\"first\">« Về đầu danh sách</a>", ct ? ct : "", nam ? nam : "");
	if (after && more)
		hput(b, " · ");
	if (more)
		hput(b, "<a href=\"/xet-duyet?ct=%u&amp;nam=%u&amp;sau=%u\" rel=\"next\">Các hồ sơ tiếp theo »</a>",
		     ct ? ct : "", nam ? nam : "", last);
	hput(b, "</nav>\n");
}

static void decide_page(struct web_req *r, struct web_resp *w, struct decide_form *f, long long *picked, size_t npicked)
{
	struct buf *b = &w->body;
	json_t *list, *o, *req;
	size_t i;
	const char *action = f ? f->action : NULL;
	const char *ct = r->conn ? query_get(r, "ct") : NULL, *nam = r->conn ? query_get(r, "nam") : NULL;
	long long year = number_arg(nam, 1900, 9999), after = number_arg(r->conn ? query_get(r, "sau") : NULL, 1, INT64_MAX);

	if (!r->me.unit) {
		page_error(r, w, 400, "Xét duyệt", "Tài khoản của bạn không thuộc đơn vị nào.");
		return;
	}
	if (year < 0 || after < 0) {
		page_error(r, w, 400, "Xét duyệt", year < 0 ? "Năm phải là một số, ví dụ 2024."
				  : "Địa chỉ trang không đúng; hãy mở lại trang Xét duyệt.");
		return;
	}
	req = json_pack("{s:s,s:s,s:b}", "op", OP_PROPOSALS_LIST, "stage", r->me.unit, "with_dossier", 1);
	if (ct && *ct)
		json_object_set_new(req, "programme", json_string(ct));
	if (year)
		json_object_set_new(req, "year", json_integer(year));
	if (after)
		json_object_set_new(req, "after", json_integer(after));
	list = web_call(r, req);
	if (!reply_ok(list)) {
		page_daemon_error(r, w, list);
		json_decref(list);
		return;
	}
	page_begin(r, w, "Xét duyệt");
	hput(b, "<h1>Hồ sơ đề nghị chờ xét duyệt</h1>\n<p class=\"sub\">Các hồ sơ đang chờ %s quyết định</p>\n",
	     r->me.unit_name ? r->me.unit_name : r->me.unit);
	if (f && f->results.len)
		hput(b, "<section class=\"results\" aria-labelledby=\"kq\"><h2 id=\"kq\">Kết quả: %d hồ sơ đã xử lý, %d không thực hiện được</h2>"
			"<table class=\"list\"><thead><tr><th scope=\"col\">Hồ sơ</th><th scope=\"col\">Kết quả</th></tr></thead>"
			"<tbody>%R</tbody></table></section>\n", f->done, f->failed, f->results.p);
	hput(b, "<form method=\"get\" action=\"/xet-duyet\" class=\"selector\"><div class=\"field\"><label for=\"ct\">"
		"Mã danh hiệu (để trống: tất cả)</label><input id=\"ct\" name=\"ct\" type=\"text\" value=\"%s\"></div>"
		"<div class=\"field\"><label for=\"nam\">Năm</label><input id=\"nam\" name=\"nam\" type=\"number\" value=\"%s\"></div>"
		"<div class=\"field\"><button type=\"submit\">Lọc</button></div></form>\n", ct ? ct : "", nam ? nam : "");
	if (!json_array_size(json_object_get(list, "proposals"))) {
		hput(b, "<p class=\"empty\">Không có hồ sơ nào%R đang chờ đơn vị xét duyệt.</p>\n", after ? " tiếp theo" : "");
		pager(b, ct, nam, list, after);
		page_end(w);
		json_decref(list);
		return;
	}
	hput(b, "<form method=\"post\" action=\"/xet-duyet\">");
	hidden_csrf(r, b);
	hput(b, "<fieldset%R><legend>Chọn hồ sơ</legend>", f && f->err_pick ? " class=\"has-error\"" : "");
	if (f)
		field_error(b, "loi-chon", f->err_pick);
	json_array_foreach(json_object_get(list, "proposals"), i, o) {
		long long id = ji(o, "id");
		int was = 0;
		char due[32];
		json_t *a = json_object_get(o, "assessment");

		for (size_t k = 0; k < npicked; k++)
			was |= picked[k] == id;
		time_text(js(o, "due_at"), due, sizeof(due));
		hput(b, "<article class=\"proposal\"><h2 class=\"pick\"><input type=\"checkbox\" name=\"ho_so\" id=\"hs-%lld\" value=\"%lld\"%R>"
			"<label for=\"hs-%lld\">Hồ sơ số %lld: %s — %s năm %lld</label></h2>"
			"<dl class=\"facts\"><dt>Đơn vị đề nghị</dt><dd>%s</dd><dt>Đối tượng</dt><dd>%s</dd>"
			"<dt>Cấp xét</dt><dd>%lld / %lld</dd><dt>Hạn quyết định</dt><dd>%s%R</dd>",
		     id, id, was ? " checked" : "", id, id, js(o, "nominee_name"), js(o, "programme_name"), ji(o, "year"),
		     js(o, "proposer_name"), js(o, "nominee_name"), ji(o, "stage"), ji(o, "stages"), due,
		     json_is_true(json_object_get(o, "overdue")) ? " <span class=\"bad\">(quá hạn)</span>" : "");
		if (json_is_object(a)) {
			char total[32], max[32];

			snprintf(total, sizeof(total), "%g", json_number_value(json_object_get(a, "total")));
			snprintf(max, sizeof(max), "%g", json_number_value(json_object_get(a, "max")));
			hput(b, "<dt>Điểm</dt><dd>%s / %s — <span class=\"%R\">%R</span></dd>", total, max,
			     json_is_true(json_object_get(a, "passed")) ? "good" : "bad",
			     json_is_true(json_object_get(a, "passed")) ? "đạt" : "chưa đạt");
		}
		hput(b, "</dl><details class=\"more\"><summary>Hồ sơ, điểm và lịch sử</summary>");
		proposal_details(b, o);
		hput(b, "</details></article>\n");
	}
	hput(b, "</fieldset>\n<fieldset class=\"decision\"><legend>Quyết định cho các hồ sơ đã chọn</legend>"
		"<div class=\"field choices%R\" role=\"radiogroup\" aria-label=\"Thao tác\">",
	     f && f->err_action ? " has-error" : "");
	{
		static const struct { const char *v, *label; } acts[] = {
			{ "approve", "Phê duyệt" }, { "return", "Trả lại để sửa" }, { "reject", "Từ chối" },
		};

		for (size_t k = 0; k < 3; k++)
			hput(b, "<label for=\"hd-%s\"><input type=\"radio\" name=\"hanh_dong\" id=\"hd-%s\" value=\"%s\"%R> %s</label>",
			     acts[k].v, acts[k].v, acts[k].v, action && !strcmp(action, acts[k].v) ? " checked" : "",
			     acts[k].label);
	}
	if (f)
		field_error(b, "loi-hanh-dong", f->err_action);
	hput(b, "</div><div class=\"field%R\"><label for=\"ly_do\">Lý do (bắt buộc khi trả lại hoặc từ chối)</label>"
		"<textarea id=\"ly_do\" name=\"ly_do\" rows=\"3\" maxlength=\"10000\" aria-describedby=\"loi-ly-do\">%s</textarea>",
	     f && f->err_reason ? " has-error" : "", f && f->reason ? f->reason : "");
	if (f)
		field_error(b, "loi-ly-do", f->err_reason);
	hput(b, "</div><div class=\"field%R\"><label for=\"so_qd\">Số quyết định (khi phê duyệt ở cấp cuối, ví dụ 15/QĐ-UBND)</label>"
		"<input id=\"so_qd\" name=\"so_qd\" type=\"text\" value=\"%s\" aria-describedby=\"loi-so-qd\">",
	     f && f->err_no ? " has-error" : "", f && f->decision_no ? f->decision_no : "");
	if (f)
		field_error(b, "loi-so-qd", f->err_no);
	hput(b, "</div><div class=\"field\"><label for=\"ngay_qd\">Ngày quyết định (để trống: hôm nay)</label>"
		"<input id=\"ngay_qd\" name=\"ngay_qd\" type=\"date\" value=\"%s\"></div>"
		"<p><button type=\"submit\">Thực hiện cho các hồ sơ đã chọn</button></p></fieldset></form>\n",
	     f && f->decision_date ? f->decision_date : "");
	pager(b, ct, nam, list, after);
	page_end(w);
	json_decref(list);
}

void page_decide(struct web_req *r, struct web_resp *w)
{
	decide_page(r, w, NULL, NULL, 0);
}

/* the stage and stage count of proposal id in list, or 0 */
static int last_stage(json_t *list, long long id)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(list, "proposals"), i, o)
		if (ji(o, "id") == id)
			return ji(o, "stage") == ji(o, "stages");
	return 0;
}

void page_decide_post(struct web_req *r, struct web_resp *w)
{
	struct decide_form f = { 0 };
	long long picked[WEB_MAX_FIELDS];
	size_t n = 0;
	json_t *list = NULL;
	int any_last = 0, all_forbidden = 1;

	f.action = form_get(r, "hanh_dong");
	f.reason = form_get(r, "ly_do");
	f.decision_no = form_get(r, "so_qd");
	f.decision_date = form_get(r, "ngay_qd");
	for (size_t i = 0; i < r->nfields; i++) {
		char *end;
		long long id;

		if (strcmp(r->fields[i].name, "ho_so") || !r->fields[i].value.p)
			continue;
		id = strtoll(r->fields[i].value.p, &end, 10);
		if (*end || id < 1)
			continue;
		picked[n++] = id;
	}
	if (!n)
		f.err_pick = "Hãy chọn ít nhất một hồ sơ.";
	else if (n > MAX_BATCH)
		f.err_pick = "Mỗi lần chỉ xử lý tối đa 25 hồ sơ; hãy bỏ chọn bớt.";
	if (!f.action || (strcmp(f.action, "approve") && strcmp(f.action, "return") && strcmp(f.action, "reject")))
		f.err_action = "Hãy chọn phê duyệt, trả lại hoặc từ chối.";
	else if (strcmp(f.action, "approve") && (!f.reason || !*f.reason))
		f.err_reason = !strcmp(f.action, "return") ? "Hãy ghi lý do trả lại: đơn vị đề nghị sẽ sửa hồ sơ theo lý do này."
							   : "Hãy ghi lý do từ chối.";
	if (!f.err_pick && !f.err_action && !strcmp(f.action, "approve")) {
		list = web_call(r, json_pack("{s:s,s:s}", "op", OP_PROPOSALS_LIST, "stage", r->me.unit ? r->me.unit : ""));
		for (size_t k = 0; k < n; k++)
			any_last |= last_stage(list, picked[k]);
		if (any_last && (!f.decision_no || !*f.decision_no))
			f.err_no = "Phê duyệt ở cấp cuối cần số quyết định.";
	}
	if (f.err_pick || f.err_action || f.err_reason || f.err_no) {
		w->status = 400;
		decide_page(r, w, &f, picked, n);
		json_decref(list);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		json_t *req = json_pack("{s:s,s:I,s:s}", "op", OP_PROPOSAL_DECIDE, "proposal", (json_int_t)picked[k], "action",
					f.action), *reply, *p;

		if (f.reason && *f.reason)
			json_object_set_new(req, "reason", json_string(f.reason));
		if (!strcmp(f.action, "approve") && last_stage(list, picked[k]) && f.decision_no && *f.decision_no)
			json_object_set_new(req, "decision_no", json_string(f.decision_no));
		if (!strcmp(f.action, "approve") && last_stage(list, picked[k]) && f.decision_date && *f.decision_date)
			json_object_set_new(req, "decision_date", json_string(f.decision_date));
		reply = web_call(r, req);
		p = json_object_get(reply, "proposal");
		if (reply_ok(reply)) {
			f.done++;
			all_forbidden = 0;
			hput(&f.results, "<tr><td data-label=\"Hồ sơ\">Số %lld: %s</td><td data-label=\"Kết quả\"><span class=\"ok\">%s</span>"
				" — tình trạng mới: %s</td></tr>", picked[k], js(p, "nominee_name"),
			     !strcmp(f.action, "approve") ? "Đã phê duyệt" : !strcmp(f.action, "return") ? "Đã trả lại" : "Đã từ chối",
			     proposal_state_vi(js(p, "state")));
		} else {
			const char *code = reply_code(reply), *vi = err_text_vi(code);

			f.failed++;
			if (strcmp(code, ERR_NOT_PERMITTED) && strcmp(code, ERR_FORBIDDEN))
				all_forbidden = 0;
			hput(&f.results, "<tr><td data-label=\"Hồ sơ\">Số %lld</td><td data-label=\"Kết quả\"><span class=\"fail\">"
				"Không thực hiện được:</span> %s <span class=\"detail\">%s</span></td></tr>", picked[k],
			     vi ? vi : "Máy chủ từ chối.", reply_message(reply));
		}
		json_decref(reply);
	}
	if (f.failed)
		w->status = all_forbidden ? 403 : 400;
	decide_page(r, w, &f, NULL, 0);
	free(f.results.p);
	json_decref(list);
}
