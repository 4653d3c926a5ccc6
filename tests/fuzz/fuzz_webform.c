/*
 * fuzz_webform.c - libFuzzer target: a POST to thidua-web's upload route, through a real
 * libmicrohttpd connection (a socketpair handed to MHD_add_connection, driven by
 * MHD_run in this thread) into web_form.c: the post processor, the text fields, the files
 * sent on in parts (to a stand-in for web_daemon.c that counts them), the body and field
 * limits - what workers/web/web_main.c's on_request() does with a body, without the
 * daemon behind it.
 *
 * The input: byte 0 chooses how the request is written (bits 0-5: pieces of that many
 * bytes with the server run between them, 0 = at once; bit 6: the route takes fields
 * only, not files), then header lines up to an empty line ("\n\n"; each "\n" is sent as
 * CRLF), then the body. The request line is fixed (POST /nop/XA-ANPHU/BC-NAM/2024); a
 * Content-Length of the body is added unless the headers give one or a Transfer-Encoding.
 *
 * Properties: the same fields and files whether the request arrives at once or in pieces;
 * no crash, leak or undefined behaviour; at most WEB_MAX_FIELDS fields and WEB_MAX_FILES
 * files; the text fields together within WEB_FORM_BYTES and valid UTF-8 once the body is
 * finished; a file is either sent whole (its parts, none empty nor over WEB_PART_BYTES, add
 * up to exactly the bytes counted) or marked too big, never more than max_file_bytes
 * sent; every upload opened is ended; a body past max_body_bytes is marked and refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "utf8.h"
#include "web.h"
#include "web_form.h"
#include "xalloc.h"

#define MAX_FILE 2048		/* small limits, so that the fuzzer reaches them */
#define MAX_BODY 48000
#define PART_MAX 700		/* the daemon's part bound, as upload.open's max_bytes would set it */

struct web_opts web_opts = {
	.max_file_bytes = MAX_FILE,
	.max_body_bytes = MAX_BODY,
};

static const struct route upload_route = { "POST", "/nop/*/*/*", NULL, R_SESSION | R_CSRF | R_UPLOAD, NULL, 0 };
static const struct route form_route = { "POST", "/dang-nhap", NULL, R_FORM, NULL, 0 };
static const struct route *route_now;
static struct MHD_Daemon *mhd;
static struct buf summary;	/* what the last request's form came to (see summarize) */
static int summarized;

/* the daemon's side (web_daemon.c), as far as a form goes: uploads opened and ended, parts
 * counted */
int web_upload_open(struct web_req *r, struct web_upload *u)
{
	snprintf(u->upload, sizeof(u->upload), "u%zu", (size_t)(u - r->files));
	u->part_max = PART_MAX;		/* small: a file of the fuzzer's goes in several parts */
	return 0;
}

int web_upload_part(struct web_req *r, struct web_upload *u, char *data, size_t size)
{
	(void)r;
	FUZZ_ASSERT(u->upload[0] && size > 0 && size <= PART_MAX);
	u->sent += size;
	free(data);
	return 0;
}

void web_upload_end(struct web_req *r)
{
	for (size_t i = 0; i < r->nfiles; i++)
		r->files[i].upload[0] = 0;
}

/* summarize - the fields and files of a finished body, to compare two runs of one input */
static void summarize(const struct web_req *r)
{
	char n[64];

	summary.len = 0;
	for (size_t i = 0; i < r->nfields; i++) {
		buf_put(&summary, r->fields[i].name, strlen(r->fields[i].name));
		BUF_PUT(&summary, "=");
		if (r->fields[i].value.p)
			buf_put(&summary, r->fields[i].value.p, strlen(r->fields[i].value.p));
		BUF_PUT(&summary, "\n");
	}
	for (size_t i = 0; i < r->nfiles; i++) {
		buf_put(&summary, r->files[i].field, strlen(r->files[i].field));
		BUF_PUT(&summary, " file ");
		buf_put(&summary, r->files[i].filename, strlen(r->files[i].filename));
		snprintf(n, sizeof(n), " %llu %d\n", (unsigned long long)r->files[i].size, r->files[i].too_big);
		buf_put(&summary, n, strlen(n));
	}
	BUF_PUT(&summary, "");
	summarized = !r->form_too_large && !r->body_too_large && !r->too_many_files;
}

/* check - the properties of a request whose body is all there (or was cut short) */
static void check(struct web_req *r)
{
	size_t total = 0;

	FUZZ_ASSERT(r->nfields <= WEB_MAX_FIELDS);
	FUZZ_ASSERT(r->nfiles <= WEB_MAX_FILES);
	FUZZ_ASSERT(r->body_bytes <= MAX_BODY || r->body_too_large);
	for (size_t i = 0; i < r->nfields; i++) {
		const struct web_field *f = &r->fields[i];

		FUZZ_ASSERT(f->name != NULL);
		total += f->value.len + strlen(f->name);
		if (f->value.p && !r->pp)
			FUZZ_ASSERT(utf8_valid_str(f->value.p));
	}
	FUZZ_ASSERT(total <= WEB_FORM_BYTES);
	FUZZ_ASSERT(r->nfiles == 0 || (r->route->flags & R_UPLOAD));
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct web_upload *u = &r->files[i];

		FUZZ_ASSERT(u->field != NULL && u->filename != NULL);
		FUZZ_ASSERT(u->sent <= MAX_FILE);
		if (u->too_big) {
			FUZZ_ASSERT(u->size > MAX_FILE);
			continue;
		}
		FUZZ_ASSERT(u->size <= MAX_FILE);
		FUZZ_ASSERT(u->sent == u->size || r->form_too_large || r->body_too_large);
		FUZZ_ASSERT(!u->size || u->upload[0]);
	}
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	FUZZ_ASSERT(resp != NULL);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* on_request - web_main.c's on_request() as far as the body goes */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct web_req *r = *con_cls;

	(void)cls;
	(void)version;
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->conn = conn;
		r->method = method;
		r->path = url;
		r->route = route_now;
		*con_cls = r;
		if (form_declared_too_large(r))
			return answer(conn, 413);
		if (!strcmp(method, "POST") && form_begin(r) != 0)
			return answer(conn, 400);
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (form_feed(r, upload_data, n) != 0) {
			FUZZ_ASSERT(r->body_too_large);
			check(r);
			return answer(conn, 413);
		}
		return MHD_YES;
	}
	form_finish(r);
	FUZZ_ASSERT(r->pp == NULL);
	check(r);
	summarize(r);
	if (getenv("FUZZ_WEBFORM_TRACE")) {
		fprintf(stderr, "body %llu bytes, %zu fields, %zu files", (unsigned long long)r->body_bytes,
			r->nfields, r->nfiles);
		for (size_t i = 0; i < r->nfiles; i++)
			fprintf(stderr, " [%s %s %llu%s]", r->files[i].field, r->files[i].filename,
				(unsigned long long)r->files[i].size, r->files[i].too_big ? " too big" : "");
		for (size_t i = 0; i < r->nfields; i++)
			fprintf(stderr, " %s=%zu", r->fields[i].name, r->fields[i].value.len);
		fprintf(stderr, "%s%s\n", r->form_too_large ? " form_too_large" : "",
			r->body_too_large ? " body_too_large" : "");
	}
	/* what the pages read */
	(void)form_get(r, "csrf");
	(void)header_get(r, "Content-Type");
	return answer(conn, r->body_too_large ? 413 : 200);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct web_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r) {
		form_end(r);
		free(r);
	}
	*con_cls = NULL;
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz_webform", 0);
	/* the gateway's options, in external polling mode and without a listening socket */
	mhd = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, NULL,
			       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
			       MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			       MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			       MHD_OPTION_END);
	FUZZ_ASSERT(mhd != NULL);
}

/* has_header - the header lines name h (case-insensitive, at a line's start) */
static int has_header(const uint8_t *p, size_t n, const char *h)
{
	size_t hl = strlen(h);

	for (size_t i = 0; i + hl <= n; i++)
		if ((i == 0 || p[i - 1] == '\n') && !strncasecmp((const char *)p + i, h, hl))
			return 1;
	return 0;
}

static void put(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		*cap = (*len + n) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
}

static int connections(void)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return di ? (int)di->num_connections : 0;
}

/* run_one - the request of the input, written in pieces of step bytes (0: at once) */
static void run_one(const uint8_t *data, size_t size, size_t step)
{
	static const char line[] = "POST /nop/XA-ANPHU/BC-NAM/2024 HTTP/1.1\r\nHost: 127.0.0.1:8470\r\n";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(40000) };
	const uint8_t *head, *body, *sep = NULL;
	size_t head_len, body_len, len = 0, cap = 0, off = 0;
	char *req = NULL, resp[4096], cl[64];
	int sv[2], probe, probe2, eof = 0;

	summary.len = 0;
	summarized = 0;
	route_now = (data[0] & 64) ? &form_route : &upload_route;
	head = data + 1;
	for (size_t i = 0; i + 1 < size - 1; i++)
		if (head[i] == '\n' && head[i + 1] == '\n') {
			sep = head + i;
			break;
		}
	head_len = sep ? (size_t)(sep - head) : 0;
	body = sep ? sep + 2 : head;
	body_len = size - 1 - (size_t)(body - head);

	put(&req, &len, &cap, line, sizeof(line) - 1);
	for (size_t i = 0; i < head_len; i++) {
		if (head[i] == '\n')
			put(&req, &len, &cap, "\r\n", 2);
		else
			put(&req, &len, &cap, head + i, 1);
	}
	if (head_len)
		put(&req, &len, &cap, "\r\n", 2);
	if (!has_header(head, head_len, "content-length:") && !has_header(head, head_len, "transfer-encoding:")) {
		int n = snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", body_len);

		put(&req, &len, &cap, cl, (size_t)n);
	}
	put(&req, &len, &cap, "\r\n", 2);
	put(&req, &len, &cap, body, body_len);

	probe = dup(0);
	close(probe);
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	FUZZ_ASSERT(MHD_add_connection(mhd, sv[1], (struct sockaddr *)&sa, sizeof(sa)) == MHD_YES);
	/* write the request in pieces, the server running between them, reading what it says */
	for (int rounds = 0; rounds < 100000 && !eof; rounds++) {
		if (off < len) {
			size_t n = step ? (len - off < step ? len - off : step) : len - off;
			ssize_t k = write(sv[0], req + off, n);

			if (k > 0)
				off += (size_t)k;
			else if (k < 0 && errno != EAGAIN && errno != EINTR)
				off = len;	/* the server closed: the rest is not wanted */
			if (off == len)
				shutdown(sv[0], SHUT_WR);
		}
		MHD_run(mhd);
		for (;;) {
			ssize_t k = read(sv[0], resp, sizeof(resp));

			if (k > 0)
				continue;
			if (k == 0 || (errno != EAGAIN && errno != EINTR))
				eof = 1;
			break;
		}
		if (off == len && rounds > 50000)
			break;
	}
	close(sv[0]);
	for (int i = 0; i < 1000 && connections() > 0; i++)
		MHD_run(mhd);
	FUZZ_ASSERT(connections() == 0);
	free(req);
	/* every spool file of the request is closed */
	probe2 = dup(0);
	close(probe2);
	FUZZ_ASSERT(probe2 == probe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *whole;
	int whole_ok;

	if (!mhd)
		setup();
	if (size < 1 || size > 256 * 1024)
		return 0;
	run_one(data, size, 0);
	if (!(data[0] & 63))
		return 0;
	/* the same body in pieces: the same fields and files, however the bytes arrive */
	whole = summary.p ? xstrdup(summary.p) : NULL;
	whole_ok = summarized;
	run_one(data, size, data[0] & 63);
	if (whole_ok && summarized && whole) {
		if (strcmp(whole, summary.p))
			fprintf(stderr, "at once:\n%s\nin pieces of %d bytes:\n%s\n", whole, data[0] & 63, summary.p);
		FUZZ_ASSERT(strcmp(whole, summary.p) == 0);
	}
	free(whole);
	return 0;
}
