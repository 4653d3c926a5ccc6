/*
 * cmd_reports.c - thiduactl's report intake commands: reports, submit, receipt,
 * obligations, review and completeness. Each is one request on the api socket
 * (report.submit, report.receipt, obligations.list, report.accept|return|waive,
 * completeness, reports.list). People get a receipt block or a table, labelled in
 * Vietnamese with the English word beside it; scripts get --json (the daemon's reply as
 * is) or --csv (RFC 4180, UTF-8).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_reports.h"
#include "export.h"
#include "period_text.h"
#include "proto.h"
#include "table.h"
#include "xalloc.h"

#define LABEL_WIDTH 24		/* display columns of the labels in a receipt block */

/* jint - an integer member, 0 when missing */
static long long jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* jpct - a percentage member for people: "87.5%", "100%", or "-" when null */
static const char *jpct(const json_t *o, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(o, key);
	double x = json_number_value(v);
	long long tenths = (long long)(x * 10 + (x < 0 ? -0.5 : 0.5));	/* half away from zero */

	if (!json_is_number(v))
		snprintf(buf, size, "-");
	else if (tenths % 10 == 0)
		snprintf(buf, size, "%lld%%", tenths / 10);
	else
		snprintf(buf, size, "%s%lld.%lld%%", tenths < 0 ? "-" : "", llabs(tenths) / 10, llabs(tenths) % 10);
	return buf;
}

/* pad - spaces to bring text of display width w to width, at least one */
static void pad(size_t w, size_t width)
{
	printf("%*s", (int)(w < width ? width - w : 1), "");
}

/* field - one "  label  value" line of a block, labels padded by display width */
static void field(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void field(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("  %s", label);
	pad(text_width(label), LABEL_WIDTH);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* state_label - an obligation state for people */
static const char *state_label(const char *state)
{
	static const struct { const char *state, *label; } labels[] = {
		{ "open", "chưa nộp (open)" },
		{ "submitted", "đã nộp (submitted)" },
		{ "accepted", "đã chấp nhận (accepted)" },
		{ "returned", "trả lại (returned)" },
		{ "waived", "miễn nộp (waived)" },
		{ "missing", "không nộp, đã quá hạn chót (missing)" },
	};

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!strcmp(state, labels[i].state))
			return labels[i].label;
	return state;
}

/* inputs_text - "BC-NAM: đã nhận 1/33, còn thiếu 32" of an inputs object (a compiled report) */
static const char *inputs_text(const json_t *in, char *buf, size_t size)
{
	snprintf(buf, size, "%s: đã nhận (received) %lld/%lld, còn thiếu (missing) %lld", jstr(in, "report"),
		 jint(in, "received"), jint(in, "expected"), jint(in, "missing"));
	return buf;
}

/* print_inputs_missing - the missing units of an inputs object, one a line */
static void print_inputs_missing(const json_t *in)
{
	json_t *u;
	size_t i;

	json_array_foreach(json_object_get(in, "missing_units"), i, u)
		printf("    %s  %s\n", jstr(u, "unit"), jstr(u, "name"));
	if (jint(in, "more") > 0)
		printf("    ... và %lld đơn vị khác (and %lld more)\n", jint(in, "more"), jint(in, "more"));
}

/* print_receipt - a receipt block, as handed out by submit and shown by receipt */
static void print_receipt(const json_t *r)
{
	const json_t *on_time = json_object_get(r, "on_time");
	json_t *files = json_object_get(r, "files"), *f;
	size_t i, namew = 0, sizew = 1;
	char buf[64];

	printf("Biên nhận %s\n", jstr(r, "number"));
	field("Đơn vị (unit)", "%s  %s", jstr(r, "unit"), jstr(r, "unit_name"));
	field("Báo cáo (report)", "%s  %s", jstr(r, "report"), jstr(r, "report_name"));
	field("Kỳ (period)", "%s", jtext(r, "period", buf, sizeof(buf)));
	field("Nhận lúc (received at)", "%s", jstr(r, "received_at"));
	field("Hạn nộp (due)", "%s", jstr(r, "due_at"));
	field("Thời hạn (timeliness)", "%s", json_is_true(on_time) ? "đúng hạn (on time)"
	      : json_is_false(on_time) ? "TRỄ HẠN (LATE)" : "?");
	field("Lần nộp (version)", "%lld", jint(r, "version"));
	if (*jstr(r, "note"))
		field("Ghi chú (note)", "%s", jstr(r, "note"));
	field("Tệp (files)", "%zu", json_array_size(files));
	json_array_foreach(files, i, f) {
		size_t w = text_width(jstr(f, "name"));
		int n = snprintf(buf, sizeof(buf), "%lld", jint(f, "size"));

		if (w > namew)
			namew = w;
		if (n > 0 && (size_t)n > sizew)
			sizew = (size_t)n;
	}
	json_array_foreach(files, i, f) {
		printf("    %s", jstr(f, "name"));
		pad(text_width(jstr(f, "name")), namew + 2);
		printf("%*lld bytes  %s\n", (int)sizew, jint(f, "size"), jstr(f, "sha256"));
	}
	if (json_is_object(json_object_get(r, "inputs"))) {	/* a compiled report: its inputs when filed */
		char text[256];

		field("Báo cáo tổng hợp từ (inputs)", "%s", inputs_text(json_object_get(r, "inputs"), text, sizeof(text)));
		print_inputs_missing(json_object_get(r, "inputs"));
	}
}

/* cmd_reports - the report types the daemon knows */
int cmd_reports(int argc, char **argv)
{
	static const char *const hdr[] = { "CODE", "NAME", "RECEIVER", "SCHEDULE" };
	struct table *t;
	json_t *r, *rt;
	size_t i;
	int rc;

	if (argc > 1)
		return cli_usage_error("reports takes no arguments (got '%s')", argv[1]);
	r = cli_call(json_pack("{s:s}", "op", OP_REPORTS_LIST), NULL, 0, &rc);
	if (!r || cl.json)
		goto out;
	t = table_new(4, hdr);
	json_array_foreach(json_object_get(r, "reports"), i, rt) {
		const char *row[] = { jstr(rt, "code"), jstr(rt, "name"), jstr(rt, "receiver"), jstr(rt, "schedule") };

		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
out:
	json_decref(r);
	return rc;
}

/* cmd_submit - send a unit's report files; the daemon answers with a receipt */
int cmd_submit(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "unit", "unit", 0, NULL }, { "report", "report", 0, NULL }, { "period", "period", 0, NULL },
		{ "note", "note", 0, NULL }, { "request-id", "id", 0, NULL }, { NULL, NULL, 0, NULL },
	};
	json_t *req = json_pack("{s:s}", "op", OP_REPORT_SUBMIT), *r;
	struct cli_files f;
	int rc = EXIT_USAGE, first = cli_options(argc, argv, opts, req, NULL);

	int named = json_object_get(req, "unit") && json_object_get(req, "report") && json_object_get(req, "period");

	if (first < 0 || !named || first >= argc) {
		json_decref(req);
		if (first < 0)
			return EXIT_USAGE;
		return !named ? cli_usage_error("submit needs --unit CODE, --report TYPE and --period P%s", "")
			      : cli_usage_error("submit needs at least one FILE to send%s", "");
	}
	if (cli_files_read(&f, argc - first, argv + first, req) == 0) {
		r = cli_call(req, f.files, f.n, &rc);
		req = NULL;
		if (r && !cl.json) {
			if (json_is_true(json_object_get(r, "replayed")))
				printf("(đã nhận trước đó / already received: request %s was answered before, nothing stored twice)\n",
				       jstr(r, "id"));
			print_receipt(json_object_get(r, "receipt"));
		}
		json_decref(r);
	}
	cli_files_free(&f);
	json_decref(req);
	return rc;
}

/* cmd_receipt - show a receipt again by its number */
int cmd_receipt(int argc, char **argv)
{
	json_t *r;
	int rc;

	if (argc != 2)
		return cli_usage_error("receipt needs one receipt number, e.g. BN-2024-000123%s", "");
	r = cli_call(json_pack("{s:s,s:s}", "op", OP_REPORT_RECEIPT, "number", argv[1]), NULL, 0, &rc);
	if (r && !cl.json)
		print_receipt(json_object_get(r, "receipt"));
	json_decref(r);
	return rc;
}

static const struct export_label obligation_states[] = {
	{ "open", "chưa nộp" }, { "submitted", "đã nộp" }, { "accepted", "đã chấp nhận" },
	{ "returned", "trả lại" }, { "waived", "miễn nộp" },
	{ "missing", "không nộp (quá hạn chót)" }, { NULL, NULL },
};

static const struct export_label timeliness[] = { { "true", "đúng hạn" }, { "false", "trễ hạn" }, { NULL, NULL } };

/* file_names - the names of a receipt's files joined by "; ", for a cell */
static json_t *file_names(json_t *files)
{
	size_t i, used = 0, size = 1;
	json_t *f, *s;
	char *text;

	json_array_foreach(files, i, f)
		size += strlen(jstr(f, "name")) + 2;
	text = xmalloc(size);
	*text = 0;
	json_array_foreach(files, i, f)
		used += (size_t)snprintf(text + used, size - used, "%s%s", i ? "; " : "", jstr(f, "name"));
	s = json_string(text);
	free(text);
	return s;
}

/* export_obligations - every column of the obligations, for spreadsheets */
static int export_obligations(const json_t *req, json_t *list)
{
	static const struct export_col cols[] = {
		{ "unit", "Mã đơn vị", EX_TEXT, NULL }, { "unit_name", "Tên đơn vị", EX_TEXT, NULL },
		{ "report", "Mã báo cáo", EX_TEXT, NULL }, { "period", "Kỳ báo cáo", EX_TEXT, NULL },
		{ "due_at", "Hạn nộp", EX_TIME, NULL }, { "state", "Trạng thái", EX_TEXT, obligation_states },
		{ "on_time", "Thời hạn", EX_TEXT, timeliness }, { "submitted_at", "Nộp lúc", EX_TIME, NULL },
		{ "receipt", "Số biên nhận", EX_TEXT, NULL }, { "version", "Lần nộp", EX_INT, NULL },
		{ "reason", "Lý do", EX_TEXT, NULL }, { "predecessor", "Đơn vị trước sắp xếp", EX_TEXT, NULL },
		{ "files", "Tệp", EX_TEXT, NULL },	/* last: only with --with-files, the names joined by "; " */
	};
	int with_files = json_is_true(json_object_get(req, "with_files"));
	const char *unit = json_string_value(json_object_get(req, "unit"));
	char period[96];
	struct export_spec spec = {
		.sheet = "Nghĩa vụ báo cáo", .title = "Nghĩa vụ báo cáo của các đơn vị",
		.report = json_string_value(json_object_get(req, "report")), .period = NULL,
		.unit = unit ? unit : json_string_value(json_object_get(req, "under")),
		.cols = cols, .ncols = sizeof(cols) / sizeof(cols[0]) - !with_files, .rows = list,
	};
	json_t *o;
	size_t i;

	if (with_files)
		json_array_foreach(list, i, o)
			json_object_set_new(o, "files", file_names(json_object_get(o, "files")));
	if (json_object_get(req, "period")) {
		period_words(jstr(req, "period"), period, sizeof(period));
		spec.period = period;
	}
	return export_write(&spec);
}

/* print_files - the files of each row's receipt, numbered as 'report file' takes them */
static void print_files(json_t *list)
{
	static const char *const hdr[] = { "RECEIPT", "#", "FILE", "BYTES", "SHA256" };
	struct table *t = table_new(5, hdr);
	char n[32], size[32];
	size_t i, k;
	json_t *o, *f;

	json_array_foreach(list, i, o)
		json_array_foreach(json_object_get(o, "files"), k, f) {
			const char *row[] = { jstr(o, "receipt"), n, jstr(f, "name"), size, jstr(f, "sha256") };

			snprintf(n, sizeof(n), "%zu", k + 1);
			snprintf(size, sizeof(size), "%lld", jint(f, "size"));
			table_add(t, row);
		}
	table_print(t, stdout);
	table_destroy(&t);
}

/* print_obligations - who owes what, one line each */
static void print_obligations(json_t *list)
{
	static const char *const hdr[] = { "UNIT", "NAME", "REPORT", "PERIOD", "DUE", "STATE", "RECEIPT" };
	struct table *t = table_new(7, hdr);
	char period[64], state[64], name[512];
	size_t i;
	json_t *o;

	json_array_foreach(list, i, o) {
		const char *row[] = { jstr(o, "unit"), jpred(o, jstr(o, "unit_name"), name, sizeof(name)), jstr(o, "report"),
				      jtext(o, "period", period, sizeof(period)), jstr(o, "due_at"), state,
				      jstr(o, "receipt") };

		/* a late submission stays visible after it is accepted */
		snprintf(state, sizeof(state), "%s%s", jstr(o, "state"),
			 json_is_false(json_object_get(o, "on_time")) ? " (late)" : "");
		table_add(t, row);
	}
	table_print(t, stdout);
	table_destroy(&t);
}

/* cmd_obligations - obligations by unit, subtree, report, period or state ("obligations
 * list ..." reads the same); --with-files: each receipt's files too */
int cmd_obligations(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "unit", "unit", 0, NULL }, { "under", "under", 0, NULL }, { "report", "report", 0, NULL },
		{ "period", "period", 0, NULL }, { "state", "state", 0, NULL }, { "with-files", "with_files", 1, NULL },
		EXPORT_CLI_OPTS, { NULL, NULL, 0, NULL },
	};
	json_t *req = json_pack("{s:s}", "op", OP_OBLIGATIONS_LIST), *r, *list, *filters;
	int rc, first;

	if (argc >= 2 && !strcmp(argv[1], "list")) {
		argc--;
		argv++;
	}
	first = cli_options(argc, argv, opts, req, NULL);

	if (first < 0 || first < argc || export_check()) {
		json_decref(req);
		return first < 0 || first >= argc ? EXIT_USAGE : cli_usage_error("obligations: unexpected argument '%s'", argv[first]);
	}
	filters = json_deep_copy(req);
	r = cli_call(req, NULL, 0, &rc);
	list = json_object_get(r, "obligations");
	if (r && export_wanted()) {
		rc = export_obligations(filters, list);
	} else if (r && !cl.json) {
		print_obligations(list);
		long long n = json_object_get(r, "count") ? jint(r, "count") : (long long)json_array_size(list);

		printf("%lld obligation%s\n", n, n == 1 ? "" : "s");
		if (json_is_true(json_object_get(filters, "with_files"))) {
			printf("\n");
			print_files(list);
		}
	}
	json_decref(filters);
	json_decref(r);
	return rc;
}

/* cmd_review - the receiving office accepts, returns or waives an obligation */
int cmd_review(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "unit", "unit", 0, NULL }, { "report", "report", 0, NULL }, { "period", "period", 0, NULL },
		{ "reason", "reason", 0, NULL }, { NULL, NULL, 0, NULL },
	};
	static const char *const actions[] = { "accept", "return", "waive" };
	static const char *const ops[] = { OP_REPORT_ACCEPT, OP_REPORT_RETURN, OP_REPORT_WAIVE };
	const char *action, *reason, *op = NULL;
	char buf[64];
	json_t *req = json_object(), *r, *o;
	int rc, first = cli_options(argc, argv, opts, req, NULL);

	reason = json_string_value(json_object_get(req, "reason"));
	action = first == argc - 1 ? argv[first] : "";
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(action, actions[i]))
			op = ops[i];
	rc = first < 0 ? EXIT_USAGE
		: first != argc - 1 ? cli_usage_error("review needs one action: accept, return or waive%s", "")
		: !op ? cli_usage_error("review: unknown action '%s' (accept, return, waive)", action)
		: !json_object_get(req, "unit") || !json_object_get(req, "report") || !json_object_get(req, "period")
			? cli_usage_error("review needs --unit CODE, --report TYPE and --period P%s", "")
		: strcmp(action, "accept") && (!reason || !*reason)
			? cli_usage_error("review %s: a reason is required: add --reason TEXT", action)
		: 0;
	if (rc) {
		json_decref(req);
		return rc;
	}
	json_object_set_new(req, "op", json_string(op));
	r = cli_call(req, NULL, 0, &rc);
	if (r && !cl.json) {
		o = json_object_get(r, "obligation");
		printf("%s %s %s (%s): %s\n", jstr(o, "unit"), jstr(o, "report"),
		       jtext(o, "period", buf, sizeof(buf)), jstr(o, "unit_name"), state_label(jstr(o, "state")));
		if (!strcmp(action, "return") || !strcmp(jstr(o, "state"), "returned"))
			field("Hạn mới (new due)", "%s", jstr(o, "due_at"));
		if (*jstr(o, "reason"))
			field("Lý do (reason)", "%s", jstr(o, "reason"));
	}
	json_decref(r);
	return rc;
}

/* export_completeness - the rows, then the total (unit TOTAL in CSV, "Tổng cộng" in Excel) */
static int export_completeness(const json_t *r)
{
	static const struct export_col cols[] = {
		{ "unit", "Mã đơn vị", EX_TEXT, NULL }, { "name", "Tên đơn vị", EX_TEXT, NULL },
		{ "expected", "Phải nộp", EX_INT, NULL }, { "on_time", "Đúng hạn", EX_INT, NULL },
		{ "late", "Trễ hạn", EX_INT, NULL }, { "missing", "Chưa nộp", EX_INT, NULL },
		{ "accepted", "Đã chấp nhận", EX_INT, NULL }, { "returned", "Trả lại", EX_INT, NULL },
		{ "submitted_pct", "Tỷ lệ đã nộp", EX_PCT, NULL }, { "on_time_pct", "Tỷ lệ đúng hạn", EX_PCT, NULL },
		{ "predecessor", "Đơn vị trước sắp xếp", EX_TEXT, NULL },
	};
	char report[768], named[512], period[128], buf[64], due[64];
	struct export_spec spec = {
		.sheet = "Tình hình nộp báo cáo", .title = "Tình hình nộp báo cáo", .report = report, .period = period,
		.unit = *jstr(r, "under") ? jstr(r, "under") : NULL, .cols = cols, .ncols = sizeof(cols) / sizeof(cols[0]),
		.rows = json_object_get(r, "rows"), .total = json_object_get(r, "total"), .total_key = cols[0].key,
	};

	report_period_text(jstr(r, "report_name"), 0, jtext(r, "period", buf, sizeof(buf)), named, sizeof(named));
	snprintf(report, sizeof(report), "%s (%s)", named, jstr(r, "report"));
	snprintf(period, sizeof(period), "%s%s", *jstr(r, "due_at") ? "hạn " : "",
		 export_time_text(jstr(r, "due_at"), due, sizeof(due)));
	return export_write(&spec);
}

/* counts_row - one table row of completeness counters */
static void counts_row(struct table *t, const char *unit, const char *name, const json_t *c)
{
	static const char *const cols[] = { "expected", "on_time", "late", "missing", "accepted", "returned" };
	char b[7][32];
	const char *row[9] = { unit, name };

	for (size_t i = 0; i < 6; i++)
		row[2 + i] = jtext(c, cols[i], b[i], sizeof(b[i]));
	row[8] = jpct(c, "submitted_pct", b[6], sizeof(b[6]));
	table_add(t, row);
}

/* print_missing - the units that have sent nothing yet, one per line */
static void print_missing(json_t *missing)
{
	size_t i, codew = 0, namew = 0;
	json_t *m;

	if (!json_array_size(missing)) {
		printf("Còn thiếu (missing): không (none)\n");
		return;
	}
	printf("Còn thiếu (missing):\n");
	json_array_foreach(missing, i, m) {
		if (text_width(jstr(m, "unit")) > codew)
			codew = text_width(jstr(m, "unit"));
		if (text_width(jstr(m, "name")) > namew)
			namew = text_width(jstr(m, "name"));
	}
	json_array_foreach(missing, i, m) {
		printf("  %s", jstr(m, "unit"));
		pad(text_width(jstr(m, "unit")), codew + 2);
		printf("%s", jstr(m, "name"));
		if (!strcmp(jstr(m, "state"), "returned") || (*jstr(m, "parent") && strcmp(jstr(m, "parent"), jstr(m, "unit"))))
			pad(text_width(jstr(m, "name")), namew + 2);
		/* parent is the row the unit is counted in: worth saying only when it is not the unit */
		if (*jstr(m, "parent") && strcmp(jstr(m, "parent"), jstr(m, "unit")))
			printf("(thuộc / under %s)%s", jstr(m, "parent"), !strcmp(jstr(m, "state"), "returned") ? "  " : "");
		if (!strcmp(jstr(m, "state"), "returned"))
			printf("%s", state_label("returned"));
		putchar('\n');
	}
}

/* cmd_completeness - who has sent a report for a period, per unit of a subtree */
int cmd_completeness(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "report", "report", 0, NULL }, { "period", "period", 0, NULL }, { "under", "under", 0, NULL },
		EXPORT_CLI_OPTS, { NULL, NULL, 0, NULL },
	};
	static const char *const hdr[] = {
		"UNIT", "NAME", "EXPECTED", "ON_TIME", "LATE", "MISSING", "ACCEPTED", "RETURNED", "SUBMITTED%",
	};
	json_t *req = json_pack("{s:s}", "op", OP_COMPLETENESS), *r, *row;
	struct table *t;
	char buf[64];
	size_t i;
	int rc, first = cli_options(argc, argv, opts, req, NULL);

	if (first < 0 || first < argc || !json_object_get(req, "report") || !json_object_get(req, "period") || export_check()) {
		json_decref(req);
		return first < 0 ? EXIT_USAGE : first < argc ? cli_usage_error("completeness: unexpected argument '%s'", argv[first])
				: !json_object_get(req, "report") || !json_object_get(req, "period")
				? cli_usage_error("completeness needs --report TYPE and --period P%s", "") : EXIT_USAGE;
	}
	r = cli_call(req, NULL, 0, &rc);
	if (r && export_wanted()) {
		rc = export_completeness(r);
		goto out;
	}
	if (!r || cl.json)
		goto out;
	printf("%s (%s), kỳ (period) %s", jstr(r, "report_name"), jstr(r, "report"),
	       jtext(r, "period", buf, sizeof(buf)));
	if (*jstr(r, "under"))
		printf(", thuộc (under) %s", jstr(r, "under"));
	if (*jstr(r, "due_at"))
		printf(", hạn (due) %s", jstr(r, "due_at"));
	printf("\n");
	t = table_new(9, hdr);
	json_array_foreach(json_object_get(r, "rows"), i, row) {
		char name[512];

		counts_row(t, jstr(row, "unit"), jpred(row, jstr(row, "name"), name, sizeof(name)), row);
	}
	counts_row(t, "TOTAL", "", json_object_get(r, "total"));
	table_print(t, stdout);
	table_destroy(&t);
	print_missing(json_object_get(r, "missing"));
	if (json_is_object(json_object_get(r, "inputs"))) {	/* a compiled report */
		json_t *in = json_object_get(r, "inputs"), *f;
		char text[256];

		json_array_foreach(json_object_get(in, "at_filing"), i, f)
			printf("Khi nộp (at filing) %s, %s, %s: %s\n", jstr(f, "unit"), jstr(f, "receipt"), jstr(f, "filed_at"),
			       inputs_text(f, text, sizeof(text)));
		if (json_is_object(json_object_get(in, "now")))
			printf("Hiện nay (now): %s\n", inputs_text(json_object_get(in, "now"), text, sizeof(text)));
	}
out:
	json_decref(r);
	return rc;
}
