/*
 * reload.h - the configuration read again (SIGHUP, config.reload): a file with any error
 * leaves the running configuration as it is. In the library, not in main.c, so that every
 * program linking the daemon's code (unit tests, fuzz targets) finds it.
 */
#ifndef THIDUA_RELOAD_H
#define THIDUA_RELOAD_H

#include <stddef.h>

struct config;
struct daemon;

int daemon_reload(struct daemon *d, char *err, size_t errsize);

/* warn_if_readable - a file holding channel secrets that every user can read is logged */
void warn_if_readable(const struct config *cfg);

#endif
