/*
 * page_login.c - the home page, logging in and out, setting a password from an invitation.
 *
 * The forms shown before there is a session (login, invitation) carry a token of their own:
 * a random value in the cookie thidua_pre (HttpOnly, SameSite=Strict) repeated in a hidden
 * field, compared when the form comes back (so another site cannot log a browser in).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "pages.h"
#include "web.h"
#include "xalloc.h"

/* where each role starts, in this order (a page not in the route table is skipped) */
static const struct { unsigned roles; const char *path; } homes[] = {
	{ ROLE_SUBMITTER, "/viec-can-lam" },
	{ ROLE_REVIEWER, "/tong-hop" },
	{ ROLE_APPROVER, "/xet-duyet" },
	{ ROLE_ADMIN | ROLE_AUDITOR, "/quan-tri" },
	{ ROLE_ANY, "/lich" },
};

static int route_exists(const char *path)
{
	for (size_t i = 0; i < web_nroutes; i++)
		if (!strcmp(web_routes[i].method, "GET") && !strcmp(web_routes[i].pattern, path))
			return 1;
	return 0;
}

void page_home(struct web_req *r, struct web_resp *w)
{
	for (size_t i = 0; i < sizeof(homes) / sizeof(homes[0]); i++)
		if ((homes[i].roles & r->me.roles) && route_exists(homes[i].path)) {
			redirect(w, homes[i].path);
			return;
		}
	page_begin(r, w, "Trang chủ");
	hput(&w->body, "<h1>Xin chào, %s</h1><p>Chọn một chức năng ở thanh trên.</p>",
	     r->me.display_name ? r->me.display_name : r->me.name);
	page_end(w);
}

/* ---- the token of forms shown before a session ---- */

static const char *pre_cookie(const struct web_req *r)
{
	const char *c = r->conn ? cookie_get(r, "thidua_pre") : NULL;

	return c && strlen(c) == 32 && strspn(c, "0123456789abcdef") == 32 ? c : NULL;
}

/* pre_token - the browser's pre-session token, or a new one set in a cookie */
static void pre_token(struct web_req *r, struct web_resp *w, char out[33])
{
	const char *c = pre_cookie(r);
	unsigned char rnd[16];

	if (c) {
		xstrlcpy(out, c, 33);
		return;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		fatal("getrandom failed");
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
	w->cookies[w->ncookies++] = xasprintf("thidua_pre=%s; Path=/; HttpOnly; SameSite=Strict%s", out,
					       r->https ? "; Secure" : "");
}

static int pre_ok(const struct web_req *r)
{
	const char *c = pre_cookie(r), *f = form_get(r, "pre");

	return c && f && !strcmp(c, f);
}

/* ---- login ---- */

static void login_page(struct web_req *r, struct web_resp *w, const char *name, const char *error,
		       const char *detail)
{
	struct buf *b = &w->body;
	char pre[33];

	pre_token(r, w, pre);
	page_begin(r, w, "Đăng nhập");
	hput(b, "<section class=\"narrow\"><h1>Đăng nhập</h1>\n");
	if (error) {
		hput(b, "<div class=\"flash error\" role=\"alert\" id=\"loi-dang-nhap\"><p>%s</p>", error);
		if (detail && *detail)
			hput(b, "<p class=\"detail\">%s</p>", detail);
		hput(b, "</div>\n");
	}
	hput(b, "<form method=\"post\" action=\"/dang-nhap\">"
		"<input type=\"hidden\" name=\"pre\" value=\"%s\">"
		"<p><label for=\"ten\">Tên đăng nhập</label>"
		"<input id=\"ten\" name=\"ten\" autocomplete=\"username\" required maxlength=\"128\" value=\"%s\"></p>"
		"<p><label for=\"mat_khau\">Mật khẩu</label>"
		"<input id=\"mat_khau\" name=\"mat_khau\" type=\"password\" autocomplete=\"current-password\" required maxlength=\"128\"></p>"
		"<p><button type=\"submit\">Đăng nhập</button></p></form>"
		"<p class=\"hint\">Chưa có mật khẩu? Quản trị viên gửi cho bạn một liên kết mời qua thư điện tử.</p>"
		"</section>",
	     pre, name ? name : "");
	page_end(w);
}

void page_login_form(struct web_req *r, struct web_resp *w)
{
	login_page(r, w, NULL, NULL, NULL);
}

void page_login(struct web_req *r, struct web_resp *w)
{
	const char *name = form_get(r, "ten"), *password = form_get(r, "mat_khau");
	json_t *reply;

	if (!pre_ok(r)) {
		w->status = 403;
		login_page(r, w, name, "Biểu mẫu đã cũ (mã chống giả mạo không khớp). Hãy đăng nhập lại.", NULL);
		return;
	}
	if (!name || !*name || !password || !*password) {
		w->status = 400;
		login_page(r, w, name, "Hãy nhập tên đăng nhập và mật khẩu.", NULL);
		return;
	}
	reply = web_call(r, json_pack("{s:s,s:s,s:s,s:s}", "op", OP_SESSION_LOGIN, "name", name, "password", password,
				      "address", r->address));
	if (reply_ok(reply)) {
		login_done(r, w, reply);
	} else {
		const char *code = reply_code(reply), *vi = err_text_vi(code);

		w->status = !strcmp(code, "login_throttled") ? 429 : !strcmp(code, "unavailable") ? 503 : 400;
		/* login_failed says nothing more than its text: which part was wrong is not told */
		login_page(r, w, name, vi ? vi : "Không đăng nhập được.",
			   !strcmp(code, "login_failed") ? NULL : reply_message(reply));
	}
	json_decref(reply);
}

void page_logout(struct web_req *r, struct web_resp *w)
{
	json_t *reply = web_call(r, json_pack("{s:s}", "op", OP_SESSION_LOGOUT));

	json_decref(reply);
	w->cookies[w->ncookies++] = session_cookie(r, NULL);
	redirect(w, "/dang-nhap?tb=da-dang-xuat");
}

/* ---- an invitation: set a password ---- */

static void invite_page(struct web_req *r, struct web_resp *w, const char *error, const char *detail)
{
	struct buf *b = &w->body;
	char pre[33];

	pre_token(r, w, pre);
	page_begin(r, w, "Đặt mật khẩu");
	hput(b, "<section class=\"narrow\"><h1>Đặt mật khẩu</h1>\n"
		"<p>Bạn được mời dùng hệ thống thi đua. Hãy đặt mật khẩu cho tài khoản của mình "
		"(từ 10 ký tự, khác tên đăng nhập).</p>\n");
	if (error) {
		hput(b, "<div class=\"flash error\" role=\"alert\"><p>%s</p>", error);
		if (detail && *detail)
			hput(b, "<p class=\"detail\">%s</p>", detail);
		hput(b, "</div>\n");
	}
	hput(b, "<form method=\"post\" action=\"/moi/%u\">"
		"<input type=\"hidden\" name=\"pre\" value=\"%s\">"
		"<p><label for=\"mat_khau\">Mật khẩu mới</label>"
		"<input id=\"mat_khau\" name=\"mat_khau\" type=\"password\" autocomplete=\"new-password\" required minlength=\"10\" maxlength=\"128\"></p>"
		"<p><label for=\"nhap_lai\">Nhập lại mật khẩu</label>"
		"<input id=\"nhap_lai\" name=\"nhap_lai\" type=\"password\" autocomplete=\"new-password\" required minlength=\"10\" maxlength=\"128\"></p>"
		"<p><button type=\"submit\">Đặt mật khẩu và đăng nhập</button></p></form></section>",
	     r->args[0], pre);
	page_end(w);
}

void page_invite_form(struct web_req *r, struct web_resp *w)
{
	invite_page(r, w, NULL, NULL);
}

void page_invite(struct web_req *r, struct web_resp *w)
{
	const char *p1 = form_get(r, "mat_khau"), *p2 = form_get(r, "nhap_lai");
	json_t *reply;

	if (!pre_ok(r)) {
		w->status = 403;
		invite_page(r, w, "Biểu mẫu đã cũ (mã chống giả mạo không khớp). Hãy gửi lại.", NULL);
		return;
	}
	if (!p1 || !p2 || strcmp(p1, p2)) {
		w->status = 400;
		invite_page(r, w, "Hai lần nhập mật khẩu không giống nhau.", NULL);
		return;
	}
	reply = web_call(r, json_pack("{s:s,s:s,s:s,s:s}", "op", OP_SESSION_REDEEM, "token", r->args[0],
				      "password", p1, "address", r->address));
	if (reply_ok(reply)) {
		login_done(r, w, reply);
	} else {
		const char *vi = err_text_vi(reply_code(reply));

		w->status = 400;
		invite_page(r, w, vi ? vi : "Không đặt được mật khẩu.", reply_message(reply));
	}
	json_decref(reply);
}
