/*
 * log.c - leveled logging to stderr, with journald priority prefixes under systemd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *log_prog = "thidua";
static int log_verbose;		/* 0: notice and above; 1: info; 2+: debug */
static int log_journal;		/* prefix lines with <N> for journald */

/* log_init - remember the program name and verbosity, detect journald */
void log_init(const char *progname, int verbosity)
{
	const char *slash = strrchr(progname, '/');

	log_prog = slash ? slash + 1 : progname;
	log_verbose = verbosity;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

/* log_verbosity - the -v count the program was started with */
int log_verbosity(void)
{
	return log_verbose;
}

/* log_vmsg - write one line if the level passes the verbosity */
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char *names[] = {
		[LOG_ERR] = "error", [LOG_WARN] = "warning", [LOG_NOTICE] = "notice",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	char line[2048];

	if (level == LOG_INFO && log_verbose < 1)
		return;
	if (level == LOG_DEBUG && log_verbose < 2)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", (int)level, line);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "%s %s[%s]: %s\n", stamp, log_prog, names[level], line);
	}
}

/* log_msg - printf-style front end of log_vmsg */
void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* fatal - the environment is broken: log and exit 1 */
void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
