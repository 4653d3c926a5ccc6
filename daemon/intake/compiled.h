/*
 * compiled.h - what the messages say of a report beyond its name and period (those are
 * common/period_text.h): the receiving office's contact, and, for a report type that
 * compiles others (compiles = "BC-NAM"), how many of its inputs were in and which units
 * were still missing at a moment (when it was filed, or now).
 */
#ifndef THIDUA_COMPILED_H
#define THIDUA_COMPILED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct report_type;
struct unit;

#define INPUTS_LISTED 10	/* missing units a message names; the rest are counted */
#define INPUTS_JSON 50		/* missing units a receipt or completeness lists */

/* unit_contact_text - the unit's e-mail addresses, ", "-separated, as many whole ones as fit;
 * "" when it has none */
void unit_contact_text(const struct unit *u, char *buf, size_t size);

/* the inputs of a compiled report for one period, at a moment */
struct inputs {
	const struct report_type *of;	/* the report type compiled */
	long expected, received, missing;
	char **missing_codes;		/* the first INPUTS_JSON missing units, by code */
	size_t nlisted;
};

/* compiled_inputs - rt's inputs for period as they stood at 'at' (a report received by
 * then counts, even if returned later); 0 and *in filled, -1 when rt compiles nothing.
 * inputs_free releases it. */
int compiled_inputs(struct daemon *d, const struct report_type *rt, const char *period, int64_t at, struct inputs *in);
void inputs_free(struct inputs *in);

/* inputs_json - {"report", "expected", "received", "missing", "missing_units": [{unit,
 * name}...] (at most INPUTS_JSON), "more"} */
json_t *inputs_json(struct daemon *d, const struct inputs *in);

/* inputs_missing_text - "Tên (MÃ), ..." of the first INPUTS_LISTED missing units, then
 * "và N đơn vị khác" */
void inputs_missing_text(struct daemon *d, const struct inputs *in, char *buf, size_t size);

#endif
