/*
 * config_load.h - what the sources that load the configuration share (config_load.c and
 * one source per section): the loader, its error list and the readers of members.
 */
#ifndef THIDUA_CONFIG_LOAD_H
#define THIDUA_CONFIG_LOAD_H

#include <libconfig.h>
#include <stdint.h>

#include "config.h"
struct loader {
	const char *path;
	char ***errors;
	int nerr;
};

/* ld_err_at - "FILE:LINE: message" for a setting; ld_err_line - for a line of a file */
void ld_err_at(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ld_err_line(struct loader *ld, const char *file, unsigned lineno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ld_check_keys(struct loader *ld, const config_setting_t *group, const char *what,
		   const char *const *allowed);
int ld_get_string(struct loader *ld, const config_setting_t *group, const char *name,
		  int required, const char *what, char **out);
int ld_get_bool(struct loader *ld, const config_setting_t *group, const char *name,
		const char *what, int dflt);
char **ld_get_strv(struct loader *ld, const config_setting_t *group, const char *name,
		   const char *what);
int32_t ld_get_date(struct loader *ld, const config_setting_t *group, const char *name,
		    const char *what, int32_t dflt);
void ld_get_span(struct loader *ld, const config_setting_t *g, const char *what, int32_t *from, int32_t *until);
const config_setting_t *ld_group_member(struct loader *ld, const config_setting_t *parent,
					const char *name, int required);
const config_setting_t *ld_list_member(struct loader *ld, const config_setting_t *parent,
				       const char *name, int required);
void ld_load_movement(struct loader *ld, struct config *cfg, const config_setting_t *root);
void ld_load_documents(struct loader *ld, struct config *cfg, const config_setting_t *root);
int ld_get_int(struct loader *ld, const config_setting_t *group, const char *name,
	       const char *what, int dflt, int min, int max);
int ld_z85_key_valid(const char *k);
void ld_load_daemon(struct loader *ld, struct config *cfg, const config_setting_t *root);
void ld_load_web(struct loader *ld, struct config *cfg, const config_setting_t *root);
void ld_load_calendar(struct loader *ld, struct config *cfg, const config_setting_t *root);
void ld_load_levels(struct loader *ld, struct config *cfg, const config_setting_t *root);
void ld_load_units(struct loader *ld, struct config *cfg, const config_setting_t *root);
int ld_get_monthday(struct loader *ld, const config_setting_t *g, const char *name,
		    const char *what, int *month, int *mday);
void ld_load_reports(struct loader *ld, struct config *cfg, const config_setting_t *root);
double ld_get_double(struct loader *ld, const config_setting_t *g, const char *name, const char *what,
		     double dflt, double min, double max);
void ld_load_channels(struct loader *ld, struct config *cfg, const config_setting_t *root);
void ld_load_workers(struct loader *ld, struct config *cfg, const config_setting_t *root);

#define TEMPLATE_FILE_MAX (1024 * 1024)

#define CONFIG_FILE_MAX (64 * 1024 * 1024)
char *ld_read_file(const char *path, size_t max, size_t *len);
void ld_load_templates(struct loader *ld, struct config *cfg, const config_setting_t *root);
void ld_load_principals(struct loader *ld, struct config *cfg, const config_setting_t *root);
void ld_load_programmes(struct loader *ld, struct config *cfg, const config_setting_t *root);
void ld_programmes_free(struct config *cfg);

#endif
