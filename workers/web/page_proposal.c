/*
 * page_proposal.c - "Đề nghị", the clerk's proposals: the unit's proposals
 * (proposals.list under the unit), the form creating one with its dossier files and its
 * self-assessment (proposal.create, multipart like the submission form, submitted at once
 * or kept a draft), one proposal with its path, files, scores and history
 * (proposal.show), and, when it is a draft or was returned, the form sending it
 * (proposal.submit, with corrected files, scores and a note).
 *
 * Scores are typed one criterion a line, "TC1 = 30" (or "TC2 = đạt"), as the daemon takes
 * them; its refusals (invalid_score, self_assessment_incomplete, a bad file name, ...)
 * are shown next to the field they are about.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "utf8.h"
#include "web.h"
#include "web_util.h"

struct prop_err {
	const char *top, *detail;	/* above the form */
	const char *files, *scores, *programme, *nominee, *year;	/* next to their fields */
};

static const char *js(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long ji(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void ferr(struct buf *b, const char *id, const char *text)
{
	if (text)
		hput(b, "<p class=\"field-error\" id=\"%s\" role=\"alert\">%s</p>", id, text);
}

/* parse_scores - "TC1 = 30" lines into an object; NULL (with *why) when a line is not one */
static json_t *parse_scores(const char *text, const char **why)
{
	json_t *o = json_object();
	const char *p = text;

	*why = NULL;
	while (p && *p) {
		const char *eol = p + strcspn(p, "\r\n"), *eq = memchr(p, '=', (size_t)(eol - p));
		char key[64], val[64];
		size_t kl, vl;
		const char *k = p, *v;

		if (eol == p) {
			p = eol + 1;
			continue;
		}
		if (!eq) {
			*why = "Mỗi dòng một tiêu chí, dạng: TC1 = 30";
			json_decref(o);
			return NULL;
		}
		while (k < eq && (*k == ' ' || *k == '\t'))
			k++;
		kl = (size_t)(eq - k);
		while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
			kl--;
		v = eq + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		vl = (size_t)(eol - v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (!kl || !vl || kl >= sizeof(key) || vl >= sizeof(val)) {
			*why = "Mỗi dòng một tiêu chí, dạng: TC1 = 30";
			json_decref(o);
			return NULL;
		}
		memcpy(key, k, kl);
		key[kl] = 0;
		memcpy(val, v, vl);
		val[vl] = 0;
		json_object_set_new(o, key, json_string(val));	/* the daemon reads "30", "8.5", "đạt" */
		p = *eol ? eol + 1 : eol;
	}
	return o;
}

/* dossier_names - the names of the uploads of field "tep" (a file input left empty sends
 * a part with no name and no bytes: skipped); NULL when there is none */
static json_t *dossier_names(struct web_req *r, const char **why)
{
	json_t *names = json_array();

	*why = NULL;
	for (size_t i = 0; i < r->nfiles; i++) {
		struct web_upload *u = &r->files[i];
		const char *bad;

		if (strcmp(u->field, "tep") || (!*u->filename && !u->size))
			continue;
		if ((bad = file_name_problem(u->filename)))
			*why = bad;
		else if (!u->size)
			*why = "tệp rỗng (0 byte); hãy chọn đúng tệp có nội dung";
		else if (u->too_big)
			*why = "tệp quá lớn";
		json_array_append_new(names, json_string(u->filename));
	}
	if (!json_array_size(names)) {
		json_decref(names);
		return NULL;
	}
	return names;
}

/* place_err - a daemon refusal of create or submit, next to its field */
static void place_err(struct prop_err *e, json_t *reply)
{
	const char *code = reply_code(reply), *vi = err_text_vi(code);

	e->detail = reply_message(reply);
	if (!strcmp(code, "invalid_file_name") || !strcmp(code, "empty_file") || !strcmp(code, "file_too_large"))
		e->files = vi;
	else if (!strcmp(code, "invalid_score") || !strcmp(code, "self_assessment_incomplete"))
		e->scores = vi;
	else if (!strcmp(code, "unknown_programme") || !strcmp(code, "not_a_proposer"))
		e->programme = vi;
	else if (!strcmp(code, "invalid_nominee") || !strcmp(code, "already_proposed") || !strcmp(code, "title_held"))
		e->nominee = vi;
	else
		e->top = vi ? vi : "Máy chủ không nhận hồ sơ.";
	if (!e->top)
		e->top = "Hồ sơ chưa được nhận; xem lỗi bên dưới.";
}

static void top_err(struct buf *b, const struct prop_err *e)
{
	if (!e || !e->top)
		return;
	hput(b, "<div class=\"flash error\" role=\"alert\"><p>%s</p>", e->top);
	if (e->detail && *e->detail)
		hput(b, "<p class=\"detail\">%s</p>", e->detail);
	hput(b, "</div>\n");
}

static void list_page(struct web_req *r, struct web_resp *w, const struct prop_err *e)
{
	struct buf *b = &w->body;
	json_t *list, *o;
	size_t i;
	const char *v;

	if (!r->me.unit) {
		page_error(r, w, 400, "Đề nghị", "Tài khoản của bạn không thuộc đơn vị nào.");
		return;
	}
	list = web_call(r, json_pack("{s:s,s:s}", "op", OP_PROPOSALS_LIST, "under", r->me.unit));
	if (!reply_ok(list)) {
		page_daemon_error(r, w, list);
		json_decref(list);
		return;
	}
	page_begin(r, w, "Đề nghị");
	hput(b, "<h1>Hồ sơ đề nghị của %s</h1>\n", r->me.unit_name ? r->me.unit_name : r->me.unit);
	if (!json_array_size(json_object_get(list, "proposals")))
		hput(b, "<p class=\"empty\">Đơn vị chưa có hồ sơ đề nghị nào.</p>\n");
	else
		hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Số</th><th scope=\"col\">Danh hiệu</th>"
			"<th scope=\"col\">Đối tượng</th><th scope=\"col\">Tình trạng</th><th scope=\"col\">Đang ở</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(list, "proposals"), i, o) {
		hput(b, "<tr><td data-label=\"Số\"><a href=\"/de-nghi/%lld\">%lld</a></td><td data-label=\"Danh hiệu\">%s %lld</td>"
			"<td data-label=\"Đối tượng\">%s</td><td data-label=\"Tình trạng\">%s", ji(o, "id"), ji(o, "id"),
		     js(o, "programme_name"), ji(o, "year"), js(o, "nominee_name"), proposal_state_vi(js(o, "state")));
		if (js(o, "reason"))
			hput(b, "<div class=\"returned\"><strong>Lý do:</strong> %s</div>", js(o, "reason"));
		hput(b, "</td><td data-label=\"Đang ở\">%s</td></tr>\n", js(o, "decider_name") ? js(o, "decider_name") : "—");
	}
	if (json_array_size(json_object_get(list, "proposals")))
		hput(b, "</tbody></table>\n");
	hput(b, "<h2 id=\"tao\">Tạo hồ sơ đề nghị</h2>\n");
	top_err(b, e);
	hput(b, "<form method=\"post\" enctype=\"multipart/form-data\" action=\"/de-nghi\">");
	hidden_csrf(r, b);
	v = form_get(r, "chuong_trinh");
	hput(b, "<div class=\"field%R\"><label for=\"chuong_trinh\">Mã danh hiệu (ví dụ GDHT: Gia đình học tập)</label>"
		"<input id=\"chuong_trinh\" name=\"chuong_trinh\" type=\"text\" required value=\"%s\" aria-describedby=\"loi-ct\">",
	     e && e->programme ? " has-error" : "", v ? v : "");
	ferr(b, "loi-ct", e ? e->programme : NULL);
	v = form_get(r, "nam");
	hput(b, "</div><div class=\"field%R\"><label for=\"nam\">Năm</label><input id=\"nam\" name=\"nam\" type=\"number\" "
		"required min=\"2000\" max=\"2100\" value=\"%s\" aria-describedby=\"loi-nam\">",
	     e && e->year ? " has-error" : "", v ? v : "");
	ferr(b, "loi-nam", e ? e->year : NULL);
	v = form_get(r, "doi_tuong");
	hput(b, "</div><div class=\"field%R\"><label for=\"doi_tuong\">Tên đối tượng (gia đình, dòng họ, cá nhân; để trống khi đề nghị "
		"chính đơn vị)</label><input id=\"doi_tuong\" name=\"doi_tuong\" type=\"text\" value=\"%s\" aria-describedby=\"loi-dt\">",
	     e && e->nominee ? " has-error" : "", v ? v : "");
	ferr(b, "loi-dt", e ? e->nominee : NULL);
	v = form_get(r, "diem");
	hput(b, "</div><div class=\"field%R\"><label for=\"diem\">Tự chấm điểm (mỗi dòng một tiêu chí, ví dụ: TC1 = 30)</label>"
		"<textarea id=\"diem\" name=\"diem\" rows=\"4\" aria-describedby=\"loi-diem\">%s</textarea>",
	     e && e->scores ? " has-error" : "", v ? v : "");
	ferr(b, "loi-diem", e ? e->scores : NULL);
	hput(b, "</div><div class=\"field%R\"><label for=\"tep\">Tệp hồ sơ (tờ trình, báo cáo tự đánh giá, bảng tổng hợp)</label>"
		"<input id=\"tep\" name=\"tep\" type=\"file\" multiple aria-describedby=\"loi-tep\">",
	     e && e->files ? " has-error" : "");
	ferr(b, "loi-tep", e ? e->files : NULL);
	v = form_get(r, "ghi_chu");
	hput(b, "</div><div class=\"field\"><label for=\"ghi_chu\">Ghi chú (không bắt buộc)</label>"
		"<textarea id=\"ghi_chu\" name=\"ghi_chu\" rows=\"2\">%s</textarea></div>"
		"<div class=\"field choices\"><label for=\"gui\"><input type=\"checkbox\" id=\"gui\" name=\"gui\" value=\"1\"%R> "
		"Gửi xét duyệt ngay (bỏ chọn: lưu bản nháp)</label></div>"
		"<p><button type=\"submit\">Tạo hồ sơ</button></p></form>\n",
	     v ? v : "", !r->nfields || form_get(r, "gui") ? " checked" : "");
	page_end(w);
	json_decref(list);
}

void page_proposals(struct web_req *r, struct web_resp *w)
{
	list_page(r, w, NULL);
}

void page_proposal_create(struct web_req *r, struct web_resp *w)
{
	struct prop_err e = { 0 };
	const char *programme = form_get(r, "chuong_trinh"), *year = form_get(r, "nam"), *nominee = form_get(r, "doi_tuong");
	const char *scores_text = form_get(r, "diem"), *note = form_get(r, "ghi_chu"), *why = NULL;
	json_t *scores = NULL, *names, *req, *reply;
	char *end = NULL;
	long long y = year ? strtoll(year, &end, 10) : 0;

	if (!r->me.unit) {
		page_error(r, w, 400, "Đề nghị", "Tài khoản của bạn không thuộc đơn vị nào.");
		return;
	}
	if (!programme || !*programme)
		e.programme = "Hãy nhập mã danh hiệu.";
	if (!year || !*year || *end || y < 2000 || y > 2100)
		e.year = "Hãy nhập năm, ví dụ 2024.";
	if (scores_text && *scores_text && !(scores = parse_scores(scores_text, &why)))
		e.scores = why;
	names = dossier_names(r, &why);
	if (why)
		e.files = why;
	if (e.programme || e.year || e.scores || e.files) {
		e.top = "Hồ sơ chưa được gửi; xem lỗi bên dưới.";
		w->status = 400;
		list_page(r, w, &e);
		json_decref(scores);
		json_decref(names);
		return;
	}
	req = json_pack("{s:s,s:s,s:I,s:s}", "op", OP_PROPOSAL_CREATE, "programme", programme, "year", (json_int_t)y, "unit",
			r->me.unit);
	if (nominee && *nominee)
		json_object_set_new(req, "nominee_name", json_string(nominee));
	if (scores)
		json_object_set_new(req, "scores", scores);
	if (note && *note)
		json_object_set_new(req, "note", json_string(note));
	if (form_get(r, "gui"))
		json_object_set_new(req, "submit", json_true());
	if (names)
		json_object_set_new(req, "files", names);
	reply = names ? web_call_files(r, req, "tep") : web_call(r, req);
	if (reply_ok(reply)) {
		struct buf lb = { 0 };

		hput(&lb, "/de-nghi/%lld?tb=%R", ji(json_object_get(reply, "proposal"), "id"),
		     form_get(r, "gui") ? "da-nop-de-nghi" : "da-tao-de-nghi");
		redirect(w, lb.p);
		free(lb.p);
	} else {
		place_err(&e, reply);
		w->status = !strcmp(reply_code(reply), "not_permitted") || !strcmp(reply_code(reply), "forbidden") ? 403 : 400;
		list_page(r, w, &e);
	}
	json_decref(reply);
}

static long long arg_id(struct web_req *r)
{
	char *end;
	long long id = strtoll(r->args[0], &end, 10);

	return *end || id < 1 ? 0 : id;
}

static void one_page(struct web_req *r, struct web_resp *w, const struct prop_err *e)
{
	struct buf *b = &w->body;
	long long id = arg_id(r);
	json_t *reply, *p;
	const char *state, *v;
	char due[32];

	if (!id) {
		page_error(r, w, 404, "Đề nghị", "Không có hồ sơ đề nghị này.");
		return;
	}
	reply = web_call(r, json_pack("{s:s,s:I}", "op", OP_PROPOSAL_SHOW, "proposal", (json_int_t)id));
	if (!reply_ok(reply)) {
		page_daemon_error(r, w, reply);
		json_decref(reply);
		return;
	}
	p = json_object_get(reply, "proposal");
	state = js(p, "state");
	time_text(js(p, "due_at"), due, sizeof(due));
	page_begin(r, w, "Hồ sơ đề nghị");
	hput(b, "<h1>Hồ sơ đề nghị số %lld</h1>\n<dl class=\"facts\"><dt>Danh hiệu</dt><dd>%s (%s), năm %lld, cấp %lld</dd>"
		"<dt>Đơn vị đề nghị</dt><dd>%s</dd><dt>Đối tượng</dt><dd>%s</dd><dt>Tình trạng</dt><dd><strong>%s</strong></dd>",
	     id, js(p, "programme_name"), js(p, "programme"), ji(p, "year"), ji(p, "level"), js(p, "proposer_name"),
	     js(p, "nominee_name"), proposal_state_vi(state));
	if (js(p, "decider_name"))
		hput(b, "<dt>Đang chờ</dt><dd>%s (cấp %lld / %lld)%s%s</dd>", js(p, "decider_name"), ji(p, "stage"), ji(p, "stages"),
		     js(p, "due_at") ? ", hạn " : "", js(p, "due_at") ? due : "");
	if (js(p, "decision_no"))
		hput(b, "<dt>Quyết định</dt><dd>số %s ngày %s</dd>", js(p, "decision_no"), js(p, "decision_date"));
	hput(b, "</dl>\n");
	if (js(p, "reason"))
		hput(b, "<div class=\"returned\"><strong>Lý do:</strong> %s</div>\n", js(p, "reason"));
	proposal_details(b, p);
	if (state && (!strcmp(state, "returned") || !strcmp(state, "draft"))) {
		hput(b, "<h2 id=\"gui\">%s</h2>\n", !strcmp(state, "returned") ? "Sửa và gửi lại" : "Gửi xét duyệt");
		top_err(b, e);
		hput(b, "<form method=\"post\" enctype=\"multipart/form-data\" action=\"/de-nghi/%lld\">", id);
		hidden_csrf(r, b);
		v = form_get(r, "diem");
		hput(b, "<div class=\"field%R\"><label for=\"diem\">Điểm sửa lại (mỗi dòng một tiêu chí, ví dụ: TC1 = 30; để trống: giữ nguyên)</label>"
			"<textarea id=\"diem\" name=\"diem\" rows=\"4\" aria-describedby=\"loi-diem\">%s</textarea>",
		     e && e->scores ? " has-error" : "", v ? v : "");
		ferr(b, "loi-diem", e ? e->scores : NULL);
		hput(b, "</div><div class=\"field%R\"><label for=\"tep\">Tệp hồ sơ đã sửa (để trống: giữ hồ sơ hiện tại)</label>"
			"<input id=\"tep\" name=\"tep\" type=\"file\" multiple aria-describedby=\"loi-tep\">",
		     e && e->files ? " has-error" : "");
		ferr(b, "loi-tep", e ? e->files : NULL);
		v = form_get(r, "ghi_chu");
		hput(b, "</div><div class=\"field\"><label for=\"ghi_chu\">Ghi chú (không bắt buộc)</label>"
			"<textarea id=\"ghi_chu\" name=\"ghi_chu\" rows=\"2\">%s</textarea></div>"
			"<p><button type=\"submit\">Gửi xét duyệt</button></p></form>\n", v ? v : "");
	}
	hput(b, "<p><a href=\"/de-nghi\">Các hồ sơ của đơn vị</a></p>\n");
	page_end(w);
	json_decref(reply);
}

void page_proposal(struct web_req *r, struct web_resp *w)
{
	one_page(r, w, NULL);
}

void page_proposal_submit(struct web_req *r, struct web_resp *w)
{
	struct prop_err e = { 0 };
	long long id = arg_id(r);
	const char *scores_text = form_get(r, "diem"), *note = form_get(r, "ghi_chu"), *why = NULL;
	json_t *scores = NULL, *names, *req, *reply;

	if (!id) {
		page_error(r, w, 404, "Đề nghị", "Không có hồ sơ đề nghị này.");
		return;
	}
	if (scores_text && *scores_text && !(scores = parse_scores(scores_text, &why)))
		e.scores = why;
	names = dossier_names(r, &why);
	if (why)
		e.files = why;
	if (e.scores || e.files) {
		e.top = "Hồ sơ chưa được gửi; xem lỗi bên dưới.";
		w->status = 400;
		one_page(r, w, &e);
		json_decref(scores);
		json_decref(names);
		return;
	}
	req = json_pack("{s:s,s:I}", "op", OP_PROPOSAL_SUBMIT, "proposal", (json_int_t)id);
	if (scores)
		json_object_set_new(req, "scores", scores);
	if (note && *note)
		json_object_set_new(req, "note", json_string(note));
	if (names)
		json_object_set_new(req, "files", names);
	reply = names ? web_call_files(r, req, "tep") : web_call(r, req);
	if (reply_ok(reply)) {
		struct buf lb = { 0 };

		hput(&lb, "/de-nghi/%lld?tb=da-nop-de-nghi", id);
		redirect(w, lb.p);
		free(lb.p);
	} else {
		place_err(&e, reply);
		w->status = !strcmp(reply_code(reply), "not_permitted") || !strcmp(reply_code(reply), "forbidden") ? 403 : 400;
		one_page(r, w, &e);
	}
	json_decref(reply);
}
