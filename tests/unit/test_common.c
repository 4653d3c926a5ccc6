/*
 * test_common.c - the shared helpers: CSV reading (common/csv.c), UTF-8 validation
 * (common/utf8.c), the calendar, time, offset and duration forms (common/timeutil.c), and
 * numbers and JSON strings written into a buffer (common/buf.c), and the log's count of
 * repeated lines (common/log.c).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "b64.h"
#include "bucket.h"
#include "buf.h"
#include "csv.h"
#include "log.h"
#include "timeutil.h"
#include "utf8.h"
#include "t.h"

static char name[256];

#define N(...) (snprintf(name, sizeof(name), __VA_ARGS__), name)

/* parse - csv_parse over a literal (sizeof - 1 keeps embedded NULs) */
#define PARSE(lit, err) csv_parse((lit), sizeof(lit) - 1, (err), sizeof(err))

/* field - row r, field f, or NULL when out of range */
static const char *field(const struct csv *c, size_t r, size_t f)
{
	if (!c || r >= c->nrows || f >= c->rows[r].nfields)
		return NULL;
	return c->rows[r].fields[f];
}

static void test_csv(void)
{
	char err[256];
	struct csv *c;

	c = PARSE("code,name,level\nC1,Xã 1,commune\n", err);
	T_CHECK("csv simple: parsed", c && c->nrows == 2);
	T_CHECK("csv simple: 3 fields", c && c->rows[0].nfields == 3 && c->rows[1].nfields == 3);
	T_CHECK("csv simple: lines", c && c->rows[0].line == 1 && c->rows[1].line == 2);
	T_STREQ("csv simple: field", field(c, 1, 2), "commune");
	T_CHECK("csv_field_index", c && csv_field_index(&c->rows[0], "level") == 2
		&& csv_field_index(&c->rows[0], "code") == 0 && csv_field_index(&c->rows[0], "kind") == -1
		&& csv_field_index(&c->rows[0], "cod") == -1 && csv_field_index(&c->rows[0], "") == -1);
	csv_destroy(&c);
	T_CHECK("csv_destroy clears the pointer", c == NULL);
	csv_destroy(&c);

	c = PARSE(" code , name\n", err);
	T_CHECK("csv_field_index trims spaces", c && csv_field_index(&c->rows[0], "code") == 0
		&& csv_field_index(&c->rows[0], "name") == 1);
	T_STREQ("csv keeps spaces in fields", field(c, 0, 0), " code ");
	csv_destroy(&c);

	c = PARSE("\"Huyện Củ Chi, TP.HCM\",x,\"a,b,c\"\n", err);
	T_CHECK("csv quoted commas: 3 fields", c && c->nrows == 1 && c->rows[0].nfields == 3);
	T_STREQ("csv quoted commas: first", field(c, 0, 0), "Huyện Củ Chi, TP.HCM");
	T_STREQ("csv quoted commas: last", field(c, 0, 2), "a,b,c");
	csv_destroy(&c);

	c = PARSE("\"say \"\"hi\"\"\",\"\"\"\",\"\"\n", err);
	T_STREQ("csv doubled quotes", field(c, 0, 0), "say \"hi\"");
	T_STREQ("csv only a quote", field(c, 0, 1), "\"");
	T_STREQ("csv quoted empty", field(c, 0, 2), "");
	csv_destroy(&c);

	c = PARSE("a,b\r\nc,\"d\"\r\ne,f", err);
	T_CHECK("csv CRLF: 3 rows", c && c->nrows == 3);
	T_STREQ("csv CRLF: no CR in field", field(c, 0, 1), "b");
	T_STREQ("csv CRLF: quoted then CRLF", field(c, 1, 1), "d");
	T_STREQ("csv CRLF: last row without newline", field(c, 2, 1), "f");
	T_CHECK("csv CRLF: lines", c && c->rows[1].line == 2 && c->rows[2].line == 3);
	csv_destroy(&c);

	c = PARSE("code,note\nC1,\"dòng một\ndòng hai\ndòng ba\"\nC2,x\n", err);
	T_CHECK("csv embedded newline: 3 rows", c && c->nrows == 3);
	T_STREQ("csv embedded newline: kept", field(c, 1, 1), "dòng một\ndòng hai\ndòng ba");
	T_CHECK("csv embedded newline: row keeps its start line", c && c->rows[1].line == 2);
	T_CHECK("csv embedded newline: next row's line counts it", c && c->rows[2].line == 5);
	csv_destroy(&c);

	c = PARSE("\"a\r\nb\",c\r\nd,e\r\n", err);
	T_STREQ("csv CRLF inside quotes kept", field(c, 0, 0), "a\r\nb");
	T_CHECK("csv CRLF inside quotes: next line", c && c->nrows == 2 && c->rows[1].line == 3);
	csv_destroy(&c);

	c = PARSE("\xEF\xBB\xBF" "code,name\nC1,x\n", err);
	T_STREQ("csv BOM skipped", field(c, 0, 0), "code");
	T_CHECK("csv BOM: header found", c && csv_field_index(&c->rows[0], "code") == 0);
	T_CHECK("csv BOM: line 1", c && c->rows[0].line == 1);
	csv_destroy(&c);

	c = PARSE("\xEF\xBB\xBF", err);
	T_CHECK("csv only a BOM: no rows", c && c->nrows == 0);
	csv_destroy(&c);
	c = csv_parse("", 0, err, sizeof(err));
	T_CHECK("csv empty: no rows", c && c->nrows == 0);
	csv_destroy(&c);

	c = PARSE("\na,b\n\n\nc,d\n\n", err);
	T_CHECK("csv blank lines skipped", c && c->nrows == 2);
	T_CHECK("csv blank lines: lines", c && c->rows[0].line == 2 && c->rows[1].line == 5);
	T_STREQ("csv blank lines: field", field(c, 1, 0), "c");
	csv_destroy(&c);

	c = PARSE("a\r\n\r\nb\r\n", err);
	T_CHECK("csv blank CRLF lines skipped", c && c->nrows == 2 && c->rows[1].line == 3);
	csv_destroy(&c);

	c = PARSE("a,,c\n,\n", err);
	T_CHECK("csv empty fields", c && c->nrows == 2 && c->rows[0].nfields == 3 && c->rows[1].nfields == 2);
	T_STREQ("csv empty middle field", field(c, 0, 1), "");
	T_STREQ("csv trailing empty field", field(c, 1, 1), "");
	csv_destroy(&c);

	c = PARSE("a,b\nc\n", err);
	T_CHECK("csv ragged rows kept as they are", c && c->rows[0].nfields == 2 && c->rows[1].nfields == 1);
	csv_destroy(&c);

	/* Vietnamese text, precomposed (NFC) and decomposed (NFD), comes back byte for byte */
	{
		static const char nfc[] = "\xe1\xbb\xa6y ban nh\xc3\xa2n d\xc3\xa2n x\xc3\xa3 T\xc3\xa2n Th\xc3\xb4ng H\xe1\xbb\x99i";
		static const char nfd[] = "U\xcc\x89\xcc\x9by ban nha\xcc\x82n da\xcc\x82n xa\xcc\x83";
		static const char buf[] = "\"\xe1\xbb\xa6y ban nh\xc3\xa2n d\xc3\xa2n x\xc3\xa3 T\xc3\xa2n Th\xc3\xb4ng H\xe1\xbb\x99i\","
			"U\xcc\x89\xcc\x9by ban nha\xcc\x82n da\xcc\x82n xa\xcc\x83,\xc4\x90\xe1\xbb\x93ng Nai\n";

		c = PARSE(buf, err);
		T_CHECK("csv Vietnamese: parsed", c && c->nrows == 1 && c->rows[0].nfields == 3);
		T_CHECK("csv Vietnamese NFC byte-exact", field(c, 0, 0) && strlen(field(c, 0, 0)) == sizeof(nfc) - 1
			&& memcmp(field(c, 0, 0), nfc, sizeof(nfc)) == 0);
		T_CHECK("csv Vietnamese NFD byte-exact", field(c, 0, 1) && strlen(field(c, 0, 1)) == sizeof(nfd) - 1
			&& memcmp(field(c, 0, 1), nfd, sizeof(nfd)) == 0);
		T_STREQ("csv Vietnamese Đ", field(c, 0, 2), "Đồng Nai");
		csv_destroy(&c);
	}

	/* malformed input: NULL and a message naming the line */
	err[0] = 0;
	c = PARSE("code,name\nC1,\"Xã 1\nC2,x\n", err);
	T_CHECK("csv unclosed quote: refused", c == NULL);
	T_CHECK("csv unclosed quote: message", strstr(err, "line 2") && strstr(err, "not closed"));
	err[0] = 0;
	c = PARSE("code,name\nC1,x\nC2,Xã \"Một\"\n", err);
	T_CHECK("csv quote in unquoted field: refused", c == NULL);
	T_CHECK("csv quote in unquoted field: message", strstr(err, "line 3") && strstr(err, "quote inside an unquoted field"));
	err[0] = 0;
	c = PARSE("a,\"b\"c\n", err);
	T_CHECK("csv text after closing quote: refused", c == NULL);
	T_CHECK("csv text after closing quote: message", strstr(err, "line 1") && strstr(err, "after a closing quote"));
	err[0] = 0;
	c = PARSE("a,\"b\" \n", err);
	T_CHECK("csv space after closing quote: refused", c == NULL);
	err[0] = 0;
	c = PARSE("a,\"b\"\"\n", err);
	T_CHECK("csv quote pair then end: refused", c == NULL && strstr(err, "not closed"));
	err[0] = 0;
	c = PARSE("code,name\nC1,X\xC3\x28\n", err);
	T_CHECK("csv invalid UTF-8: refused", c == NULL);
	T_CHECK("csv invalid UTF-8: message", strstr(err, "UTF-8") != NULL);
	err[0] = 0;
	c = PARSE("a,b\nc,\0d\n", err);
	T_CHECK("csv NUL byte: refused", c == NULL && err[0]);
	err[0] = 0;
	c = PARSE("\xEF\xBB" "a,b\n", err);
	T_CHECK("csv half a BOM: refused", c == NULL && strstr(err, "UTF-8"));
	{
		char tiny[8];

		c = PARSE("\"abc\n", tiny);
		T_CHECK("csv short error buffer: terminated", c == NULL && strlen(tiny) < sizeof(tiny));
	}
}

static void test_utf8(void)
{
	static const struct { const char *s; size_t len; const char *what; } good[] = {
#define G(lit, what) { lit, sizeof(lit) - 1, what }
		G("", "empty"),
		G("abc 123 ~", "ASCII"),
		G("\xe1\xbb\xa6y ban nh\xc3\xa2n d\xc3\xa2n huy\xe1\xbb\x87n C\xe1\xbb\xa7 Chi", "Vietnamese precomposed"),
		G("Vie\xcc\xa3\xcc\x82t Nam", "Vietnamese combining marks"),
		G("\xc4\x90\xc4\x91\xc6\xaf\xc6\xb0\xc6\xa0\xc6\xa1", "Đđ Ưư Ơơ"),
		G("\xc2\x80", "U+0080"),
		G("\xdf\xbf", "U+07FF"),
		G("\xe0\xa0\x80", "U+0800"),
		G("\xed\x9f\xbf", "U+D7FF"),
		G("\xee\x80\x80", "U+E000"),
		G("\xef\xbb\xbf", "U+FEFF"),
		G("\xef\xbf\xbf", "U+FFFF"),
		G("\xf0\x90\x80\x80", "U+10000"),
		G("\xf0\x9f\x98\x80", "U+1F600"),
		G("\xf4\x8f\xbf\xbf", "U+10FFFF"),
		G("\x7f", "DEL"),
	};
	static const struct { const char *s; size_t len; const char *what; } bad[] = {
		G("\xc0\x80", "overlong NUL"),
		G("\xc0\xaf", "overlong /"),
		G("\xc1\xbf", "overlong U+7F"),
		G("\xe0\x80\xaf", "overlong 3-byte /"),
		G("\xe0\x9f\xbf", "overlong U+07FF"),
		G("\xf0\x80\x80\xaf", "overlong 4-byte /"),
		G("\xf0\x8f\xbf\xbf", "overlong U+FFFF"),
		G("\xed\xa0\x80", "surrogate U+D800"),
		G("\xed\xbf\xbf", "surrogate U+DFFF"),
		G("\xed\xa0\xbd\xed\xb8\x80", "surrogate pair (CESU-8)"),
		G("\xf4\x90\x80\x80", "U+110000"),
		G("\xf5\x80\x80\x80", "lead F5"),
		G("\xf7\xbf\xbf\xbf", "lead F7"),
		G("\xf8\x88\x80\x80\x80", "5-byte form"),
		G("\xfc\x84\x80\x80\x80\x80", "6-byte form"),
		G("\xfe", "FE"),
		G("\xff", "FF"),
		G("\x80", "lone continuation"),
		G("a\xbf" "b", "continuation inside ASCII"),
		G("\xc3", "truncated 2-byte"),
		G("\xe1\xba", "truncated 3-byte"),
		G("\xf0\x9f\x98", "truncated 4-byte"),
		G("abc\xe1", "truncated at the end"),
		G("\xe1\xba" "x", "truncated before ASCII"),
		G("\xc3\x28", "bad continuation"),
		G("\xe1\x28\xa1", "bad second byte"),
		G("\xe1\xbb\x28", "bad third byte"),
		G("a\0b", "NUL inside"),
		G("\0", "NUL alone"),
		G("Xa\xcc", "combining mark cut short"),
#undef G
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_CHECK(N("utf8 valid: %s", good[i].what), utf8_valid(good[i].s, good[i].len) == 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_CHECK(N("utf8 invalid: %s", bad[i].what), utf8_valid(bad[i].s, bad[i].len) == 0);
	T_CHECK("utf8 length bounds a sequence", utf8_valid("\xc3\xa1", 1) == 0);
	T_CHECK("utf8 length stops before a bad byte", utf8_valid("abc\xff", 3) == 1);
	T_CHECK("utf8_valid_str Vietnamese", utf8_valid_str("Ấp Tân Định") == 1);
	T_CHECK("utf8_valid_str empty", utf8_valid_str("") == 1);
	T_CHECK("utf8_valid_str bad", utf8_valid_str("X\xc3\x28") == 0);
	T_CHECK("utf8_valid_str truncated at the end", utf8_valid_str("Xa\xe1\xbb") == 0);
}

/* test_utf8_names - the characters a file name may not hold, and how a refused one is shown */
static void test_utf8_names(void)
{
	static const struct { const char *s; unsigned cp; const char *what; } bad[] = {
		{ "a\x01.pdf", 0x01, "C0 control" }, { "a\x7f.pdf", 0x7F, "DEL" },
		{ "a\xc2\x85.pdf", 0x85, "U+0085 next line" }, { "a\xc2\x9b.pdf", 0x9B, "C1 CSI" },
		{ "a\xe2\x80\xa8.pdf", 0x2028, "line separator" }, { "a\xe2\x80\xa9.pdf", 0x2029, "paragraph separator" },
		{ "\xe2\x80\xaegpj.exe", 0x202E, "right-to-left override" }, { "\xe2\x80\xaa.pdf", 0x202A, "LRE" },
		{ "\xe2\x81\xa6x.pdf", 0x2066, "LRI" }, { "\xe2\x81\xa9x.pdf", 0x2069, "PDI" },
		{ "\xe2\x80\x8ex.pdf", 0x200E, "LRM" }, { "\xe2\x80\x8fx.pdf", 0x200F, "RLM" },
		{ "\xd8\x9cx.pdf", 0x061C, "Arabic letter mark" }, { "x\xe2\x80\x8b.pdf", 0x200B, "zero width space" },
		{ "x\xe2\x80\x8d.pdf", 0x200D, "zero width joiner" }, { "x\xe2\x81\xa0.pdf", 0x2060, "word joiner" },
		{ "\xef\xbb\xbfx.pdf", 0xFEFF, "byte order mark" },
	};
	unsigned cp = 1;
	char shown[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = utf8_name_problem(bad[i].s, &cp);

		T_CHECK(N("file name refused: %s", bad[i].what), why != NULL && cp == bad[i].cp);
	}
	T_CHECK("file name: Vietnamese accepted", utf8_name_problem("Báo cáo năm 2024 – Ấp Tân Định.pdf", &cp) == NULL);
	T_CHECK("file name: inner spaces accepted", utf8_name_problem("a b\xc2\xa0" "c.pdf", &cp) == NULL);
	T_CHECK("file name: spaces only refused", utf8_name_problem("  \xc2\xa0\xe3\x80\x80", &cp) != NULL && cp == 0);
	utf8_name_shown("\xe2\x80\xaegpj.exe", shown, sizeof(shown));
	T_STREQ("file name shown: an override written out", shown, "<U+202E>gpj.exe");
	utf8_name_shown("B\xc3\xa1o\x0a\xff", shown, sizeof(shown));
	T_STREQ("file name shown: controls and stray bytes", shown, "B\xc3\xa1o<U+000A>?");
	utf8_name_shown("\xe2\x80\xae\xe2\x80\xae", shown, 10);
	T_STREQ("file name shown: bounded, never a part", shown, "<U+202E>");
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void test_days(void)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int32_t expect = days_from_civil(1900, 1, 1), z, prev = 0;
	int ok_fwd = 1, ok_back = 1, ok_week = 1, ok_text = 1, ok_parse = 1;
	int32_t first = expect;
	char buf[32], want[32];

	T_CHECK("days 1970-01-01 is 0", days_from_civil(1970, 1, 1) == 0);
	T_CHECK("days 1900-01-01", days_from_civil(1900, 1, 1) == -25567);
	T_CHECK("days 2000-03-01", days_from_civil(2000, 3, 1) == 11017);
	T_CHECK("days 2024-02-29", days_from_civil(2024, 2, 29) == 19782);
	T_CHECK("days 2024-11-10", days_from_civil(2024, 11, 10) == 20037);
	T_CHECK("days 2100-12-31", days_from_civil(2100, 12, 31) == 47846);
	T_CHECK("days 1969-12-31 is -1", days_from_civil(1969, 12, 31) == -1);

	/* every day of 1900..2100: a counter walked with our own month lengths */
	for (int y = 1900; y <= 2100; y++) {
		for (unsigned m = 1; m <= 12; m++) {
			unsigned dim = (unsigned)mdays[m - 1] + (m == 2 && is_leap(y));

			for (unsigned d = 1; d <= dim; d++, expect++) {
				int yy;
				unsigned mm, dd;
				int32_t parsed = 0;

				z = days_from_civil(y, m, d);
				if (z != expect)
					ok_fwd = 0;
				civil_from_days(expect, &yy, &mm, &dd);
				if (yy != y || mm != m || dd != d)
					ok_back = 0;
				if (expect != first && weekday_of_day(expect) != (weekday_of_day(prev) + 1) % 7)
					ok_week = 0;
				prev = expect;
				date_format(expect, buf, sizeof(buf));
				snprintf(want, sizeof(want), "%04d-%02u-%02u", y, m, d);
				if (strcmp(buf, want))
					ok_text = 0;
				if (date_parse(want, &parsed) || parsed != expect)
					ok_parse = 0;
			}
		}
	}
	T_CHECK("days_from_civil every day 1900..2100", ok_fwd);
	T_CHECK("civil_from_days every day 1900..2100", ok_back);
	T_CHECK("weekday advances by one every day", ok_week);
	T_CHECK("date_format every day 1900..2100", ok_text);
	T_CHECK("date_parse every day 1900..2100", ok_parse);
	T_CHECK("73414 days in 1900..2100", expect - first == 73414);

	T_CHECK("weekday 1970-01-01 Thursday", weekday_of_day(0) == 3);
	T_CHECK("weekday 1900-01-01 Monday", weekday_of_day(days_from_civil(1900, 1, 1)) == 0);
	T_CHECK("weekday 2024-11-30 Saturday", weekday_of_day(days_from_civil(2024, 11, 30)) == 5);
	T_CHECK("weekday 2024-12-01 Sunday", weekday_of_day(days_from_civil(2024, 12, 1)) == 6);
	T_CHECK("weekday 2024-09-02 Monday", weekday_of_day(days_from_civil(2024, 9, 2)) == 0);
	T_CHECK("weekday 1969-12-31 Wednesday", weekday_of_day(-1) == 2);
	T_CHECK("weekday 1969-12-25 Thursday", weekday_of_day(-7) == 3);
}

static void test_dates(void)
{
	static const char *const good[] = { "2024-02-29", "2000-02-29", "1900-01-01", "9999-12-31", "2025-12-31", NULL };
	static const char *const bad[] = {
		"2023-02-29", "1900-02-29", "2100-02-29", "2025-02-30", "2025-04-31", "2025/01/01",
		"2025-1-01", "2025-01-1", "25-01-01", "2025-00-10", "2025-13-01", "2025-01-00", "2025-01-32",
		"", "2025-01-01 ", " 2025-01-01", "2025-01-01T00:00", "1899-12-31", "2025-O1-01",
		"-025-01-01", "+025-01-01", "2025-01-0x", "20250101", "2025-01", NULL
	};
	int32_t day = 12345;

	for (size_t i = 0; good[i]; i++) {
		char back[16];

		T_CHECK(N("date_parse accepts %s", good[i]), date_parse(good[i], &day) == 0);
		date_format(day, back, sizeof(back));
		T_STREQ(N("date_format %s", good[i]), back, good[i]);
	}
	T_CHECK("date_parse 2024-02-29 value", date_parse("2024-02-29", &day) == 0 && day == 19782);
	for (size_t i = 0; bad[i]; i++) {
		day = 12345;
		T_CHECK(N("date_parse rejects \"%s\"", bad[i]), date_parse(bad[i], &day) == -1 && day == 12345);
	}
}

static void test_offsets(void)
{
	static const struct { const char *s; int sec; } good[] = {
		{ "+07:00", 25200 }, { "+14:00", 50400 }, { "-12:00", -43200 }, { "+05:45", 20700 },
		{ "+05:30", 19800 }, { "-09:30", -34200 }, { "+00:00", 0 }, { "-00:00", 0 }, { "+13:45", 49500 },
	};
	static const char *const bad[] = {
		"+14:15", "+15:00", "-12:15", "-13:00", "+07:10", "+07:60", "+07:59", "+7:00", "07:00",
		"+07:00:00", "+0700", "UTC+7", "Z", "", "+07", "+07:0", "+07:00 ", "+ab:cd", "\xc2\xb1" "07:00", NULL
	};
	static const struct { int sec; const char *s; } fmt[] = {
		{ 25200, "+07:00" }, { -12600, "-03:30" }, { 20700, "+05:45" }, { 0, "+00:00" }, { -43200, "-12:00" },
		{ 50400, "+14:00" },
	};
	char buf[16];
	int off;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		off = 99;
		T_CHECK(N("tz_offset_parse %s", good[i].s), tz_offset_parse(good[i].s, &off) == 0 && off == good[i].sec);
	}
	for (size_t i = 0; bad[i]; i++) {
		off = 99;
		T_CHECK(N("tz_offset_parse rejects \"%s\"", bad[i]), tz_offset_parse(bad[i], &off) == -1 && off == 99);
	}
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		tz_offset_format(fmt[i].sec, buf, sizeof(buf));
		T_STREQ(N("tz_offset_format %d", fmt[i].sec), buf, fmt[i].s);
		T_CHECK(N("tz_offset round trip %s", fmt[i].s), tz_offset_parse(buf, &off) == 0 && off == fmt[i].sec);
	}
}

static void test_times(void)
{
	static const char *const same[] = {
		"2024-11-10T09:00:00+07:00", "2024-11-10T02:00:00Z", "2024-11-10T09:00+07:00",
		"2024-11-10 09:00:00+07:00", "2024-11-09T21:00:00-05:00", "2024-11-10T07:15:00+05:15", NULL
	};
	static const char *const bad[] = {
		"2024-11-10T09:00:00", "2024-11-10T09:00", "2024-11-10T24:00:00Z", "2024-11-10T09:60:00Z",
		"2024-11-10T09:00:60Z", "2024-11-10T9:00:00Z", "2024-11-10T09:00:00+07:10", "2024-11-10T09:00:00+0700",
		"2024-11-10T09:00:00ZZ", "2024-11-10T09:00:00Z ", "2024-11-10T09:00:00+07:00x", "2024-11-10x",
		"2024-11-10T", "", "2024-02-30T00:00:00Z", "2024-11-10T09:00:0Z",
		"11/10/2024", "2024-11-10 ", "2024-11-10T09:00:00+15:00", NULL
	};
	static const struct { int64_t t; int off; const char *s; } fmt[] = {
		{ 1731204000, 25200, "2024-11-10T09:00:00+07:00" },
		{ 1731204000, 0, "2024-11-10T02:00:00+00:00" },
		{ 1731204000, -18000, "2024-11-09T21:00:00-05:00" },
		{ 0, 0, "1970-01-01T00:00:00+00:00" },
		{ -1, 0, "1969-12-31T23:59:59+00:00" },
		{ -1, 25200, "1970-01-01T06:59:59+07:00" },
		{ 1735664399, 25200, "2024-12-31T23:59:59+07:00" },
		{ 1735664400, 25200, "2025-01-01T00:00:00+07:00" },
	};
	int64_t t = 42;
	char buf[64];
	int ok = 1;

	for (size_t i = 0; same[i]; i++) {
		t = 42;
		T_CHECK(N("time_parse %s", same[i]), time_parse(same[i], 25200, &t) == 0 && t == 1731204000);
	}
	T_CHECK("time_parse bare date is local midnight", time_parse("2024-11-10", 25200, &t) == 0 && t == 1731171600);
	T_CHECK("time_parse bare date UTC", time_parse("2024-11-10", 0, &t) == 0 && t == 20037LL * 86400);
	T_CHECK("time_parse bare date west", time_parse("2024-11-10", -18000, &t) == 0 && t == 20037LL * 86400 + 18000);
	T_CHECK("time_parse offset in text wins over local", time_parse("2024-11-10T00:00:00Z", 25200, &t) == 0
		&& t == 20037LL * 86400);
	T_CHECK("time_parse before 1970", time_parse("1969-12-31T23:59:59Z", 0, &t) == 0 && t == -1);
	T_CHECK("time_parse end of a day", time_parse("2024-12-31T23:59:59+07:00", 0, &t) == 0 && t == 1735664399);
	for (size_t i = 0; bad[i]; i++) {
		t = 42;
		T_CHECK(N("time_parse rejects \"%s\"", bad[i]), time_parse(bad[i], 25200, &t) == -1 && t == 42);
	}
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		time_format(fmt[i].t, fmt[i].off, buf, sizeof(buf));
		T_STREQ(N("time_format %lld %d", (long long)fmt[i].t, fmt[i].off), buf, fmt[i].s);
		T_CHECK(N("time round trip %s", fmt[i].s), time_parse(buf, 0, &t) == 0 && t == fmt[i].t);
	}
	time_format(1731204000, 25200, buf, sizeof(buf));
	T_STREQ("time_format back to the same text", buf, same[0]);
	{
		char small[11];

		time_format(1731204000, 25200, small, sizeof(small));
		T_STREQ("time_format cuts to the buffer as snprintf does", small, "2024-11-10");
		date_format(-719162 + 365, small, sizeof(small));	/* 0001-01-01 + 365 days */
		T_STREQ("date_format of year 2 keeps four digits", small, "0002-01-01");
		date_format(2932897, small, sizeof(small));		/* the day after 9999-12-31 */
		T_STREQ("date_format of year 10000, cut to the buffer", small, "10000-01-0");
		date_format(-719529, small, sizeof(small));		/* the last day of year -1 */
		T_STREQ("date_format before year 0", small, "-001-12-31");
	}

	/* round trips every 7919 s over 1960..2040 in several zones */
	for (int64_t x = -315619200; x < 2208988800LL && ok; x += 7919 * 97) {
		static const int offs[] = { 25200, 0, -43200, 50400, 20700, -12600 };

		for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
			time_format(x, offs[k], buf, sizeof(buf));
			if (time_parse(buf, 0, &t) || t != x)
				ok = 0;
		}
	}
	T_CHECK("time_format/time_parse round trip 1960..2040", ok);

	/* local days */
	ok = 1;
	for (int32_t d = -800; d < 800; d++) {
		static const int offs[] = { 25200, 0, -43200, 50400 };

		for (size_t k = 0; k < 4; k++) {
			int64_t s = day_start(d, offs[k]);

			if (day_of_time(s, offs[k]) != d || day_of_time(s - 1, offs[k]) != d - 1
			    || day_of_time(s + DAY_SECONDS - 1, offs[k]) != d)
				ok = 0;
		}
	}
	T_CHECK("day_start/day_of_time agree around 1970", ok);
	T_CHECK("day_start 2024-11-10 +07:00", day_start(20037, 25200) == 1731171600);
	T_CHECK("day_of_time 2024-11-09T17:00Z is the 10th in Hanoi", day_of_time(1731171600, 25200) == 20037);
	T_CHECK("day_of_time 2024-11-09T16:59:59Z is the 9th in Hanoi", day_of_time(1731171599, 25200) == 20036);
}

static void test_durations(void)
{
	static const struct { const char *s; int64_t sec; } good[] = {
		{ "90m", 5400 }, { "36h", 129600 }, { "3d", 259200 }, { "1w", 604800 }, { "1d12h", 129600 },
		{ "45s", 45 }, { "0s", 0 }, { "2w3d", 1468800 }, { "1h30m15s", 5415 }, { "007m", 420 },
	};
	static const char *const bad[] = {
		"", "3", "3x", "d", "1d12", "-1h", "1.5h", " 1h", "1h ", "1H", "h1", "1 h", "1d-2h", "+1h",
		"99999999999h", NULL
	};
	static const struct { int64_t sec; const char *s; } fmt[] = {
		{ 0, "0s" }, { 45, "45s" }, { 60, "1m" }, { 5400, "1h30m" }, { 129600, "1d12h" }, { 604800, "7d" },
		{ 90061, "1d1h1m1s" }, { -3600, "-1h" }, { 86400, "1d" }, { 3601, "1h1s" },
	};
	int64_t sec;
	char buf[64];
	int ok = 1;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		sec = -7;
		T_CHECK(N("duration_parse %s", good[i].s), duration_parse(good[i].s, &sec) == 0 && sec == good[i].sec);
	}
	for (size_t i = 0; bad[i]; i++) {
		sec = -7;
		T_CHECK(N("duration_parse rejects \"%s\"", bad[i]), duration_parse(bad[i], &sec) == -1 && sec == -7);
	}
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		duration_format(fmt[i].sec, buf, sizeof(buf));
		T_STREQ(N("duration_format %lld", (long long)fmt[i].sec), buf, fmt[i].s);
	}
	for (int64_t x = 0; x < 40 * 86400; x += 997) {
		duration_format(x, buf, sizeof(buf));
		if (duration_parse(buf, &sec) || sec != x)
			ok = 0;
	}
	T_CHECK("duration_format/duration_parse round trip", ok);
}

static void test_hhmm(void)
{
	static const struct { const char *s; int min; } good[] = {
		{ "07:30", 450 }, { "00:00", 0 }, { "23:59", 1439 }, { "24:00", 1440 }, { "17:00", 1020 },
	};
	static const char *const bad[] = {
		"24:01", "25:00", "7:30", "07:60", "0730", "07:30:00", "", "ab:cd", "07-30", " 7:30", "07:3", "-1:00", NULL
	};
	int m;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		m = -1;
		T_CHECK(N("hhmm_parse %s", good[i].s), hhmm_parse(good[i].s, &m) == 0 && m == good[i].min);
	}
	for (size_t i = 0; bad[i]; i++) {
		m = -1;
		T_CHECK(N("hhmm_parse rejects \"%s\"", bad[i]), hhmm_parse(bad[i], &m) == -1 && m == -1);
	}
}

/* json_str_ref - the JSON string of s[0..n) a byte at a time, as jansson writes it */
static void json_str_ref(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
			      : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;

		if (e)
			buf_put(b, e, 2);
		else if (c < 0x20)
			buf_printf(b, "\\u%04X", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

static void test_buf(void)
{
	const long long nums[] = { 0, 7, -1, 10, -10, 1234567890123LL, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1 };
	const char *texts[] = { "", "Phòng GD&ĐT Củ Chi", "a\"b\\c", "tab\there, line\nnext", "\x01\x1f\x7f",
				"Báo cáo \"năm 2024\" — xã Phú Hòa Đông\\", NULL };
	char text[24], want[32], long_text[64];
	int bad = 0;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(want, sizeof(want), "%lld", nums[i]);
		T_CHECK(N("int_text %s", want), int_text(text, nums[i]) == strlen(want) && !strcmp(text, want));
	}
	for (size_t i = 0; texts[i]; i++) {
		struct buf got = { 0 }, ref = { 0 };

		buf_json_str(&got, texts[i], strlen(texts[i]));
		json_str_ref(&ref, texts[i], strlen(texts[i]));
		T_STREQ(N("buf_json_str %zu", i), got.p, ref.p);
		free(got.p);
		free(ref.p);
	}
	/* every byte at every place of a word, among plain ones and other escapes */
	for (int c = 1; c < 256; c++)
		for (size_t at = 0; at < 40; at++) {
			struct buf got = { 0 }, ref = { 0 };
			size_t n = 17 + at % 23;

			memset(long_text, 'x', sizeof(long_text));
			long_text[at] = (char)c;
			if (at % 3 == 0)
				long_text[(at * 7) % 40] = '"';
			buf_json_str(&got, long_text, n > at ? n : at + 1);
			json_str_ref(&ref, long_text, n > at ? n : at + 1);
			bad += got.len != ref.len || memcmp(got.p, ref.p, got.len);
			free(got.p);
			free(ref.p);
		}
	T_CHECK("buf_json_str escapes each byte as jansson does, at every offset of a word", bad == 0);
}

/* count - lines of text that contain needle */
static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* test_log_repeats - an error repeated a hundred times is written three times, then
 * counted; another line in between is not held back; the count comes out when asked */
static void test_log_repeats(void)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	char text[65536];
	size_t n;

	if (!tmp || saved < 0) {
		T_CHECK("log: a temporary file for stderr", 0);
		return;
	}
	fflush(stderr);
	dup2(fileno(tmp), 2);
	log_init("test_common", 0);
	for (int i = 0; i < 100; i++) {
		log_err("database: COMMIT: database or disk is full");
		if (i % 10 == 0)
			log_warn("due work could not be committed: %d", i / 30);
	}
	log_notice("a notice is never held back");
	log_notice("a notice is never held back");
	log_notice("a notice is never held back");
	log_notice("a notice is never held back");
	log_flush_repeats();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(text, 1, sizeof(text) - 1, tmp);
	text[n] = 0;
	fclose(tmp);
	T_CHECK("log: a repeated error is written three times, then counted",
		count(text, "[error]: database: COMMIT: database or disk is full") == 3);
	T_CHECK("log: the count of the rest names the line",
		count(text, "[error]: 97 more like this not shown (at most 3 a line in 10 s): database: COMMIT") == 1);
	T_CHECK("log: the warnings in between each have their own count",
		count(text, "could not be committed: 0") == 3
		&& count(text, "could not be committed: 3") == 1);
	T_CHECK("log: notices are not counted", count(text, "a notice is never held back") == 4);
}

/* ew_texts - the decoded texts of the encoded-words in v, joined by '|' */
static void ew_texts(const char *v, char *out, size_t size)
{
	size_t o = 0;

	out[0] = 0;
	for (const char *p = strstr(v, "=?UTF-8?B?"); p; p = strstr(p, "=?UTF-8?B?")) {
		const char *e = strstr(p + 10, "?=");
		char enc[1024];
		unsigned char *d;
		size_t n;

		snprintf(enc, sizeof(enc), "%.*s", (int)(e - p - 10), p + 10);
		d = b64_decode(enc, &n);
		o += (size_t)snprintf(out + o, size - o, "%s%.*s", o ? "|" : "", (int)n, (const char *)d);
		free(d);
		p = e + 2;
	}
}

static void test_rfc2047(void)
{
	char got[2048], *v;

	v = rfc2047_encode("Kính gửi Phòng Giáo dục và Đào tạo huyện Củ Chi, năm 2024");
	ew_texts(v, got, sizeof(got));
	T_STREQ("rfc2047: a Subject's encoded-words end at spaces", got,
		"Kính gửi Phòng Giáo dục và Đào |tạo huyện Củ Chi, năm 2024");
	free(v);
	v = rfc2047_encode("Nghiêngnghiêngnghiêngnghiêngnghiêngnghiêngnghiêng");
	ew_texts(v, got, sizeof(got));
	T_STREQ("rfc2047: one word longer than a word's room is cut between characters", got,
		"Nghiêngnghiêngnghiêngnghiêngnghiêngnghi|êngnghiêng");
	free(v);
	/* decomposed: "ê" + U+0302... a cut may not put the mark first */
	v = rfc2047_encode("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaae\xcc\x82\xcc\x81" "bbb");
	ew_texts(v, got, sizeof(got));
	T_STREQ("rfc2047: no encoded-word starts with a combining mark", got,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|e\xcc\x82\xcc\x81" "bbb");
	free(v);
	v = rfc2047_encode("plain ASCII subject");
	T_STREQ("rfc2047: plain ASCII as is", v, "plain ASCII subject");
	free(v);
	v = rfc2047_phrase("Ủy ban nhân dân xã Phú Hòa Đông", 6);
	T_STREQ("rfc2047 phrase: ASCII words between runs stay atoms", v,
		"=?UTF-8?B?4bumeQ==?= ban\r\n =?UTF-8?B?bmjDom4gZMOibiB4w6MgUGjDuiBIw7JhIMSQw7RuZw==?=");
	free(v);
	v = rfc2047_phrase("Phòng Giáo dục và Đào tạo huyện Củ Chi", 6);
	ew_texts(v, got, sizeof(got));
	T_STREQ("rfc2047 phrase: one run is one encoded-word, however long", got, "Phòng Giáo dục và Đào tạo huyện Củ");
	T_CHECK("rfc2047 phrase: ... then the atom", strlen(v) > 4 && !strcmp(v + strlen(v) - 4, " Chi"));
	free(v);
	v = rfc2047_phrase("a  b é", 1);
	ew_texts(v, got, sizeof(got));
	T_STREQ("rfc2047 phrase: spaces beside an empty word go inside", got, "a  b é");
	free(v);
}

/* utf8_clip: the longest prefix within the bound that ends where a character ends */
static void test_utf8_clip(void)
{
	static const char vi[] = "C\xe1\xbb\xa7 Chi";	/* "Củ Chi": C, then a 3-byte character */
	static const char emoji[] = "\xf0\x9f\x98\x80x";	/* a 4-byte character, then x */

	T_CHECK("clip: shorter than the bound, whole", utf8_clip(vi, 64) == strlen(vi));
	T_CHECK("clip: exactly the bound, whole", utf8_clip(vi, strlen(vi)) == strlen(vi));
	T_CHECK("clip: inside the 3-byte character, before it", utf8_clip(vi, 2) == 1 && utf8_clip(vi, 3) == 1);
	T_CHECK("clip: after the 3-byte character", utf8_clip(vi, 4) == 4);
	T_CHECK("clip: inside a 4-byte character at the start, nothing", utf8_clip(emoji, 3) == 0);
	T_CHECK("clip: 4-byte character whole", utf8_clip(emoji, 4) == 4);
	T_CHECK("clip: bound 0", utf8_clip(vi, 0) == 0 && utf8_clip("", 0) == 0);
	for (size_t max = 0; max <= strlen(vi); max++) {
		size_t n = utf8_clip(vi, max);

		T_CHECK("clip: every bound gives valid UTF-8 within it", n <= max && utf8_valid(vi, n));
	}
}

static void test_bucket(void)
{
	struct bucket b;
	int took = 0;

	bucket_init(&b, 4, 4, 10.0);
	for (int i = 0; i < 6; i++)
		took += bucket_take(&b, 10.0) == 0;
	T_CHECK("bucket: a full bucket gives burst tokens, then none", took == 4);
	T_CHECK("bucket: the wait for the next is 1/rate", bucket_take(&b, 10.0) > 0.249 && bucket_take(&b, 10.0) < 0.251);
	T_CHECK("bucket: a token after 1/rate, one only", bucket_take(&b, 10.25) == 0 && bucket_take(&b, 10.25) > 0);
	T_CHECK("bucket: not idle while it refills", !bucket_idle(&b, 10.5));
	T_CHECK("bucket: idle once full", bucket_idle(&b, 100.0) && b.tokens == 4);
	bucket_block(&b, 200.0);
	bucket_block(&b, 150.0);
	T_CHECK("bucket: a block is never shortened", bucket_take(&b, 120.0) > 79.9);
	T_CHECK("bucket: blocked is not idle", !bucket_idle(&b, 199.0));
	T_CHECK("bucket: free after the block", bucket_take(&b, 200.0) == 0);
	bucket_set(&b, 1, 2, 200.0);
	T_CHECK("bucket: new settings keep tokens up to the new burst", b.tokens == 2 && b.rate == 1);
	bucket_init(&b, 0, 0.5, 0);
	T_CHECK("bucket: a rate of 0 counts as 1, a burst under 1 as 1", b.rate == 1 && b.burst == 1 && b.tokens == 1);
	took = 0;
	bucket_init(&b, 2, 2, 0);
	for (int i = 0; i < 160; i++)
		took += bucket_take_n(&b, 0, 1.0 / 64) == 0;
	T_CHECK("bucket: 128 takes of 1/64 from a burst of 2, no more", took == 128);
	T_CHECK("bucket: a whole token waits for what it lacks", bucket_take(&b, 0) > 0.49 && bucket_take(&b, 0.5) == 0);
}

int main(void)
{
	test_bucket();
	test_log_repeats();
	test_rfc2047();
	test_buf();
	test_csv();
	test_utf8();
	test_utf8_clip();
	test_utf8_names();
	test_days();
	test_dates();
	test_offsets();
	test_times();
	test_durations();
	test_hhmm();
	return t_failed ? 1 : 0;
}
