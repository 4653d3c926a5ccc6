/*
 * web_util.c - small helpers the pages share: states in Vietnamese, the daemon's day,
 * days left, sizes, file names checked as report.submit checks them.
 */
#include <stdio.h>
#include <string.h>

#include "timeutil.h"
#include "utf8.h"
#include "web.h"
#include "web_util.h"

const char *state_text_vi(const char *state)
{
	static const struct { const char *state, *text; } states[] = {
		{ "open", "Chưa nộp" },
		{ "submitted", "Đã nộp, chờ xem xét" },
		{ "accepted", "Đã chấp nhận" },
		{ "returned", "Bị trả lại" },
		{ "waived", "Được miễn" },
		{ "missing", "Không nộp (đã khóa)" },
	};

	for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(states[i].state, state))
			return states[i].text;
	return state ? state : "";
}

int daemon_today(struct web_req *r, int32_t *today)
{
	json_t *reply = web_call(r, json_pack("{s:s}", "op", OP_CLOCK_SHOW));
	const char *now = json_string_value(json_object_get(reply, "now"));
	int rc = now && strlen(now) >= 10 && date_parse_prefix(now, today) == 0 ? 0 : -1;

	json_decref(reply);
	return rc;
}

int date_parse_prefix(const char *iso, int32_t *day)
{
	char d[11];

	if (!iso || strlen(iso) < 10)
		return -1;
	memcpy(d, iso, 10);
	d[10] = 0;
	return date_parse(d, day);
}

void days_left_text(int32_t today, const char *due_at, char *out, size_t size)
{
	int32_t due;

	if (date_parse_prefix(due_at, &due) != 0) {
		out[0] = 0;
		return;
	}
	if (due > today)
		snprintf(out, size, "còn %d ngày", (int)(due - today));
	else if (due == today)
		snprintf(out, size, "hạn cuối hôm nay");
	else
		snprintf(out, size, "quá hạn %d ngày", (int)(today - due));
}

void size_text(uint64_t n, char *out, size_t size)
{
	if (n < 1024)
		snprintf(out, size, "%llu byte", (unsigned long long)n);
	else if (n < 1024 * 1024)
		snprintf(out, size, "%.1f KiB (%llu byte)", (double)n / 1024, (unsigned long long)n);
	else
		snprintf(out, size, "%.1f MiB (%llu byte)", (double)n / (1024 * 1024), (unsigned long long)n);
}

const char *file_name_problem(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	unsigned cp;

	if (!n)
		return "tên tệp trống";
	if (n > 255)
		return "tên tệp dài quá 255 byte";
	if (!utf8_valid(name, n))
		return "tên tệp không phải UTF-8";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "tên tệp không được là . hoặc ..";
	if (strchr(name, '/') || strchr(name, '\\'))
		return "tên tệp không được chứa / hoặc \\";
	if (utf8_name_problem(name, &cp))
		return cp ? "tên tệp chứa ký tự điều khiển hoặc ký tự ẩn" : "tên tệp chỉ có khoảng trắng";
	return NULL;
}
