/*
 * registry.h - the live unit registry: the configuration's units plus those imported into
 * the database, validated together. Rebuilt on start, reload and import, then swapped.
 */
#ifndef THIDUA_REGISTRY_H
#define THIDUA_REGISTRY_H

#include <stdint.h>

struct config;
struct daemon;
struct unitset;

struct unitset *registry_build(struct daemon *d, const struct config *cfg, char ***errors);

void daemon_free(struct daemon *d);
int32_t registry_today(const struct daemon *d);
char **split_list(const char *s);
char *join_list(char *const *v);

#endif
