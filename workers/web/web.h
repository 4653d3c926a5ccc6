/*
 * web.h - thidua-web, the web gateway: what the pages share.
 *
 * A page is one function, `void page_NAME(struct web_req *r, struct web_resp *w)`, named
 * by one line of the route table (web_routes.c). It reads the request (path arguments,
 * form fields, uploaded files, the logged-in principal), asks the daemon through
 * web_call() acting as that principal (the session token goes with every request: the
 * gateway adds no authority of its own), and writes HTML into w->body with the one
 * escaping writer, hput() (web_html.c), between page_begin() and page_end().
 *
 * Threads: libmicrohttpd's thread pool runs the pages; each thread has its own connection
 * to the daemon (web_daemon.c, over zmtp.c). Nothing mutable is shared between threads: the options
 * (struct web_opts) are read only after start. See README.md beside this file.
 */
#ifndef THIDUA_WEB_H
#define THIDUA_WEB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"	/* the op names (OP_...) */

#define WEB_DEFAULT_ENDPOINT "ipc:///var/lib/thidua/web.sock"
#define WEB_DEFAULT_LISTEN "127.0.0.1:8470"
#define WEB_DEFAULT_CHARTJS "/usr/share/javascript/chart.js/chart.min.js"
#define WEB_DEFAULT_STATIC "/usr/share/thidua/web"
#define WEB_MAX_ARGS 4
#define WEB_MAX_FIELDS 64
#define WEB_MAX_FILES 64
#define WEB_FORM_BYTES (64 * 1024)	/* all the text fields of one form together */
#define WEB_PART_BYTES (256 * 1024)	/* a part of an upload sent to the daemon */
#define WEB_UPLOAD_WINDOW 8		/* parts sent before the oldest one's reply is awaited */

/* the options, set by main() before the server starts, read-only afterwards */
struct web_opts {
	const char *endpoint;		/* the daemon's web socket */
	const char *listen;		/* ADDRESS:PORT */
	const char *static_dir;		/* thidua.css, thidua.js */
	const char *chartjs;		/* Chart.js (libjs-chart.js) */
	int trust_proxy;		/* X-Forwarded-For / -Proto from the proxy in front */
	int threads;			/* libmicrohttpd's thread pool */
	unsigned max_connections;
	unsigned timeout_s;		/* an idle connection is closed after this */
	double daemon_timeout;		/* seconds to wait for the daemon's reply */
	uint64_t max_file_bytes;	/* one uploaded file */
	uint64_t max_body_bytes;	/* one request body (all files and fields) */
};

extern struct web_opts web_opts;

/* roles of the principal, as bits (the daemon's role names, docs/CONFIG.md principals) */
enum {
	ROLE_SUBMITTER = 1 << 0,
	ROLE_REVIEWER = 1 << 1,
	ROLE_APPROVER = 1 << 2,
	ROLE_ADMIN = 1 << 3,
	ROLE_AUDITOR = 1 << 4,
	ROLE_ANY = 0x1f,
};

/* a text field of a submitted form */
struct web_field {
	char *name;
	struct buf value;
};

/* an uploaded file, sent on to the daemon in parts as it arrives (upload.append), never
 * held whole: the request that stores it names its upload */
struct web_upload {
	char *field;		/* the form field it came in */
	char *filename;		/* as the browser sent it (may be invalid: checked later) */
	char upload[40];	/* the daemon's upload id; "" when none was opened */
	uint64_t sent;		/* bytes sent in parts */
	size_t part_max;	/* the largest part: WEB_PART_BYTES, less when the daemon takes
				 * smaller requests (the max_bytes upload.open answered) */
	uint64_t size;		/* bytes received (counted past the limit too) */
	int too_big;		/* more than max_file_bytes: the rest was not kept */
	int failed;		/* the daemon refused it (web_req.upload_error says why) */
};

/* the logged-in principal (from session.show), when there is a session */
struct web_me {
	char *name, *display_name, *unit, *unit_name;
	unsigned roles;		/* ROLE_* */
	char csrf[80];		/* the session's CSRF token: forms carry it */
};

struct route;

/* one request, alive from its first byte to the end of its response */
struct web_req {
	const char *method;	/* "GET", "POST", ... */
	const char *path;	/* the URL path, percent-decoded by libmicrohttpd */
	char *args[WEB_MAX_ARGS];	/* the path segments matched by '*' in the route */
	int nargs;
	const struct route *route;
	void *conn;		/* struct MHD_Connection * */
	char address[64];	/* the client's address (the proxy's X-Forwarded-For if trusted) */
	int https;		/* reached over TLS (X-Forwarded-Proto: https from a trusted proxy) */
	char session[65];	/* the cookie's token, "" when none */
	struct web_me me;	/* valid when session[0] and me.name */
	/* the body of a POST */
	void *pp;		/* struct MHD_PostProcessor * */
	uint64_t body_bytes;
	int body_too_large;	/* over max_body_bytes: the rest was dropped */
	int form_too_large;	/* text fields over WEB_FORM_BYTES */
	struct web_field fields[WEB_MAX_FIELDS];
	size_t nfields;
	struct web_upload files[WEB_MAX_FILES];
	size_t nfiles;
	int too_many_files;
	char *part;		/* the last file's bytes not yet sent (WEB_PART_BYTES, while it comes) */
	size_t npart;
	char pending[WEB_UPLOAD_WINDOW][48];	/* the ids of parts sent, not yet answered */
	int npending;
	json_t *upload_error;	/* the daemon's first refusal of an upload or a part */
	int uploads_used;	/* a request that named the uploads was answered ok */
};

/* the response a page builds */
struct web_resp {
	int status;		/* 200 unless set */
	struct buf body;
	const char *content_type;	/* default text/html; charset=utf-8 */
	char *location;		/* a redirect (303 unless status says otherwise): owned */
	char *cookies[3];	/* Set-Cookie values: owned */
	int ncookies;
	int cacheable;		/* static files: may be cached; pages are no-store */
	/* a body that is not in `body`: a file (fd) or a daemon file frame */
	int fd;			/* -1, or a file to send, fd_size bytes */
	uint64_t fd_size;
	void *blob;		/* a file frame from web_call_file(), freed with the response */
	char *disposition;	/* Content-Disposition: owned */
};

/* ---- web_routes.c: the route table ---- */

enum {
	R_SESSION = 1 << 0,	/* needs a logged-in principal: else to /dang-nhap */
	R_CSRF = 1 << 1,	/* a POST whose form must carry the session's csrf field */
	R_UPLOAD = 1 << 2,	/* multipart/form-data with files (sent on in parts) */
	R_FORM = 1 << 3,	/* a POST with form fields */
};

struct route {
	const char *method;
	const char *pattern;	/* "/nop/ * / * / *": '*' matches one non-empty segment */
	void (*page)(struct web_req *r, struct web_resp *w);
	unsigned flags;		/* R_* */
	const char *nav;	/* a label in the navigation bar, or NULL */
	unsigned roles;		/* the roles that see the nav entry (ROLE_*); 0: everyone logged in */
};

extern const struct route web_routes[];
extern const size_t web_nroutes;

/* route_match - the route of method and path, its '*' segments into r->args; NULL when
 * none. *method_ok is 0 when the path exists for another method only (405). */
const struct route *route_match(struct web_req *r, const char *method, const char *path, int *path_found);

/* ---- web_html.c: the one escaping writer, the layout ---- */

/* hput - append fmt to b. Every %s is HTML-escaped (& < > " ' as entities; NULL is
 * written as nothing); %d int, %lld long long, %zu size_t; %u the string escaped for a URL
 * path segment (then for HTML); %R the string raw, ONLY for literals of the program (never
 * for anything from a request or the daemon); %% a percent. Nothing else is known. */
void hput(struct buf *b, const char *fmt, ...);

/* html_escape - s into b, HTML-escaped */
void html_escape(struct buf *b, const char *s);

/* page_begin - the document head, the navigation for r->me's roles, and the flash
 * message named by the query's ?tb=CODE (a fixed list: web_html.c) */
void page_begin(struct web_req *r, struct web_resp *w, const char *title);

/* page_end - closes what page_begin opened */
void page_end(struct web_resp *w);

/* page_error - a whole page saying what went wrong (message escaped) with status */
void page_error(struct web_req *r, struct web_resp *w, int status, const char *title,
		const char *message);

/* page_daemon_error - a whole page for a failed daemon reply: the Vietnamese text of its
 * code and the daemon's own message (status from the code: 403, 404, 400, 503) */
void page_daemon_error(struct web_req *r, struct web_resp *w, json_t *reply);

/* chart_canvas - a chart drawn by thidua.js with Chart.js: data is
 * {"type": "bar", "labels": [...], "datasets": [{"label", "data": [...], "color"}],
 *  "stacked": true}, written into the canvas's data-chart attribute (escaped); label is the
 * text a screen reader says. Put a table with the same numbers beside it. */
void chart_canvas(struct buf *b, const json_t *data, const char *label);

/* hidden_csrf - the hidden field of the session's CSRF token, for every POST form */
void hidden_csrf(struct web_req *r, struct buf *b);

/* redirect - answer 303 See Other to location (a path of this site) */
void redirect(struct web_resp *w, const char *location);

/* err_text_vi - Vietnamese text for a daemon error code, or NULL when there is none */
const char *err_text_vi(const char *code);

/* time_text - "2024-11-15T23:59:59+07:00" as "23:59 15/11/2024" into out */
void time_text(const char *iso, char *out, size_t size);

/* ---- web_daemon.c: asking the daemon ---- */

/* web_call - send req (stolen) acting as r's session (added as `session` when there is
 * one) and wait for the reply. Never NULL: when the daemon cannot be reached, or does not
 * answer in time, the reply is {"ok": false, "error": {"code": "unavailable", ...}}.
 * The caller json_decref()s it. */
json_t *web_call(struct web_req *r, json_t *req);

/* web_call_files - web_call with r's uploads of field `field` (in order; a file input left
 * empty is skipped) named as "uploads", once every part sent is answered; a refusal of an
 * upload or a part is the reply */
json_t *web_call_files(struct web_req *r, json_t *req, const char *field);

/* web_upload_open, web_upload_part, web_upload_end - u, sent on as it arrives: opened,
 * then parts (data, malloc'd, stolen) sent without waiting, at most WEB_UPLOAD_WINDOW
 * unanswered; web_upload_end cancels what no request used (r's end). A refusal marks u
 * failed and keeps the reply in r->upload_error. 0, -1 refused */
int web_upload_open(struct web_req *r, struct web_upload *u);
int web_upload_part(struct web_req *r, struct web_upload *u, char *data, size_t size);
void web_upload_end(struct web_req *r);

/* web_call_file - web_call whose reply carries one file frame: on success *blob is a
 * file frame holding it (hand it to w->blob), else NULL */
json_t *web_call_file(struct web_req *r, json_t *req, void **blob);

/* reply_ok - 1 when reply says "ok": true */
int reply_ok(const json_t *reply);

/* reply_code, reply_message - the error's code and message ("" when none) */
const char *reply_code(const json_t *reply);
const char *reply_message(const json_t *reply);

/* blob_data, blob_size, blob_free - a file frame from web_call_file */
const void *blob_data(void *blob);
size_t blob_size(void *blob);
void blob_free(void *blob);

/* web_daemon_thread_end - close this thread's connection */
void web_daemon_thread_end(void);
void web_daemon_init(void);
void web_daemon_end(void);

/* ---- web_form.c: request bodies ---- */

/* form_get - the text field name of the POST, or NULL */
const char *form_get(const struct web_req *r, const char *name);

/* query_get - an argument of the URL's query string, or NULL */
const char *query_get(const struct web_req *r, const char *name);

/* cookie_get - a cookie of the request, or NULL */
const char *cookie_get(const struct web_req *r, const char *name);

/* header_get - a request header, or NULL */
const char *header_get(const struct web_req *r, const char *name);

/* ---- web_session.c ---- */

/* session_cookie - a Set-Cookie value for the token (NULL: one that removes it) */
char *session_cookie(const struct web_req *r, const char *token);

/* session_load - r->me from session.show; 0, or -1 with the reply's error code in code */
int session_load(struct web_req *r, char *code, size_t size);

/* csrf_ok - the form's csrf field equals the session's token (compared in constant time) */
int csrf_ok(const struct web_req *r);

/* me_free - what session_load allocated */
void me_free(struct web_me *me);

/* login_done - after session.login or session.redeem succeeded: set the cookie, go home */
void login_done(struct web_req *r, struct web_resp *w, json_t *reply);

/* roles_bits - ROLE_* of a JSON array of role names */
unsigned roles_bits(const json_t *roles);

#endif
