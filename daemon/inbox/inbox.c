/*
 * inbox.c - mail that units send in (thidua-mailin, op inbox.deliver), and the office's
 * view of it (inbox.list, inbox.show).
 *
 * thidua-mailin has kept the raw message in STATE_DIR/inbox/NAME and parsed it; it sends the
 * parts: the token of the Reply-To address the unit answered (replyto.c), the From
 * address, the Message-ID, the text as the note, the attachments as file frames. Here:
 * - a token that names no obligation (unknown, or made under another key): refused;
 * - a sender that is not one of the unit's addresses in the configuration: held, for the
 *   receiving office to look at (thiduactl inbox list|show);
 * - else report.submit for that obligation, with the request's id (the Message-ID's
 *   digest: the same mail delivered twice is stored once, the second gets the first's
 *   reply); its refusals (no attachment, a file too big, past the lock, ...) are recorded;
 * every message gets a row in the table inbox with its outcome, and the op answers ok for
 * every outcome it recorded (thidua-mailin then exits 0): only a failure to record makes
 * the mail server try again.
 *
 * A message that waits (held, or refused for a reason that may pass: past the lock,
 * already accepted, waived, a file over the limit) keeps its files in inbox_files, so the
 * receiving office can take it later without parsing mail: inbox.accept submits a held
 * message as report.submit would have for the unit (the submission keeps the message's
 * request id), inbox.reject refuses it with the office's reason (both answer the sender),
 * and inbox.retry runs a waiting message again through the same steps (the sender's
 * address checked against the configuration as it is now).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "authz.h"
#include "blobs.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "events.h"
#include "inbox.h"
#include "intake.h"
#include "jdump.h"
#include "outbox.h"
#include "period_text.h"
#include "replyto.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

#define NAME_MAX_LEN 127
#define ANSWERS_PER_HOUR 10	/* answers to one address in an hour, at most */

static int inbox_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n && n <= NAME_MAX_LEN && name[0] != '.'
	       && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* sender_of_unit - is address one of the unit's configured addresses (case aside)? */
static int sender_of_unit(const struct unit *u, const char *address)
{
	for (size_t i = 0; address && u && u->emails && u->emails[i]; i++)
		if (!strcasecmp(u->emails[i], address))
			return 1;
	return 0;
}

static int record(struct daemon *d, struct request *rq, const char *name, const char *path, const char *outcome,
		  const char *code, const char *detail, const char *report, const char *period, const char *unit,
		  const char *receipt, int64_t *id)
{
	sqlite3_stmt *s = store_stmt(d->store,
		"INSERT INTO inbox (name, path, received_at, sender, return_path, message_id, token, report, period, unit,"
		" outcome, code, detail, receipt, note, files, size, automatic, request)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)");
	json_t *files = json_object_get(rq_body(rq), "files");
	char *ftext = json_is_array(files) ? jdump(files, JSON_COMPACT) : NULL;
	int rc;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, clock_now(d));
	sqlite3_bind_text(s, 4, json_string_value(json_object_get(rq_body(rq), "sender")), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, json_string_value(json_object_get(rq_body(rq), "return_path")), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, json_string_value(json_object_get(rq_body(rq), "message_id")), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, json_string_value(json_object_get(rq_body(rq), "token")), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, report, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, period, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 12, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 13, detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 14, receipt, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 15, json_string_value(json_object_get(rq_body(rq), "note")), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 16, ftext, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 17, json_integer_value(json_object_get(rq_body(rq), "size")));
	sqlite3_bind_int(s, 18, json_is_true(json_object_get(rq_body(rq), "automatic")));
	sqlite3_bind_text(s, 19, rq_id(rq), -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(s);
	free(ftext);
	*id = sqlite3_last_insert_rowid(store_db(d->store));
	return rc;
}

/* answer_queue - the answer to message id, to its sender, through the outbox (kind
 * mail_answer, step "answer/ID": spool.c renders it with inbox_answer_render; again is
 * "" for the first answer, else what makes a later one another message: "/accepted",
 * "/rejected", "/retry-N"). None to an automatic message (RFC 3834: Auto-Submitted,
 * Precedence), to a bounce (an empty return path), to a message without a From, or past
 * ANSWERS_PER_HOUR to one address; 0 or -1 */
static int answer_queue(struct daemon *d, int64_t id, const char *to, const char *rp, int automatic,
			const char *report, const char *period, const char *again)
{
	int64_t now = clock_now(d);
	char key[96], step[48];
	sqlite3_stmt *s;
	int n = 0, rc;

	if (!to || !*to || !strchr(to, '@') || (rp && !*rp) || automatic)
		return 0;
	s = store_stmt(d->store, "SELECT count(*) FROM inbox WHERE answered = 1 AND sender = ?1 COLLATE NOCASE AND received_at > ?2");
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now - 3600);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (n >= ANSWERS_PER_HOUR)
		return 0;
	snprintf(key, sizeof(key), "mail_answer/%lld%s", (long long)id, again);
	snprintf(step, sizeof(step), "answer/%lld", (long long)id);
	s = store_stmt(d->store, "INSERT INTO outbox (dedup_key, recipient, kind, report, period, step, moment,"
		       " created_at, send_after, late) VALUES (?1, ?2, 'mail_answer', ?3, ?4, ?5, ?6, ?6, ?6, 0)");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, report ? report : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, period ? period : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, step, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(s);
	if (rc)
		return -1;
	s = store_stmt(d->store, "UPDATE inbox SET answered = 1 WHERE id = ?1");
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(s);
	return rc;
}

/* reason_vi - what to tell the sender for a refusal code, and what to do */
static const char *reason_vi(const char *code)
{
	static const struct { const char *code, *text; } r[] = {
		{ "unknown_token", "Địa chỉ nhận thư không ứng với báo cáo nào đang chờ nộp. Vui lòng trả lời đúng thư nhắc hạn"
				   " của hệ thống (giữ nguyên địa chỉ trả lời), hoặc gửi báo cáo cho cơ quan nhận." },
		{ "sender_not_of_unit", "Địa chỉ gửi thư không phải địa chỉ thư điện tử đã đăng ký của đơn vị. Thư đã được chuyển"
					" cho cơ quan nhận xem xét; không cần gửi lại. Nếu địa chỉ này là của đơn vị, đề nghị"
					" cơ quan nhận cập nhật." },
		{ ERR_NO_FILE, "Thư không có tệp đính kèm. Vui lòng trả lời lại thư nhắc hạn và đính kèm tệp báo cáo." },
		{ ERR_EMPTY_FILE, "Tệp đính kèm không có nội dung. Vui lòng gửi lại tệp báo cáo." },
		{ ERR_FILE_TOO_LARGE, "Tệp đính kèm vượt quá dung lượng cho phép. Vui lòng gửi tệp nhỏ hơn (nén, hoặc scan"
				    " với độ phân giải thấp hơn)." },
		{ ERR_LATE_LOCKED, "Đã hết thời hạn nhận báo cáo nộp muộn. Vui lòng liên hệ cơ quan nhận." },
		{ ERR_ALREADY_ACCEPTED, "Báo cáo này đã được cơ quan nhận chấp nhận. Muốn gửi bản mới, đề nghị cơ quan nhận"
				      " trả lại báo cáo trước." },
		{ "too_many_files", "Thư có quá 64 tệp đính kèm. Vui lòng gộp hoặc nén các tệp rồi gửi lại." },
		{ ERR_WAIVED, "Đơn vị đã được miễn nộp báo cáo này; không cần gửi." },
		{ ERR_INVALID_FILE_NAME, "Tên tệp đính kèm không hợp lệ hoặc trùng nhau. Vui lòng đổi tên tệp rồi gửi lại." },
	};

	for (size_t i = 0; code && i < sizeof(r) / sizeof(r[0]); i++)
		if (!strcmp(r[i].code, code))
			return r[i].text;
	return "Hệ thống không tiếp nhận được báo cáo. Vui lòng liên hệ cơ quan nhận.";
}

int inbox_answer_render(struct daemon *d, const char *step, char **subject, char **body)
{
	long long id = strncmp(step, "answer/", 7) ? 0 : atoll(step + 7);
	sqlite3_stmt *s = store_stmt(d->store, "SELECT outcome, code, receipt, report, period, unit, sender, received_at, reason"
				     " FROM inbox WHERE id = ?1");
	struct buf b = { 0 };
	char when[64];
	int rc = -1;

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *outcome = (const char *)sqlite3_column_text(s, 0), *code = (const char *)sqlite3_column_text(s, 1);
		const char *receipt = (const char *)sqlite3_column_text(s, 2), *report = (const char *)sqlite3_column_text(s, 3);
		const char *period = (const char *)sqlite3_column_text(s, 4), *unit = (const char *)sqlite3_column_text(s, 5);
		const struct report_type *rt = report ? cfg_report(d->cfg, report) : NULL;
		const struct unit *u = unit ? unitset_find(d->units, unit) : NULL;
		char what[1024] = "báo cáo";

		if (rt)
			report_period_text(rt->name, rt->yearly, period ? period : "", what, sizeof(what));

		time_format(sqlite3_column_int64(s, 7), d->cfg->utc_offset, when, sizeof(when));
		if (!strcmp(outcome, "submitted")) {
			sqlite3_stmt *f = store_stmt(d->store, "SELECT s.on_time, fl.name, fl.size, fl.sha256 FROM submissions s"
						     " JOIN submission_files fl ON fl.submission = s.id WHERE s.receipt = ?1 ORDER BY fl.idx");
			int first = 1;

			*subject = xasprintf("[Biên nhận] %s %s", receipt, what);
			buf_printf(&b, "Hệ thống đã tiếp nhận %s của %s, gửi qua thư điện tử lúc %s.\n\nSố biên nhận: %s\n",
				   what, u ? u->name : unit, when, receipt);
			sqlite3_bind_text(f, 1, receipt, -1, SQLITE_STATIC);
			while (sqlite3_step(f) == SQLITE_ROW) {
				if (first)
					buf_printf(&b, "Tình trạng: %s\nTệp đã nhận:\n", sqlite3_column_int(f, 0) ? "đúng hạn" : "nộp muộn");
				first = 0;
				buf_printf(&b, "- %s (%lld byte, SHA-256 %s)\n", (const char *)sqlite3_column_text(f, 1),
					   (long long)sqlite3_column_int64(f, 2), (const char *)sqlite3_column_text(f, 3));
			}
			sqlite3_reset(f);
			buf_printf(&b, "\nGiữ số biên nhận này để đối chiếu khi cần.\n");
		} else if (!strcmp(outcome, "rejected")) {
			const struct unit *recv = rt ? unitset_find(d->units, rt->receiver) : NULL;

			*subject = xasprintf("[Không tiếp nhận] %s", what);
			buf_printf(&b, "Thư gửi lúc %s đã được %s xem xét và không được tiếp nhận.\n\nLý do: %s\n\n"
				   "Nếu thư này là báo cáo của đơn vị, vui lòng gửi lại từ địa chỉ thư điện tử đã đăng ký của"
				   " đơn vị (trả lời thư nhắc hạn), hoặc liên hệ cơ quan nhận.\n",
				   when, recv ? recv->name : "cơ quan nhận",
				   sqlite3_column_text(s, 8) ? (const char *)sqlite3_column_text(s, 8) : "");
		} else {
			*subject = xasprintf("[%s] %s", !strcmp(outcome, "held") ? "Chờ xem xét" : "Chưa tiếp nhận", what);
			buf_printf(&b, "Thư gửi lúc %s %s.\n\n%s\n", when,
				   !strcmp(outcome, "held") ? "đang chờ cơ quan nhận xem xét" : "chưa được tiếp nhận",
				   reason_vi(code));
		}
		*body = b.p ? b.p : xstrdup("");
		rc = 0;
	}
	sqlite3_reset(s);
	return rc;
}

/* waits - may the message be taken later (inbox.accept, inbox.retry)? held, or refused
 * for a reason the office can lift (unlock, return, a larger limit) */
static int waits(const char *outcome, const char *code)
{
	static const char *const passing[] = { ERR_LATE_LOCKED, ERR_ALREADY_ACCEPTED, ERR_WAIVED, ERR_FILE_TOO_LARGE };

	if (!strcmp(outcome, "held"))
		return 1;
	for (size_t i = 0; code && !strcmp(outcome, "refused") && i < sizeof(passing) / sizeof(passing[0]); i++)
		if (!strcmp(code, passing[i]))
			return 1;
	return 0;
}

/* files_keep - the request's files into inbox_files for message id; 0 or -1 */
static int files_keep(struct daemon *d, struct request *rq, int64_t id)
{
	json_t *names = json_object_get(rq_body(rq), "files");

	for (size_t i = 0; i < rq_nfiles(rq); i++) {
		const char *name = json_string_value(json_array_get(names, i));
		size_t size;
		const void *data = rq_file(rq, i, &size);
		char hex[65];
		int kept = blobs_put(d, rq, name ? name : "", data, size, hex), rc;
		sqlite3_stmt *s;

		if (kept < 0)
			return -1;	/* the request failed, naming the file */
		s = store_stmt(d->store, "INSERT INTO inbox_files (inbox, idx, name, size, sha256, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int(s, 2, (int)i);
		sqlite3_bind_text(s, 3, name ? name : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)size);
		sqlite3_bind_text(s, 5, hex, -1, SQLITE_TRANSIENT);
		blobs_bind(s, 6, data, size, kept);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

/* op_inbox_deliver - one message from thidua-mailin */
int op_inbox_deliver(struct daemon *d, struct request *rq, json_t *out)
{
	const char *name = rq_str(rq, "inbox", 1), *token = rq_str(rq, "token", 0), *sender = rq_str(rq, "sender", 0);
	char path[4400], code[64] = "", detail[1100] = "", *report = NULL, *period = NULL, *unit = NULL;
	const char *outcome;
	const char *receipt = NULL;
	json_t *sub = NULL;
	struct stat st;
	int64_t id;

	rq_str(rq, "return_path", 0);
	rq_str(rq, "message_id", 0);
	rq_str(rq, "note", 0);
	if (rq_failed(rq))
		return -1;
	if (!inbox_name_ok(name))
		return rq_error(rq, ERR_INVALID_FIELD, "'inbox' must be the name of a file in %s/inbox (letters, digits, '.', '_', '-')",
				d->state_dir);
	snprintf(path, sizeof(path), "%s/inbox/%s", d->state_dir, name);
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return rq_error(rq, ERR_NOT_FOUND, "there is no message %s: thidua-mailin keeps it there before it calls inbox.deliver", path);
	if (!token || replyto_lookup(d, token, &report, &period, &unit)) {
		outcome = "refused";
		snprintf(code, sizeof(code), "unknown_token");
		snprintf(detail, sizeof(detail), "the address it was sent to names no report of thidua (%s): reply to a reminder, or send through the office",
			 token ? "an unknown token" : "no token");
	} else if (!sender_of_unit(unitset_find(d->units, unit), sender)) {
		outcome = "held";
		snprintf(code, sizeof(code), "sender_not_of_unit");
		snprintf(detail, sizeof(detail), "%s is not an address of unit %s in the configuration: the office decides",
			 sender ? sender : "(no From)", unit);
	} else if (json_is_true(json_object_get(rq_body(rq), "too_many_files"))) {
		outcome = "refused";
		snprintf(code, sizeof(code), "too_many_files");
		snprintf(detail, sizeof(detail), "the message has more than 64 attachments: send the report in fewer files");
	} else {
		json_t *body = rq_body(rq);

		json_object_set_new(body, "unit", json_string(unit));
		json_object_set_new(body, "report", json_string(report));
		json_object_set_new(body, "period", json_string(period));
		sub = json_object();
		if (op_report_submit(d, rq, sub) == 0 && !rq_failed(rq)) {
			outcome = "submitted";
			receipt = json_string_value(json_object_get(json_object_get(sub, "receipt"), "number"));
		} else if (rq_error_take(rq, code, sizeof(code), detail, sizeof(detail))) {
			json_decref(sub);
			free(report);
			free(period);
			free(unit);
			return -1;	/* the database failed: nothing recorded, the mail server tries again */
		} else {
			outcome = "refused";
		}
		json_object_del(body, "unit");
		json_object_del(body, "report");
		json_object_del(body, "period");
	}
	if (record(d, rq, name, path, outcome, code[0] ? code : NULL, detail[0] ? detail : NULL, report, period, unit,
		   receipt, &id)) {
		json_decref(sub);
		free(report);
		free(period);
		free(unit);
		return rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL,
				"the message could not be recorded: %s; the mail server will send it again", store_errmsg(d->store));
	}
	if (answer_queue(d, id, json_string_value(json_object_get(rq_body(rq), "sender")),
			 json_string_value(json_object_get(rq_body(rq), "return_path")),
			 json_is_true(json_object_get(rq_body(rq), "automatic")), report, period, "")
	    || (waits(outcome, code) && files_keep(d, rq, id))) {
		json_decref(sub);
		free(report);
		free(period);
		free(unit);
		if (rq_failed(rq))
			return -1;
		return rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL,
				"the answer to the message could not be queued, or its files kept: %s", store_errmsg(d->store));
	}
	json_object_set_new(out, "inbox", json_integer(id));
	json_object_set_new(out, "outcome", json_string(outcome));
	if (code[0])
		json_object_set_new(out, "error", json_pack("{s:s,s:s}", "code", code, "message", detail));
	if (sub && json_object_get(sub, "receipt"))
		json_object_set(out, "receipt", json_object_get(sub, "receipt"));
	events_emit(d, "inbox.delivered", json_pack("{s:I,s:s,s:s?}", "id", (json_int_t)id, "outcome", outcome, "unit", unit));
	json_decref(sub);
	free(report);
	free(period);
	free(unit);
	return 0;
}

static json_t *row_json(struct daemon *d, sqlite3_stmt *s, int full)
{
	json_t *r = json_object();
	static const char *const cols[] = { "id", "name", "received_at", "sender", "report", "period", "unit", "outcome",
					    "code", "receipt", "detail", "decided_by", "decided_at", "reason",
					    "message_id", "return_path", "token", "note", "path", "files", "size",
					    "automatic", "request", "retries" };
	int n = full ? 24 : 14;

	for (int i = 0; i < n; i++) {
		if (sqlite3_column_type(s, i) == SQLITE_NULL)
			continue;
		if (i == 0 || i == 20 || i == 23)
			json_object_set_new(r, cols[i], json_integer(sqlite3_column_int64(s, i)));
		else if (i == 2 || i == 12)
			json_object_set_new(r, cols[i], json_time(d, sqlite3_column_int64(s, i)));
		else if (i == 21)
			json_object_set_new(r, cols[i], json_boolean(sqlite3_column_int(s, i)));
		else if (i == 19)
			json_object_set_new(r, cols[i], json_loads((const char *)sqlite3_column_text(s, i), 0, NULL));
		else
			json_object_set_new(r, cols[i], json_string((const char *)sqlite3_column_text(s, i)));
	}
	return r;
}

#define INBOX_COLS "id, name, received_at, sender, report, period, unit, outcome, code, receipt, detail, decided_by," \
		   " decided_at, reason, message_id, return_path, token, note, path, files, size, automatic, request, retries"

/* reader_sees_message - the mail of a report: read by the readers of its receiving unit
 * (the office that decides on it, and the units above), and by those who read everything;
 * a message that names no report only by the latter */
static int reader_sees_message(struct daemon *d, const struct reader *rd, const char *report)
{
	const struct report_type *rt = report ? cfg_report(d->cfg, report) : NULL;

	return rd->all || (rt && reader_sees_unit(d, rd, rt->receiver));
}

/* op_inbox_list - the messages in that the principal reads, newest first; "outcome" filters */
int op_inbox_list(struct daemon *d, struct request *rq, json_t *out)
{
	const char *outcome = rq_str(rq, "outcome", 0);
	sqlite3_stmt *s;
	json_t *a = json_array();
	struct reader rd;

	if (rq_failed(rq)) {
		json_decref(a);
		return -1;
	}
	authz_reader(d, rq, &rd);
	s = store_stmt(d->store, "SELECT " INBOX_COLS " FROM inbox WHERE ?1 IS NULL OR outcome = ?1 ORDER BY id DESC");
	sqlite3_bind_text(s, 1, outcome, -1, SQLITE_STATIC);
	while (json_array_size(a) < 1000 && sqlite3_step(s) == SQLITE_ROW)
		if (reader_sees_message(d, &rd, (const char *)sqlite3_column_text(s, 4)))
			json_array_append_new(a, row_json(d, s, 0));
	sqlite3_reset(s);
	json_object_set_new(out, "messages", a);
	return 0;
}

/* op_inbox_show - one message in, with its note, files and raw path */
int op_inbox_show(struct daemon *d, struct request *rq, json_t *out)
{
	json_t *v = json_object_get(rq_body(rq), "message");
	struct reader rd;
	sqlite3_stmt *s;
	int found = 0;

	if (!json_is_integer(v))
		return rq_error(rq, ERR_INVALID_FIELD, "'message' must be the number of a message (thiduactl inbox list shows them)");
	authz_reader(d, rq, &rd);
	s = store_stmt(d->store, "SELECT " INBOX_COLS " FROM inbox WHERE id = ?1");
	sqlite3_bind_int64(s, 1, json_integer_value(v));
	if (sqlite3_step(s) == SQLITE_ROW) {
		found = reader_sees_message(d, &rd, (const char *)sqlite3_column_text(s, 4)) ? 1 : -1;
		if (found > 0)
			json_object_set_new(out, "message", row_json(d, s, 1));
	}
	sqlite3_reset(s);
	if (!found)
		return rq_error(rq, ERR_NOT_FOUND, "there is no message %lld in the inbox; thiduactl inbox list shows them",
				(long long)json_integer_value(v));
	if (found < 0)
		return authz_read_refused(rq, &rd, "this message (mail for a report another office receives)");
	return 0;
}

/* a message as inbox.accept, inbox.reject and inbox.retry read it */
struct held {
	int64_t id;
	char *outcome, *code, *report, *period, *unit, *sender, *return_path, *note, *request;
	int automatic;
	int64_t retries;
};

static char *coldup(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : xstrdup((const char *)sqlite3_column_text(s, i));
}

static void held_free(struct held *h)
{
	free(h->outcome);
	free(h->code);
	free(h->report);
	free(h->period);
	free(h->unit);
	free(h->sender);
	free(h->return_path);
	free(h->note);
	free(h->request);
}

/* held_load - the message the request's "message" names, after the authorization of its
 * office; 0, or -1 with the refusal (invalid_field, forbidden, not_found) */
static int held_load(struct daemon *d, struct request *rq, struct held *h)
{
	json_t *v = json_object_get(rq_body(rq), "message");
	sqlite3_stmt *s;
	int found = 0;

	memset(h, 0, sizeof(*h));
	if (!json_is_integer(v))
		return rq_error(rq, ERR_INVALID_FIELD, "'message' must be the number of a message (thiduactl inbox list shows them)");
	if (authz_office(d, rq, NULL))
		return -1;
	s = store_stmt(d->store, "SELECT id, outcome, code, report, period, unit, sender, return_path, note, request,"
		       " automatic, retries FROM inbox WHERE id = ?1");
	sqlite3_bind_int64(s, 1, json_integer_value(v));
	if (sqlite3_step(s) == SQLITE_ROW) {
		h->id = sqlite3_column_int64(s, 0);
		h->outcome = coldup(s, 1);
		h->code = coldup(s, 2);
		h->report = coldup(s, 3);
		h->period = coldup(s, 4);
		h->unit = coldup(s, 5);
		h->sender = coldup(s, 6);
		h->return_path = coldup(s, 7);
		h->note = coldup(s, 8);
		h->request = coldup(s, 9);
		h->automatic = sqlite3_column_int(s, 10);
		h->retries = sqlite3_column_int64(s, 11);
		found = 1;
	}
	sqlite3_reset(s);
	if (!found)
		return rq_error(rq, ERR_NOT_FOUND, "there is no message %lld in the inbox; thiduactl inbox list shows them",
				(long long)json_integer_value(v));
	if (h->report && authz_office(d, rq, h->report)) {
		held_free(h);
		return -1;
	}
	if (!h->report && strcmp(rq_principal(rq), "admin")) {
		held_free(h);
		return rq_error(rq, ERR_FORBIDDEN, "message %lld names no report (its address was not a reply address of thidua):"
				" only the local administrator may act on it", (long long)json_integer_value(v));
	}
	return 0;
}

/* files_load - the kept files of message id as the request's file frames and its
 * "files" names; 0, or -1 with the refusal */
static int files_load(struct daemon *d, struct request *rq, int64_t id)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT name, size, sha256, data FROM inbox_files WHERE inbox = ?1 ORDER BY idx");
	void *data[64];
	size_t size[64], n = 0;
	json_t *names = json_array();
	char why[512] = "";
	int rc = 0;

	sqlite3_bind_int64(s, 1, id);
	while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		int64_t sz = sqlite3_column_int64(s, 1);

		if (n == 64) {
			rc = -1;
			snprintf(why, sizeof(why), "more than 64 files");
			break;
		}
		if (sqlite3_column_type(s, 3) == SQLITE_NULL) {
			data[n] = blobs_read(d, (const char *)sqlite3_column_text(s, 2), sz, why, sizeof(why));
			if (!data[n]) {
				rc = -1;
				break;
			}
		} else {
			data[n] = xmalloc(sz > 0 ? (size_t)sz : 1);
			memcpy(data[n], sqlite3_column_blob(s, 3), (size_t)sz);
		}
		size[n] = (size_t)sz;
		json_array_append_new(names, json_string((const char *)sqlite3_column_text(s, 0)));
		n++;
	}
	sqlite3_reset(s);
	if (rc == 0)
		rq_files_set(rq, n, (const void *const *)data, size);
	for (size_t i = 0; i < n; i++)
		free(data[i]);
	if (rc) {
		json_decref(names);
		return rq_error(rq, ERR_INTERNAL, "the files kept with message %lld cannot be read: %s; thiduactl files verify checks the store",
				(long long)id, why);
	}
	json_object_set_new(rq_body(rq), "files", names);
	return 0;
}

/* held_submit - report.submit for the message's obligation with its kept files, as the
 * request's principal; on success the submission keeps the message's request id and the
 * message its receipt. 0 with the receipt in out; -1 (the request failed as report.submit
 * refused it) */
static int held_submit(struct daemon *d, struct request *rq, const struct held *h, json_t *out)
{
	json_t *body = rq_body(rq), *sub = json_object();
	const char *receipt;
	sqlite3_stmt *s;
	int rc;

	if (files_load(d, rq, h->id)) {
		json_decref(sub);
		return -1;
	}
	json_object_set_new(body, "unit", json_string(h->unit));
	json_object_set_new(body, "report", json_string(h->report));
	json_object_set_new(body, "period", json_string(h->period));
	if (h->note)
		json_object_set_new(body, "note", json_string(h->note));
	rc = op_report_submit(d, rq, sub);
	json_object_del(body, "unit");
	json_object_del(body, "report");
	json_object_del(body, "period");
	json_object_del(body, "note");
	json_object_del(body, "files");
	if (rc || rq_failed(rq)) {
		json_decref(sub);
		return -1;
	}
	receipt = json_string_value(json_object_get(json_object_get(sub, "receipt"), "number"));
	s = store_stmt(d->store, "UPDATE submissions SET request_id = coalesce(?2, request_id) WHERE receipt = ?1");
	sqlite3_bind_text(s, 1, receipt, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, h->request, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(s);
	if (rc == 0) {
		s = store_stmt(d->store, "UPDATE inbox SET outcome = 'submitted', receipt = ?2 WHERE id = ?1");
		sqlite3_bind_int64(s, 1, h->id);
		sqlite3_bind_text(s, 2, receipt, -1, SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
		sqlite3_reset(s);
	}
	if (rc) {
		json_decref(sub);
		return rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL,
				"message %lld could not be recorded as submitted: %s; nothing was recorded",
				(long long)h->id, store_errmsg(d->store));
	}
	json_object_set(out, "receipt", json_object_get(sub, "receipt"));
	json_decref(sub);
	return 0;
}

/* files_drop - the kept files of a message taken or turned away */
static int files_drop(struct daemon *d, int64_t id)
{
	sqlite3_stmt *s = store_stmt(d->store, "DELETE FROM inbox_files WHERE inbox = ?1");
	int rc;

	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(s);
	return rc;
}

static int stored(struct daemon *d, struct request *rq, int64_t id)
{
	return rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL,
			"message %lld could not be updated: %s; nothing was recorded", (long long)id, store_errmsg(d->store));
}

/* op_inbox_decide - inbox.accept / inbox.reject: the receiving office on a held message */
int op_inbox_decide(struct daemon *d, struct request *rq, json_t *out)
{
	int accept = !strcmp(rq_op(rq), "inbox.accept");
	const char *reason = NULL;
	struct held h;
	sqlite3_stmt *s;
	int rc;

	if (!accept) {
		reason = rq_str(rq, "reason", 0);
		if (rq_failed(rq))
			return -1;
	}
	if (held_load(d, rq, &h))
		return -1;
	if (strcmp(h.outcome, "held")) {
		rc = rq_error(rq, ERR_NOT_HELD, "message %lld is %s, not held: only a held message waits for the office's decision%s",
			      (long long)h.id, h.outcome, waits(h.outcome, h.code) ? " (thiduactl inbox retry runs it again)" : "");
		held_free(&h);
		return rc;
	}
	if (!accept && (!reason || !*reason || strlen(reason) > 2000)) {
		held_free(&h);
		return rq_error(rq, ERR_REASON_REQUIRED, "inbox.reject needs a reason the sender will read (--reason, at most 2000 bytes)");
	}
	if (accept && held_submit(d, rq, &h, out)) {
		held_free(&h);
		return -1;
	}
	s = store_stmt(d->store, "UPDATE inbox SET outcome = CASE WHEN ?4 THEN outcome ELSE 'rejected' END,"
		       " decided_by = ?2, decided_at = ?3, reason = ?5 WHERE id = ?1");
	sqlite3_bind_int64(s, 1, h.id);
	sqlite3_bind_text(s, 2, rq_principal(rq), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, clock_now(d));
	sqlite3_bind_int(s, 4, accept);
	sqlite3_bind_text(s, 5, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(s);
	if (rc || files_drop(d, h.id)
	    || answer_queue(d, h.id, h.sender, h.return_path, h.automatic, h.report, h.period, accept ? "/accepted" : "/rejected")) {
		held_free(&h);
		return stored(d, rq, h.id);
	}
	json_object_set_new(out, "message", json_integer(h.id));
	json_object_set_new(out, "outcome", json_string(accept ? "submitted" : "rejected"));
	events_emit(d, "inbox.decided", json_pack("{s:I,s:s,s:s}", "id", (json_int_t)h.id, "outcome",
						  accept ? "submitted" : "rejected", "unit", h.unit));
	held_free(&h);
	return 0;
}

/* op_inbox_retry - a waiting message through the steps again: the sender checked against
 * the configuration as it is now, then report.submit with its kept files */
int op_inbox_retry(struct daemon *d, struct request *rq, json_t *out)
{
	struct held h;
	const struct unit *u;
	char code[64] = "", detail[1100] = "", again[48];
	const char *outcome;
	sqlite3_stmt *s;
	int rc;

	if (held_load(d, rq, &h))
		return -1;
	if (!waits(h.outcome, h.code)) {
		rc = rq_error(rq, ERR_NOT_RETRYABLE, "message %lld is %s%s%s: %s", (long long)h.id, h.outcome,
			      h.code ? ", " : "", h.code ? h.code : "",
			      !strcmp(h.outcome, "submitted") ? "it was taken already" :
			      "running it again would end the same way (only a held message, or one refused past the lock,"
			      " already accepted, waived or over the size limit, may be run again)");
		held_free(&h);
		return rc;
	}
	u = unitset_find(d->units, h.unit);
	if (!sender_of_unit(u, h.sender)) {
		outcome = "held";
		snprintf(code, sizeof(code), "sender_not_of_unit");
		snprintf(detail, sizeof(detail), "%s is not an address of unit %s in the configuration: the office decides",
			 h.sender ? h.sender : "(no From)", h.unit);
	} else if (held_submit(d, rq, &h, out) == 0) {
		outcome = "submitted";
	} else if (rq_error_take(rq, code, sizeof(code), detail, sizeof(detail))) {
		held_free(&h);
		return -1;	/* the database failed */
	} else {
		outcome = "refused";
	}
	s = store_stmt(d->store, "UPDATE inbox SET outcome = ?2, code = ?3, detail = ?4, retries = retries + 1 WHERE id = ?1");
	sqlite3_bind_int64(s, 1, h.id);
	sqlite3_bind_text(s, 2, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, code[0] ? code : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, detail[0] ? detail : NULL, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(s);
	snprintf(again, sizeof(again), "/retry-%lld", (long long)h.retries + 1);
	if (rc || (!waits(outcome, code[0] ? code : NULL) && files_drop(d, h.id))
	    || (!strcmp(outcome, "submitted")
		&& answer_queue(d, h.id, h.sender, h.return_path, h.automatic, h.report, h.period, again))) {
		held_free(&h);
		return stored(d, rq, h.id);
	}
	json_object_set_new(out, "message", json_integer(h.id));
	json_object_set_new(out, "outcome", json_string(outcome));
	if (code[0])
		json_object_set_new(out, "error", json_pack("{s:s,s:s}", "code", code, "message", detail));
	events_emit(d, "inbox.delivered", json_pack("{s:I,s:s,s:s?}", "id", (json_int_t)h.id, "outcome", outcome, "unit", h.unit));
	held_free(&h);
	return 0;
}

/* render_answer - the outbox's renderer of kind "mail_answer" (to the sender of a message
 * in) */
static void render_answer(struct daemon *d, const struct outbox_message *m, const struct unit *to,
			  const struct outbox_item *items, size_t n, int32_t today, enum tmpl_channel ch,
			  char **subject, char **body)
{
	(void)to;
	(void)items;
	(void)n;
	(void)today;
	(void)ch;
	if (inbox_answer_render(d, m->step, subject, body)) {
		*subject = xstrdup("thidua");
		*body = xstrdup("");
	}
}

/* inbox_init - register the renderer of the answers to mail in */
void inbox_init(void)
{
	outbox_renderer("mail_answer", render_answer);
}
