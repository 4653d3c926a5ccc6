/*
 * test_templates.c - message templates (daemon/templates.c) and their section in the
 * configuration (daemon/config.c): compiling, rendering variables and the units list, the
 * fallback from channel kind to any to the built-in text, the built-in texts byte for byte,
 * Vietnamese in and out, and every mistake refused at load as "FILE:LINE: message" with the
 * line where the mistake is written.
 *
 * Configuration files are written to a mkdtemp directory removed at the end; in each bad
 * file the offending line carries the comment "#<" (in a body file, the marker "<#").
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "templates.h"
#include "utf8.h"
#include "xalloc.h"
#include "t.h"

static char tmpdir[PATH_MAX];
static char **tmpfiles;

#define MINIMAL \
	"calendar = { utc_offset = \"+07:00\"; };\n" \
	"levels = ( { code = \"district\"; name = \"Quận, huyện\"; },\n" \
	"           { code = \"commune\"; name = \"Xã, thị trấn\"; } );\n" \
	"units = ( { code = \"D1\"; name = \"Huyện Củ Chi\"; level = \"district\"; kind = \"government\"; },\n" \
	"          { code = \"C1\"; name = \"Xã Tân Thông Hội\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; } );\n"

#define FOOTER "\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\nMã thông báo: "
#define LATE "\n(Thông báo gửi muộn: hệ thống tạm ngừng vào thời điểm nhắc.)\n"

/* write_file - text to tmpdir/name; the path is owned by tmpfiles */
static const char *write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "wb");
	size_t len = strlen(text);

	if (!fp || fwrite(text, 1, len, fp) != len || fclose(fp) != 0) {
		printf("FAIL write %s\n", path);
		t_failed++;
	}
	tmpfiles = strv_append(tmpfiles, path);
	free(path);
	return tmpfiles[strv_len(tmpfiles) - 1];
}

/* marker_line - the 1-based line holding marker, or 0 */
static int marker_line(const char *text, const char *marker)
{
	const char *m = strstr(text, marker);
	int line = 1;

	if (!m)
		return 0;
	for (const char *p = text; p < m; p++)
		line += *p == '\n';
	return line;
}

/* render_text - compile and render; the result or "(error)" (the caller frees it) */
static char *render_text(const char *text, const struct tmpl_values *v)
{
	struct tmpl_error e;
	struct tmpl *t = tmpl_compile(text, &e);
	char *out;

	if (!t)
		return xasprintf("(error: %s)", e.msg);
	out = tmpl_render(t, v);
	tmpl_destroy(&t);
	return out;
}

static void check_render(const char *name, const char *text, const struct tmpl_values *v, const char *want)
{
	char *got = render_text(text, v);

	T_STREQ(name, got, want);
	free(got);
}

/* check_error - text is refused at byte offset with msg starting with frag */
static void check_error(const char *name, const char *text, size_t offset, const char *frag)
{
	struct tmpl_error e = { 0 };
	struct tmpl *t = tmpl_compile(text, &e);
	char *tn;

	tn = xasprintf("%s: refused", name);
	T_CHECK(tn, t == NULL);
	free(tn);
	tn = xasprintf("%s: says \"%s\"", name, frag);
	T_CHECK(tn, !t && !strncmp(e.msg, frag, strlen(frag)));
	if (t || strncmp(e.msg, frag, strlen(frag)))
		printf("    got: %s; %s\n", e.msg, e.hint);
	free(tn);
	tn = xasprintf("%s: at byte %zu", name, offset);
	T_CHECK(tn, !t && e.offset == offset);
	free(tn);
	tmpl_destroy(&t);
}

static void test_compile_render(void)
{
	struct tmpl_item units[3] = {
		{ { "Xã Trung An", "XA-TRUNGAN", "15/11/2024", "0", "3" } },
		{ { "Xã Phú Hòa Đông", "XA-PHUHOADONG", "25/11/2024", "7", "0" } },
		{ { "Ấp Tân Lập", "AP-TANLAP", "15/11/2024", "0", "3" } },
	};
	struct tmpl_values v = { .units = units, .nunits = 3 }, none = { .nunits = 0 };

	v.v[TV_REPORT_NAME] = "Báo cáo năm";
	v.v[TV_PERIOD] = "2024";
	v.v[TV_DEDUP_KEY] = "K/1";
	check_render("plain text", "Không có biến.", &v, "Không có biến.");
	check_render("empty template", "", &v, "");
	check_render("variables", "{{report_name}} kỳ {{period}} [{{dedup_key}}]", &v, "Báo cáo năm kỳ 2024 [K/1]");
	check_render("blanks inside a tag", "{{ report_name }}|{{\tperiod\t}}", &v, "Báo cáo năm|2024");
	check_render("unset variable renders as nothing", "<{{reason}}{{actor}}{{link}}>", &v, "<>");
	check_render("a unit variable outside the list is the first unit's", "{{unit_name}} ({{unit_code}})", &v,
		     "Xã Trung An (XA-TRUNGAN)");
	check_render("the units list", "{{#units}}- {{unit_name}}: {{days_overdue}}/{{days_left}} {{due_date}}\n{{/units}}end",
		     &v, "- Xã Trung An: 3/0 15/11/2024\n- Xã Phú Hòa Đông: 0/7 25/11/2024\n- Ấp Tân Lập: 3/0 15/11/2024\nend");
	check_render("message variables inside the list", "{{#units}}{{unit_code}}@{{period}};{{/units}}", &v,
		     "XA-TRUNGAN@2024;XA-PHUHOADONG@2024;AP-TANLAP@2024;");
	check_render("sections with blanks", "{{# units }}x{{/ units }}", &v, "xxx");
	check_render("an empty list", "a{{#units}}[{{unit_name}}]{{/units}}b", &none, "ab");
	check_render("an empty list as the whole template", "{{#units}}x{{/units}}", &none, "");
	check_render("text after the list", "{{#units}}{{unit_code}} {{/units}}và {{period}}", &v,
		     "XA-TRUNGAN XA-PHUHOADONG AP-TANLAP và 2024");
	check_render("single braces stay", "{ a } }} {", &v, "{ a } }} {");

	check_error("unknown variable", "Kính gửi {{nope}}", strlen("Kính gửi "), "unknown variable 'nope'");
	check_error("unknown variable after others", "{{period}}\n{{ten_sai}}", 11, "unknown variable 'ten_sai'");
	check_error("unknown variable inside the list", "{{#units}}{{report}}{{/units}}", 10, "unknown variable 'report'");
	check_error("empty variable", "a{{}}", 1, "empty variable");
	check_error("unclosed section", "x\n{{#units}}{{unit_name}}\n", 2, "unclosed section 'units'");
	check_error("unclosed tag", "abc {{period", 4, "unclosed '{{'");
	check_error("a tag across lines", "abc {{period\n}}", 4, "unclosed '{{'");
	check_error("closing nothing", "a{{/units}}", 1, "'{{/units}}' closes no section");
	check_error("closing another name", "{{#units}}a{{/unit}}", 11, "'{{/unit}}' closes no section");
	check_error("unknown section", "{{#reports}}x{{/reports}}", 0, "unknown section 'reports'");
	check_error("nested lists", "{{#units}}{{#units}}{{/units}}{{/units}}", 10, "{{#units}} inside {{#units}}");
	{
		struct tmpl_error e = { 0 };
		struct tmpl *t = tmpl_compile("{{nope}}", &e);

		T_CHECK("the hint lists the variables", !t && strstr(e.hint, "unit_name") && strstr(e.hint, "late_note")
			&& strstr(e.hint, "days_overdue"));
		tmpl_destroy(&t);
	}
}

/* test_vietnamese - UTF-8 in the template and in the values comes out as it went in */
static void test_vietnamese(void)
{
	const char *text = "Kính gửi: {{recipient_name}} — «{{report_name}}» ({{unit_count}} đơn vị) 🎉\n"
			   "{{#units}}• {{unit_name}}\n{{/units}}Trân trọng.";
	struct tmpl_item units[2] = { { { "Ủy ban nhân dân xã Thái Mỹ" } }, { { "Ấp Bàu Tre, xã Tân An Hội" } } };
	struct tmpl_values v = { .units = units, .nunits = 2 };
	const char *want = "Kính gửi: Phòng Giáo dục và Đào tạo huyện Củ Chi — «Báo cáo tổng kết phong trào thi đua» (2 đơn vị) 🎉\n"
			   "• Ủy ban nhân dân xã Thái Mỹ\n• Ấp Bàu Tre, xã Tân An Hội\nTrân trọng.";
	char *got;

	v.v[TV_RECIPIENT_NAME] = "Phòng Giáo dục và Đào tạo huyện Củ Chi";
	v.v[TV_REPORT_NAME] = "Báo cáo tổng kết phong trào thi đua";
	v.v[TV_UNIT_COUNT] = "2";
	got = render_text(text, &v);
	T_STREQ("Vietnamese round trip", got, want);
	T_CHECK("the output is valid UTF-8", utf8_valid_str(got));
	free(got);
	check_error("an unknown Vietnamese name is quoted whole", "{{tên_đơn_vị}}", 0, "unknown variable 'tên_đơn_vị'");
}

/* fill - the values a deadline message has (as spool.c sets them) */
static void fill(struct tmpl_values *v, const char *recipient, int late)
{
	v->v[TV_REPORT_NAME] = "Báo cáo kết quả thực hiện phong trào thi đua năm";
	v->v[TV_REPORT_CODE] = "BC-NAM";
	v->v[TV_PERIOD] = "2024";
	v->v[TV_RECEIVER_NAME] = "Phòng Giáo dục và Đào tạo huyện Củ Chi";
	v->v[TV_RECIPIENT_NAME] = recipient;
	v->v[TV_UNIT_COUNT] = v->nunits == 1 ? "1" : "2";
	v->v[TV_DEDUP_KEY] = "BC-NAM/2024/r10wd/1730421000/reminder/XA-TRUNGAN";
	v->v[TV_LATE_NOTE] = late ? LATE : "";
}

/* test_builtin - without a templates section the texts are exactly the ones thiduad sent
 * before templates existed (tests/blackbox/test_deadlines.py checks the same) */
static void test_builtin(void)
{
	struct templates *set = templates_new();
	struct tmpl_item one[1] = { { { "Ủy ban nhân dân xã Trung An", "XA-TRUNGAN", "15/11/2024", "14", "0" } } };
	struct tmpl_item late[1] = { { { "Ủy ban nhân dân xã Trung An", "XA-TRUNGAN", "15/11/2024", "0", "3" } } };
	struct tmpl_item two[2] = {
		{ { "Ủy ban nhân dân xã Trung An", "XA-TRUNGAN", "15/11/2024", "0", "5" } },
		{ { "Ủy ban nhân dân xã Thái Mỹ", "XA-THAIMY", "15/11/2024", "0", "5" } },
	};
	struct tmpl_values v = { .units = one, .nunits = 1 };
	char *subject, *body;
	const char *key = "BC-NAM/2024/r10wd/1730421000/reminder/XA-TRUNGAN";

	fill(&v, "Ủy ban nhân dân xã Trung An", 0);
	templates_render(set, TE_REMINDER, TC_MAIL, &v, &subject, &body);
	T_STREQ("built-in reminder subject", subject,
		"[Nhắc hạn] Báo cáo kết quả thực hiện phong trào thi đua năm kỳ 2024 - hạn 15/11/2024");
	{
		char *want = xasprintf("Kính gửi: Ủy ban nhân dân xã Trung An\n\n"
				       "Đơn vị chưa gửi Báo cáo kết quả thực hiện phong trào thi đua năm kỳ 2024 đến Phòng Giáo dục và Đào tạo huyện Củ Chi.\n"
				       "Hạn nộp: 23 giờ 59 ngày 15/11/2024 (còn 14 ngày).\n\n"
				       "Đề nghị đơn vị gửi báo cáo đúng hạn qua hệ thống thidua.\n" FOOTER "%s\n", key);

		T_STREQ("built-in reminder body", body, want);
		free(want);
	}
	free(subject);
	free(body);

	v.units = late;
	fill(&v, "Ủy ban nhân dân xã Trung An", 1);
	templates_render(set, TE_OVERDUE, TC_CHAT, &v, &subject, &body);
	T_STREQ("built-in overdue subject", subject,
		"[Quá hạn] Báo cáo kết quả thực hiện phong trào thi đua năm kỳ 2024 - hạn 15/11/2024");
	{
		char *want = xasprintf("Kính gửi: Ủy ban nhân dân xã Trung An\n\n"
				       "Đơn vị chưa gửi Báo cáo kết quả thực hiện phong trào thi đua năm kỳ 2024 đến Phòng Giáo dục và Đào tạo huyện Củ Chi.\n"
				       "Hạn nộp: 23 giờ 59 ngày 15/11/2024. Đơn vị đã quá hạn 3 ngày.\n\n"
				       "Đề nghị đơn vị gửi báo cáo ngay.\n" LATE FOOTER "%s\n", key);

		T_STREQ("built-in overdue body, sent late", body, want);
		free(want);
	}
	free(subject);
	free(body);

	v.units = two;
	v.nunits = 2;
	fill(&v, "Ủy ban nhân dân huyện Củ Chi", 0);
	templates_render(set, TE_ESCALATION, TC_ANY, &v, &subject, &body);
	T_STREQ("built-in escalation subject", subject,
		"[Chậm nộp] Báo cáo kết quả thực hiện phong trào thi đua năm kỳ 2024: 2 đơn vị chưa nộp");
	{
		char *want = xasprintf("Kính gửi: Ủy ban nhân dân huyện Củ Chi\n\n"
				       "Các đơn vị sau chưa gửi Báo cáo kết quả thực hiện phong trào thi đua năm kỳ 2024 (hạn 15/11/2024) đến Phòng Giáo dục và Đào tạo huyện Củ Chi:\n\n"
				       "  - Ủy ban nhân dân xã Trung An (XA-TRUNGAN): quá hạn 5 ngày\n"
				       "  - Ủy ban nhân dân xã Thái Mỹ (XA-THAIMY): quá hạn 5 ngày\n"
				       "\nĐề nghị đôn đốc các đơn vị gửi báo cáo.\n" FOOTER "%s\n", key);

		T_STREQ("built-in escalation body", body, want);
		free(want);
	}
	free(subject);
	free(body);

	{
		struct tmpl_values t = { .nunits = 0 };

		t.v[TV_CHANNEL] = "thu";
		t.v[TV_CHANNEL_KIND] = "smtp";
		templates_render(set, TE_TEST, TC_MAIL, &t, &subject, &body);
		T_STREQ("built-in test subject", subject, "[thidua] Thư thử nghiệm kênh thu");
		T_STREQ("built-in test body", body, "Đây là thư thử nghiệm của hệ thống thidua qua kênh thu (smtp).\n"
			"Nếu quý vị nhận được thư này, kênh đã được cấu hình đúng.\n");
		free(subject);
		free(body);
		t.v[TV_REASON] = "notification 7 through channel thu failed for good: 550 no such user";
		t.v[TV_NOTIFICATION] = "7";
		templates_render(set, TE_DEAD_LETTER, TC_CHAT, &t, &subject, &body);
		T_STREQ("built-in dead letter subject", subject, "[thidua] Thông báo không gửi được qua kênh thu");
		T_STREQ("built-in dead letter body", body, "notification 7 through channel thu failed for good: 550 no such user\n\n"
			"Xem: thiduactl notifications show 7\nGửi lại: thiduactl notifications retry 7");
		free(subject);
		free(body);
	}
	for (int e = 0; e < TE_COUNT; e++) {
		struct tmpl_values t = { .units = two, .nunits = 2 };
		char *name = xasprintf("built-in %s renders valid UTF-8", tmpl_event_name((enum tmpl_event)e));

		fill(&t, "Huyện Củ Chi", 0);
		templates_render(set, (enum tmpl_event)e, TC_ANY, &t, &subject, &body);
		T_CHECK(name, utf8_valid_str(subject) && utf8_valid_str(body) && *subject && *body);
		free(name);
		free(subject);
		free(body);
	}
	templates_destroy(&set);
	T_CHECK("templates_destroy clears the pointer", set == NULL);
	templates_destroy(&set);
}

/* compile_or_die - a template the test itself writes */
static struct tmpl *compile_ok(const char *text)
{
	struct tmpl_error e;
	struct tmpl *t = tmpl_compile(text, &e);

	if (!t) {
		printf("FAIL compile %s: %s\n", text, e.msg);
		t_failed++;
	}
	return t;
}

/* test_fallback - channel kind, then any, then built in; digest for several units */
static void test_fallback(void)
{
	struct templates *set = templates_new();
	struct tmpl_item one[1] = { { { "Xã A", "A", "15/11/2024", "3", "0" } } };
	struct tmpl_item two[2] = { { { "Xã A", "A", "15/11/2024", "0", "1" } }, { { "Xã B", "B", "15/11/2024", "0", "1" } } };
	struct tmpl_values v = { .units = one, .nunits = 1 };
	struct tmpl *s, *b;
	char *subject, *body;

	fill(&v, "Xã A", 0);
	s = compile_ok("mail: {{unit_name}}");
	templates_set(set, TE_REMINDER, TC_MAIL, &s, NULL);
	T_CHECK("templates_set takes the template", s == NULL);
	b = compile_ok("any body {{days_left}}");
	templates_set(set, TE_REMINDER, TC_ANY, NULL, &b);
	templates_render(set, TE_REMINDER, TC_MAIL, &v, &subject, &body);
	T_STREQ("mail subject from reminder/mail", subject, "mail: Xã A");
	T_STREQ("mail body from reminder (any)", body, "any body 3");
	free(subject);
	free(body);
	templates_render(set, TE_REMINDER, TC_CHAT, &v, &subject, &body);
	T_STREQ("chat subject built in", subject, "[Nhắc hạn] Báo cáo kết quả thực hiện phong trào thi đua năm kỳ 2024 - hạn 15/11/2024");
	T_STREQ("chat body from reminder (any)", body, "any body 3");
	free(subject);
	free(body);
	templates_render(set, TE_OVERDUE, TC_MAIL, &v, &subject, &body);
	T_CHECK("another event keeps its built-in text", !strncmp(subject, "[Quá hạn] ", strlen("[Quá hạn] ")));
	free(subject);
	free(body);

	s = compile_ok("chậm: {{unit_name}}");
	b = compile_ok("một đơn vị");
	templates_set(set, TE_ESCALATION, TC_ANY, &s, &b);
	s = compile_ok("tổng hợp {{unit_count}}");
	b = compile_ok("{{#units}}{{unit_code}},{{/units}}");
	templates_set(set, TE_DIGEST, TC_CHAT, &s, &b);
	templates_render(set, TE_ESCALATION, TC_CHAT, &v, &subject, &body);
	T_STREQ("one unit: escalation, not digest", body, "một đơn vị");
	free(subject);
	free(body);
	v.units = two;
	v.nunits = 2;
	v.v[TV_UNIT_COUNT] = "2";
	templates_render(set, TE_ESCALATION, TC_CHAT, &v, &subject, &body);
	T_STREQ("several units to chat: digest subject", subject, "tổng hợp 2");
	T_STREQ("several units to chat: digest body", body, "A,B,");
	free(subject);
	free(body);
	templates_render(set, TE_ESCALATION, TC_MAIL, &v, &subject, &body);
	T_STREQ("several units to mail: no digest for mail, escalation", subject, "chậm: Xã A");
	free(subject);
	free(body);

	s = compile_ok("dòng một {{reason}} hết");
	templates_set(set, TE_RETURNED, TC_ANY, &s, NULL);
	v.v[TV_REASON] = "thiếu chữ ký\r\nvà con dấu";
	templates_render(set, TE_RETURNED, TC_MAIL, &v, &subject, &body);
	T_STREQ("a subject stays one line whatever the values", subject, "dòng một thiếu chữ ký  và con dấu hết");
	T_CHECK("the body keeps the line break", strstr(body, "Lý do: thiếu chữ ký\r\nvà con dấu\n") != NULL);
	free(subject);
	free(body);
	templates_destroy(&set);

	T_CHECK("event names", tmpl_event_code("dead_letter") == TE_DEAD_LETTER && tmpl_event_code("digest") == TE_DIGEST
		&& tmpl_event_code("receipt") == TE_RECEIPT && tmpl_event_code("birthday") < 0 && tmpl_event_code(NULL) < 0);
	T_CHECK("channel names", tmpl_channel_code("mail") == TC_MAIL && tmpl_channel_code("chat") == TC_CHAT
		&& tmpl_channel_code("any") < 0 && tmpl_channel_code("smtp") < 0);
}

/* load - cfg_load of text written as name */
static struct config *load(const char *name, const char *text, char ***errs)
{
	return cfg_load(write_file(name, text), errs);
}

static void dump(char **errs)
{
	for (size_t i = 0; errs && errs[i]; i++)
		printf("    got: %s\n", errs[i]);
}

/* has_error - some error is "path:line: frag..." (frag right after the place) */
static int has_error(char **errs, const char *path, int line, const char *frag)
{
	char *want = xasprintf("%s:%d: %s", path, line, frag);
	int found = 0;

	for (size_t i = 0; errs && errs[i]; i++)
		if (!strncmp(errs[i], want, strlen(want)))
			found = 1;
	free(want);
	return found;
}

/* expect_bad - the file is refused with frag at the line marked "#<" (or in other_file
 * at other_line) */
static void expect_bad(const char *name, const char *text, const char *frag, const char *other_file, int other_line)
{
	char *file = xasprintf("bad-%d.cfg", (int)strv_len(tmpfiles));
	const char *path = write_file(file, text);
	int line = other_file ? other_line : marker_line(text, "#<");
	char **errs = NULL;
	struct config *cfg = cfg_load(path, &errs);
	char *tn = xasprintf("%s: refused", name);
	int ok;

	T_CHECK(tn, cfg == NULL);
	free(tn);
	tn = xasprintf("%s: %s:%d: %s", name, other_file ? other_file : file, line, frag);
	ok = line > 0 && has_error(errs, other_file ? other_file : path, line, frag);
	T_CHECK(tn, ok);
	if (!ok || cfg)
		dump(errs);
	free(tn);
	free(file);
	cfg_destroy(&cfg);
	strv_free(&errs);
}

static void test_config(void)
{
	char **errs = NULL;
	struct config *cfg;
	char *subject, *body, *path;
	struct tmpl_item one[1] = { { { "Xã Tân Thông Hội", "C1", "15/11/2024", "2", "0" } } };
	struct tmpl_values v = { .units = one, .nunits = 1 };

	write_file("nhac-han.txt", "Kính gửi {{recipient_name}},\n\n"
		   "Còn {{days_left}} ngày đến hạn {{due_date}}.\n");
	cfg = load("good.cfg", MINIMAL
		   "templates = (\n"
		   "  { event = \"reminder\"; channel = \"mail\";\n"
		   "    subject = \"Nhắc: {{report_name}} ({{unit_code}})\";\n"
		   "    body_file = \"nhac-han.txt\"; },\n"
		   "  { event = \"reminder\"; subject = \"Chung: {{unit_name}}\";\n"
		   "    body = \"Dòng 1 {{period}}\\n\"\n"
		   "           \"Dòng 2 {{dedup_key}}\\n\"; },\n"
		   "  { event = \"escalation\"; channel = \"chat\"; body = \"{{#units}}{{unit_code}} {{/units}}\"; }\n"
		   ");\n", &errs);
	T_CHECK("a templates section loads", cfg != NULL);
	if (!cfg) {
		dump(errs);
		strv_free(&errs);
		return;
	}
	v.v[TV_REPORT_NAME] = "Báo cáo năm";
	v.v[TV_RECIPIENT_NAME] = "Xã Tân Thông Hội";
	v.v[TV_PERIOD] = "2024";
	v.v[TV_DEDUP_KEY] = "k";
	templates_render(cfg->templates, TE_REMINDER, TC_MAIL, &v, &subject, &body);
	T_STREQ("configured mail subject", subject, "Nhắc: Báo cáo năm (C1)");
	T_STREQ("body_file relative to the configuration", body, "Kính gửi Xã Tân Thông Hội,\n\nCòn 2 ngày đến hạn 15/11/2024.\n");
	free(subject);
	free(body);
	templates_render(cfg->templates, TE_REMINDER, TC_CHAT, &v, &subject, &body);
	T_STREQ("configured subject for any kind", subject, "Chung: Xã Tân Thông Hội");
	T_STREQ("a body in pieces", body, "Dòng 1 2024\nDòng 2 k\n");
	free(subject);
	free(body);
	templates_render(cfg->templates, TE_ESCALATION, TC_CHAT, &v, &subject, &body);
	T_STREQ("an escalation for chat", body, "C1 ");
	T_CHECK("its subject built in", !strncmp(subject, "[Chậm nộp] ", strlen("[Chậm nộp] ")));
	free(subject);
	free(body);
	cfg_destroy(&cfg);

	cfg = load("none.cfg", MINIMAL, &errs);
	T_CHECK("without a templates section the built-in texts are there", cfg && cfg->templates);
	cfg_destroy(&cfg);
	strv_free(&errs);

	expect_bad("unknown variable in a subject", MINIMAL
		   "templates = (\n"
		   "  { event = \"reminder\";\n"
		   "    subject = \"{{nope}}\"; #<\n"
		   "  } );\n", "unknown variable 'nope' in the subject of template reminder", NULL, 0);
	expect_bad("unknown variable on the third line of a body in pieces", MINIMAL
		   "templates = ( { event = \"overdue\"; channel = \"mail\";\n"
		   "  body = \"Kính gửi: {{recipient_name}}\\n\"\n"
		   "         \"Hạn: {{due_date}}\\n\"   # a comment between pieces\n"
		   "         \"Quá {{so_ngay}} ngày\\n\"; #<\n"
		   "} );\n", "unknown variable 'so_ngay' in the body of template overdue/mail", NULL, 0);
	expect_bad("unknown variable in a string with line breaks", MINIMAL
		   "templates = ( { event = \"accepted\";\n"
		   "  body = \"Dòng 1\n"
		   "Dòng 2 {{nguoi_nhan}} #<\n"
		   "\"; } );\n", "unknown variable 'nguoi_nhan'", NULL, 0);
	expect_bad("unclosed section", MINIMAL
		   "templates = ( { event = \"escalation\"; body = \"Các đơn vị:\\n\"\n"
		   "  \"{{#units}}- {{unit_name}}\\n\"; #<\n"
		   "} );\n", "unclosed section 'units'", NULL, 0);
	write_file("body-bad.txt", "Kính gửi {{recipient_name}},\n\n{{#units}}\n- {{unit_name}}\n{{/units}}\nLiên hệ: {{sdt}}\n");
	path = xasprintf("%s/body-bad.txt", tmpdir);
	expect_bad("unknown variable in a body file: that file and its line", MINIMAL
		   "templates = ( { event = \"digest\"; body_file = \"body-bad.txt\"; } );\n",
		   "unknown variable 'sdt' in the body of template digest", path, 6);
	free(path);
	write_file("body-open.txt", "a\nb\n{{#units}}{{unit_name}}\n");
	path = xasprintf("%s/body-open.txt", tmpdir);
	expect_bad("unclosed section in a body file", MINIMAL
		   "templates = ( { event = \"digest\"; body_file = \"body-open.txt\"; } );\n",
		   "unclosed section 'units'", path, 3);
	free(path);
	expect_bad("a missing body file", MINIMAL
		   "templates = ( { event = \"test\";\n"
		   "  body_file = \"khong-co.txt\"; } ); #<\n", "template test: body_file \"khong-co.txt\" cannot be read", NULL, 0);
	write_file("latin1.txt", "Ti\xea\x6e\n");
	expect_bad("a body file not in UTF-8", MINIMAL
		   "templates = ( { event = \"test\"; body_file = \"latin1.txt\"; } ); #<\n", "template test: body_file \"latin1.txt\" is not UTF-8", NULL, 0);
	expect_bad("unknown event", MINIMAL
		   "templates = ( { event = \"birthday\"; subject = \"x\"; } ); #<\n", "template: event \"birthday\" is not one of", NULL, 0);
	expect_bad("unknown channel kind", MINIMAL
		   "templates = ( { event = \"reminder\"; channel = \"smtp\"; subject = \"x\"; } ); #<\n",
		   "template reminder: channel \"smtp\" is neither \"mail\" nor \"chat\"", NULL, 0);
	expect_bad("declared twice", MINIMAL
		   "templates = ( { event = \"reminder\"; channel = \"chat\"; subject = \"a\"; },\n"
		   "  { event = \"reminder\"; channel = \"chat\"; body = \"b\"; } ); #<\n",
		   "template reminder/chat is declared twice", NULL, 0);
	expect_bad("body and body_file", MINIMAL
		   "templates = ( { event = \"reminder\"; body = \"a\"; body_file = \"nhac-han.txt\"; } ); #<\n",
		   "template reminder: give body or body_file, not both", NULL, 0);
	expect_bad("nothing to say", MINIMAL
		   "templates = ( { event = \"reminder\"; } ); #<\n", "template reminder: give a subject, a body or a body_file", NULL, 0);
	expect_bad("a subject on two lines", MINIMAL
		   "templates = ( { event = \"reminder\"; subject = \"a\\nb\"; } ); #<\n", "template reminder: a subject is one line", NULL, 0);
	expect_bad("an unknown key", MINIMAL
		   "templates = ( { event = \"reminder\"; subject = \"a\"; html = \"<p>\"; } ); #<\n", "unknown key 'html' in a template", NULL, 0);
	expect_bad("not a list", MINIMAL
		   "templates = { event = \"reminder\"; }; #<\n", "'templates' must be a list of groups", NULL, 0);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/thidua-test-templates-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("FAIL mkdtemp %s\n", tmpdir);
		return 1;
	}
	test_compile_render();
	test_vietnamese();
	test_builtin();
	test_fallback();
	test_config();
	for (size_t i = 0; tmpfiles && tmpfiles[i]; i++)
		unlink(tmpfiles[i]);
	strv_free(&tmpfiles);
	T_CHECK("temporary directory removed", rmdir(tmpdir) == 0);
	return t_failed ? 1 : 0;
}
