/*
 * notify.c - systemd integration: READY=1, STATUS=, STOPPING=1, WATCHDOG=1.
 * Built without libsystemd (no HAVE_SYSTEMD) every function is a no-op.
 */
#include <stdarg.h>
#include <stdio.h>

#include "thiduad.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* notify_ready - sockets bound, database open: tell systemd, note the watchdog period */
void notify_ready(struct daemon *d)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		d->watchdog_usec = usec;
	sd_notify(0, "READY=1");
#else
	(void)d;
#endif
}

/* notify_status - a STATUS= line for systemctl status */
void notify_status(const char *fmt, ...)
{
#ifdef HAVE_SYSTEMD
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
#else
	(void)fmt;
#endif
}

void notify_stopping(void)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}

/* notify_watchdog - ping at half of WATCHDOG_USEC, called from every loop turn */
void notify_watchdog(struct daemon *d)
{
#ifdef HAVE_SYSTEMD
	int64_t now = clock_mono_ms();

	if (d->watchdog_usec && now - d->last_watchdog_ms >= (int64_t)(d->watchdog_usec / 2000)) {
		sd_notify(0, "WATCHDOG=1");
		d->last_watchdog_ms = now;
	}
#else
	(void)d;
#endif
}
