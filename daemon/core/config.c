/*
 * config.c - lookups in a loaded configuration (config_load.c reads it).
 */
#include <string.h>

#include "config.h"
#include "utf8.h"

/* cfg_principal - a principal by name */
const struct principal *cfg_principal(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->nprincipals; i++)
		if (!strcmp(cfg->principals[i].name, name))
			return &cfg->principals[i];
	return NULL;
}

/* cfg_programme - a programme by code */
const struct programme *cfg_programme(const struct config *cfg, const char *code)
{
	for (size_t i = 0; code && i < cfg->nprogrammes; i++)
		if (!strcmp(cfg->programmes[i].code, code))
			return &cfg->programmes[i];
	return NULL;
}

/* cfg_channel - a channel by name */
const struct channel *cfg_channel(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->nchannels; i++)
		if (!strcmp(cfg->channels[i].name, name))
			return &cfg->channels[i];
	return NULL;
}

/* cfg_report - a report type by code */
const struct report_type *cfg_report(const struct config *cfg, const char *code)
{
	for (size_t i = 0; code && i < cfg->nreports; i++)
		if (strcmp(cfg->reports[i].code, code) == 0)
			return &cfg->reports[i];
	return NULL;
}

/* cfg_holiday - binary search of the sorted holiday table */
const struct holiday *cfg_holiday(const struct config *cfg, int32_t day)
{
	size_t lo = 0, hi = cfg->nholidays;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cfg->holidays[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cfg->nholidays && cfg->holidays[lo].day == day ? &cfg->holidays[lo] : NULL;
}
