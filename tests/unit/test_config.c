/*
 * test_config.c - the configuration validator (daemon/config.c): the shipped files load,
 * and every kind of bad file is refused with "FILE:LINE: message" naming the right file,
 * the line of the offending setting and a telling message.
 *
 * Bad files are written to a mkdtemp directory that is removed at the end. In each bad
 * file the offending line carries the comment "#<", and the expected LINE is the number
 * of that line, so the cases can be edited without counting lines by hand.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "config.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"
#include "t.h"

static char tmpdir[PATH_MAX];
static char **tmpfiles;		/* every file written, removed at the end */

/* The smallest valid file: one district and one commune under it. */
#define CAL "calendar = { utc_offset = \"+07:00\"; };\n"
#define LEVELS \
	"levels = (\n" \
	"  { code = \"district\"; name = \"Quận, huyện\"; },\n" \
	"  { code = \"commune\"; name = \"Xã, thị trấn\"; },\n" \
	"  { code = \"hamlet\"; name = \"Ấp, khu phố\"; }\n" \
	");\n"
#define U_D1 "  { code = \"D1\"; name = \"Huyện Củ Chi\"; level = \"district\"; kind = \"government\"; }"
#define U_C1 "  { code = \"C1\"; name = \"Xã Tân Thông Hội\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; }"
#define MINIMAL CAL LEVELS "units = (\n" U_D1 ",\n" U_C1 "\n);\n"

/* write_cfg - write text to tmpdir/name; returns the path (owned by tmpfiles) */
static const char *write_cfg(const char *name, const char *text, size_t len)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(text, 1, len, fp) != len || fclose(fp) != 0) {
		printf("FAIL write %s\n", path);
		t_failed++;
	}
	tmpfiles = strv_append(tmpfiles, path);
	free(path);
	return tmpfiles[strv_len(tmpfiles) - 1];
}

/* marker_line - the 1-based number of the first line holding "#<", or 0 */
static int marker_line(const char *text)
{
	const char *m = strstr(text, "#<");
	int line = 1;

	if (!m)
		return 0;
	for (const char *p = text; p < m; p++)
		if (*p == '\n')
			line++;
	return line;
}

/* dump - show what the loader said, for a failing check (run.py ignores these lines) */
static void dump(char **errs)
{
	for (size_t i = 0; errs && errs[i]; i++)
		printf("    got: %s\n", errs[i]);
}

/* has_error - some error is "path:line: ...frag..." */
static int has_error(char **errs, const char *path, int line, const char *frag)
{
	char *prefix = xasprintf("%s:%d: ", path, line);
	size_t n = strlen(prefix);
	int found = 0;

	for (size_t i = 0; errs && errs[i]; i++)
		if (strncmp(errs[i], prefix, n) == 0 && strstr(errs[i] + n, frag))
			found = 1;
	free(prefix);
	return found;
}

/* expect_bad_n - text (len bytes) as file must fail with an error at the marked line
 * holding frag (and, when frag2, another fragment in the same error) */
static void expect_bad_n(const char *name, const char *file, const char *text, size_t len,
			 const char *frag, const char *frag2)
{
	const char *path = write_cfg(file, text, len);
	int line = marker_line(text);
	char **errs = NULL;
	struct config *cfg = cfg_load(path, &errs);
	char *tn;
	int ok;

	tn = xasprintf("%s: refused", name);
	T_CHECK(tn, cfg == NULL);
	free(tn);
	tn = xasprintf("%s: %s:%d names \"%s\"", name, file, line, frag);
	ok = line > 0 && has_error(errs, path, line, frag);
	T_CHECK(tn, ok);
	free(tn);
	if (frag2) {
		tn = xasprintf("%s: %s:%d also says \"%s\"", name, file, line, frag2);
		ok = line > 0 && has_error(errs, path, line, frag2);
		T_CHECK(tn, ok);
		free(tn);
	}
	if (!ok || cfg)
		dump(errs);
	cfg_destroy(&cfg);
	strv_free(&errs);
}

static void expect_bad(const char *name, const char *file, const char *text, const char *frag,
		       const char *frag2)
{
	expect_bad_n(name, file, text, strlen(text), frag, frag2);
}

static int32_t day_of(const char *s)
{
	int32_t d = 0;

	if (date_parse(s, &d)) {
		printf("FAIL bad date in test: %s\n", s);
		t_failed++;
	}
	return d;
}

/* test_shipped - the repository's own files load and say what they should */
static void test_shipped(void)
{
	char **errs = NULL;
	struct config *cfg = cfg_load("config/thidua.cfg", &errs);
	const struct holiday *h;
	const struct unit *u, *hcm, *cuchi;

	T_CHECK("thidua.cfg loads", cfg != NULL);
	T_CHECK("thidua.cfg no errors", errs == NULL);
	dump(errs);
	strv_free(&errs);
	if (cfg) {
		T_CHECK("thidua.cfg 52 units (45 until 30 June 2025, 7 new communes after)", cfg->units->nunits == 52);
		T_CHECK("thidua.cfg 4 levels", cfg->units->nlevels == 4);
		T_CHECK("thidua.cfg 54 calendar days (vn-holidays.csv)", cfg->nholidays == 54);
		T_STREQ("thidua.cfg level 0", cfg->units->levels[0].code, "city");
		T_STREQ("thidua.cfg level 3", cfg->units->levels[3].code, "hamlet");
		T_CHECK("thidua.cfg utc_offset", cfg->utc_offset == 7 * 3600);
		T_STREQ("thidua.cfg timezone", cfg->timezone, "Asia/Ho_Chi_Minh");
		T_CHECK("thidua.cfg weekend sat+sun", cfg->weekend_mask == ((1u << 5) | (1u << 6)));
		T_CHECK("thidua.cfg working hours", cfg->work_start == 450 && cfg->work_end == 1020);
		T_STREQ("thidua.cfg movement plan", cfg->movement_plan, "1792/KH-UBND");
		T_STREQ("thidua.cfg state_dir", cfg->state_dir, "/var/lib/thidua");
		T_CHECK("thidua.cfg max_request default", cfg->max_request_bytes == CFG_DEFAULT_MAX_REQUEST);
		for (size_t i = 1; i < cfg->nholidays; i++)
			if (cfg->holidays[i - 1].day >= cfg->holidays[i].day) {
				T_CHECK("thidua.cfg holidays sorted", 0);
				break;
			}
		h = cfg_holiday(cfg, day_of("2024-09-02"));
		T_CHECK("thidua.cfg 2024-09-02 holiday", h && !h->work);
		if (h)
			T_STREQ("thidua.cfg 2024-09-02 name", h->name, "Quốc khánh");
		h = cfg_holiday(cfg, day_of("2024-05-04"));
		T_CHECK("thidua.cfg 2024-05-04 make-up working day", h && h->work);
		h = cfg_holiday(cfg, day_of("2026-11-24"));
		T_CHECK("thidua.cfg 2026-11-24 unconfirmed", h && !h->confirmed);
		h = cfg_holiday(cfg, day_of("2027-02-05"));
		T_CHECK("thidua.cfg Tết 2027 (5/2) an unconfirmed day off", h && !h->work && !h->confirmed);
		h = cfg_holiday(cfg, day_of("2027-02-11"));
		T_CHECK("thidua.cfg Tết 2027 (11/2) an unconfirmed day off", h && !h->work && !h->confirmed);
		T_CHECK("thidua.cfg 2027-02-06 (Saturday, mùng 1) not listed", cfg_holiday(cfg, day_of("2027-02-06")) == NULL);
		h = cfg_holiday(cfg, day_of("2027-09-03"));
		T_CHECK("thidua.cfg 2027-09-03 an unconfirmed day off", h && !h->work && !h->confirmed);
		/* a reminder's day moves back over days off, never forward onto the due day */
		T_CHECK("roll back: Sunday 28/02/2027 -> Friday 26/02",
			cal_roll_back(cfg, day_of("2027-02-28")) == day_of("2027-02-26"));
		T_CHECK("roll back: 11/02/2027 (Tết) -> Thursday 04/02",
			cal_roll_back(cfg, day_of("2027-02-11")) == day_of("2027-02-04"));
		T_CHECK("roll back: a working day stays", cal_roll_back(cfg, day_of("2027-02-12")) == day_of("2027-02-12"));
		T_CHECK("roll back: make-up Saturday 10/01/2026 stays",
			cal_roll_back(cfg, day_of("2026-01-10")) == day_of("2026-01-10"));
		T_CHECK("thidua.cfg movement starts 2024-03-06", cfg->movement_starts == day_of("2024-03-06"));
		{
			const struct report_type *kh = cfg_report(cfg, "KH-NAM"), *bc = cfg_report(cfg, "BC-NAM");

			T_CHECK("KH-NAM starts with 2025", kh && kh->yearly && kh->first_year == 2025);
			T_CHECK("BC-NAM lock: 30 days after the due moment",
				bc && cal_lock_at(bc, 1000) == 1000 + 30 * 86400);
			T_CHECK("BC-TONGHOP takes late reports always",
				cfg_report(cfg, "BC-TONGHOP") && cal_lock_at(cfg_report(cfg, "BC-TONGHOP"), 1000) == INT64_MAX);
		}
		T_CHECK("thidua.cfg 2024-09-04 not a holiday", cfg_holiday(cfg, day_of("2024-09-04")) == NULL);
		T_CHECK("thidua.cfg first holiday found", cfg_holiday(cfg, day_of("2024-01-01")) != NULL);
		T_CHECK("thidua.cfg last holiday found", cfg_holiday(cfg, day_of("2027-11-24")) != NULL);
		T_CHECK("thidua.cfg before first holiday", cfg_holiday(cfg, day_of("2023-12-31")) == NULL);
		T_CHECK("thidua.cfg after last holiday", cfg_holiday(cfg, day_of("2027-11-25")) == NULL);
		hcm = unitset_find(cfg->units, "HCM");
		cuchi = unitset_find(cfg->units, "CUCHI");
		u = unitset_find(cfg->units, "CUCHI-GDDT");
		T_CHECK("thidua.cfg HCM top", hcm && hcm->parent == NULL && hcm->level == 0);
		T_CHECK("thidua.cfg CUCHI under HCM", cuchi && cuchi->parent == hcm && cuchi->level == 1);
		T_CHECK("thidua.cfg attached office", u && u->attached && u->parent == cuchi && u->level == 1);
		if (u) {
			T_CHECK("thidua.cfg office email", u->emails && u->emails[0] && !u->emails[1]);
			T_CHECK("thidua.cfg office active_from", u->active_from == day_of("2023-11-09"));
			T_CHECK("thidua.cfg office closes with the district", u->active_to == day_of("2025-06-30"));
		}
		{
			/* one timeline: the 2024 report types end with the district, the new ones begin */
			const struct report_type *bc = cfg_report(cfg, "BC-NAM"), *xa = cfg_report(cfg, "BC-NAM-XA");
			const struct programme *bk = cfg_programme(cfg, "BK-TT");
			const struct unit *old = unitset_find(cfg->units, "XA-ANPHU");
			const struct unit *neu = unitset_find(cfg->units, "XA-ANNHONTAY-2025");

			T_CHECK("thidua.cfg BC-NAM: 2024 only", bc && bc->first_year == 2024 && bc->last_year == 2024);
			T_CHECK("thidua.cfg BC-NAM-XA: 2025 to 2030", xa && xa->first_year == 2025 && xa->last_year == 2030);
			T_CHECK("thidua.cfg BK-TT: district then city on 2025-06-30",
				bk && stage_in_force(bk, 1, day_of("2025-06-30")) == 1);
			T_CHECK("thidua.cfg BK-TT: straight to the city on 2025-07-01",
				bk && stage_in_force(bk, 1, day_of("2025-07-01")) == 2);
			T_CHECK("thidua.cfg XA-ANPHU merged into XA-ANNHONTAY-2025",
				old && neu && old->nsuccessors == 1 && old->successors[0] == neu);
			T_CHECK("thidua.cfg principal of a closed commune loses its roles",
				!principal_in_force(cfg, cfg_principal(cfg, "nguyen.thi.lan"), day_of("2025-07-01")));
		}
	}
	cfg_destroy(&cfg);
	T_CHECK("cfg_destroy clears the pointer", cfg == NULL);
	cfg_destroy(&cfg);	/* NULL is accepted */

	cfg = cfg_load("config/examples/hcmc-2025.cfg", &errs);
	T_CHECK("hcmc-2025.cfg loads", cfg != NULL);
	T_CHECK("hcmc-2025.cfg no errors", errs == NULL);
	dump(errs);
	strv_free(&errs);
	if (cfg) {
		const struct unit *ap = unitset_find(cfg->units, "AP-PHD-PHULOI");
		const struct unit *old = unitset_find(cfg->units, "XA-PHUHOADONG");
		const struct unit *neu = unitset_find(cfg->units, "XA-PHUHOADONG-2025");
		int32_t last = day_of("2025-06-30"), first = day_of("2025-07-01");

		hcm = unitset_find(cfg->units, "HCM");
		cuchi = unitset_find(cfg->units, "CUCHI");
		T_CHECK("hcmc-2025 units found", ap && old && neu && hcm && cuchi);
		if (ap && old && neu && hcm && cuchi) {
			T_CHECK("hcmc-2025 old commune closes", unit_active_at(old, last) && !unit_active_at(old, first));
			T_CHECK("hcmc-2025 new commune opens", !unit_active_at(neu, last) && unit_active_at(neu, first));
			T_CHECK("hcmc-2025 old commune successor", old->nsuccessors == 1 && old->successors[0] == neu);
			T_CHECK("hcmc-2025 hamlet under old commune 06-30", unit_parent_at(ap, last) == old);
			T_CHECK("hcmc-2025 hamlet rolls up 07-01", unit_parent_at(ap, first) == neu);
			T_CHECK("hcmc-2025 hamlet under CUCHI 06-30", unit_is_under_at(ap, cuchi, last));
			T_CHECK("hcmc-2025 hamlet not under CUCHI 07-01", !unit_is_under_at(ap, cuchi, first));
			T_CHECK("hcmc-2025 hamlet under HCM both days",
				unit_is_under_at(ap, hcm, last) && unit_is_under_at(ap, hcm, first));
			T_CHECK("hcmc-2025 district closes, no successor",
				unit_active_at(cuchi, last) && !unit_active_at(cuchi, first) && cuchi->nsuccessors == 0);
		}
	}
	cfg_destroy(&cfg);
}

/* test_minimal - the smallest file loads with the documented defaults */
static void test_minimal(void)
{
	const char *path = write_cfg("minimal.cfg", MINIMAL, strlen(MINIMAL));
	char **errs = NULL;
	struct config *cfg = cfg_load(path, &errs);

	T_CHECK("minimal loads", cfg != NULL && errs == NULL);
	dump(errs);
	strv_free(&errs);
	if (!cfg)
		return;
	T_CHECK("minimal 2 units 3 levels", cfg->units->nunits == 2 && cfg->units->nlevels == 3);
	T_CHECK("minimal default weekend", cfg->weekend_mask == ((1u << 5) | (1u << 6)));
	T_CHECK("minimal default hours", cfg->work_start == 450 && cfg->work_end == 1020);
	T_CHECK("minimal no holidays", cfg->nholidays == 0 && cfg_holiday(cfg, 0) == NULL);
	T_CHECK("minimal no state_dir", cfg->state_dir == NULL);
	T_CHECK("minimal no report types", cfg->nreports == 0 && cfg_report(cfg, "x") == NULL);
	T_STREQ("minimal path kept", cfg->path, path);
	T_STREQ("minimal unit origin", cfg->units->units[0]->origin, path);
	T_CHECK("minimal unit line", cfg->units->units[0]->line == 8);
	T_CHECK("minimal C1 parent", cfg->units->units[1]->parent == cfg->units->units[0]);
	cfg_destroy(&cfg);

	{
		static const char text[] =
			"calendar = { utc_offset = \"-03:30\"; weekend = [ \"fri\" ]; working_hours = { start = \"08:00\"; end = \"24:00\"; }; };\n"
			LEVELS "units = (\n" U_D1 "\n);\n"
			"daemon = { max_request_bytes = 1024; api = \"tcp://127.0.0.1:5555\"; };\n";

		path = write_cfg("options.cfg", text, sizeof(text) - 1);
		cfg = cfg_load(path, &errs);
		T_CHECK("options load", cfg != NULL);
		dump(errs);
		strv_free(&errs);
		if (cfg) {
			T_CHECK("options utc_offset -03:30", cfg->utc_offset == -(3 * 3600 + 1800));
			T_CHECK("options weekend fri only", cfg->weekend_mask == (1u << 4));
			T_CHECK("options hours 08:00-24:00", cfg->work_start == 480 && cfg->work_end == 1440);
			T_CHECK("options max_request 1024", cfg->max_request_bytes == 1024);
			T_STREQ("options api", cfg->api_endpoint, "tcp://127.0.0.1:5555");
		}
		cfg_destroy(&cfg);
	}
}

/* test_bad - one problem per file */
static void test_bad(void)
{
	expect_bad("unknown top-level key", "unknown-top.cfg",
		   MINIMAL "colour = \"red\"; #<\n",
		   "unknown key 'colour'", "allowed: movement, daemon, calendar");
	expect_bad("unknown key in a unit", "unknown-unit-key.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  {\n"
		   "    code = \"C1\";\n"
		   "    name = \"Xã Tân Thông Hội\";\n"
		   "    level = \"commune\";\n"
		   "    parent = \"D1\";\n"
		   "    kind = \"commune\";\n"
		   "    email = [ \"a@b.vn\" ]; #<\n"
		   "  }\n);\n",
		   "unknown key 'email' in a unit", "emails");
	expect_bad("a yearly report due before the movement starts", "before-start-yearly.cfg",
		   "movement = { plan = \"1792/KH-UBND\"; starts = \"2024-03-06\"; };\n" MINIMAL
		   "report_types = (\n"
		   "  { code = \"KH-NAM\"; name = \"Kế hoạch năm\"; receiver = \"D1\"; #<\n"
		   "    submitters = { kinds = [ \"commune\" ]; };\n"
		   "    yearly = { due = \"03-01\"; first = 2024; last = 2030; }; }\n);\n",
		   "report KH-NAM: its first period 2024 is due 2024-03-01, before the movement starts"
		   " (movement.starts = 2024-03-06)", "set yearly.first = 2025");
	expect_bad("a one-off report due before the movement starts", "before-start-once.cfg",
		   "movement = { starts = \"2024-03-06\"; };\n" MINIMAL
		   "report_types = (\n"
		   "  { code = \"BCD\"; name = \"Ban Chỉ đạo\"; receiver = \"D1\"; #<\n"
		   "    submitters = { units = [ \"C1\" ]; };\n"
		   "    once = { period = \"2024-Q1\"; due = \"2024-02-29\"; }; }\n);\n",
		   "report BCD: its period 2024-Q1 is due 2024-02-29, before the movement starts", "on or after 2024-03-06");
	expect_bad("movement.starts not a date", "starts-not-a-date.cfg",
		   "movement = { starts = \"06/03/2024\"; }; #<\n" MINIMAL,
		   "movement: 'starts' = \"06/03/2024\" is not a date", NULL);
	expect_bad("unknown key in calendar", "unknown-cal-key.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  weekends = [ \"sun\" ]; #<\n};\n"
		   LEVELS "units = (\n" U_D1 "\n);\n",
		   "unknown key 'weekends' in calendar", NULL);
	expect_bad("unknown key in a holiday", "unknown-holiday-key.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  holidays = (\n"
		   "    { date = \"2025-09-02\"; kind = \"off\"; name = \"Quốc khánh\"; note = \"x\"; } #<\n"
		   "  );\n};\n" LEVELS "units = (\n" U_D1 "\n);\n",
		   "unknown key 'note' in a holiday", NULL);
	expect_bad("code of the wrong type", "code-int.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  {\n"
		   "    code = 5; #<\n"
		   "    name = \"Xã Tân Thông Hội\";\n"
		   "    level = \"commune\";\n"
		   "    parent = \"D1\";\n"
		   "    kind = \"commune\";\n"
		   "  }\n);\n",
		   "'code' must be a string", NULL);
	expect_bad("attached of the wrong type", "attached-string.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  {\n"
		   "    code = \"D1-GDDT\";\n"
		   "    name = \"Phòng Giáo dục\";\n"
		   "    level = \"district\";\n"
		   "    parent = \"D1\";\n"
		   "    attached = \"yes\"; #<\n"
		   "    kind = \"office\";\n"
		   "  }\n);\n",
		   "'attached' must be true or false", NULL);
	expect_bad("emails of the wrong type", "emails-string.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  {\n"
		   "    code = \"C1\"; name = \"Xã\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\";\n"
		   "    emails = \"a@b.vn\"; #<\n"
		   "  }\n);\n",
		   "'emails' must be an array of strings", NULL);
	expect_bad("bad email address", "email-bad.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"C1\"; name = \"Xã\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; emails = [ \"ubnd.cuchi.vn\" ]; } #<\n"
		   ");\n",
		   "'ubnd.cuchi.vn' is not an email address", NULL);
	expect_bad("levels not a list", "levels-group.cfg",
		   CAL "levels = { code = \"x\"; }; #<\nunits = (\n" U_D1 "\n);\n",
		   "'levels' must be a list", NULL);
	expect_bad("calendar not a group", "calendar-string.cfg",
		   "calendar = \"+07:00\"; #<\n" LEVELS "units = (\n" U_D1 "\n);\n",
		   "'calendar' must be a group", NULL);
	expect_bad("bad level code", "level-code.cfg",
		   CAL "levels = (\n  { code = \"District\"; name = \"Huyện\"; } #<\n);\n"
		   "units = (\n  { code = \"D1\"; name = \"Huyện\"; level = \"District\"; kind = \"government\"; }\n);\n",
		   "level code \"District\" must be lower case", NULL);
	expect_bad("level declared twice", "level-twice.cfg",
		   CAL "levels = (\n  { code = \"district\"; name = \"Huyện\"; },\n"
		   "  { code = \"district\"; name = \"Quận\"; } #<\n);\n"
		   "units = (\n" U_D1 "\n);\n",
		   "level 'district' is declared twice", NULL);
	expect_bad("max_request_bytes out of range", "max-request.cfg",
		   MINIMAL "daemon = {\n  max_request_bytes = 10; #<\n};\n",
		   "'max_request_bytes' = 10 is out of range", NULL);
	expect_bad("missing utc_offset", "no-offset.cfg",
		   "calendar = { timezone = \"Asia/Ho_Chi_Minh\"; }; #<\n" LEVELS "units = (\n" U_D1 "\n);\n",
		   "'utc_offset' is required", NULL);

	expect_bad("duplicate unit code", "dup-code.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n" U_C1 ",\n"
		   "  { code = \"C1\"; name = \"Xã Phú Hòa Đông\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; } #<\n"
		   ");\n",
		   "unit code 'C1' is used twice", "(first at ");
	{
		/* the message must point back at the first declaration, line 10 of this file */
		static const char text[] = CAL LEVELS "units = (\n" U_D1 ",\n" U_C1 ",\n"
			"  { code = \"C1\"; name = \"Xã Phú Hòa Đông\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; } #<\n"
			");\n";
		const char *path = write_cfg("dup-code2.cfg", text, sizeof(text) - 1);
		char **errs = NULL;
		struct config *cfg = cfg_load(path, &errs);
		char *want = xasprintf("first at %s:%d", path, marker_line(text) - 1);
		int n = 0;

		for (size_t i = 0; errs && errs[i]; i++)
			if (strstr(errs[i], "used twice"))
				n++;
		T_CHECK("duplicate unit code: first declaration's line", has_error(errs, path, marker_line(text), want));
		T_CHECK("duplicate unit code: reported once", n == 1);
		T_CHECK("duplicate unit code: not on the first", !has_error(errs, path, marker_line(text) - 1, "used twice"));
		free(want);
		cfg_destroy(&cfg);
		strv_free(&errs);
	}
	expect_bad("parent that does not exist", "no-parent.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"C1\"; name = \"Xã\"; level = \"commune\"; parent = \"D2\"; kind = \"commune\"; } #<\n"
		   ");\n",
		   "parent 'D2' does not exist", "did you mean D1?");
	expect_bad("parent that does not exist, nothing close", "no-parent-far.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"C1\"; name = \"Xã\"; level = \"commune\"; parent = \"QUAN-BINH-THANH\"; kind = \"commune\"; } #<\n"
		   ");\n",
		   "parent 'QUAN-BINH-THANH' does not exist", NULL);
	{
		/* strict levels make a cycle impossible unless the units are attached at one level */
		static const char text[] = CAL LEVELS "units = (\n" U_D1 ",\n"
			"  { code = \"A\"; name = \"Hội A\"; level = \"district\"; parent = \"B\"; attached = true; kind = \"organisation\"; }, #<\n"
			"  { code = \"B\"; name = \"Hội B\"; level = \"district\"; parent = \"A\"; attached = true; kind = \"organisation\"; }\n"
			");\n";
		const char *path = write_cfg("cycle.cfg", text, sizeof(text) - 1);
		char **errs = NULL;
		struct config *cfg = cfg_load(path, &errs);
		int line = marker_line(text);

		T_CHECK("cycle: refused", cfg == NULL);
		T_CHECK("cycle: A reported", has_error(errs, path, line, "unit A: the parent chain loops"));
		T_CHECK("cycle: says cycle", has_error(errs, path, line, "cycle"));
		if (!has_error(errs, path, line, "cycle"))
			dump(errs);
		cfg_destroy(&cfg);
		strv_free(&errs);
	}
	{
		/* a unit that merely hangs below a cycle, checked first: the walk up is bounded */
		static const char text[] = CAL LEVELS "units = (\n" U_D1 ",\n"
			"  { code = \"C\"; name = \"Chi hội C\"; level = \"commune\"; parent = \"A\"; kind = \"organisation\"; }, #<\n"
			"  { code = \"A\"; name = \"Hội A\"; level = \"district\"; parent = \"B\"; attached = true; kind = \"organisation\"; },\n"
			"  { code = \"B\"; name = \"Hội B\"; level = \"district\"; parent = \"A\"; attached = true; kind = \"organisation\"; }\n"
			");\n";
		const char *path = write_cfg("cycle-below.cfg", text, sizeof(text) - 1);
		char **errs = NULL;
		struct config *cfg = cfg_load(path, &errs);

		T_CHECK("below a cycle: refused", cfg == NULL);
		T_CHECK("below a cycle: C reported", has_error(errs, path, marker_line(text), "unit C: the parent chain loops"));
		if (!has_error(errs, path, marker_line(text), "unit C: the parent chain loops"))
			dump(errs);
		cfg_destroy(&cfg);
		strv_free(&errs);
	}
	expect_bad("unit at an undeclared level", "undeclared-level.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"W1\"; name = \"Phường 1\"; level = \"ward\"; parent = \"D1\"; kind = \"commune\"; } #<\n"
		   ");\n",
		   "level 'ward' is not declared", NULL);
	expect_bad("child at its parent's level", "same-level.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"D1-GDDT\"; name = \"Phòng GD&ĐT\"; level = \"district\"; parent = \"D1\"; kind = \"office\"; } #<\n"
		   ");\n",
		   "level 'district' is not below its parent D1's level 'district'", "attached = true");
	expect_bad("child above its parent", "above.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n" U_C1 ",\n"
		   "  { code = \"X\"; name = \"Huyện X\"; level = \"district\"; parent = \"C1\"; kind = \"government\"; } #<\n"
		   ");\n",
		   "is not below its parent C1's level 'commune'", NULL);
	expect_bad("attached at another level", "attached-level.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"D1-HKH\"; name = \"Hội Khuyến học\"; level = \"commune\"; parent = \"D1\"; attached = true; kind = \"organisation\"; } #<\n"
		   ");\n",
		   "attached to D1, so its level must be 'district'", NULL);
	expect_bad("attached without a parent", "attached-orphan.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"H\"; name = \"Hội\"; level = \"district\"; attached = true; kind = \"organisation\"; } #<\n"
		   ");\n",
		   "attached but has no parent", NULL);
	{
		static const char text[] = CAL LEVELS "units = (\n" U_D1 ",\n"
			"  {\n"
			"    code = \"C1\";\n"
			"    name = \"X\xC3\x28 Tân Thông Hội\"; #<\n"
			"    level = \"commune\"; parent = \"D1\"; kind = \"commune\";\n"
			"  }\n);\n";

		expect_bad_n("invalid UTF-8 in a name", "bad-utf8.cfg", text, sizeof(text) - 1,
			     "'name' is not valid UTF-8", NULL);
	}
	{
		static const char text[] = "movement = {\n  name = \"Thi \xED\xA0\x80 đua\"; #<\n};\n" MINIMAL;

		expect_bad_n("surrogate in the movement name", "bad-utf8-movement.cfg", text, sizeof(text) - 1,
			     "not valid UTF-8", NULL);
	}
	expect_bad("bad date 2025-02-30", "date-feb30.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  {\n    code = \"C1\"; name = \"Xã\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\";\n"
		   "    active_from = \"2025-02-30\"; #<\n  }\n);\n",
		   "'active_from' = \"2025-02-30\" is not a date", "YYYY-MM-DD");
	expect_bad("bad date 2025/01/01", "date-slash.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  {\n    code = \"C1\"; name = \"Xã\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\";\n"
		   "    active_to = \"2025/01/01\"; #<\n  }\n);\n",
		   "'active_to' = \"2025/01/01\" is not a date", NULL);
	expect_bad("bad holiday date", "holiday-date.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  holidays = (\n"
		   "    { date = \"2025-13-01\"; kind = \"off\"; name = \"?\"; } #<\n"
		   "  );\n};\n" LEVELS "units = (\n" U_D1 "\n);\n",
		   "'date' = \"2025-13-01\" is not a date", NULL);
	{
		static const char *const offsets[] = { "+07:10", "+15:00", "UTC+7", "-12:30", "+7:00", "", "+07:00 " };

		for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
			char *text = xasprintf("calendar = {\n  utc_offset = \"%s\"; #<\n};\n" LEVELS "units = (\n" U_D1 "\n);\n",
					       offsets[i]);
			char *name = xasprintf("utc_offset \"%s\"", offsets[i]);
			char *frag = xasprintf("utc_offset \"%s\" is not a time zone offset", offsets[i]);
			char *file = xasprintf("offset-%zu.cfg", i);

			expect_bad(name, file, text, frag, "-12:00 and +14:00");
			free(text);
			free(name);
			free(frag);
			free(file);
		}
	}
	expect_bad("active_to before active_from", "to-before-from.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"C1\"; name = \"Xã\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; active_from = \"2025-07-01\"; active_to = \"2025-06-30\"; } #<\n"
		   ");\n",
		   "active_to 2025-06-30 is before active_from 2025-07-01", NULL);
	expect_bad("successors without active_to", "succ-no-to.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n" U_C1 ",\n"
		   "  { code = \"C2\"; name = \"Xã\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; successors = [ \"C1\" ]; } #<\n"
		   ");\n",
		   "has successors but no active_to", NULL);
	expect_bad("successor that does not exist", "succ-missing.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n" U_C1 ",\n"
		   "  { code = \"C2\"; name = \"Xã\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; active_to = \"2025-06-30\"; successors = [ \"C9\" ]; } #<\n"
		   ");\n",
		   "successor 'C9' does not exist", NULL);
	expect_bad("own successor", "succ-self.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"C2\"; name = \"Xã\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; active_to = \"2025-06-30\"; successors = [ \"C2\" ]; } #<\n"
		   ");\n",
		   "cannot be its own successor", NULL);
	expect_bad("duplicate holiday date", "holiday-twice.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  holidays = (\n"
		   "    { date = \"2025-09-02\"; kind = \"off\"; name = \"Quốc khánh\"; },\n"
		   "    { date = \"2025-09-01\"; kind = \"off\"; name = \"Quốc khánh (liền kề)\"; },\n"
		   "    { date = \"2025-09-02\"; kind = \"off\"; name = \"Quốc khánh again\"; } #<\n"
		   "  );\n};\n" LEVELS "units = (\n" U_D1 "\n);\n",
		   "2025-09-02 is listed twice", "(also at line 4)");
	expect_bad("bad holiday kind", "holiday-kind.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  holidays = (\n"
		   "    {\n      date = \"2025-09-02\";\n      kind = \"holiday\"; #<\n      name = \"Quốc khánh\";\n    }\n"
		   "  );\n};\n" LEVELS "units = (\n" U_D1 "\n);\n",
		   "kind \"holiday\" is neither \"off\"", NULL);
	expect_bad("holiday without a date", "holiday-nodate.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  holidays = (\n"
		   "    { kind = \"off\"; name = \"Quốc khánh\"; } #<\n"
		   "  );\n};\n" LEVELS "units = (\n" U_D1 "\n);\n",
		   "'date' is required", NULL);
	expect_bad("bad weekend day", "weekend.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  weekend = [ \"sat\", \"sunday\" ]; #<\n};\n"
		   LEVELS "units = (\n" U_D1 "\n);\n",
		   "weekend day \"sunday\" is not one of mon", NULL);
	expect_bad("bad working hours start", "hours-start.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  working_hours = {\n    start = \"7h30\"; #<\n    end = \"17:00\";\n  };\n};\n"
		   LEVELS "units = (\n" U_D1 "\n);\n",
		   "start \"7h30\" is not a time", NULL);
	expect_bad("bad working hours end", "hours-end.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  working_hours = {\n    start = \"07:30\";\n    end = \"25:00\"; #<\n  };\n};\n"
		   LEVELS "units = (\n" U_D1 "\n);\n",
		   "end \"25:00\" is not a time", NULL);
	expect_bad("working hours end before start", "hours-order.cfg",
		   "calendar = {\n  utc_offset = \"+07:00\";\n  working_hours = { start = \"17:00\"; end = \"07:30\"; }; #<\n};\n"
		   LEVELS "units = (\n" U_D1 "\n);\n",
		   "end must be after start", NULL);
	expect_bad("libconfig syntax error", "syntax.cfg",
		   CAL LEVELS "units = (\n" U_D1 ",\n"
		   "  { code = \"C1\"; name = ; } #<\n"
		   ");\n",
		   "syntax error", NULL);
	expect_bad("unclosed group", "syntax-group.cfg",
		   CAL "levels = (\n  { code = \"district\"; name = \"x\";\n); #<\nunits = ();\n",
		   "syntax error", NULL);
	{
		char **errs = NULL;
		char *path = xasprintf("%s/does-not-exist.cfg", tmpdir);
		struct config *cfg = cfg_load(path, &errs);

		T_CHECK("missing file: refused", cfg == NULL);
		T_CHECK("missing file: cannot read", has_error(errs, path, 0, "cannot read"));
		T_CHECK("missing file: one error", strv_len(errs) == 1);
		if (!has_error(errs, path, 0, "cannot read"))
			dump(errs);
		cfg_destroy(&cfg);
		strv_free(&errs);
		free(path);
	}
	{
		char **errs = NULL;
		struct config *cfg = cfg_load(tmpdir, &errs);	/* a directory is no file */

		T_CHECK("directory: refused", cfg == NULL && strv_len(errs) >= 1);
		cfg_destroy(&cfg);
		strv_free(&errs);
	}
	{
		/* a missing section belongs to the whole file: line 0 */
		const char *path = write_cfg("no-units.cfg", CAL LEVELS, strlen(CAL LEVELS));
		char **errs = NULL;
		struct config *cfg = cfg_load(path, &errs);

		T_CHECK("missing units: refused", cfg == NULL);
		T_CHECK("missing units: reported", has_error(errs, path, 0, "the 'units' list is missing"));
		cfg_destroy(&cfg);
		strv_free(&errs);
	}
}

/* The district closes on 30 June 2025; a city above it and a commune under the city after. */
#define SPAN_LEVELS \
	"levels = (\n" \
	"  { code = \"city\"; name = \"Thành phố\"; },\n" \
	"  { code = \"district\"; name = \"Quận, huyện\"; },\n" \
	"  { code = \"commune\"; name = \"Xã, thị trấn\"; }\n" \
	");\n"
#define SPAN_UNITS \
	"units = (\n" \
	"  { code = \"HCM\"; name = \"UBND Thành phố\"; level = \"city\"; kind = \"government\"; },\n" \
	"  { code = \"D1\"; name = \"Huyện Củ Chi\"; level = \"district\"; parent = \"HCM\"; kind = \"government\"; active_to = \"2025-06-30\"; },\n" \
	"  { code = \"D1-GD\"; name = \"Phòng GD&ĐT\"; level = \"district\"; parent = \"D1\"; attached = true; kind = \"office\"; active_to = \"2025-06-30\"; },\n" \
	"  { code = \"C1\"; name = \"Xã An Phú\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; active_to = \"2025-06-30\"; successors = [ \"C9\" ]; },\n" \
	"  { code = \"C9\"; name = \"Xã An Nhơn Tây\"; level = \"commune\"; parent = \"HCM\"; kind = \"commune\"; active_from = \"2025-07-01\"; }\n" \
	");\n"
#define SPAN_HEAD CAL SPAN_LEVELS SPAN_UNITS

/* test_spans - effective dates: what names a unit or a level is refused outside its span */
static void test_spans(void)
{
	expect_bad("receiver closes before the last period", "span-receiver.cfg",
		   SPAN_HEAD "report_types = (\n"
		   "  { code = \"BC\"; name = \"Báo cáo năm\"; receiver = \"D1-GD\"; #<\n"
		   "    submitters = { kinds = [ \"commune\" ]; }; yearly = { due = \"11-15\"; first = 2024; last = 2030; }; }\n);\n",
		   "names D1-GD (Phòng GD&ĐT), which is in force from the start to 2025-06-30",
		   "from 2024-01-01 to 2030-11-15: give the report type until");
	expect_bad("escalation to a closed unit", "span-ladder.cfg",
		   SPAN_HEAD "report_types = (\n"
		   "  { code = \"BC\"; name = \"Báo cáo năm\"; receiver = \"HCM\"; #<\n"
		   "    submitters = { kinds = [ \"commune\" ]; }; yearly = { due = \"11-15\"; first = 2024; last = 2026; };\n"
		   "    escalation = ( { after = \"3wd\"; to = [ \"unit:D1\" ]; } ); }\n);\n",
		   "escalation step e3wd names D1", "to 2026-11-15");
	expect_bad("escalation to a level that ends", "span-ladder-level.cfg",
		   SPAN_HEAD "report_types = (\n"
		   "  { code = \"BC\"; name = \"Báo cáo năm\"; receiver = \"HCM\"; #<\n"
		   "    submitters = { kinds = [ \"commune\" ]; }; yearly = { due = \"11-15\"; first = 2024; last = 2026; };\n"
		   "    escalation = ( { after = \"3wd\"; to = [ \"level:district\" ]; } ); }\n);\n",
		   "names level:district, but no unit of level district is in force on 2025-07-01 (nor up to 2026-11-15)", NULL);
	expect_bad("stage decided by the district after it closed", "span-stage.cfg",
		   SPAN_HEAD "programmes = (\n"
		   "  { code = \"BK-TT\"; name = \"Bằng khen\"; nominee = \"collective\"; proposers = { kinds = [ \"commune\" ]; };\n"
		   "    stages = ( { decider = \"level:district\"; days = 10; }, #<\n"
		   "               { decider = \"level:city\"; } ); }\n);\n",
		   "stage 1 (decider \"level:district\") names level:district, but no unit of level district is in force on 2025-07-01",
		   "give the stage until");
	expect_bad("stage decided by a closed office", "span-stage-unit.cfg",
		   SPAN_HEAD "programmes = (\n"
		   "  { code = \"CDHT-XA\"; name = \"Cộng đồng học tập cấp xã\"; nominee = \"commune\"; proposers = { levels = [ \"commune\" ]; };\n"
		   "    stages = ( { decider = \"unit:D1-GD\"; until = \"2025-07-31\"; } ); } #<\n);\n",
		   "names D1-GD (Phòng GD&ĐT), which is in force from the start to 2025-06-30, but it is named from the start to 2025-07-31",
		   NULL);
	expect_bad("principal of a closed unit without until", "span-principal.cfg",
		   SPAN_HEAD "principals = (\n"
		   "  { name = \"tran.van.binh\"; unit = \"D1-GD\"; roles = [ \"approver\" ]; } #<\n);\n",
		   "principal tran.van.binh acts for D1-GD", "give the principal until = \"2025-06-30\"");
	expect_bad("principal before its unit exists", "span-principal-from.cfg",
		   SPAN_HEAD "principals = (\n"
		   "  { name = \"le.thi.hoa\"; unit = \"C9\"; roles = [ \"submitter\" ]; from = \"2025-06-01\"; } #<\n);\n",
		   "principal le.thi.hoa acts for C9", "from 2025-06-01 to no end");
	expect_bad("until before from", "span-order.cfg",
		   SPAN_HEAD "principals = (\n"
		   "  { name = \"le.thi.hoa\"; unit = \"C9\"; roles = [ \"submitter\" ];\n"
		   "    from = \"2026-01-01\"; until = \"2025-12-31\"; } #<\n);\n",
		   "principal: 'until' is before 'from'", NULL);
	expect_bad("a listed submitter that closes", "span-submitter.cfg",
		   SPAN_HEAD "report_types = (\n"
		   "  { code = \"BC\"; name = \"Báo cáo năm\"; receiver = \"HCM\"; #<\n"
		   "    submitters = { units = [ \"C1\" ]; }; yearly = { due = \"11-15\"; first = 2024; last = 2026; }; }\n);\n",
		   "report BC: submitters.units names C1 (Xã An Phú)", "to 2026-11-15");
	expect_bad("a listed proposer that closes", "span-proposer.cfg",
		   SPAN_HEAD "programmes = (\n"
		   "  { code = \"CDHT-HUYEN\"; name = \"Cộng đồng học tập cấp huyện\"; nominee = \"district\"; #<\n"
		   "    proposers = { units = [ \"D1\" ]; }; stages = ( { decider = \"unit:HCM\"; } ); }\n);\n",
		   "programme CDHT-HUYEN: proposers.units names D1 (Huyện Củ Chi)", "give the programme until");
	expect_bad("one person in two posts at once", "span-move-overlap.cfg",
		   SPAN_HEAD "principals = (\n"
		   "  { name = \"tran.van.binh\"; unit = \"D1-GD\"; roles = [ \"approver\" ]; until = \"2025-06-30\"; },\n"
		   "  { name = \"tran.van.binh\"; unit = \"C9\"; roles = [ \"approver\" ]; from = \"2025-06-30\"; } #<\n);\n",
		   "principal 'tran.van.binh' is declared twice with overlapping dates (first at line 15)", NULL);
	expect_bad("no period left", "span-empty.cfg",
		   SPAN_HEAD "report_types = (\n"
		   "  { code = \"BC\"; name = \"Báo cáo năm\"; receiver = \"HCM\"; from = \"2025-12-01\"; until = \"2026-06-30\"; #<\n"
		   "    submitters = { kinds = [ \"commune\" ]; }; yearly = { due = \"11-15\"; first = 2024; last = 2030; }; }\n);\n",
		   "no yearly period is due between 2025-12-01 and 2026-06-30", NULL);
	{
		static const char text[] = SPAN_HEAD
			"report_types = (\n"
			"  { code = \"BC\"; name = \"Báo cáo năm\"; receiver = \"D1-GD\"; until = \"2025-06-30\";\n"
			"    submitters = { kinds = [ \"commune\" ]; }; yearly = { due = \"11-15\"; first = 2024; last = 2030; }; },\n"
			"  { code = \"BC2\"; name = \"Báo cáo năm\"; receiver = \"HCM\"; from = \"2025-07-01\";\n"
			"    submitters = { kinds = [ \"commune\" ]; }; yearly = { due = \"11-15\"; first = 2024; last = 2030; }; }\n);\n"
			"programmes = (\n"
			"  { code = \"BK-TT\"; name = \"Bằng khen\"; nominee = \"collective\"; proposers = { kinds = [ \"commune\" ]; };\n"
			"    stages = ( { decider = \"level:district\"; until = \"2025-06-30\"; }, { decider = \"level:city\"; } ); }\n);\n"
			"principals = (\n"
			"  { name = \"tran.van.binh\"; unit = \"D1-GD\"; roles = [ \"approver\" ]; until = \"2025-06-30\"; },\n"
			"  { name = \"le.thi.hoa\"; unit = \"C9\"; roles = [ \"submitter\" ]; },\n"
			"  { name = \"tran.van.binh\"; unit = \"C9\"; roles = [ \"submitter\" ]; from = \"2025-07-01\"; }\n);\n";
		const char *path = write_cfg("span-ok.cfg", text, sizeof(text) - 1);
		char **errs = NULL;
		struct config *cfg = cfg_load(path, &errs);

		T_CHECK("spans: a dated file loads", cfg != NULL);
		if (!cfg) {
			dump(errs);
		} else {
			const struct report_type *bc = cfg_report(cfg, "BC"), *bc2 = cfg_report(cfg, "BC2");
			const struct programme *pg = cfg_programme(cfg, "BK-TT");

			T_CHECK("spans: BC keeps the periods due by 30 June 2025", bc->first_year == 2024 && bc->last_year == 2024);
			T_CHECK("spans: BC2 starts with 2025", bc2->first_year == 2025 && bc2->last_year == 2030);
			T_CHECK("spans: stage 1 in force on 2025-06-30", stage_in_force(pg, 1, day_of("2025-06-30")) == 1);
			T_CHECK("spans: stage 1 skipped on 2025-07-01", stage_in_force(pg, 1, day_of("2025-07-01")) == 2);
			T_CHECK("spans: no stage after the last", stage_in_force(pg, 3, day_of("2025-07-01")) == 0);
			T_CHECK("spans: principal holds its roles on 2025-06-30",
				principal_in_force(cfg, cfg_principal(cfg, "tran.van.binh"), day_of("2025-06-30")));
			T_CHECK("spans: and not on 2025-07-01",
				!principal_in_force(cfg, cfg_principal(cfg, "tran.van.binh"), day_of("2025-07-01")));
			T_CHECK("spans: a new commune's principal not before its unit",
				!principal_in_force(cfg, cfg_principal(cfg, "le.thi.hoa"), day_of("2025-06-30")));
			{
				const struct principal *a = cfg_principal_at(cfg, "tran.van.binh", day_of("2025-06-30"));
				const struct principal *b = cfg_principal_at(cfg, "tran.van.binh", day_of("2025-07-01"));

				T_CHECK("spans: moved: the old post until 30 June", a && !strcmp(a->unit, "D1-GD") && a->roles == ROLE_APPROVER);
				T_CHECK("spans: moved: the new post from 1 July", b && !strcmp(b->unit, "C9") && b->roles == ROLE_SUBMITTER
					&& principal_in_force(cfg, b, day_of("2025-07-01")));
				T_CHECK("spans: unknown name", cfg_principal_at(cfg, "nobody", day_of("2025-07-01")) == NULL);
			}
		}
		cfg_destroy(&cfg);
		strv_free(&errs);
	}
}

/* test_many - a file with several problems reports every one of them */
static void test_many(void)
{
	static const char text[] =
		"colour = \"red\";\n"								/* 1 */
		"calendar = {\n"								/* 2 */
		"  utc_offset = \"+07:10\";\n"							/* 3 */
		"  weekend = [ \"sat\", \"caturday\" ];\n"					/* 4 */
		"  holidays = (\n"								/* 5 */
		"    { date = \"2025-09-02\"; kind = \"off\"; name = \"A\"; },\n"		/* 6 */
		"    { date = \"2025-09-02\"; kind = \"party\"; name = \"B\"; }\n"		/* 7 */
		"  );\n"									/* 8 */
		"};\n"										/* 9 */
		LEVELS										/* 10-14 */
		"units = (\n"									/* 15 */
		U_D1 ",\n"									/* 16 */
		"  { code = \"C1\"; name = \"Xã\"; level = \"commune\"; parent = \"D9\"; kind = \"commune\"; },\n"	/* 17 */
		"  { code = \"C1\"; name = \"Xã\"; level = \"ward\"; parent = \"D1\"; kind = \"commune\"; },\n"	/* 18 */
		"  { code = \"C3\"; name = \"Xã\"; level = \"commune\"; parent = \"D1\"; kind = \"commune\"; active_from = \"2025-02-30\"; }\n" /* 19 */
		");\n";
	const char *path = write_cfg("many.cfg", text, sizeof(text) - 1);
	char **errs = NULL;
	struct config *cfg = cfg_load(path, &errs);
	size_t n = strv_len(errs);

	T_CHECK("many problems: refused", cfg == NULL);
	T_CHECK("many problems: at least 9 reported", n >= 9);
	T_CHECK("many: unknown key", has_error(errs, path, 1, "unknown key 'colour'"));
	T_CHECK("many: offset", has_error(errs, path, 3, "utc_offset \"+07:10\""));
	T_CHECK("many: weekend", has_error(errs, path, 4, "\"caturday\""));
	T_CHECK("many: holiday kind", has_error(errs, path, 7, "kind \"party\""));
	T_CHECK("many: holiday twice", has_error(errs, path, 7, "listed twice"));
	T_CHECK("many: parent", has_error(errs, path, 17, "parent 'D9' does not exist"));
	T_CHECK("many: duplicate", has_error(errs, path, 18, "used twice"));
	T_CHECK("many: level", has_error(errs, path, 18, "level 'ward' is not declared"));
	T_CHECK("many: date", has_error(errs, path, 19, "\"2025-02-30\" is not a date"));
	if (n < 9)
		dump(errs);
	for (size_t i = 0; i < n; i++)
		T_CHECK("many: every error starts with the path", strncmp(errs[i], path, strlen(path)) == 0);
	cfg_destroy(&cfg);
	strv_free(&errs);

	/* errors are appended: a caller's earlier list is kept */
	errs = strv_append(NULL, "earlier");
	cfg = cfg_load(path, &errs);
	T_CHECK("errors appended after existing ones", cfg == NULL && errs && strcmp(errs[0], "earlier") == 0
		&& strv_len(errs) == n + 1);
	cfg_destroy(&cfg);
	strv_free(&errs);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/thidua-test-config-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("FAIL mkdtemp %s\n", tmpdir);
		return 1;
	}
	test_shipped();
	test_minimal();
	test_bad();
	test_many();
	test_spans();

	for (size_t i = 0; tmpfiles && tmpfiles[i]; i++)
		unlink(tmpfiles[i]);
	strv_free(&tmpfiles);
	T_CHECK("temporary directory removed", rmdir(tmpdir) == 0);
	return t_failed ? 1 : 0;
}
