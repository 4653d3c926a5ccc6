/*
 * log.h - the one logging module of every thidua program.
 *
 * Lines go to stderr. Under systemd (JOURNAL_STREAM set, or log_init(..., 1)) each line
 * starts with a syslog priority prefix such as "<3>" so journald files it at the right
 * level. An error or warning line repeated more than a few times in ten seconds is counted
 * instead of written; the count follows (log.c). Never pass a secret to these functions.
 */
#ifndef THIDUA_LOG_H
#define THIDUA_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7 };

void log_init(const char *progname, int verbosity);
int log_verbosity(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void log_flush_repeats(void);
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_err(...)    log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
