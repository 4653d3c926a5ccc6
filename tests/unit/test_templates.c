/*
 * test_templates.c - message templates (daemon/templates.c) and their section in the
 * configuration (daemon/config.c): compiling, rendering variables, the units and proposals
 * lists and conditional sections, the fallback from channel kind to any to the built-in
 * text, the built-in texts byte for byte (those of the proposal messages too),
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

#include "compiled.h"
#include "config.h"
#include "period_text.h"
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

/* the message's code is in a header (X-Thidua-Dedup-Key), not in the text */
#define FOOTER "\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\n"
#define PLAN "Thực hiện Kế hoạch số 1792/KH-UBND.\n\n"
#define BCN "Báo cáo kết quả thực hiện phong trào thi đua năm 2024"
#define SENDTO "Phòng Giáo dục và Đào tạo huyện Củ Chi (thư điện tử: gddt@cuchi.example.org)"
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

/* proposals - three proposals of a message, as proposals.c fills them */
static const struct tmpl_item three[3] = {
	{ .v = { [TV_PROPOSAL_ID] = "12", [TV_NOMINEE_CODE] = "HGD-00001", [TV_NOMINEE_NAME] = "Hộ ông Nguyễn Văn An",
		 [TV_LEVEL] = "1", [TV_PROPOSER_NAME] = "Ủy ban nhân dân xã Phú Hòa Đông", [TV_PROPOSER_CODE] = "XA-PHUHOADONG",
		 [TV_PROPOSAL_REASON] = "Thiếu biên bản" } },
	{ .v = { [TV_PROPOSAL_ID] = "13", [TV_NOMINEE_CODE] = "HGD-00002", [TV_NOMINEE_NAME] = "Hộ bà Lê Thị Bình",
		 [TV_LEVEL] = "2", [TV_PROPOSER_NAME] = "Ủy ban nhân dân xã Phú Hòa Đông", [TV_PROPOSER_CODE] = "XA-PHUHOADONG" } },
	{ .v = { [TV_PROPOSAL_ID] = "14", [TV_NOMINEE_CODE] = "HGD-00003", [TV_NOMINEE_NAME] = "Hộ ông Trần Văn Cư",
		 [TV_LEVEL] = "1", [TV_PROPOSER_NAME] = "Ủy ban nhân dân xã Phú Hòa Đông", [TV_PROPOSER_CODE] = "XA-PHUHOADONG",
		 [TV_PROPOSAL_REASON] = "Chưa đủ điểm tiêu chí 4" } },
};

/* test_sections - the proposals list and the conditional sections */
static void test_sections(void)
{
	struct tmpl_item units[2] = { { { "Xã A", "A", "15/11/2024", "0", "3" } }, { { "Xã B", "B", "15/11/2024", "2", "0" } } };
	struct tmpl_values v = { .units = units, .nunits = 2, .proposals = three, .nproposals = 3 }, none = { .nunits = 0 };

	v.v[TV_PROGRAMME_NAME] = "Gia đình học tập";
	v.v[TV_YEAR] = "2025";
	v.v[TV_MORE_COUNT] = "0";
	v.v[TV_REASON] = "";
	check_render("the proposals list", "{{#proposals}}{{proposal_id}}:{{nominee_name}} ({{nominee_code}}) c{{level}}"
		     " {{proposer_code}}/{{proposer_name}} [{{proposal_reason}}]\n{{/proposals}}", &v,
		     "12:Hộ ông Nguyễn Văn An (HGD-00001) c1 XA-PHUHOADONG/Ủy ban nhân dân xã Phú Hòa Đông [Thiếu biên bản]\n"
		     "13:Hộ bà Lê Thị Bình (HGD-00002) c2 XA-PHUHOADONG/Ủy ban nhân dân xã Phú Hòa Đông []\n"
		     "14:Hộ ông Trần Văn Cư (HGD-00003) c1 XA-PHUHOADONG/Ủy ban nhân dân xã Phú Hòa Đông [Chưa đủ điểm tiêu chí 4]\n");
	check_render("message variables inside the proposals list", "{{#proposals}}{{proposal_id}}@{{programme_name}} {{year}};{{/proposals}}",
		     &v, "12@Gia đình học tập 2025;13@Gia đình học tập 2025;14@Gia đình học tập 2025;");
	check_render("both lists in one template", "{{#units}}{{unit_code}}{{/units}}|{{#proposals}}{{proposal_id}}{{/proposals}}",
		     &v, "AB|121314");
	check_render("an empty proposals list", "a{{#proposals}}[{{proposal_id}}]{{/proposals}}b", &none, "ab");
	check_render("a condition on a set value", "x{{#programme_name}} ({{programme_name}}){{/programme_name}}", &v,
		     "x (Gia đình học tập)");
	check_render("a condition on an empty value", "x{{#reason}} Lý do: {{reason}}{{/reason}}.", &v, "x.");
	check_render("a condition on an unset value", "x{{#actor}}!{{/actor}}.", &v, "x.");
	check_render("a condition on 0", "x{{#more_count}} và {{more_count}} khác{{/more_count}}.", &v, "x.");
	check_render("an inverted condition", "{{^reason}}không lý do{{/reason}}|{{^year}}không năm{{/year}}", &v, "không lý do|");
	check_render("a condition per proposal", "{{#proposals}}{{proposal_id}}{{#proposal_reason}}({{proposal_reason}}){{/proposal_reason}};{{/proposals}}",
		     &v, "12(Thiếu biên bản);13;14(Chưa đủ điểm tiêu chí 4);");
	check_render("a condition per unit", "{{#units}}{{unit_code}}{{#days_overdue}} trễ {{days_overdue}}{{/days_overdue}}"
		     "{{^days_overdue}} còn {{days_left}}{{/days_overdue}};{{/units}}", &v, "A trễ 3;B còn 2;");
	check_render("conditions inside each other", "{{#proposals}}{{^reason}}{{#proposal_reason}}{{proposal_id}}.{{/proposal_reason}}{{/reason}}{{/proposals}}",
		     &v, "12.14.");
	check_render("a condition around a list", "{{#year}}[{{#proposals}}{{proposal_id}} {{/proposals}}]{{/year}}{{#reason}}"
		     "{{#units}}x{{/units}}{{/reason}}", &v, "[12 13 14 ]");
	check_render("a condition with blanks", "{{^ reason }}-{{/ reason }}", &v, "-");
	v.v[TV_MORE_COUNT] = "1947";
	v.v[TV_REASON] = "Thiếu hồ sơ";
	check_render("a count other than 0", "{{#more_count}}và {{more_count}} khác{{/more_count}}", &v, "và 1947 khác");
	check_render("the inverted condition on a set value", "{{#proposals}}{{^reason}}{{proposal_reason}}{{/reason}}{{/proposals}}|{{reason}}",
		     &v, "|Thiếu hồ sơ");

	check_error("a proposal variable outside its list", "Hồ sơ {{nominee_name}}", strlen("Hồ sơ "),
		    "variable 'nominee_name' outside {{#proposals}}");
	check_error("a proposal variable after the list", "{{#proposals}}{{proposal_id}}{{/proposals}}\n{{proposal_reason}}", 44,
		    "variable 'proposal_reason' outside {{#proposals}}");
	check_error("a unit variable inside the proposals list", "{{#proposals}}{{unit_name}}{{/proposals}}", 14,
		    "variable 'unit_name' inside {{#proposals}}");
	check_error("due_date inside the proposals list", "{{#proposals}}{{due_date}}{{/proposals}}", 14,
		    "variable 'due_date' inside {{#proposals}}");
	check_error("a proposal variable inside the units list", "{{#units}}{{level}}{{/units}}", 10,
		    "variable 'level' inside {{#units}}");
	check_error("a condition on a proposal variable outside its list", "{{#proposal_reason}}x{{/proposal_reason}}", 0,
		    "variable 'proposal_reason' outside {{#proposals}}");
	check_error("a condition on a unit variable inside the proposals list", "{{#proposals}}{{^days_left}}x{{/days_left}}{{/proposals}}",
		    14, "variable 'days_left' inside {{#proposals}}");
	check_error("a list inside the other", "{{#proposals}}{{#units}}{{/units}}{{/proposals}}", 14, "{{#units}} inside {{#proposals}}");
	check_error("a list inside a condition inside a list", "{{#units}}{{#reason}}{{#proposals}}{{/proposals}}{{/reason}}{{/units}}",
		    21, "{{#proposals}} inside {{#units}}");
	check_error("an inverted list", "{{^proposals}}none{{/proposals}}", 0, "a list cannot be inverted");
	check_error("a condition on an unknown name", "{{#ly_do}}x{{/ly_do}}", 0, "unknown section 'ly_do'");
	check_error("closed in the wrong order", "{{#proposals}}{{#proposal_reason}}x{{/proposals}}{{/proposal_reason}}", 35,
		    "'{{/proposals}}' closes no section");
	check_error("an unclosed condition", "a\n{{#proposals}}{{^reason}}x{{/proposals}}", 28, "'{{/proposals}}' closes no section");
	check_error("an unclosed condition at the end", "a {{#reason}}x", 2, "unclosed section 'reason'");
	check_error("the innermost unclosed section is named", "{{#units}}{{#reason}}x", 10, "unclosed section 'reason'");
	check_error("too deep", "{{#year}}{{#year}}{{#year}}{{#year}}{{#year}}{{#year}}{{#year}}{{#year}}{{#year}}",
		    72, "more than 8 sections inside each other");
	{
		struct tmpl_error e = { 0 };
		struct tmpl *t = tmpl_compile("Kính gửi {{nominee_name}}", &e);

		T_CHECK("the hint says where a proposal variable goes", !t && strstr(e.hint, "between {{#proposals}} and {{/proposals}}")
			&& strstr(e.hint, "proposal_id") && strstr(e.hint, "proposal_reason") && !strstr(e.hint, "unit_name"));
		if (t || !strstr(e.hint, "{{#proposals}}"))
			printf("    got: %s\n", e.hint);
		tmpl_destroy(&t);
		t = tmpl_compile("{{#proposals}}{{unit_code}}{{/proposals}}", &e);
		T_CHECK("the hint inside a list names its variables", !t && strstr(e.hint, "unit_code is each unit's, for {{#units}}")
			&& strstr(e.hint, "inside {{#proposals}}") && strstr(e.hint, "nominee_code") && !strstr(e.hint, "days_left"));
		tmpl_destroy(&t);
		t = tmpl_compile("{{khong_co}}", &e);
		T_CHECK("the hint of an unknown variable names every variable", !t && strstr(e.hint, "unit_name")
			&& strstr(e.hint, "proposal_reason") && strstr(e.hint, "more_count") && strstr(e.hint, "decision_date"));
		tmpl_destroy(&t);
	}
}

/* fill - the values a deadline message has (as spool.c sets them) */
static void fill(struct tmpl_values *v, const char *recipient, int late)
{
	v->v[TV_REPORT_NAME] = "Báo cáo kết quả thực hiện phong trào thi đua năm";
	v->v[TV_REPORT_CODE] = "BC-NAM";
	v->v[TV_PERIOD] = "2024";
	v->v[TV_RECEIVER_NAME] = "Phòng Giáo dục và Đào tạo huyện Củ Chi";
	v->v[TV_REPORT_PERIOD] = BCN;
	v->v[TV_PLAN_NO] = "1792/KH-UBND";
	v->v[TV_RECEIVER_CONTACT] = "gddt@cuchi.example.org";
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

	fill(&v, "Ủy ban nhân dân xã Trung An", 0);
	templates_render(set, TE_REMINDER, TC_MAIL, &v, &subject, &body);
	T_STREQ("built-in reminder subject", subject,
		"[Nhắc hạn] " BCN " - hạn 15/11/2024");
	{
		char *want = xasprintf("Kính gửi: Ủy ban nhân dân xã Trung An\n\n" PLAN
				       "Đơn vị chưa gửi " BCN " đến Phòng Giáo dục và Đào tạo huyện Củ Chi.\n"
				       "Hạn nộp: 23 giờ 59 ngày 15/11/2024 (còn 14 ngày).\n\n"
				       "Đề nghị đơn vị gửi báo cáo đúng hạn đến " SENDTO ".\n" FOOTER);

		T_STREQ("built-in reminder body", body, want);
		free(want);
	}
	free(subject);
	free(body);

	v.units = late;
	fill(&v, "Ủy ban nhân dân xã Trung An", 1);
	templates_render(set, TE_OVERDUE, TC_CHAT, &v, &subject, &body);
	T_STREQ("built-in overdue subject", subject,
		"[Quá hạn] " BCN " - hạn 15/11/2024");
	{
		char *want = xasprintf("Kính gửi: Ủy ban nhân dân xã Trung An\n\n" PLAN
				       "Đơn vị chưa gửi " BCN " đến Phòng Giáo dục và Đào tạo huyện Củ Chi.\n"
				       "Hạn nộp: 23 giờ 59 ngày 15/11/2024. Đơn vị đã quá hạn 3 ngày.\n\n"
				       "Đề nghị đơn vị gửi báo cáo ngay đến " SENDTO ".\n" LATE FOOTER);

		T_STREQ("built-in overdue body, sent late", body, want);
		free(want);
	}
	free(subject);
	free(body);
	/* with a final cut-off (late_until_days): stated after the request, before the footer */
	v.v[TV_LATE_UNTIL] = "15/12/2024";
	templates_render(set, TE_OVERDUE, TC_CHAT, &v, &subject, &body);
	{
		char *want = xasprintf("Kính gửi: Ủy ban nhân dân xã Trung An\n\n" PLAN
				       "Đơn vị chưa gửi " BCN " đến Phòng Giáo dục và Đào tạo huyện Củ Chi.\n"
				       "Hạn nộp: 23 giờ 59 ngày 15/11/2024. Đơn vị đã quá hạn 3 ngày.\n\n"
				       "Đề nghị đơn vị gửi báo cáo ngay đến " SENDTO ".\n"
				       "Hạn cuối nhận báo cáo nộp muộn: 23 giờ 59 ngày 15/12/2024; sau thời điểm này hệ thống"
				       " không tiếp nhận báo cáo và không gửi thêm thông báo.\n" LATE FOOTER);

		T_STREQ("built-in overdue body with the final cut-off", body, want);
		free(want);
	}
	v.v[TV_LATE_UNTIL] = NULL;
	free(subject);
	free(body);

	v.units = two;
	v.nunits = 2;
	fill(&v, "Ủy ban nhân dân huyện Củ Chi", 0);
	templates_render(set, TE_ESCALATION, TC_ANY, &v, &subject, &body);
	T_STREQ("built-in escalation subject", subject,
		"[Chậm nộp] " BCN ": 2 đơn vị chưa nộp");
	{
		char *want = xasprintf("Kính gửi: Ủy ban nhân dân huyện Củ Chi\n\n" PLAN
				       "Các đơn vị sau chưa gửi " BCN " (hạn 15/11/2024) đến Phòng Giáo dục và Đào tạo huyện Củ Chi:\n\n"
				       "  - Ủy ban nhân dân xã Trung An (XA-TRUNGAN): quá hạn 5 ngày\n"
				       "  - Ủy ban nhân dân xã Thái Mỹ (XA-THAIMY): quá hạn 5 ngày\n"
				       "\nĐề nghị đôn đốc các đơn vị gửi báo cáo đến " SENDTO ".\n" FOOTER);

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

/* fill_proposals - the values of a message about proposals (as proposals.c sets them):
 * three listed of total, reason shared or not */
static void fill_proposals(struct tmpl_values *v, const char *total, const char *more, const char *reason)
{
	memset(v, 0, sizeof(*v));
	v->proposals = three;
	v->nproposals = 3;
	v->v[TV_RECIPIENT_NAME] = "Ủy ban nhân dân xã Phú Hòa Đông";
	v->v[TV_PROGRAMME_NAME] = "Gia đình học tập";
	v->v[TV_PROGRAMME_CODE] = "GDHT";
	v->v[TV_YEAR] = "2025";
	v->v[TV_STAGE] = "1";
	v->v[TV_DUE_DATE] = "24/03/2025";
	v->v[TV_PROPOSAL_COUNT] = total;
	v->v[TV_MORE_COUNT] = more;
	v->v[TV_DECISION_NO] = "45/QĐ-UBND";
	v->v[TV_DECISION_DATE] = "03/03/2025";
	v->v[TV_REASON] = reason;
	v->v[TV_DEDUP_KEY] = "proposal/b1/pending/s1/t1740967200/XA-PHUHOADONG";
}

#define GREETING "Kính gửi: Ủy ban nhân dân xã Phú Hòa Đông\n\n"
#define ITEM1 "  - Hồ sơ số 12: Hộ ông Nguyễn Văn An (HGD-00001), cấp độ 1, đơn vị đề nghị: Ủy ban nhân dân xã Phú Hòa Đông"
#define ITEM2 "  - Hồ sơ số 13: Hộ bà Lê Thị Bình (HGD-00002), cấp độ 2, đơn vị đề nghị: Ủy ban nhân dân xã Phú Hòa Đông"
#define ITEM3 "  - Hồ sơ số 14: Hộ ông Trần Văn Cư (HGD-00003), cấp độ 1, đơn vị đề nghị: Ủy ban nhân dân xã Phú Hòa Đông"
#define ITEMS ITEM1 "\n" ITEM2 "\n" ITEM3 "\n"
#define PFOOTER "\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\n"

/* check_proposal - the built-in subject and body of ev for v, to every channel kind */
static void check_proposal(const struct templates *set, enum tmpl_event ev, const struct tmpl_values *v, const char *what,
			   const char *want_subject, const char *want_body)
{
	for (int c = 0; c < TC_COUNT; c++) {
		char *subject, *body, *name;

		templates_render(set, ev, (enum tmpl_channel)c, v, &subject, &body);
		name = xasprintf("built-in %s subject%s (%s)", tmpl_event_name(ev), what, tmpl_channel_name((enum tmpl_channel)c));
		T_STREQ(name, subject, want_subject);
		free(name);
		name = xasprintf("built-in %s body%s (%s)", tmpl_event_name(ev), what, tmpl_channel_name((enum tmpl_channel)c));
		T_STREQ(name, body, want_body);
		free(name);
		free(subject);
		free(body);
	}
}

/* test_builtin_proposals - the texts proposals.c wrote before its messages went through
 * the templates, byte for byte */
static void test_builtin_proposals(void)
{
	struct templates *set = templates_new();
	struct tmpl_values v;

	fill_proposals(&v, "2000", "1997", "");
	check_proposal(set, TE_PROPOSAL_PENDING, &v, "", "[Hồ sơ chờ xét duyệt] Gia đình học tập năm 2025: 2000 hồ sơ",
		       GREETING "Có 2000 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025 chờ đơn vị xét duyệt (bước 1)."
		       " Hạn xét duyệt: 23 giờ 59 ngày 24/03/2025.\n\n" ITEMS
		       "  ... và 1997 hồ sơ khác (thiduactl proposals list).\n" PFOOTER);
	fill_proposals(&v, "3", "0", "Thiếu hồ sơ minh chứng");
	check_proposal(set, TE_PROPOSAL_PENDING, &v, ", all listed", "[Hồ sơ chờ xét duyệt] Gia đình học tập năm 2025: 3 hồ sơ",
		       GREETING "Có 3 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025 chờ đơn vị xét duyệt (bước 1)."
		       " Hạn xét duyệt: 23 giờ 59 ngày 24/03/2025.\n\n" ITEMS PFOOTER);
	check_proposal(set, TE_PROPOSAL_RETURNED, &v, ", one reason", "[Trả lại hồ sơ] Gia đình học tập năm 2025: 3 hồ sơ",
		       GREETING "3 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025 của đơn vị được trả lại (bước 1) để bổ sung,"
		       " chỉnh sửa và gửi lại. Lý do: Thiếu hồ sơ minh chứng\n\n" ITEMS PFOOTER);
	check_proposal(set, TE_PROPOSAL_REJECTED, &v, ", one reason", "[Không công nhận] Gia đình học tập năm 2025: 3 hồ sơ",
		       GREETING "3 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025 của đơn vị không được công nhận (bước 1)."
		       " Lý do: Thiếu hồ sơ minh chứng\n\n" ITEMS PFOOTER);
	fill_proposals(&v, "5", "2", "");
	check_proposal(set, TE_PROPOSAL_RETURNED, &v, ", reasons that differ", "[Trả lại hồ sơ] Gia đình học tập năm 2025: 5 hồ sơ",
		       GREETING "5 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025 của đơn vị được trả lại (bước 1) để bổ sung,"
		       " chỉnh sửa và gửi lại.\n\n" ITEM1 ". Lý do: Thiếu biên bản\n" ITEM2 "\n" ITEM3 ". Lý do: Chưa đủ điểm tiêu chí 4\n"
		       "  ... và 2 hồ sơ khác (thiduactl proposals list).\n" PFOOTER);
	check_proposal(set, TE_PROPOSAL_REJECTED, &v, ", reasons that differ", "[Không công nhận] Gia đình học tập năm 2025: 5 hồ sơ",
		       GREETING "5 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025 của đơn vị không được công nhận (bước 1).\n\n"
		       ITEM1 ". Lý do: Thiếu biên bản\n" ITEM2 "\n" ITEM3 ". Lý do: Chưa đủ điểm tiêu chí 4\n"
		       "  ... và 2 hồ sơ khác (thiduactl proposals list).\n" PFOOTER);
	check_proposal(set, TE_PROPOSAL_GRANTED, &v, "", "[Công nhận] Gia đình học tập năm 2025: 5 hồ sơ - Quyết định số 45/QĐ-UBND",
		       GREETING "5 hồ sơ đề nghị của đơn vị đã được công nhận \"Gia đình học tập\" năm 2025 theo Quyết định số"
		       " 45/QĐ-UBND ngày 03/03/2025.\n\n" ITEMS "  ... và 2 hồ sơ khác (thiduactl proposals list).\n" PFOOTER);
	fill_proposals(&v, "3", "0", "");
	check_proposal(set, TE_PROPOSAL_OVERDUE, &v, "", "[Quá hạn xét duyệt] Gia đình học tập năm 2025: 3 hồ sơ",
		       GREETING "3 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025 chờ đơn vị xét duyệt (bước 1) đã quá hạn ngày"
		       " 24/03/2025.\nĐề nghị đơn vị xét duyệt ngay.\n\n" ITEMS PFOOTER);
	check_proposal(set, TE_PROPOSAL_ESCALATION, &v, "", "[Chậm xét duyệt] Gia đình học tập năm 2025: 3 hồ sơ quá hạn",
		       GREETING "3 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025 chưa được đơn vị cấp dưới xét duyệt (bước 1),"
		       " đã quá hạn ngày 24/03/2025.\nĐề nghị đôn đốc đơn vị xét duyệt.\n\n" ITEMS PFOOTER);
	check_proposal(set, TE_PROPOSAL_WITHDRAWN, &v, "", "[Rút hồ sơ] Gia đình học tập năm 2025: 3 hồ sơ",
		       GREETING "Đơn vị đề nghị đã rút 3 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025.\n\n" ITEMS PFOOTER);
	fill_proposals(&v, "0", "0", "");
	v.nproposals = 0;
	check_proposal(set, TE_PROPOSAL_WITHDRAWN, &v, ", nothing listed", "[Rút hồ sơ] Gia đình học tập năm 2025: 0 hồ sơ",
		       GREETING "Đơn vị đề nghị đã rút 0 hồ sơ đề nghị công nhận \"Gia đình học tập\" năm 2025.\n\n" PFOOTER);

	for (int e = TE_PROPOSAL_PENDING; e <= TE_PROPOSAL_WITHDRAWN; e++) {
		char *name = xasprintf("event %s", tmpl_event_name((enum tmpl_event)e));

		T_CHECK(name, !strncmp(tmpl_event_name((enum tmpl_event)e), "proposal_", 9)
			&& tmpl_event_code(tmpl_event_name((enum tmpl_event)e)) == e);
		free(name);
	}
	T_CHECK("proposal event names", tmpl_event_code("proposal_pending") == TE_PROPOSAL_PENDING
		&& tmpl_event_code("proposal_returned") == TE_PROPOSAL_RETURNED
		&& tmpl_event_code("proposal_rejected") == TE_PROPOSAL_REJECTED
		&& tmpl_event_code("proposal_granted") == TE_PROPOSAL_GRANTED
		&& tmpl_event_code("proposal_overdue") == TE_PROPOSAL_OVERDUE
		&& tmpl_event_code("proposal_escalation") == TE_PROPOSAL_ESCALATION
		&& tmpl_event_code("proposal_withdrawn") == TE_PROPOSAL_WITHDRAWN && tmpl_event_code("proposal") < 0
		&& tmpl_event_code("pending") < 0);

	/* a proposal event overridden for mail; chat keeps the built-in text; never the digest */
	{
		struct tmpl *ts = compile_ok("Chờ duyệt: {{proposal_count}} hồ sơ {{programme_code}}");
		struct tmpl *tb = compile_ok("{{#proposals}}#{{proposal_id}} {{nominee_name}}\n{{/proposals}}"
					     "{{#more_count}}+{{more_count}}\n{{/more_count}}");
		struct tmpl *dg = compile_ok("digest");
		char *subject, *body;

		templates_set(set, TE_PROPOSAL_PENDING, TC_MAIL, &ts, &tb);
		templates_set(set, TE_DIGEST, TC_ANY, &dg, NULL);
		fill_proposals(&v, "2000", "1997", "");
		templates_render(set, TE_PROPOSAL_PENDING, TC_MAIL, &v, &subject, &body);
		T_STREQ("proposal_pending/mail subject", subject, "Chờ duyệt: 2000 hồ sơ GDHT");
		T_STREQ("proposal_pending/mail body", body, "#12 Hộ ông Nguyễn Văn An\n#13 Hộ bà Lê Thị Bình\n#14 Hộ ông Trần Văn Cư\n+1997\n");
		free(subject);
		free(body);
		templates_render(set, TE_PROPOSAL_PENDING, TC_CHAT, &v, &subject, &body);
		T_STREQ("proposal_pending to chat: built in", subject, "[Hồ sơ chờ xét duyệt] Gia đình học tập năm 2025: 2000 hồ sơ");
		free(subject);
		free(body);
		templates_render(set, TE_PROPOSAL_ESCALATION, TC_CHAT, &v, &subject, &body);
		T_STREQ("a proposal escalation is not a digest", subject, "[Chậm xét duyệt] Gia đình học tập năm 2025: 2000 hồ sơ quá hạn");
		free(subject);
		free(body);
	}
	templates_destroy(&set);
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
	T_STREQ("chat subject built in", subject, "[Nhắc hạn] " BCN " - hạn 15/11/2024");
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

	cfg = load("proposals.cfg", MINIMAL
		   "templates = (\n"
		   "  { event = \"proposal_granted\"; channel = \"chat\";\n"
		   "    subject = \"Công nhận {{proposal_count}} hồ sơ {{programme_code}} ({{decision_no}}, {{decision_date}})\";\n"
		   "    body = \"{{#proposals}}{{proposal_id}} {{nominee_code}} {{level}} {{proposer_code}}\\n{{/proposals}}\"\n"
		   "           \"{{#reason}}Lý do: {{reason}}\\n{{/reason}}{{^more_count}}Hết.{{/more_count}}\"; }\n"
		   ");\n", &errs);
	T_CHECK("a proposal template loads", cfg != NULL);
	if (cfg) {
		struct tmpl_values pv;

		fill_proposals(&pv, "3", "0", "");
		templates_render(cfg->templates, TE_PROPOSAL_GRANTED, TC_CHAT, &pv, &subject, &body);
		T_STREQ("configured proposal_granted/chat subject", subject, "Công nhận 3 hồ sơ GDHT (45/QĐ-UBND, 03/03/2025)");
		T_STREQ("configured proposal_granted/chat body", body,
			"12 HGD-00001 1 XA-PHUHOADONG\n13 HGD-00002 2 XA-PHUHOADONG\n14 HGD-00003 1 XA-PHUHOADONG\nHết.");
		free(subject);
		free(body);
		templates_render(cfg->templates, TE_PROPOSAL_GRANTED, TC_MAIL, &pv, &subject, &body);
		T_CHECK("proposal_granted to mail: built in", !strncmp(subject, "[Công nhận] ", strlen("[Công nhận] ")));
		free(subject);
		free(body);
	} else {
		dump(errs);
	}
	cfg_destroy(&cfg);
	strv_free(&errs);

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
	expect_bad("an unknown event is told the proposal events", MINIMAL
		   "templates = ( { event = \"proposal\"; subject = \"x\"; } ); #<\n",
		   "template: event \"proposal\" is not one of reminder, overdue, escalation, digest, returned, accepted,"
		   " dead_letter, test, receipt, proposal_pending, proposal_returned, proposal_rejected, proposal_granted,"
		   " proposal_overdue, proposal_escalation, proposal_withdrawn", NULL, 0);
	expect_bad("a proposal variable outside its list", MINIMAL
		   "templates = ( { event = \"proposal_pending\"; channel = \"mail\";\n"
		   "  body = \"Kính gửi: {{recipient_name}}\\n\"\n"
		   "         \"Hồ sơ của {{nominee_name}}\\n\"; #<\n"
		   "} );\n", "variable 'nominee_name' outside {{#proposals}} in the body of template proposal_pending/mail;"
		   " write it between {{#proposals}} and {{/proposals}}", NULL, 0);
	expect_bad("a unit variable inside the proposals list", MINIMAL
		   "templates = ( { event = \"proposal_returned\";\n"
		   "  body = \"{{#proposals}}{{unit_name}}{{/proposals}}\"; #<\n"
		   "} );\n", "variable 'unit_name' inside {{#proposals}} in the body of template proposal_returned", NULL, 0);
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

/* test_report_period - the report and its period as a reader writes them: no "năm kỳ 2024" */
static void test_report_period(void)
{
	static const struct { const char *name; int yearly; const char *period, *want; } cases[] = {
		{ "Báo cáo kết quả thực hiện phong trào thi đua năm", 1, "2024",
		  "Báo cáo kết quả thực hiện phong trào thi đua năm 2024" },
		{ "Báo cáo tổng hợp kết quả phong trào thi đua của huyện", 1, "2024",
		  "Báo cáo tổng hợp kết quả phong trào thi đua của huyện năm 2024" },
		{ "Báo cáo kết quả thực hiện phong trào thi đua năm (xã, sau sắp xếp)", 1, "2025",
		  "Báo cáo kết quả thực hiện phong trào thi đua năm 2025 (xã, sau sắp xếp)" },
		{ "Báo cáo tổng hợp kết quả phong trào thi đua của các xã (Sở GD&ĐT)", 1, "2025",
		  "Báo cáo tổng hợp kết quả phong trào thi đua của các xã năm 2025 (Sở GD&ĐT)" },
		{ "Tham mưu thành lập Ban Chỉ đạo phong trào thi đua cấp huyện", 0, "2024-Q1",
		  "Tham mưu thành lập Ban Chỉ đạo phong trào thi đua cấp huyện quý I năm 2024" },
		{ "Báo cáo thử hạn thứ Hai", 0, "2024-T11", "Báo cáo thử hạn thứ Hai tháng 11 năm 2024" },
		{ "Báo cáo sơ kết giai đoạn 2023 - 2025 của đơn vị", 0, "2023-2025",
		  "Báo cáo sơ kết giai đoạn 2023 - 2025 của đơn vị" },
		{ "Báo cáo sơ kết", 0, "2023-2025", "Báo cáo sơ kết giai đoạn 2023 - 2025" },
		{ "Báo cáo kết quả năm 2024 gửi Hội đồng", 0, "2024", "Báo cáo kết quả năm 2024 gửi Hội đồng" },
		{ "Báo cáo chuyên đề", 0, "dot-1", "Báo cáo chuyên đề (đợt dot-1)" },
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		report_period_text(cases[i].name, cases[i].yearly, cases[i].period, buf, sizeof(buf));
		T_STREQ(cases[i].period, buf, cases[i].want);
	}
	report_period_text("Báo cáo năm", 1, "2024", buf, 16);	/* cut short: still valid UTF-8 */
	T_CHECK("cut short, valid UTF-8", utf8_valid(buf, strlen(buf)));
	{	/* a receiver's addresses: whole ones only */
		char *emails[] = { "gddt@cuchi.example.org", "vanthu@cuchi.example.org", NULL };
		struct unit u = { .emails = emails };

		unit_contact_text(&u, buf, sizeof(buf));
		T_STREQ("contact", buf, "gddt@cuchi.example.org, vanthu@cuchi.example.org");
		unit_contact_text(&u, buf, 30);
		T_STREQ("contact cut to whole addresses", buf, "gddt@cuchi.example.org");
		u.emails = NULL;
		unit_contact_text(&u, buf, sizeof(buf));
		T_STREQ("no address", buf, "");
	}
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
	test_sections();
	test_builtin();
	test_report_period();
	test_builtin_proposals();
	test_fallback();
	test_config();
	for (size_t i = 0; tmpfiles && tmpfiles[i]; i++)
		unlink(tmpfiles[i]);
	strv_free(&tmpfiles);
	T_CHECK("temporary directory removed", rmdir(tmpdir) == 0);
	return t_failed ? 1 : 0;
}
