/*
 * restore.h - thiduad --restore ARCHIVE --state-dir DIR: a backup (backup.c) back into a
 * state directory, verified before anything may run on it.
 */
#ifndef THIDUA_RESTORE_H
#define THIDUA_RESTORE_H

struct daemon;

int restore_run(struct daemon *d, const char *archive, const char *dir);

#endif
