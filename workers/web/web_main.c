/*
 * web_main.c - thidua-web: options, the libmicrohttpd server, the request's life.
 *
 * libmicrohttpd calls on_request() several times per request: first with the headers
 * (the route is found, a POST gets its post processor), then with pieces of the body
 * (streamed into form fields, and files sent on to the daemon in parts, web_form.c), then once more with nothing:
 * the session is checked, the CSRF token of a POST compared, the page runs, and its
 * response is queued with the security headers every response carries.
 *
 * The main thread only waits for SIGTERM/SIGINT (stop) and SIGHUP (nothing to reload);
 * libmicrohttpd's thread pool serves. Never forks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "web.h"
#include "web_form.h"
#include "xalloc.h"

struct web_opts web_opts = {
	.endpoint = WEB_DEFAULT_ENDPOINT,
	.listen = WEB_DEFAULT_LISTEN,
	.chartjs = WEB_DEFAULT_CHARTJS,
	.threads = 4,
	.max_connections = 256,
	.timeout_s = 60,
	.daemon_timeout = 120,
	.max_file_bytes = 26214400,
	.max_body_bytes = 33554432 + 1048576,
};

/* libmicrohttpd's memory per connection, for the request line and headers and the
 * response's headers. It zeroes all of it after each request, so every keep-alive
 * connection keeps all of it resident: 200 connections at 12 KiB are 2.4 MB. 12 KiB takes
 * about 5.5 KB of request headers: a browser's largest cookie (4096 bytes) with the usual
 * headers; more is answered 431. */
#define CONN_MEMORY (12 * 1024)

/* every response carries these */
static const char *const security_headers[][2] = {
	{ "Content-Security-Policy",
	  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	  "frame-ancestors 'none'; form-action 'self'; base-uri 'none'" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "Referrer-Policy", "same-origin" },
	{ "X-Frame-Options", "DENY" },
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: thidua-web [-e ENDPOINT] [-l ADDRESS:PORT] [--static DIR] [--chartjs FILE]\n"
		"                  [--trust-proxy] [-t THREADS] [-v]\n"
		"  -e, --endpoint ENDPOINT  the daemon's web socket (default %s)\n"
		"  -l, --listen ADDR:PORT   where to listen (default %s; nginx in front for TLS)\n"
		"      --static DIR         the style sheet and scripts (default: workers/web/static\n"
		"                           beside a build tree, else %s)\n"
		"      --chartjs FILE       Chart.js, from Debian's libjs-chart.js (default %s)\n"
		"      --trust-proxy        take X-Forwarded-For and X-Forwarded-Proto from the proxy\n"
		"      --max-file-bytes N   the largest file one may upload (default 26214400)\n"
		"      --max-connections N  connections at once (default 256)\n"
		"      --idle-timeout S     close a connection that sends nothing for S seconds\n"
		"                           (1..3600, default 60)\n"
		"  -t, --threads N          threads serving pages, 1..64 (default 4)\n"
		"  -v, --verbose            more log detail (repeat for debug)\n"
		"  -h, --help               this text\n",
		WEB_DEFAULT_ENDPOINT, WEB_DEFAULT_LISTEN, WEB_DEFAULT_STATIC, WEB_DEFAULT_CHARTJS);
}

/* ---- responses ---- */

/* resp_free - what a page left in w */
static void resp_free(struct web_resp *w)
{
	free(w->body.p);
	free(w->location);
	for (int i = 0; i < w->ncookies; i++)
		free(w->cookies[i]);
	if (w->fd >= 0)
		close(w->fd);
	if (w->blob)
		blob_free(w->blob);
	free(w->disposition);
}

static void blob_done(void *cls)
{
	blob_free(cls);
}

/* send_resp - queue w (its buffers are handed to libmicrohttpd or freed) */
static enum MHD_Result send_resp(struct MHD_Connection *conn, struct web_resp *w)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int status = w->status ? w->status : 200;

	if (w->location) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, w->location);
		if (!w->status)
			status = MHD_HTTP_SEE_OTHER;
	} else if (w->fd >= 0) {
		resp = MHD_create_response_from_fd((size_t)w->fd_size, w->fd);
		w->fd = -1;
	} else if (w->blob) {
		resp = MHD_create_response_from_buffer_with_free_callback_cls(blob_size(w->blob),
			(void *)blob_data(w->blob), blob_done, w->blob);
		w->blob = NULL;
	} else if (w->body.len) {
		resp = MHD_create_response_from_buffer(w->body.len, w->body.p, MHD_RESPMEM_MUST_FREE);
		w->body.p = NULL;
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp) {
		resp_free(w);
		return MHD_NO;
	}
	for (size_t i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
		MHD_add_response_header(resp, security_headers[i][0], security_headers[i][1]);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				w->content_type ? w->content_type : "text/html; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				w->cacheable ? "public, max-age=3600" : "no-store");
	for (int i = 0; i < w->ncookies; i++)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, w->cookies[i]);
	if (w->disposition)
		MHD_add_response_header(resp, "Content-Disposition", w->disposition);
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	resp_free(w);
	return ret;
}

/* ---- a request's life ---- */

/* client_address - the peer, or the last X-Forwarded-For hop a trusted proxy added */
static void client_address(struct web_req *r)
{
	const union MHD_ConnectionInfo *ci;
	const char *xff, *proto;

	xstrlcpy(r->address, "?", sizeof(r->address));
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->address,
				  sizeof(r->address));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, r->address,
				  sizeof(r->address));
	}
	if (!web_opts.trust_proxy)
		return;
	xff = header_get(r, "X-Forwarded-For");
	if (xff && *xff) {
		const char *last = strrchr(xff, ',');

		last = last ? last + 1 : xff;
		while (*last == ' ')
			last++;
		if (strlen(last) < sizeof(r->address) && strspn(last, "0123456789abcdefABCDEF.:") == strlen(last) && *last)
			xstrlcpy(r->address, last, sizeof(r->address));
	}
	proto = header_get(r, "X-Forwarded-Proto");
	r->https = proto && !strcmp(proto, "https");
}

/* session_from_cookie - the thidua_session cookie when it has the token's shape */
static void session_from_cookie(struct web_req *r)
{
	const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "thidua_session");

	r->session[0] = 0;
	if (c && strlen(c) == 64 && strspn(c, "0123456789abcdef") == 64)
		xstrlcpy(r->session, c, sizeof(r->session));
}

/* origin_ok - a POST's Origin, when the browser sends one, is this site */
static int origin_ok(struct web_req *r)
{
	const char *origin = header_get(r, "Origin"), *host = header_get(r, "Host"), *p;
	const char *site = header_get(r, "Sec-Fetch-Site");

	if (site && !strcmp(site, "cross-site"))
		return 0;
	if (!origin)
		return 1;
	if (!host || !strcmp(origin, "null"))
		return 0;
	p = strstr(origin, "://");
	return p && !strcmp(p + 3, host);
}

static struct web_req *req_new(struct MHD_Connection *conn, const char *url, const char *method)
{
	struct web_req *r = xcalloc(1, sizeof(*r));
	int found = 0;

	r->conn = conn;
	r->method = method;
	r->path = url;
	r->route = route_match(r, strcmp(method, "HEAD") ? method : "GET", url, &found);
	if (!r->route)
		r->nargs = found ? -2 : -1;	/* 405 or 404 */
	client_address(r);
	session_from_cookie(r);
	return r;
}

static void req_free(struct web_req *r)
{
	if (!r)
		return;
	form_end(r);
	for (int i = 0; i < r->nargs; i++)
		free(r->args[i]);
	me_free(&r->me);
	free(r);
}

/* run - everything received: the checks every route asks for, then its page */
static void run(struct web_req *r, struct web_resp *w)
{
	const struct route *rt = r->route;
	int post = !strcmp(r->method, "POST");

	if (!rt) {
		if (r->nargs == -2) {
			page_error(r, w, 405, "Không hỗ trợ", "Trang này không nhận kiểu yêu cầu đó.");
			return;
		}
		if (r->session[0])
			session_load(r, NULL, 0);
		page_error(r, w, 404, "Không tìm thấy trang", "Không có trang này. Hãy quay về trang chủ.");
		return;
	}
	if (post && !origin_ok(r)) {
		page_error(r, w, 403, "Yêu cầu bị từ chối",
			   "Biểu mẫu được gửi từ một trang khác. Hãy mở lại trang và gửi lại.");
		return;
	}
	if (r->body_too_large) {
		page_error(r, w, 413, "Dữ liệu quá lớn", "Dữ liệu gửi lên vượt quá giới hạn cho phép.");
		return;
	}
	if (rt->flags & R_SESSION) {
		char code[64];

		if (!r->session[0]) {
			redirect(w, "/dang-nhap?tb=can-dang-nhap");
			return;
		}
		if (session_load(r, code, sizeof(code)) != 0) {
			if (!strcmp(code, ERR_SESSION_EXPIRED) || !strcmp(code, ERR_SESSION_REQUIRED)) {
				w->cookies[w->ncookies++] = session_cookie(r, NULL);
				redirect(w, "/dang-nhap?tb=het-han");
			} else if (!strcmp(code, ERR_RATE_LIMITED)) {
				page_error(r, w, 429, "Quá nhiều yêu cầu",
					   "Bạn gửi quá nhiều yêu cầu trong một giây. Hãy chờ một lát rồi thử lại.");
			} else {
				page_error(r, w, 503, "Hệ thống chưa sẵn sàng",
					   "Không hỏi được máy chủ thidua. Hãy thử lại sau ít phút.");
			}
			return;
		}
	}
	if (post && (rt->flags & R_CSRF) && !csrf_ok(r)) {
		page_error(r, w, 403, "Biểu mẫu không hợp lệ",
			   "Biểu mẫu đã cũ hoặc không do trang này tạo ra (mã chống giả mạo không khớp). "
			   "Hãy mở lại trang rồi gửi lại.");
		return;
	}
	rt->page(r, w);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct web_req *r = *con_cls;
	struct web_resp w = { .fd = -1 };

	(void)cls;
	(void)version;
	if (!r) {
		r = req_new(conn, url, method);
		*con_cls = r;
		if (form_declared_too_large(r)) {
			page_error(r, &w, 413, "Dữ liệu quá lớn",
				   "Dữ liệu gửi lên vượt quá giới hạn cho phép.");
			return send_resp(conn, &w);
		}
		if (!strcmp(method, "POST") && r->route && form_begin(r) != 0) {
			page_error(r, &w, 400, "Biểu mẫu không đọc được",
				   "Trình duyệt gửi dữ liệu theo kiểu không được hỗ trợ.");
			return send_resp(conn, &w);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (form_feed(r, upload_data, n) != 0) {
			page_error(r, &w, 413, "Dữ liệu quá lớn",
				   "Dữ liệu gửi lên vượt quá giới hạn cho phép.");
			return send_resp(conn, &w);
		}
		return MHD_YES;
	}
	form_finish(r);
	run(r, &w);
	log_debug("%s %s %d %s", method, url, w.status ? w.status : (w.location ? 303 : 200), r->address);
	return send_resp(conn, &w);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	req_free(*con_cls);
	*con_cls = NULL;
}

/* ---- start ---- */

/* parse_listen - ADDRESS:PORT or [ADDRESS]:PORT into sa */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = 0;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -1;
		*len = sizeof(*a);
		return AF_INET6;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		*len = sizeof(*a);
		return AF_INET;
	}
}

/* default_static - workers/web/static of the build tree beside bin/, else share/thidua/web
 * beside the installed sbin/ (PREFIX/sbin -> PREFIX/share), else WEB_DEFAULT_STATIC */
static const char *default_static(void)
{
	static const char *const rel[] = { "../workers/web/static", "../share/thidua/web" };
	static char path[4096];
	char self[3800], probe[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return WEB_DEFAULT_STATIC;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return WEB_DEFAULT_STATIC;
	*slash = 0;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(probe, sizeof(probe), "%s/%s/thidua.css", self, rel[i]);
		if (access(probe, R_OK) == 0) {
			snprintf(path, sizeof(path), "%s/%s", self, rel[i]);
			return path;
		}
	}
	return WEB_DEFAULT_STATIC;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_vmsg(LOG_WARN, fmt, ap);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "listen", required_argument, NULL, 'l' },
		{ "static", required_argument, NULL, 'S' },
		{ "chartjs", required_argument, NULL, 'C' },
		{ "trust-proxy", no_argument, NULL, 'T' },
		{ "max-file-bytes", required_argument, NULL, 'M' },
		{ "max-connections", required_argument, NULL, 'N' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "threads", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct MHD_Daemon *mhd;
	int verbose = 0, opt, sig;
	uint64_t v;
	sigset_t set;

	while ((opt = getopt_long(argc, argv, "e:l:t:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e': web_opts.endpoint = optarg; break;
		case 'l': web_opts.listen = optarg; break;
		case 'S': web_opts.static_dir = optarg; break;
		case 'C': web_opts.chartjs = optarg; break;
		case 'T': web_opts.trust_proxy = 1; break;
		case 'M':
			if (parse_u64(optarg, 1, 1ULL << 30, &v)) {
				fprintf(stderr, "thidua-web: --max-file-bytes must be a number from 1 to 1073741824\n");
				return 2;
			}
			web_opts.max_file_bytes = v;
			if (web_opts.max_body_bytes < v + 1048576)
				web_opts.max_body_bytes = v + 1048576;
			break;
		case 'N':
			if (parse_u64(optarg, 1, 65536, &v)) {
				fprintf(stderr, "thidua-web: --max-connections must be a number from 1 to 65536\n");
				return 2;
			}
			web_opts.max_connections = (unsigned)v;
			break;
		case 'I':
			if (parse_u64(optarg, 1, 3600, &v)) {
				fprintf(stderr, "thidua-web: --idle-timeout must be a number of seconds from 1 to 3600\n");
				return 2;
			}
			web_opts.timeout_s = (unsigned)v;
			break;
		case 't':
			if (parse_u64(optarg, 1, 64, &v)) {
				fprintf(stderr, "thidua-web: --threads must be a number from 1 to 64\n");
				return 2;
			}
			web_opts.threads = (int)v;
			break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "thidua-web: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init(argv[0], verbose);
	/* one malloc arena for all the serving threads: what one thread frees, the next page of
	 * another reuses, and the heap's high-water mark is that of the pages built at once,
	 * not one per arena (0.2 MB less than two arenas at 200 sessions of /tong-hop) */
	mallopt(M_ARENA_MAX, 1);
	if (parse_listen(web_opts.listen, &ss, &sslen) < 0) {
		fprintf(stderr, "thidua-web: --listen wants ADDRESS:PORT (127.0.0.1:8470, [::1]:8470), not '%s'\n",
			web_opts.listen);
		return 2;
	}
	if (!web_opts.static_dir)
		web_opts.static_dir = default_static();

	/* signals go to this thread only: block them before any thread starts */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatal("pthread_sigmask failed");
	web_daemon_init();

	mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG
			       | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			       0, NULL, NULL, on_request, NULL,
			       MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			       MHD_OPTION_THREAD_POOL_SIZE, (unsigned)web_opts.threads,
			       MHD_OPTION_CONNECTION_LIMIT, web_opts.max_connections,
			       MHD_OPTION_CONNECTION_TIMEOUT, web_opts.timeout_s,
			       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
			       MHD_OPTION_PER_IP_CONNECTION_LIMIT, web_opts.trust_proxy ? 0u : 64u,
			       MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			       MHD_OPTION_LISTEN_BACKLOG_SIZE, 128u,
			       MHD_OPTION_END);
	if (!mhd)
		fatal("cannot listen on %s (in use, or not an address of this host?)", web_opts.listen);
	log_notice("listening on http://%s, the daemon at %s, %d threads", web_opts.listen, web_opts.endpoint,
		   web_opts.threads);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: nothing to reload");
			continue;
		}
		log_notice("%s: stopping", strsignal(sig));
		break;
	}
	MHD_stop_daemon(mhd);
	web_daemon_end();
	return 0;
}
