/*
 * config.h - the configuration: parsed from one libconfig file into a fresh structure,
 * validated as a whole (every error as FILE:LINE: message), then swapped in by the caller.
 * The schema is docs/CONFIG.md. A struct config is immutable once loaded.
 */
#ifndef THIDUA_CONFIG_H
#define THIDUA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "units.h"

#define CFG_DEFAULT_STATE_DIR "/var/lib/thidua"
#define CFG_DEFAULT_MAX_REQUEST (32u * 1024 * 1024)

struct holiday {
	int32_t day;
	int work;		/* 1: a make-up working day; 0: a day off */
	char *name;
	char *source;
	int confirmed;
	int line;
};

struct config {
	char *path;
	char *movement_name, *movement_plan;

	char *state_dir;	/* NULL: not set in the file */
	char *api_endpoint, *events_endpoint;
	size_t max_request_bytes;

	char *timezone;
	int utc_offset;		/* seconds east of UTC */
	unsigned weekend_mask;	/* bit 0 = Monday ... bit 6 = Sunday */
	int work_start, work_end;	/* minutes after local midnight */
	struct holiday *holidays;	/* sorted by day */
	size_t nholidays;

	struct unitset *units;	/* levels and the units of the file, resolved */
};

/* cfg_load - parse and validate path; on failure NULL and *errors holds every problem */
struct config *cfg_load(const char *path, char ***errors);
void cfg_destroy(struct config **self_p);

/* cfg_holiday - the holiday entry for a day, or NULL */
const struct holiday *cfg_holiday(const struct config *cfg, int32_t day);

#endif
