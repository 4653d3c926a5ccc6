/*
 * notify.c - systemd integration: READY=1, STATUS=, STOPPING=1, WATCHDOG=1.
 *
 * The notification protocol (sd_notify(3)) is one datagram on the AF_UNIX socket named by
 * $NOTIFY_SOCKET, documented as stable for reimplementation. It is spoken here directly
 * rather than through libsystemd, which would map its compression and crypto libraries
 * (about 1 MB resident) into a daemon whose budget is a few MB, for one datagram.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "thiduad.h"
#include "xalloc.h"

/* notify_send_state - one state datagram to $NOTIFY_SOCKET; silent without systemd */
void notify_send_state(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || (n = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = 0;	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		log_debug("sd_notify %s: not delivered", state);
	close(fd);
}

/* notify_ready - sockets bound, database open: tell systemd, note the watchdog period */
void notify_ready(struct daemon *d)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");

	if (usec && (!pid || strtol(pid, NULL, 10) == (long)getpid()))
		d->watchdog_usec = strtoull(usec, NULL, 10);
	notify_send_state("READY=1");
}

/* notify_status - a STATUS= line for systemctl status */
void notify_status(const char *fmt, ...)
{
	char buf[256];
	size_t used = xstrlcpy(buf, "STATUS=", sizeof(buf));
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + used, sizeof(buf) - used, fmt, ap);
	va_end(ap);
	notify_send_state(buf);
}

void notify_stopping(void)
{
	notify_send_state("STOPPING=1");
}

/* notify_watchdog - ping at half of WATCHDOG_USEC, called from every loop turn */
void notify_watchdog(struct daemon *d)
{
	int64_t now = clock_mono_ms();

	if (d->watchdog_usec && now - d->last_watchdog_ms >= (int64_t)(d->watchdog_usec / 2000)) {
		notify_send_state("WATCHDOG=1");
		d->last_watchdog_ms = now;
	}
}
