/*
 * page_submit.c - /nop/UNIT/REPORT/PERIOD: the submission form and report.submit.
 *
 * The files come as multipart parts of the field "tep", sent on to thiduad by web_form.c. Before
 * anything goes to the daemon the gateway checks what report.submit would refuse about
 * them, in its order (no file, a bad name, two files with one name, an empty file, a file
 * over the limit) and the note's length, and shows each problem next to its field; what
 * only the daemon knows (late_locked, already_accepted, its own size limit of the report
 * type...) comes back from report.submit and is shown the same way. Success goes to the
 * receipt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "utf8.h"
#include "web.h"
#include "web_util.h"

#define NOTE_MAX 10000

struct problems {
	struct buf files;	/* <li> items next to the file field (HTML) */
	const char *note;	/* next to the note */
	const char *top;	/* above the form */
	const char *detail;	/* the daemon's own message */
};

/* find_obligation - the obligation of the path's unit, report and period, or NULL (not
 * obligated, or not readable by this principal); *reply_out holds it */
static json_t *find_obligation(struct web_req *r, json_t **reply_out)
{
	json_t *reply = web_call(r, json_pack("{s:s,s:s,s:s,s:s}", "op", OP_OBLIGATIONS_LIST, "unit", r->args[0],
					      "report", r->args[1], "period", r->args[2]));
	json_t *list = json_object_get(reply, "obligations");

	*reply_out = reply;
	if (!reply_ok(reply) || json_array_size(list) != 1)
		return NULL;
	return json_array_get(list, 0);
}

static void form_page(struct web_req *r, struct web_resp *w, json_t *o, struct problems *p, const char *note)
{
	struct buf *b = &w->body;
	const char *state = json_string_value(json_object_get(o, "state"));
	const char *reason = json_string_value(json_object_get(o, "reason"));
	char due[32], limit[48];
	int32_t today;

	time_text(json_string_value(json_object_get(o, "due_at")), due, sizeof(due));
	size_text(web_opts.max_file_bytes, limit, sizeof(limit));
	page_begin(r, w, "Nộp báo cáo");
	hput(b, "<h1>Nộp báo cáo</h1>\n<dl class=\"facts\"><dt>Đơn vị</dt><dd>%s</dd><dt>Báo cáo</dt><dd>%s</dd>"
		"<dt>Kỳ</dt><dd>%s</dd><dt>Hạn nộp</dt><dd>%s",
	     json_string_value(json_object_get(o, "unit_name")), json_string_value(json_object_get(o, "report_name")),
	     json_string_value(json_object_get(o, "period")), due);
	if (daemon_today(r, &today) == 0) {
		char left[48];

		days_left_text(today, json_string_value(json_object_get(o, "due_at")), left, sizeof(left));
		hput(b, " (%s)", left);
	}
	hput(b, "</dd><dt>Tình trạng</dt><dd>%s</dd></dl>\n", state_text_vi(state));
	if (state && !strcmp(state, "returned") && reason)
		hput(b, "<div class=\"returned\"><strong>Lý do trả lại:</strong> %s</div>\n", reason);
	if (p && p->top) {
		hput(b, "<div class=\"flash error\" role=\"alert\" id=\"loi\"><p>%s</p>", p->top);
		if (p->detail && *p->detail)
			hput(b, "<p class=\"detail\">%s</p>", p->detail);
		hput(b, "</div>\n");
	}
	hput(b, "<form method=\"post\" enctype=\"multipart/form-data\" action=\"/nop/%u/%u/%u\">",
	     r->args[0], r->args[1], r->args[2]);
	hidden_csrf(r, b);
	hput(b, "<div class=\"field%R\"><label for=\"tep\">Tệp báo cáo (một hoặc nhiều tệp, mỗi tệp tối đa %s)</label>"
		"<input id=\"tep\" name=\"tep\" type=\"file\" multiple required aria-describedby=\"loi-tep\">",
	     p && p->files.len ? " has-error" : "", limit);
	if (p && p->files.len)
		hput(b, "<ul class=\"field-error\" id=\"loi-tep\" role=\"alert\">%R</ul>", p->files.p);
	hput(b, "</div>\n<div class=\"field%R\"><label for=\"ghi_chu\">Ghi chú gửi cơ quan nhận (không bắt buộc)</label>"
		"<textarea id=\"ghi_chu\" name=\"ghi_chu\" rows=\"3\" maxlength=\"%d\" aria-describedby=\"loi-ghi-chu\">%s</textarea>",
	     p && p->note ? " has-error" : "", NOTE_MAX, note ? note : "");
	if (p && p->note)
		hput(b, "<p class=\"field-error\" id=\"loi-ghi-chu\" role=\"alert\">%s</p>", p->note);
	hput(b, "</div>\n<p><button type=\"submit\">Nộp báo cáo</button> <a href=\"/viec-can-lam\">Quay lại</a></p></form>\n");
	page_end(w);
}

void page_submit_form(struct web_req *r, struct web_resp *w)
{
	json_t *reply, *o = find_obligation(r, &reply);

	if (!o) {
		if (reply_ok(reply))
			page_error(r, w, 404, "Không nộp được",
				   "Đơn vị này không phải nộp báo cáo này cho kỳ này, hoặc bạn không có quyền nộp cho đơn vị này.");
		else
			page_daemon_error(r, w, reply);
	} else {
		form_page(r, w, o, NULL, NULL);
	}
	json_decref(reply);
}

/* file_problem - one item next to the file field */
static void file_problem(struct problems *p, const char *code, const char *name, const char *what)
{
	if (name)
		hput(&p->files, "<li><span class=\"fname\">%s</span>: %s <span class=\"code\">(%s)</span></li>", name,
		     what, code);
	else
		hput(&p->files, "<li>%s <span class=\"code\">(%s)</span></li>", what, code);
}

/* check_files - report.submit's checks of the files, in its order; the count of files */
static size_t check_files(struct web_req *r, struct problems *p)
{
	size_t n = 0;
	char limit[48];

	size_text(web_opts.max_file_bytes, limit, sizeof(limit));
	for (size_t i = 0; i < r->nfiles; i++) {
		struct web_upload *u = &r->files[i];

		/* a file input left empty sends a part with no name and no bytes */
		if (strcmp(u->field, "tep") || (!*u->filename && !u->size))
			continue;
		n++;
	}
	if (r->too_many_files)
		file_problem(p, ERR_TOO_MANY_FRAMES, NULL, "Quá 64 tệp trong một lần nộp.");
	if (!n) {
		file_problem(p, ERR_NO_FILE, NULL, "Chưa chọn tệp nào. Hãy chọn ít nhất một tệp.");
		return 0;
	}
	for (size_t i = 0; i < r->nfiles; i++) {
		struct web_upload *u = &r->files[i];
		const char *why;

		if (strcmp(u->field, "tep") || (!*u->filename && !u->size))
			continue;
		if ((why = file_name_problem(u->filename))) {
			char shown[300];

			utf8_name_shown(u->filename, shown, sizeof(shown));
			file_problem(p, ERR_INVALID_FILE_NAME, shown, why);
			continue;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(r->files[k].field, "tep") && !strcmp(r->files[k].filename, u->filename)) {
				file_problem(p, ERR_INVALID_FILE_NAME, u->filename, "hai tệp trùng tên; hãy đổi tên một tệp");
				break;
			}
		if (!u->size)
			file_problem(p, ERR_EMPTY_FILE, u->filename, "tệp rỗng (0 byte); hãy chọn đúng tệp có nội dung");
		else if (u->too_big) {
			char what[160], got[48];

			size_text(u->size, got, sizeof(got));
			snprintf(what, sizeof(what), "tệp quá lớn (%s); mỗi tệp tối đa %s", got, limit);
			file_problem(p, ERR_FILE_TOO_LARGE, u->filename, what);
		}
	}
	return n;
}

/* daemon_problem - a refusal of report.submit, placed next to its field */
static void daemon_problem(struct problems *p, json_t *reply)
{
	const char *code = reply_code(reply), *vi = err_text_vi(code);

	if (!strcmp(code, ERR_INVALID_FILE_NAME) || !strcmp(code, ERR_EMPTY_FILE) || !strcmp(code, ERR_FILE_TOO_LARGE) ||
	    !strcmp(code, ERR_NO_FILE)) {
		hput(&p->files, "<li>%s <span class=\"code\">(%s)</span> <span class=\"detail\">%s</span></li>", vi, code,
		     reply_message(reply));
		return;
	}
	if (!strcmp(code, ERR_INVALID_FIELD) && strstr(reply_message(reply), "note")) {
		p->note = "Ghi chú không hợp lệ (tối đa 10000 byte).";
		p->detail = reply_message(reply);
		return;
	}
	p->top = vi ? vi : "Máy chủ không nhận báo cáo.";
	p->detail = reply_message(reply);
}

void page_submit(struct web_req *r, struct web_resp *w)
{
	struct problems p = { 0 };
	const char *note = form_get(r, "ghi_chu");
	json_t *reply, *o = find_obligation(r, &reply), *names, *req, *sub = NULL;
	size_t n;

	if (!o) {
		if (reply_ok(reply))
			page_error(r, w, 403, "Không nộp được",
				   "Đơn vị này không phải nộp báo cáo này cho kỳ này, hoặc bạn không có quyền nộp cho đơn vị này.");
		else
			page_daemon_error(r, w, reply);
		json_decref(reply);
		return;
	}
	if (r->form_too_large)
		p.top = "Biểu mẫu gửi lên không đọc được hoặc quá lớn.";
	n = check_files(r, &p);
	if (note && strlen(note) > NOTE_MAX)
		p.note = "Ghi chú dài quá 10000 byte; hãy rút gọn.";
	if (p.files.len || p.note || p.top) {
		w->status = 400;
		form_page(r, w, o, &p, note);
		goto out;
	}
	names = json_array();
	for (size_t i = 0; i < r->nfiles; i++)
		if (!strcmp(r->files[i].field, "tep") && (*r->files[i].filename || r->files[i].size))
			json_array_append_new(names, json_string(r->files[i].filename));
	req = json_pack("{s:s,s:s,s:s,s:s,s:o}", "op", OP_REPORT_SUBMIT, "unit", r->args[0], "report", r->args[1],
			"period", r->args[2], "files", names);
	if (note && *note)
		json_object_set_new(req, "note", json_string(note));
	(void)n;
	sub = web_call_files(r, req, "tep");
	if (reply_ok(sub)) {
		const char *number = json_string_value(json_object_get(json_object_get(sub, "receipt"), "number"));
		char *loc = NULL;
		struct buf lb = { 0 };

		hput(&lb, "/bien-nhan/%u?tb=da-nop", number ? number : "");
		loc = lb.p;
		redirect(w, loc);
		free(loc);
		goto out;
	}
	daemon_problem(&p, sub);
	w->status = !strcmp(reply_code(sub), ERR_FORBIDDEN) ? 403 : !strcmp(reply_code(sub), ERR_UNAVAILABLE) ? 503 : 400;
	form_page(r, w, o, &p, note);
out:
	free(p.files.p);
	json_decref(sub);
	json_decref(reply);
}
