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
	if (!strcmp(code, ERR_INVALID_FILE_NAME) || !strcmp(code, ERR_EMPTY_FILE) || !strcmp(code, ERR_FILE_TOO_LARGE))
		e->files = vi;
	else if (!strcmp(code, ERR_INVALID_SCORE) || !strcmp(code, ERR_SELF_ASSESSMENT_INCOMPLETE))
		e->scores = vi;
	else if (!strcmp(code, ERR_UNKNOWN_PROGRAMME) || !strcmp(code, ERR_NOT_A_PROPOSER))
		e->programme = vi;
	else if (!strcmp(code, ERR_INVALID_NOMINEE) || !strcmp(code, ERR_ALREADY_PROPOSED) || !strcmp(code, ERR_TITLE_HELD))
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

/* dossier_read - the posted scores and dossier file names into *scores and *names (the
 * caller's), their errors into e; -1 when there is one */
static int dossier_read(struct web_req *r, struct prop_err *e, json_t **scores, json_t **names)
{
	const char *text = form_get(r, "diem"), *why = NULL;

	*scores = NULL;
	if (text && *text && !(*scores = parse_scores(text, &why)))
		e->scores = why;
	*names = dossier_names(r, &why);
	if (why)
		e->files = why;
	return e->scores || e->files ? -1 : 0;
}

/* dossier_send - req (stolen) with the posted scores, note and files (scores and names
 * stolen, either may be NULL); the daemon's reply */
static json_t *dossier_send(struct web_req *r, json_t *req, json_t *scores, json_t *names)
{
	const char *note = form_get(r, "ghi_chu");

	if (scores)
		json_object_set_new(req, "scores", scores);
	if (note && *note)
		json_object_set_new(req, "note", json_string(note));
	if (!names)
		return web_call(r, req);
	json_object_set_new(req, "files", names);
	return web_call_files(r, req, "tep");
}

/* refused_status - the HTTP status of a refusal: 403 when not permitted, else 400 */
static int refused_status(json_t *reply)
{
	return !strcmp(reply_code(reply), ERR_NOT_PERMITTED) || !strcmp(reply_code(reply), ERR_FORBIDDEN) ? 403 : 400;
}

/* dossier_fields - what both proposal forms ask (the one creating a proposal, the one
 * sending a draft or a returned one): the scores, the dossier files and a note, each with
 * its error next to it and kept from the post; correcting: the labels say an empty field
 * keeps what the proposal has */
static void dossier_fields(struct web_req *r, struct buf *b, const struct prop_err *e, int correcting)
{
	const char *v = form_get(r, "diem");

	hput(b, "<div class=\"field%R\"><label for=\"diem\">%R (mỗi dòng một tiêu chí, ví dụ: TC1 = 30%R)</label>"
		"<textarea id=\"diem\" name=\"diem\" rows=\"4\" aria-describedby=\"loi-diem\">%s</textarea>",
	     e && e->scores ? " has-error" : "", correcting ? "Điểm sửa lại" : "Tự chấm điểm",
	     correcting ? "; để trống: giữ nguyên" : "", v ? v : "");
	ferr(b, "loi-diem", e ? e->scores : NULL);
	hput(b, "</div><div class=\"field%R\"><label for=\"tep\">%R</label>"
		"<input id=\"tep\" name=\"tep\" type=\"file\" multiple aria-describedby=\"loi-tep\">",
	     e && e->files ? " has-error" : "", correcting ? "Tệp hồ sơ đã sửa (để trống: giữ hồ sơ hiện tại)"
	     : "Tệp hồ sơ (tờ trình, báo cáo tự đánh giá, bảng tổng hợp)");
	ferr(b, "loi-tep", e ? e->files : NULL);
	v = form_get(r, "ghi_chu");
	hput(b, "</div><div class=\"field\"><label for=\"ghi_chu\">Ghi chú (không bắt buộc)</label>"
		"<textarea id=\"ghi_chu\" name=\"ghi_chu\" rows=\"2\">%s</textarea></div>", v ? v : "");
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
	hput(b, "</div>");
	dossier_fields(r, b, e, 0);
	hput(b, "<div class=\"field choices\"><label for=\"gui\"><input type=\"checkbox\" id=\"gui\" name=\"gui\" value=\"1\"%R> "
		"Gửi xét duyệt ngay (bỏ chọn: lưu bản nháp)</label></div>"
		"<p><button type=\"submit\">Tạo hồ sơ</button></p></form>\n",
	     !r->nfields || form_get(r, "gui") ? " checked" : "");
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
	json_t *scores, *names, *req, *reply;
	char *end = NULL;
	long long y = year ? strtoll(year, &end, 10) : 0;
	int bad;

	if (!r->me.unit) {
		page_error(r, w, 400, "Đề nghị", "Tài khoản của bạn không thuộc đơn vị nào.");
		return;
	}
	if (!programme || !*programme)
		e.programme = "Hãy nhập mã danh hiệu.";
	if (!year || !*year || *end || y < 2000 || y > 2100)
		e.year = "Hãy nhập năm, ví dụ 2024.";
	bad = dossier_read(r, &e, &scores, &names);
	if (bad || e.programme || e.year) {
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
	if (form_get(r, "gui"))
		json_object_set_new(req, "submit", json_true());
	reply = dossier_send(r, req, scores, names);
	if (reply_ok(reply)) {
		struct buf lb = { 0 };

		hput(&lb, "/de-nghi/%lld?tb=%R", ji(json_object_get(reply, "proposal"), "id"),
		     form_get(r, "gui") ? "da-nop-de-nghi" : "da-tao-de-nghi");
		redirect(w, lb.p);
		free(lb.p);
	} else {
		place_err(&e, reply);
		w->status = refused_status(reply);
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
	const char *state;
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
		dossier_fields(r, b, e, 1);
		hput(b, "<p><button type=\"submit\">Gửi xét duyệt</button></p></form>\n");
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
	json_t *scores, *names, *reply;

	if (!id) {
		page_error(r, w, 404, "Đề nghị", "Không có hồ sơ đề nghị này.");
		return;
	}
	if (dossier_read(r, &e, &scores, &names)) {
		e.top = "Hồ sơ chưa được gửi; xem lỗi bên dưới.";
		w->status = 400;
		one_page(r, w, &e);
		json_decref(scores);
		json_decref(names);
		return;
	}
	reply = dossier_send(r, json_pack("{s:s,s:I}", "op", OP_PROPOSAL_SUBMIT, "proposal", (json_int_t)id), scores, names);
	if (reply_ok(reply)) {
		struct buf lb = { 0 };

		hput(&lb, "/de-nghi/%lld?tb=da-nop-de-nghi", id);
		redirect(w, lb.p);
		free(lb.p);
	} else {
		place_err(&e, reply);
		w->status = refused_status(reply);
		one_page(r, w, &e);
	}
	json_decref(reply);
}
