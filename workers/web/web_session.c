/*
 * web_session.c - the session cookie, the principal behind it, the CSRF check.
 *
 * The cookie holds the daemon's session token (64 hex digits) and nothing else; the
 * daemon keeps the session (hashed), its expiry and its CSRF token. Each page that needs
 * a session asks session.show, which also refreshes the idle time.
 */
#include <stdlib.h>
#include <string.h>

#include "web.h"
#include "xalloc.h"

unsigned roles_bits(const json_t *roles)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "submitter", ROLE_SUBMITTER }, { "reviewer", ROLE_REVIEWER }, { "approver", ROLE_APPROVER },
		{ "admin", ROLE_ADMIN }, { "auditor", ROLE_AUDITOR },
	};
	unsigned bits = 0;
	size_t i;
	json_t *v;

	json_array_foreach(roles, i, v) {
		const char *s = json_string_value(v);

		for (size_t k = 0; s && k < sizeof(names) / sizeof(names[0]); k++)
			if (!strcmp(s, names[k].name))
				bits |= names[k].bit;
	}
	return bits;
}

char *session_cookie(const struct web_req *r, const char *token)
{
	const char *secure = r->https ? "; Secure" : "";

	if (!token)
		return xasprintf("thidua_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s", secure);
	return xasprintf("thidua_session=%s; Path=/; HttpOnly; SameSite=Strict%s", token, secure);
}

void me_free(struct web_me *me)
{
	free(me->name);
	free(me->display_name);
	free(me->unit);
	free(me->unit_name);
	memset(me, 0, sizeof(*me));
}

static char *dup_member(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? xstrdup(s) : NULL;
}

/* me_set - r->me from a reply holding principal and csrf */
static int me_set(struct web_req *r, const json_t *reply)
{
	const json_t *p = json_object_get(reply, "principal");
	const char *csrf = json_string_value(json_object_get(reply, "csrf"));

	me_free(&r->me);
	if (!json_is_object(p) || !json_string_value(json_object_get(p, "name")))
		return -1;
	r->me.name = dup_member(p, "name");
	r->me.display_name = dup_member(p, "display_name");
	r->me.unit = dup_member(p, "unit");
	r->me.unit_name = dup_member(p, "unit_name");
	r->me.roles = roles_bits(json_object_get(p, "roles"));
	xstrlcpy(r->me.csrf, csrf ? csrf : "", sizeof(r->me.csrf));
	return 0;
}

int session_load(struct web_req *r, char *code, size_t size)
{
	json_t *reply;
	int rc = -1;

	if (code && size)
		code[0] = 0;
	if (!r->session[0]) {
		if (code)
			xstrlcpy(code, "session_required", size);
		return -1;
	}
	reply = web_call(r, json_pack("{s:s}", "op", OP_SESSION_SHOW));
	if (reply_ok(reply))
		rc = me_set(r, reply);
	if (rc != 0 && code)
		xstrlcpy(code, reply_ok(reply) ? "internal" : reply_code(reply), size);
	json_decref(reply);
	return rc;
}

int csrf_ok(const struct web_req *r)
{
	const char *got = form_get(r, "csrf");
	size_t n = strlen(r->me.csrf);
	unsigned char diff = 0;

	if (!got || !n || strlen(got) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(got[i] ^ r->me.csrf[i]);
	return diff == 0;
}

void login_done(struct web_req *r, struct web_resp *w, json_t *reply)
{
	const char *token = json_string_value(json_object_get(reply, "session"));

	if (!token && json_is_true(json_object_get(reply, "locked"))) {
		page_error(r, w, 403, "Tài khoản đang bị khóa",
			   "Đã đặt mật khẩu, nhưng tài khoản đang bị quản trị viên khóa. Hãy liên hệ quản trị viên.");
		return;
	}
	if (!token || strlen(token) != 64 || strspn(token, "0123456789abcdef") != 64) {
		page_error(r, w, 500, "Không đăng nhập được", "Máy chủ trả lời không đúng dạng. Hãy báo quản trị viên.");
		return;
	}
	w->cookies[w->ncookies++] = session_cookie(r, token);
	redirect(w, "/");
}
