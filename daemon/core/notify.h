/*
 * notify.h - systemd integration: READY=1, STATUS=, STOPPING=1, WATCHDOG=1.
 */
#ifndef THIDUA_NOTIFY_H
#define THIDUA_NOTIFY_H

struct daemon;

void notify_ready(struct daemon *d);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_stopping(void);
void notify_send_state(const char *state);
void notify_watchdog(struct daemon *d);

#endif
