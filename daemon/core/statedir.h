/*
 * statedir.h - one daemon per state directory, and the ipc socket files it owns.
 */
#ifndef THIDUA_STATEDIR_H
#define THIDUA_STATEDIR_H

#include <stddef.h>
#include <sys/types.h>

struct daemon;

int state_lock(struct daemon *d, char *err, size_t errsize);
int ipc_prepare(const char *endpoint, char *err, size_t errsize);
void ipc_bound(const char *endpoint);
void ipc_remove(const char *endpoint);
int file_put_durable(const char *tmp, const char *path, const void *data, size_t len, mode_t mode);
int state_write_file(const struct daemon *d, const char *name, const char *text, mode_t mode);
ssize_t state_read_file(const struct daemon *d, const char *name, char *buf, size_t size);
int state_key(const struct daemon *d, const char *name, const char *what, char *text, char *err, size_t errsize);

#endif
