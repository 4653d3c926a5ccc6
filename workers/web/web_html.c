/*
 * web_html.c - the one escaping writer (hput), the page layout, messages for people.
 *
 * Every byte of a page that comes from a request or from the daemon passes through
 * html_escape(): hput's %s. The layout's navigation is built from the route table: a route
 * with a `nav` label shows to the roles it names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jdump.h"
#include "web.h"
#include "xalloc.h"

void html_escape(struct buf *b, const char *s)
{
	const char *run = s;

	if (!s)
		return;
	for (; *s; s++) {
		const char *e;

		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default: continue;
		}
		buf_put(b, run, (size_t)(s - run));
		buf_put(b, e, strlen(e));
		run = s + 1;
	}
	buf_put(b, run, (size_t)(s - run));
}

/* url_segment - s percent-encoded for a path segment (unreserved bytes stay), then escaped */
static void url_segment(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			buf_putc(b, (char)c);
		else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
}

void hput(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	const char *run = fmt;

	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		buf_put(b, run, (size_t)(p - run));
		p++;
		switch (*p) {
		case 's': html_escape(b, va_arg(ap, const char *)); break;
		case 'R': { const char *s = va_arg(ap, const char *); if (s) buf_put(b, s, strlen(s)); break; }
		case 'u': url_segment(b, va_arg(ap, const char *)); break;
		case 'd': buf_int(b, va_arg(ap, int)); break;
		case 'l':
			if (p[1] == 'l' && p[2] == 'd') {
				buf_int(b, va_arg(ap, long long));
				p += 2;
			}
			break;
		case 'z':
			if (p[1] == 'u') {
				buf_int(b, (long long)va_arg(ap, size_t));
				p++;
			}
			break;
		case '%': buf_putc(b, '%'); break;
		default: break;	/* unknown: written as nothing */
		}
		run = p + 1;
	}
	buf_put(b, run, strlen(run));
	va_end(ap);
}

/* flash - the fixed messages a redirect may name with ?tb=CODE (never text from the URL) */
static const struct {
	const char *code, *cls, *text;
} flashes[] = {
	{ "can-dang-nhap", "info", "Vui lòng đăng nhập để tiếp tục." },
	{ "het-han", "warn", "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại." },
	{ "da-dang-xuat", "ok", "Bạn đã đăng xuất." },
	{ "da-dat-mat-khau", "ok", "Đã đặt mật khẩu. Bạn đã được đăng nhập." },
	{ "da-nop", "ok", "Đã nộp báo cáo. Đây là biên nhận của bạn." },
	{ "da-chap-nhan", "ok", "Đã chấp nhận báo cáo." },
	{ "da-tra-lai", "ok", "Đã trả lại báo cáo; đơn vị được báo lý do và hạn nộp lại." },
	{ "da-mien", "ok", "Đã miễn nộp cho đơn vị." },
	{ "da-bat-kenh", "ok", "Đã bật lại kênh gửi." },
	{ "da-gui-lai", "ok", "Đã đưa thông báo vào hàng đợi gửi lại." },
	{ "da-tao-de-nghi", "ok", "Đã tạo hồ sơ đề nghị." },
	{ "da-nop-de-nghi", "ok", "Đã gửi hồ sơ đề nghị lên cấp xét duyệt." },
};

void page_begin(struct web_req *r, struct web_resp *w, const char *title)
{
	struct buf *b = &w->body;
	const char *tb = r->conn ? query_get(r, "tb") : NULL;
	int logged = r->me.name != NULL;

	hput(b, "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		"<title>%s - Thi đua</title>"
		"<link rel=\"stylesheet\" href=\"/static/thidua.css\">"
		"<script src=\"/static/thidua.js\" defer></script>"
		"</head><body>\n<header class=\"top\"><a class=\"brand\" href=\"/\">Thi đua</a>", title);
	if (logged) {
		hput(b, "<nav aria-label=\"Chức năng\"><ul>");
		for (size_t i = 0; i < web_nroutes; i++) {
			const struct route *rt = &web_routes[i];

			if (!rt->nav || strcmp(rt->method, "GET"))
				continue;
			if (rt->roles && !(rt->roles & r->me.roles))
				continue;
			hput(b, "<li><a href=\"%s\"%R>%s</a></li>", rt->pattern,
			     r->route == rt ? " aria-current=\"page\"" : "", rt->nav);
		}
		hput(b, "</ul></nav><div class=\"who\"><span>%s", r->me.display_name ? r->me.display_name : r->me.name);
		if (r->me.unit_name)
			hput(b, " · %s", r->me.unit_name);
		hput(b, "</span><form method=\"post\" action=\"/dang-xuat\">");
		hidden_csrf(r, b);
		hput(b, "<button type=\"submit\" class=\"link\">Đăng xuất</button></form></div>");
	}
	hput(b, "</header>\n<main>\n");
	for (size_t i = 0; tb && i < sizeof(flashes) / sizeof(flashes[0]); i++)
		if (!strcmp(tb, flashes[i].code))
			hput(b, "<p class=\"flash %R\" role=\"status\">%s</p>\n", flashes[i].cls, flashes[i].text);
}

void page_end(struct web_resp *w)
{
	hput(&w->body, "\n</main>\n<footer><p>thidua " THIDUA_VERSION "</p></footer></body></html>\n");
}

void page_error(struct web_req *r, struct web_resp *w, int status, const char *title, const char *message)
{
	free(w->body.p);
	w->body = (struct buf){ 0 };
	w->status = status;
	page_begin(r, w, title);
	hput(&w->body, "<h1>%s</h1>\n<p class=\"flash error\" role=\"alert\">%s</p>\n<p><a href=\"/\">Về trang chủ</a></p>",
	     title, message);
	page_end(w);
}

/* the daemon's error codes people meet on these pages, in Vietnamese */
static const struct {
	const char *code, *text;
	int status;
} errs[] = {
	{ ERR_FORBIDDEN, "Bạn không có quyền xem hoặc làm việc này.", 403 },
	{ ERR_NOT_PERMITTED, "Bạn không có quyền làm việc này.", 403 },
	{ ERR_UNKNOWN_RECEIPT, "Không có biên nhận này.", 404 },
	{ ERR_UNKNOWN_UNIT, "Không có đơn vị này.", 404 },
	{ ERR_UNKNOWN_REPORT, "Không có loại báo cáo này.", 404 },
	{ ERR_UNKNOWN_PERIOD, "Không có kỳ báo cáo này.", 404 },
	{ ERR_UNKNOWN_FILE, "Không có tệp này trong biên nhận hoặc hồ sơ.", 404 },
	{ ERR_NOT_OBLIGATED, "Đơn vị không phải nộp báo cáo này cho kỳ này.", 400 },
	{ ERR_PERIOD_NOT_OPEN, "Kỳ báo cáo này chưa mở.", 400 },
	{ ERR_ALREADY_ACCEPTED, "Báo cáo đã được chấp nhận; không nộp thêm được.", 400 },
	{ ERR_WAIVED, "Đơn vị đã được miễn nộp báo cáo này.", 400 },
	{ ERR_LATE_LOCKED, "Đã quá hạn nhận báo cáo muộn; không nộp được nữa.", 400 },
	{ ERR_NO_FILE, "Chưa chọn tệp nào để nộp.", 400 },
	{ ERR_INVALID_FILE_NAME, "Tên tệp không hợp lệ.", 400 },
	{ ERR_EMPTY_FILE, "Tệp rỗng (0 byte).", 400 },
	{ ERR_FILE_TOO_LARGE, "Tệp quá lớn.", 400 },
	{ ERR_TOO_LARGE, "Dữ liệu gửi lên quá lớn.", 413 },
	{ ERR_INVALID_FIELD, "Dữ liệu nhập chưa hợp lệ.", 400 },
	{ ERR_MISSING_FIELD, "Thiếu thông tin bắt buộc.", 400 },
	{ ERR_LOGIN_FAILED, "Tên đăng nhập hoặc mật khẩu không đúng.", 400 },
	{ ERR_ACCOUNT_LOCKED, "Tài khoản đang bị khóa.", 403 },
	{ ERR_LOGIN_THROTTLED, "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau.", 429 },
	{ ERR_INVITE_INVALID, "Liên kết mời không hợp lệ hoặc đã được dùng.", 400 },
	{ ERR_INVITE_EXPIRED, "Liên kết mời đã hết hạn. Hãy đề nghị quản trị viên gửi liên kết mới.", 400 },
	{ ERR_ROLES_ENDED, "Vai trò của bạn trong đơn vị đã hết hiệu lực; không đăng nhập được nữa.", 403 },
	{ ERR_SESSION_EXPIRED, "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.", 401 },
	{ ERR_SESSION_REQUIRED, "Vui lòng đăng nhập.", 401 },
	{ ERR_REASON_REQUIRED, "Hãy ghi lý do.", 400 },
	{ ERR_BAD_STATE, "Tình trạng hiện tại không cho phép thao tác này.", 409 },
	{ ERR_UNKNOWN_PROPOSAL, "Không có hồ sơ đề nghị này.", 404 },
	{ ERR_UNKNOWN_PROGRAMME, "Không có danh hiệu / hình thức khen thưởng này.", 404 },
	{ ERR_UNKNOWN_CHANNEL, "Không có kênh gửi này.", 404 },
	{ ERR_NOT_FAILED, "Thông báo này không ở trạng thái gửi lỗi.", 409 },
	{ ERR_DECISION_NO_REQUIRED, "Phê duyệt cấp cuối cần số quyết định.", 400 },
	{ ERR_BELOW_THRESHOLD, "Điểm chưa đạt ngưỡng; phê duyệt ngoại lệ cần lý do và quyền ngoại lệ.", 400 },
	{ ERR_EXCEPTION_NOT_PERMITTED, "Bạn không có quyền phê duyệt ngoại lệ.", 403 },
	{ ERR_SELF_ASSESSMENT_INCOMPLETE, "Bảng tự chấm điểm chưa đủ các tiêu chí.", 400 },
	{ ERR_INVALID_SCORE, "Điểm không hợp lệ.", 400 },
	{ ERR_INVALID_NOMINEE, "Đối tượng đề nghị không hợp lệ.", 400 },
	{ ERR_ALREADY_PROPOSED, "Đối tượng này đã được đề nghị cho danh hiệu này trong năm.", 400 },
	{ ERR_TITLE_HELD, "Đối tượng đang giữ danh hiệu này còn hiệu lực.", 400 },
	{ ERR_WINDOW_CLOSED, "Đã hết thời hạn nhận hồ sơ đề nghị.", 400 },
	{ ERR_NOT_A_PROPOSER, "Đơn vị này không được đề nghị danh hiệu này.", 403 },
	{ ERR_NO_DECIDER, "Không xác định được đơn vị xét duyệt.", 400 },
	{ ERR_NOTHING_TO_DECIDE, "Không có hồ sơ nào chờ xét.", 400 },
	{ ERR_RATE_LIMITED, "Bạn gửi quá nhiều yêu cầu trong một giây. Hãy chờ một lát rồi thử lại.", 429 },
	{ ERR_UNKNOWN_UPLOAD, "Tệp tải lên bị gián đoạn (máy chủ vừa khởi động lại hoặc chờ quá lâu). Hãy chọn tệp và gửi lại.", 409 },
	{ ERR_UPLOAD_OFFSET, "Tệp tải lên bị gián đoạn. Hãy chọn tệp và gửi lại.", 409 },
	{ ERR_TOO_MANY_UPLOADS, "Máy chủ đang nhận quá nhiều tệp cùng lúc. Hãy chờ một lát rồi gửi lại.", 503 },
	{ ERR_STORAGE_FULL, "Máy chủ hết chỗ lưu trữ. Hãy báo quản trị viên.", 503 },
	{ ERR_UNAVAILABLE, "Máy chủ thidua chưa sẵn sàng. Hãy thử lại sau ít phút.", 503 },
	{ ERR_INTERNAL, "Máy chủ gặp lỗi. Hãy báo quản trị viên.", 500 },
};

const char *err_text_vi(const char *code)
{
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (!strcmp(errs[i].code, code))
			return errs[i].text;
	return NULL;
}

void page_daemon_error(struct web_req *r, struct web_resp *w, json_t *reply)
{
	const char *code = reply_code(reply), *vi = err_text_vi(code);
	int status = 400;

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (!strcmp(errs[i].code, code))
			status = errs[i].status;
	free(w->body.p);
	w->body = (struct buf){ 0 };
	w->status = status;
	page_begin(r, w, "Không thực hiện được");
	hput(&w->body, "<h1>Không thực hiện được</h1>\n<div class=\"flash error\" role=\"alert\"><p>%s</p>",
	     vi ? vi : "Máy chủ từ chối yêu cầu.");
	if (*reply_message(reply))
		hput(&w->body, "<p class=\"detail\">%s</p>", reply_message(reply));
	hput(&w->body, "</div>\n<p><a href=\"/\">Về trang chủ</a></p>");
	page_end(w);
}

void hidden_csrf(struct web_req *r, struct buf *b)
{
	hput(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", r->me.csrf);
}

void redirect(struct web_resp *w, const char *location)
{
	free(w->location);
	w->location = xstrdup(location);
}

void time_text(const char *iso, char *out, size_t size)
{
	int y, mo, d, h, mi;

	if (iso && sscanf(iso, "%4d-%2d-%2dT%2d:%2d", &y, &mo, &d, &h, &mi) == 5)
		snprintf(out, size, "%02d:%02d %02d/%02d/%04d", h, mi, d, mo, y);
	else
		xstrlcpy(out, iso ? iso : "", size);
}

void chart_canvas(struct buf *b, const json_t *data, const char *label)
{
	char *text = jdump(data, JSON_COMPACT);

	hput(b, "<div class=\"chart-box\"><canvas data-chart=\"%s\" role=\"img\" aria-label=\"%s\"></canvas></div>",
	     text ? text : "{}", label);
	free(text);
}
