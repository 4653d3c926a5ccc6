/*
 * log.c - leveled logging to stderr, with journald priority prefixes under systemd.
 *
 * Errors and warnings repeat in bursts when the cause stays (a full disk fails every turn's
 * commit): each distinct line is written at most LOG_BURST times in LOG_WINDOW_MS; the
 * repeats past that are counted, and the count is written with the line when it comes
 * again after the window, when its slot is taken by another line, or at exit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define LOG_BURST 3
#define LOG_WINDOW_MS 10000
#define LOG_SLOTS 16

static const char *log_prog = "thidua";
static int log_verbose;		/* 0: notice and above; 1: info; 2+: debug */
static int log_journal;		/* prefix lines with <N> for journald */
static int registered;		/* log_flush_repeats runs at exit */

/* the recent error and warning lines, to count their repeats; held under repeats_lock,
 * since thidua-web logs from libmicrohttpd's threads (the other programs have one) */
static pthread_mutex_t repeats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct repeat {
	char line[2048];
	enum log_level level;
	long long window_ms;	/* when the window began (monotonic) */
	unsigned long shown, suppressed;
} repeats[LOG_SLOTS];

static void log_write(enum log_level level, const char *line);

/* log_init - remember the program name and verbosity, detect journald */
void log_init(const char *progname, int verbosity)
{
	const char *slash = strrchr(progname, '/');

	log_prog = slash ? slash + 1 : progname;
	log_verbose = verbosity;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	if (!registered)
		registered = atexit(log_flush_repeats) == 0;
}

/* log_verbosity - the -v count the program was started with */
int log_verbosity(void)
{
	return log_verbose;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* repeat_report - write how many repeats of a slot's line were not shown, and forget them */
static void repeat_report(struct repeat *r)
{
	char note[2200];

	if (!r->suppressed)
		return;
	snprintf(note, sizeof(note), "%lu more like this not shown (at most %d a line in %d s): %.2000s",
		 r->suppressed, LOG_BURST, LOG_WINDOW_MS / 1000, r->line);
	r->suppressed = 0;
	log_write(r->level, note);
}

/* log_flush_repeats - write the counts of repeats not shown (at exit, or when asked) */
void log_flush_repeats(void)
{
	pthread_mutex_lock(&repeats_lock);
	for (size_t i = 0; i < LOG_SLOTS; i++)
		repeat_report(&repeats[i]);
	pthread_mutex_unlock(&repeats_lock);
}

/* repeat_pass - 1 when the line is to be written, 0 when it repeats too often */
static int repeat_pass(enum log_level level, const char *line)
{
	long long now = mono_ms();
	struct repeat *r = NULL, *oldest = &repeats[0];

	for (size_t i = 0; i < LOG_SLOTS && !r; i++) {
		if (repeats[i].level == level && !strcmp(repeats[i].line, line))
			r = &repeats[i];
		else if (repeats[i].window_ms < oldest->window_ms)
			oldest = &repeats[i];
	}
	if (!r) {
		r = oldest;
		repeat_report(r);
		snprintf(r->line, sizeof(r->line), "%s", line);
		r->level = level;
		r->window_ms = now;
		r->shown = 0;
	} else if (now - r->window_ms >= LOG_WINDOW_MS) {
		repeat_report(r);
		r->window_ms = now;
		r->shown = 0;
	}
	if (r->shown < LOG_BURST) {
		r->shown++;
		return 1;
	}
	r->suppressed++;
	return 0;
}

/* log_vmsg - write one line if the level passes the verbosity (and, for an error or a
 * warning, if it has not repeated too often) */
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];

	if (level == LOG_INFO && log_verbose < 1)
		return;
	if (level == LOG_DEBUG && log_verbose < 2)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (level <= LOG_WARN) {
		int pass;

		pthread_mutex_lock(&repeats_lock);
		pass = repeat_pass(level, line);
		pthread_mutex_unlock(&repeats_lock);
		if (!pass)
			return;
	}
	log_write(level, line);
}

/* log_write - one line to stderr, with its time stamp or journald priority */
static void log_write(enum log_level level, const char *line)
{
	static const char *names[] = {
		[LOG_ERR] = "error", [LOG_WARN] = "warning", [LOG_NOTICE] = "notice",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};

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
