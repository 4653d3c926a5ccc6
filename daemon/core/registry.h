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
/* registry_units - the unit set of this turn: one an import made, else the live one */
const struct unitset *registry_units(struct daemon *d);
char **split_list(const char *s);
char *join_list(char *const *v);

/* registry_on_import - what runs when units.import adds units (intake: the obligations
 * of the new units), registered at start-up; registry_imported runs them in order and
 * answers the first failure (-1) */
void registry_on_import(int (*fn)(struct daemon *d));
int registry_imported(struct daemon *d);

#endif
