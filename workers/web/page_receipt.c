/*
 * page_receipt.c - a receipt (printable), the unit's receipts, a file of a receipt.
 *
 * The receipt page is what a clerk prints and files: number, time received, on time or
 * late, each file with its size and SHA-256, and the report's history (every version
 * received, each return or acceptance with its reason). Files are downloaded through the daemon
 * (report.file, by receipt and hash): the gateway never reads the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "web.h"
#include "web_util.h"
#include "xalloc.h"

static const char *review_vi(const char *action)
{
	return !action ? "" : !strcmp(action, "accept") ? "Được chấp nhận" : !strcmp(action, "return") ? "Bị trả lại"
	       : !strcmp(action, "waive") ? "Được miễn nộp" : action;
}

/* history - every version of the report and its reviews, oldest first (report.receipt's
 * versions and reviews, merged by time: one offset everywhere, so the texts compare) */
static void history(struct buf *b, json_t *reply, const char *number)
{
	json_t *vs = json_object_get(reply, "versions"), *rs = json_object_get(reply, "reviews");
	size_t iv = 0, ir = 0, nv = json_array_size(vs), nr = json_array_size(rs);

	if (nv < 2 && !nr)
		return;
	hput(b, "<h2>Lịch sử các lần nộp</h2>\n<ol class=\"history\">");
	while (iv < nv || ir < nr) {
		json_t *v = iv < nv ? json_array_get(vs, iv) : NULL, *rv = ir < nr ? json_array_get(rs, ir) : NULL;
		const char *vat = json_string_value(json_object_get(v, "received_at"));
		const char *rat = json_string_value(json_object_get(rv, "at"));
		char at[32];

		if (v && (!rv || strcmp(vat ? vat : "", rat ? rat : "") <= 0)) {
			const char *n = json_string_value(json_object_get(v, "number"));

			time_text(vat, at, sizeof(at));
			hput(b, "<li>%s — lần nộp %lld, ", at, (long long)json_integer_value(json_object_get(v, "version")));
			if (n && !strcmp(n, number))
				hput(b, "<strong>biên nhận %s (biên nhận này)</strong>", n);
			else
				hput(b, "biên nhận <a href=\"/bien-nhan/%u\">%s</a>", n ? n : "", n ? n : "");
			hput(b, ", <span class=\"%R\">%R</span></li>", json_is_true(json_object_get(v, "on_time")) ? "ontime" : "late",
			     json_is_true(json_object_get(v, "on_time")) ? "đúng hạn" : "muộn");
			iv++;
		} else {
			const char *reason = json_string_value(json_object_get(rv, "reason"));
			const char *due = json_string_value(json_object_get(rv, "due_at"));

			time_text(rat, at, sizeof(at));
			hput(b, "<li>%s — <strong>%s</strong>", at, review_vi(json_string_value(json_object_get(rv, "action"))));
			if (reason)
				hput(b, "; lý do: %s", reason);
			if (due) {
				time_text(due, at, sizeof(at));
				hput(b, "; hạn nộp lại %s", at);
			}
			hput(b, "</li>");
			ir++;
		}
	}
	hput(b, "</ol>\n");
}

void page_receipt(struct web_req *r, struct web_resp *w)
{
	json_t *reply = web_call(r, json_pack("{s:s,s:s}", "op", OP_REPORT_RECEIPT, "number", r->args[0]));
	json_t *rc = json_object_get(reply, "receipt"), *f;
	struct buf *b = &w->body;
	const char *number, *note;
	char at[32], due[32];
	size_t i;

	if (!reply_ok(reply) || !json_is_object(rc)) {
		page_daemon_error(r, w, reply);
		json_decref(reply);
		return;
	}
	number = json_string_value(json_object_get(rc, "number"));
	note = json_string_value(json_object_get(rc, "note"));
	time_text(json_string_value(json_object_get(rc, "received_at")), at, sizeof(at));
	time_text(json_string_value(json_object_get(rc, "due_at")), due, sizeof(due));
	page_begin(r, w, number ? number : "Biên nhận");
	hput(b, "<article class=\"receipt\"><h1>Biên nhận báo cáo <span class=\"number\">%s</span></h1>\n"
		"<dl class=\"facts\"><dt>Số biên nhận</dt><dd>%s</dd><dt>Thời điểm nhận</dt><dd>%s</dd>"
		"<dt>Đúng hạn</dt><dd class=\"%R\">%R</dd>"
		"<dt>Đơn vị nộp</dt><dd>%s (%s)</dd><dt>Báo cáo</dt><dd>%s (%s)</dd><dt>Kỳ</dt><dd>%s</dd>"
		"<dt>Lần nộp</dt><dd>%lld</dd><dt>Hạn nộp</dt><dd>%s</dd>",
	     number, number, at,
	     json_is_true(json_object_get(rc, "on_time")) ? "ontime" : "late",
	     json_is_true(json_object_get(rc, "on_time")) ? "Đúng hạn" : "Nộp muộn",
	     json_string_value(json_object_get(rc, "unit_name")), json_string_value(json_object_get(rc, "unit")),
	     json_string_value(json_object_get(rc, "report_name")), json_string_value(json_object_get(rc, "report")),
	     json_string_value(json_object_get(rc, "period")),
	     (long long)json_integer_value(json_object_get(rc, "version")), due);
	if (note && *note)
		hput(b, "<dt>Ghi chú</dt><dd>%s</dd>", note);
	hput(b, "</dl>\n<h2>Tệp đã nhận</h2>\n<table class=\"list files\"><thead><tr><th scope=\"col\">Tệp</th>"
		"<th scope=\"col\">Dung lượng</th><th scope=\"col\">SHA-256</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(rc, "files"), i, f) {
		const char *sha = json_string_value(json_object_get(f, "sha256"));
		char size[64];

		size_text((uint64_t)json_integer_value(json_object_get(f, "size")), size, sizeof(size));
		hput(b, "<tr><td data-label=\"Tệp\"><a href=\"/tep/%u/%u\">%s</a></td><td data-label=\"Dung lượng\">%s</td>"
			"<td data-label=\"SHA-256\"><code class=\"hash\">%s</code></td></tr>\n",
		     number, sha, json_string_value(json_object_get(f, "name")), size, sha);
	}
	hput(b, "</tbody></table>\n");
	history(b, reply, number ? number : "");
	hput(b, "<p class=\"noprint\"><button type=\"button\" data-print>In biên nhận</button> "
		"<a href=\"/bien-nhan\">Các biên nhận của đơn vị</a></p></article>\n");
	page_end(w);
	json_decref(reply);
}

void page_receipts(struct web_req *r, struct web_resp *w)
{
	json_t *reply, *o;
	struct buf *b = &w->body;
	size_t i, n = 0;

	if (!r->me.unit) {
		page_error(r, w, 400, "Biên nhận", "Tài khoản của bạn không thuộc đơn vị nào.");
		return;
	}
	reply = web_call(r, json_pack("{s:s,s:s}", "op", OP_OBLIGATIONS_LIST, "unit", r->me.unit));
	if (!reply_ok(reply)) {
		page_daemon_error(r, w, reply);
		json_decref(reply);
		return;
	}
	page_begin(r, w, "Biên nhận");
	hput(b, "<h1>Biên nhận của %s</h1>\n", r->me.unit_name ? r->me.unit_name : r->me.unit);
	json_array_foreach(json_object_get(reply, "obligations"), i, o) {
		const char *receipt = json_string_value(json_object_get(o, "receipt"));
		char at[32];

		if (!receipt)
			continue;
		if (!n++)
			hput(b, "<table class=\"list\"><thead><tr><th scope=\"col\">Biên nhận</th><th scope=\"col\">Báo cáo</th>"
				"<th scope=\"col\">Kỳ</th><th scope=\"col\">Lần nộp</th><th scope=\"col\">Thời điểm nhận</th>"
				"<th scope=\"col\">Đúng hạn</th><th scope=\"col\">Tình trạng</th></tr></thead><tbody>\n");
		time_text(json_string_value(json_object_get(o, "submitted_at")), at, sizeof(at));
		hput(b, "<tr><td data-label=\"Biên nhận\"><a href=\"/bien-nhan/%u\">%s</a></td><td data-label=\"Báo cáo\">%s</td>"
			"<td data-label=\"Kỳ\">%s</td><td data-label=\"Lần nộp\">%lld</td><td data-label=\"Thời điểm nhận\">%s</td>"
			"<td data-label=\"Đúng hạn\">%R</td><td data-label=\"Tình trạng\">%s</td></tr>\n",
		     receipt, receipt, json_string_value(json_object_get(o, "report_name")),
		     json_string_value(json_object_get(o, "period")),
		     (long long)json_integer_value(json_object_get(o, "version")), at,
		     json_is_true(json_object_get(o, "on_time")) ? "Đúng hạn" : "Muộn",
		     state_text_vi(json_string_value(json_object_get(o, "state"))));
	}
	if (n)
		hput(b, "</tbody></table>\n<p class=\"hint\">Mỗi báo cáo hiện biên nhận của lần nộp gần nhất; "
			"các lần nộp trước ở trang biên nhận.</p>\n");
	else
		hput(b, "<p class=\"empty\">Đơn vị chưa nộp báo cáo nào.</p>\n");
	page_end(w);
	json_decref(reply);
}

/* disposition - attachment; filename*=UTF-8''NAME (RFC 6266/5987), and an ASCII fallback */
static char *disposition(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = { 0 };

	BUF_PUT(&b, "attachment; filename=\"");
	for (const char *p = name; *p; p++)
		buf_putc(&b, (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != ';') ? *p : '_');
	BUF_PUT(&b, "\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			buf_putc(&b, (char)*p);
		else {
			buf_putc(&b, '%');
			buf_putc(&b, hex[*p >> 4]);
			buf_putc(&b, hex[*p & 15]);
		}
	}
	return b.p;
}

/* download - the file of r->args[1] (a SHA-256) of r->args[0] (named by key) through op,
 * whose reply has one file frame */
static void download(struct web_req *r, struct web_resp *w, const char *op, const char *key)
{
	void *blob = NULL;
	json_t *reply = web_call_file(r, json_pack("{s:s,s:s,s:s}", "op", op, key, r->args[0], "sha256", r->args[1]), &blob);
	const char *name;

	if (!reply_ok(reply) || !blob) {
		page_daemon_error(r, w, reply);
		json_decref(reply);
		return;
	}
	name = json_string_value(json_object_get(reply, "name"));
	if (!name)
		name = json_string_value(json_object_get(json_object_get(reply, "file"), "name"));
	w->blob = blob;
	w->content_type = "application/octet-stream";
	w->disposition = disposition(name ? name : r->args[1]);
	json_decref(reply);
}

/* page_download - /tep/RECEIPT/SHA256: a file of a receipt (report.file) */
void page_download(struct web_req *r, struct web_resp *w)
{
	download(r, w, OP_REPORT_FILE, "receipt");
}

/* page_proposal_download - /tep-de-nghi/ID/SHA256: a file of a proposal's dossier
 * (proposal.file; the daemon reads ID's digits) */
void page_proposal_download(struct web_req *r, struct web_resp *w)
{
	download(r, w, OP_PROPOSAL_FILE, "proposal");
}
