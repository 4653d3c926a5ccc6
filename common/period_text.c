/*
 * period_text.c - a report's name and its period as one writes them (period_text.h).
 */
#include <stdio.h>
#include <string.h>

#include "period_text.h"
#include "utf8.h"

/* ends_with - 1 when s ends with suffix */
static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/* year_after - name with " YEAR" (after a name ending in "năm") or " năm YEAR"; a
 * parenthesised tail stays last: "... năm (xã)" reads "... năm 2025 (xã)" */
static void year_after(const char *name, const char *year, char *buf, size_t size)
{
	size_t len = strlen(name), head = len;
	const char *open = strrchr(name, '(');

	if (len && name[len - 1] == ')' && open && open > name && open[-1] == ' ')
		head = (size_t)(open - name) - 1;
	snprintf(buf, size, "%.*s%s%s%s%s", (int)head, name, ends_with(name, head, " năm") ? " " : " năm ", year,
		 head < len ? " " : "", name + head + (head < len));
}

static void period_text(const char *name, int yearly, const char *period, char *buf, size_t size)
{
	static const char *const roman[] = { "I", "II", "III", "IV" };
	int y1, y2, n, used;
	char spelled[32], extra;

	if (!name || !*name)
		name = "Báo cáo";
	if (!period || !*period || strstr(name, period)) {
		snprintf(buf, size, "%s", name);
		return;
	}
	if (sscanf(period, "%4d-%4d%c", &y1, &y2, &extra) == 2 && y2 > y1) {
		snprintf(spelled, sizeof(spelled), "%d - %d", y1, y2);
		snprintf(buf, size, strstr(name, spelled) ? "%s" : "%s giai đoạn %s", name, spelled);
		return;
	}
	if (sscanf(period, "%4d-Q%d%c", &y1, &n, &extra) == 2 && n >= 1 && n <= 4) {
		snprintf(buf, size, "%s quý %s năm %d", name, roman[n - 1], y1);
		return;
	}
	if (sscanf(period, "%4d-T%d%c", &y1, &n, &extra) == 2 && n >= 1 && n <= 12) {
		snprintf(buf, size, "%s tháng %d năm %d", name, n, y1);
		return;
	}
	if (sscanf(period, "%4d%n", &y1, &used) == 1 && used == 4 && !period[4]) {
		year_after(name, period, buf, size);
		return;
	}
	snprintf(buf, size, yearly ? "%s năm %s" : "%s (đợt %s)", name, period);
}

void report_period_text(const char *name, int yearly, const char *period, char *buf, size_t size)
{
	period_text(name, yearly, period, buf, size);
	buf[utf8_clip(buf, strlen(buf))] = '\0';	/* cut short by size: never inside a character */
}


void period_words(const char *period, char *buf, size_t size)
{
	static const char name[] = "Báo cáo";
	char text[256];
	const char *words;

	period_text(name, 0, period, text, sizeof(text));
	words = text + sizeof(name) - 1;
	if (*words == ' ')
		words++;
	if (!strncmp(words, "(đợt ", strlen("(đợt ")) && words[strlen(words) - 1] == ')')
		snprintf(buf, size, "%.*s", (int)strlen(words) - 2, words + 1);
	else
		snprintf(buf, size, "%s", words);
	buf[utf8_clip(buf, strlen(buf))] = '\0';
}
