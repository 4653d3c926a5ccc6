/*
 * period_text.h - a report's name and its period joined as a Vietnamese reader writes them,
 * for the messages (daemon/spool.c) and the drafted summary (cli/cmd_summary.c).
 */
#ifndef THIDUA_PERIOD_TEXT_H
#define THIDUA_PERIOD_TEXT_H

#include <stddef.h>

/* report_period_text - "Báo cáo ... năm 2024" (not "năm kỳ 2024"), "... quý I năm 2024"
 * (YYYY-Qn), "... tháng 11 năm 2024" (YYYY-Tn), "... giai đoạn 2023 - 2025" (YYYY-YYYY);
 * a name that already holds the period stays as is; anything else "... (đợt P)", or
 * "... năm P" for a yearly type. Cut to size at a character boundary. */
void report_period_text(const char *name, int yearly, const char *period, char *buf, size_t size);

/* period_words - the period alone as a reader writes it: "năm 2024", "quý I năm 2024",
 * "tháng 11 năm 2024", "giai đoạn 2023 - 2025", anything else "đợt P" (for titles that name
 * the report by its code). */
void period_words(const char *period, char *buf, size_t size);

#endif
