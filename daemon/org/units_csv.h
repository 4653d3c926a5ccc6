/*
 * units_csv.h - the CSV form of units (thiduactl units import): text to units, every bad
 * row reported as "FILE:LINE: message". Kept apart from ops_units.c, which stores and
 * swaps the result, so that tests/fuzz/fuzz_csv.c can run the importer's own parser.
 */
#ifndef THIDUA_UNITS_CSV_H
#define THIDUA_UNITS_CSV_H

#include <stddef.h>

#include "units.h"

/* units_csv_parse - add the units of data[0..size) to set (unresolved: the caller runs
 * unitset_resolve); file names the text in messages and in each unit's origin. Every
 * problem is appended to *errors; returns the number of problems, and counts the units
 * added in *count. */
int units_csv_parse(struct unitset *set, const char *data, size_t size, const char *file,
		    char ***errors, size_t *count);

#endif
