/*
 * supervisor.h - the local workers named in the config: started with the jobs endpoint,
 * restarted with backoff when they exit (like Postfix's master), every exit logged. SIGCHLD
 * arrives through the daemon's signalfd; nothing runs in a signal handler.
 */
#ifndef THIDUA_SUPERVISOR_H
#define THIDUA_SUPERVISOR_H

struct daemon;

void supervisor_start(struct daemon *d);
void supervisor_reap(struct daemon *d);
long supervisor_timeout_ms(struct daemon *d);
void supervisor_tick(struct daemon *d);
void supervisor_stop(struct daemon *d, int (*stop_at_once)(struct daemon *d));
int supervisor_owns(long pid);
void supervisor_on_exit(void (*fn)(struct daemon *d, long pid));

#endif
