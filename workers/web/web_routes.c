/*
 * web_routes.c - the route table: one line per route, and the matcher.
 *
 * A pattern is a path whose segments are literal or '*' (one non-empty segment, handed to
 * the page in r->args, percent-decoded). The first line that matches wins. A line with a
 * `nav` label is a link of the navigation bar, shown to the roles named (0: everyone
 * logged in), in the table's order.
 */
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "utf8.h"
#include "web.h"
#include "xalloc.h"

#define CLERK (ROLE_SUBMITTER | ROLE_ADMIN)
#define DECIDER (ROLE_APPROVER | ROLE_REVIEWER | ROLE_ADMIN)
#define OFFICE (ROLE_REVIEWER | ROLE_ADMIN | ROLE_AUDITOR)

const struct route web_routes[] = {
	/* method  pattern                 page               flags                        nav               roles */
	{ "GET",  "/",                     page_home,         R_SESSION,                   NULL,             0 },
	{ "GET",  "/dang-nhap",            page_login_form,   0,                           NULL,             0 },
	{ "POST", "/dang-nhap",            page_login,        R_FORM,                      NULL,             0 },
	{ "POST", "/dang-xuat",            page_logout,       R_SESSION | R_CSRF,          NULL,             0 },
	{ "GET",  "/moi/*",                page_invite_form,  0,                           NULL,             0 },
	{ "POST", "/moi/*",                page_invite,       R_FORM,                      NULL,             0 },
	{ "GET",  "/viec-can-lam",         page_todo,         R_SESSION,                   "Việc cần làm",   CLERK },
	{ "GET",  "/nop/*/*/*",            page_submit_form,  R_SESSION,                   NULL,             0 },
	{ "POST", "/nop/*/*/*",            page_submit,       R_SESSION | R_CSRF | R_UPLOAD, NULL,           0 },
	{ "GET",  "/bien-nhan",            page_receipts,     R_SESSION,                   "Biên nhận",      CLERK },
	{ "GET",  "/bien-nhan/*",          page_receipt,      R_SESSION,                   NULL,             0 },
	{ "GET",  "/tep/*/*",              page_download,     R_SESSION,                   NULL,             0 },
	{ "GET",  "/tep-de-nghi/*/*",      page_proposal_download, R_SESSION,              NULL,             0 },
	{ "GET",  "/tong-hop",             page_office,       R_SESSION,                   "Tổng hợp",       OFFICE },
	{ "GET",  "/tong-hop.csv",         page_office_csv,   R_SESSION,                   NULL,             0 },
	{ "POST", "/tong-hop/xet",         page_office_review, R_SESSION | R_CSRF | R_FORM, NULL,             0 },
	{ "GET",  "/xet-duyet",            page_decide,       R_SESSION,                   "Xét duyệt",      DECIDER },
	{ "POST", "/xet-duyet",            page_decide_post,  R_SESSION | R_CSRF | R_FORM, NULL,             0 },
	{ "GET",  "/de-nghi",              page_proposals,    R_SESSION,                   "Đề nghị",        CLERK },
	{ "POST", "/de-nghi",              page_proposal_create, R_SESSION | R_CSRF | R_UPLOAD, NULL,        0 },
	{ "GET",  "/de-nghi/*",            page_proposal,     R_SESSION,                   NULL,             0 },
	{ "POST", "/de-nghi/*",            page_proposal_submit, R_SESSION | R_CSRF | R_UPLOAD, NULL,        0 },
	{ "GET",  "/lich",                 page_calendar,     R_SESSION,                   "Lịch",           0 },
	{ "GET",  "/lich-nhac",            page_reminders,    R_SESSION,                   "Lịch nhắc",      0 },
	{ "GET",  "/quan-tri",             page_admin,        R_SESSION,                   "Quản trị",       ROLE_ADMIN | ROLE_AUDITOR },
	{ "POST", "/quan-tri/kenh",        page_admin_enable, R_SESSION | R_CSRF | R_FORM, NULL,             0 },
	{ "POST", "/quan-tri/gui-lai",     page_admin_retry,  R_SESSION | R_CSRF | R_FORM, NULL,             0 },
	{ "GET",  "/static/*",             page_static,       0,                           NULL,             0 },
};

const size_t web_nroutes = sizeof(web_routes) / sizeof(web_routes[0]);

/* match - path against pattern; the '*' segments into args (owned), their count */
static int match(const char *pattern, const char *path, char **args, int *nargs)
{
	int n = 0;

	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t len = strcspn(path, "/");

			if (!len || n == WEB_MAX_ARGS || !utf8_valid(path, len))
				goto no;
			args[n++] = xstrndup(path, len);
			path += len;
			pattern++;
			continue;
		}
		if (*pattern != *path)
			goto no;
		pattern++;
		path++;
	}
	if (*pattern || *path)
		goto no;
	*nargs = n;
	return 1;
no:
	for (int i = 0; i < n; i++)
		free(args[i]);
	return 0;
}

const struct route *route_match(struct web_req *r, const char *method, const char *path, int *path_found)
{
	*path_found = 0;
	for (size_t i = 0; i < web_nroutes; i++) {
		char *args[WEB_MAX_ARGS];
		int n = 0;

		if (!match(web_routes[i].pattern, path, args, &n))
			continue;
		if (strcmp(web_routes[i].method, method)) {
			*path_found = 1;
			for (int k = 0; k < n; k++)
				free(args[k]);
			continue;
		}
		memcpy(r->args, args, sizeof(args[0]) * (size_t)n);
		r->nargs = n;
		return &web_routes[i];
	}
	return NULL;
}
