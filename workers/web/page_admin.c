/*
 * page_admin.c - "Quản trị", the administrator's page: the delivery workers connected
 * (status), the channels and their state with an enable button for a disabled one
 * (channels.list, channels.enable), the dead letters (notifications.list, state failed)
 * with a retry button (notifications.retry), and whether the audit chain is whole
 * (audit.verify). Shown to principals with the admin role, and to an auditor (who reads
 * everything and changes nothing: no buttons); the daemon still decides each op
 * (channels are for an admin of a top unit).
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

static long long ji(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static int refuse_non_admin(struct web_req *r, struct web_resp *w, unsigned roles)
{
	if (r->me.roles & roles)
		return 0;
	page_error(r, w, 403, "Quản trị", "Trang này chỉ dành cho quản trị viên.");
	return 1;
}

static void refused(struct buf *b, json_t *reply)
{
	const char *vi = err_text_vi(reply_code(reply));

	hput(b, "<p class=\"flash error\" role=\"alert\">%s <span class=\"detail\">%s</span></p>\n",
	     vi ? vi : "Máy chủ từ chối.", reply_message(reply));
}

static void workers(struct buf *b, json_t *st)
{
	json_t *o;
	size_t i;
	char now[32];

	time_text(js(json_object_get(st, "clock"), "now"), now, sizeof(now));
	hput(b, "<h2>Máy chủ và bộ gửi</h2>\n<dl class=\"facts\"><dt>Phiên bản</dt><dd>%s</dd><dt>Giờ máy chủ</dt><dd>%s%R</dd>"
		"<dt>Đã chạy</dt><dd>%lld giây</dd></dl>\n", js(st, "version"), now,
	     json_is_true(json_object_get(json_object_get(st, "clock"), "fake")) ? " (đồng hồ giả lập)" : "",
	     ji(st, "uptime_seconds"));
	if (!json_array_size(json_object_get(st, "workers"))) {
		hput(b, "<p class=\"empty\">Không có bộ gửi (thư, webhook) nào đang kết nối.</p>\n");
		return;
	}
	hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Bộ gửi</th><th scope=\"col\">Loại</th><th scope=\"col\">Đang xử lý</th>"
		"<th scope=\"col\">PID</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(st, "workers"), i, o)
		hput(b, "<tr><td data-label=\"Bộ gửi\">%s</td><td data-label=\"Loại\">%s</td><td data-label=\"Đang xử lý\">%lld / %lld</td>"
			"<td data-label=\"PID\">%lld</td></tr>\n", js(o, "name"), js(o, "kind"), ji(o, "inflight"), ji(o, "capacity"),
		     ji(o, "pid"));
	hput(b, "</tbody></table>\n");
}

static void channels(struct web_req *r, struct buf *b)
{
	json_t *reply = web_call(r, json_pack("{s:s}", "op", OP_CHANNELS_LIST)), *o;
	size_t i;

	hput(b, "<h2 id=\"kenh\">Kênh gửi</h2>\n");
	if (!reply_ok(reply)) {
		refused(b, reply);
		json_decref(reply);
		return;
	}
	hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Kênh</th><th scope=\"col\">Trạng thái</th>"
		"<th scope=\"col\">Hàng đợi</th><th scope=\"col\">Lỗi gần nhất</th><th scope=\"col\">Thao tác</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(reply, "channels"), i, o) {
		int off = js(o, "state") && !strcmp(js(o, "state"), "disabled");
		char at[32];

		time_text(js(o, "last_error_at"), at, sizeof(at));
		hput(b, "<tr><td data-label=\"Kênh\">%s <span class=\"code\">%s</span></td><td data-label=\"Trạng thái\">"
			"<span class=\"%R\">%R</span>", js(o, "name"), js(o, "kind"), off ? "bad" : "good", off ? "Đang tắt" : "Đang bật");
		if (off && js(o, "reason"))
			hput(b, "<br><span class=\"detail\">%s</span>", js(o, "reason"));
		hput(b, "</td><td data-label=\"Hàng đợi\">%lld chờ, %lld đang gửi</td><td data-label=\"Lỗi gần nhất\">%s%R%s</td>"
			"<td data-label=\"Thao tác\">", ji(o, "queued"), ji(o, "in_flight"), js(o, "last_error") ? js(o, "last_error") : "—",
		     js(o, "last_error") ? "<br>" : "", js(o, "last_error") ? at : "");
		if (off && (r->me.roles & ROLE_ADMIN)) {
			hput(b, "<form method=\"post\" action=\"/quan-tri/kenh\">");
			hidden_csrf(r, b);
			hput(b, "<input type=\"hidden\" name=\"kenh\" value=\"%s\"><button type=\"submit\">Bật lại kênh %s</button></form>",
			     js(o, "name"), js(o, "name"));
		}
		hput(b, "</td></tr>\n");
	}
	hput(b, "</tbody></table>\n");
	json_decref(reply);
}

static void dead_letters(struct web_req *r, struct buf *b)
{
	json_t *reply = web_call(r, json_pack("{s:s,s:s,s:i}", "op", OP_NOTIFICATIONS_LIST, "state", "failed", "limit", 100)), *o;
	size_t i;

	hput(b, "<h2 id=\"gui-loi\">Thông báo gửi lỗi</h2>\n");
	if (!reply_ok(reply)) {
		refused(b, reply);
		json_decref(reply);
		return;
	}
	if (!json_array_size(json_object_get(reply, "notifications"))) {
		hput(b, "<p class=\"empty\">Không có thông báo nào gửi lỗi.</p>\n");
		json_decref(reply);
		return;
	}
	hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Số</th><th scope=\"col\">Gửi tới</th><th scope=\"col\">Nội dung</th>"
		"<th scope=\"col\">Lỗi</th><th scope=\"col\">Thao tác</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(reply, "notifications"), i, o) {
		char num[24];

		snprintf(num, sizeof(num), "%lld", ji(o, "id"));
		hput(b, "<tr><td data-label=\"Số\">%s</td><td data-label=\"Gửi tới\">%s</td><td data-label=\"Nội dung\">%s %s kỳ %s (%s)</td>"
			"<td data-label=\"Lỗi\">%s</td><td data-label=\"Thao tác\">",
		     num, js(o, "recipient_name") ? js(o, "recipient_name") : js(o, "recipient"), js(o, "kind"), js(o, "report"),
		     js(o, "period"), js(o, "step"), js(o, "error") ? js(o, "error") : "");
		if (r->me.roles & ROLE_ADMIN) {
			hput(b, "<form method=\"post\" action=\"/quan-tri/gui-lai\">");
			hidden_csrf(r, b);
			hput(b, "<input type=\"hidden\" name=\"thong_bao\" value=\"%s\"><button type=\"submit\">Gửi lại thông báo %s</button>"
				"</form>", num, num);
		}
		hput(b, "</td></tr>\n");
	}
	hput(b, "</tbody></table>\n");
	json_decref(reply);
}

static void audit(struct web_req *r, struct buf *b)
{
	json_t *reply = web_call(r, json_pack("{s:s}", "op", OP_AUDIT_VERIFY));

	hput(b, "<h2 id=\"nhat-ky\">Nhật ký kiểm tra (audit)</h2>\n");
	if (!reply_ok(reply)) {
		refused(b, reply);
	} else if (json_is_true(json_object_get(reply, "valid"))) {
		hput(b, "<p><span class=\"good\">Chuỗi nhật ký toàn vẹn</span>: %lld dòng đã kiểm tra.</p>\n", ji(reply, "rows"));
	} else {
		hput(b, "<p class=\"flash error\" role=\"alert\"><strong>Chuỗi nhật ký bị hỏng</strong> từ dòng %lld (%lld dòng đầu còn "
			"nguyên). <span class=\"detail\">%s</span></p>\n", ji(reply, "first_bad"), ji(reply, "rows"), js(reply, "reason"));
	}
	json_decref(reply);
}

void page_admin(struct web_req *r, struct web_resp *w)
{
	json_t *st;

	if (refuse_non_admin(r, w, ROLE_ADMIN | ROLE_AUDITOR))
		return;
	st = web_call(r, json_pack("{s:s}", "op", OP_STATUS));
	page_begin(r, w, "Quản trị");
	hput(&w->body, "<h1>Quản trị hệ thống</h1>\n");
	if (reply_ok(st))
		workers(&w->body, st);
	else
		refused(&w->body, st);
	channels(r, &w->body);
	dead_letters(r, &w->body);
	audit(r, &w->body);
	page_end(w);
	json_decref(st);
}

void page_admin_enable(struct web_req *r, struct web_resp *w)
{
	const char *ch = form_get(r, "kenh");
	json_t *reply;

	if (refuse_non_admin(r, w, ROLE_ADMIN))
		return;
	if (!ch || !*ch) {
		page_error(r, w, 400, "Quản trị", "Thiếu tên kênh.");
		return;
	}
	reply = web_call(r, json_pack("{s:s,s:s}", "op", OP_CHANNELS_ENABLE, "channel", ch));
	if (reply_ok(reply))
		redirect(w, "/quan-tri?tb=da-bat-kenh#kenh");
	else
		page_daemon_error(r, w, reply);
	json_decref(reply);
}

void page_admin_retry(struct web_req *r, struct web_resp *w)
{
	const char *id = form_get(r, "thong_bao");
	char *end = NULL;
	long long n = id ? strtoll(id, &end, 10) : 0;
	json_t *reply;

	if (refuse_non_admin(r, w, ROLE_ADMIN))
		return;
	if (!id || !*id || *end || n < 1) {
		page_error(r, w, 400, "Quản trị", "Số thông báo không hợp lệ.");
		return;
	}
	reply = web_call(r, json_pack("{s:s,s:I}", "op", OP_NOTIFICATIONS_RETRY, "notification", (json_int_t)n));
	if (reply_ok(reply))
		redirect(w, "/quan-tri?tb=da-gui-lai#gui-loi");
	else
		page_daemon_error(r, w, reply);
	json_decref(reply);
}
