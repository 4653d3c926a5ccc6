/*
 * fuzz_csv.c - libFuzzer target: the input is the CSV file of a units.import request. It
 * goes through csv_parse() and then the importer itself (units_csv_parse) into a copy of
 * the shipped configuration's units, which unitset_resolve() checks as a whole, as
 * op_units_import does; then the queries the other ops make of the new set.
 *
 * Properties: no crash, leak or undefined behaviour; every error line is UTF-8 (it is
 * quoted in the error reply, where anything else would end the daemon); a set that
 * resolves has valid codes and addresses and no parent cycles.
 */
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "csv.h"
#include "fuzz.h"
#include "log.h"
#include "registry.h"
#include "thiduad.h"
#include "units.h"
#include "units_csv.h"
#include "utf8.h"
#include "xalloc.h"

#ifndef FUZZ_CONFIG
#define FUZZ_CONFIG "config/thidua.cfg"
#endif

static struct config *base_cfg;

/* base_units - the shipped configuration's units, loaded once */
static const struct unitset *base_units(void)
{
	if (!base_cfg) {
		char **errors = NULL;
		const char *path = getenv("THIDUA_FUZZ_CONFIG") ? getenv("THIDUA_FUZZ_CONFIG") : FUZZ_CONFIG;

		log_init("fuzz_csv", 0);
		base_cfg = cfg_load(path, &errors);
		if (!base_cfg) {
			fprintf(stderr, "fuzz_csv: cannot load %s (run from the top of the tree): %s\n", path,
				errors && errors[0] ? errors[0] : "?");
			exit(1);
		}
	}
	return base_cfg->units;
}

/* check_raw_csv - the reader on its own, and the header lookup */
static void check_raw_csv(const char *data, size_t size)
{
	char err[256];
	struct csv *csv = csv_parse(data, size, err, sizeof(err));

	if (!csv) {
		FUZZ_ASSERT(utf8_valid_str(err));
		return;
	}
	for (size_t r = 0; r < csv->nrows; r++) {
		FUZZ_ASSERT(csv->rows[r].nfields >= 1 && csv->rows[r].line >= 1);
		for (size_t f = 0; f < csv->rows[r].nfields; f++)
			FUZZ_ASSERT(utf8_valid_str(csv->rows[r].fields[f]));
	}
	if (csv->nrows)
		for (size_t f = 0; f < csv->rows[0].nfields; f++) {
			int i = csv_field_index(&csv->rows[0], csv->rows[0].fields[f]);

			FUZZ_ASSERT(i >= -1 && i < (int)csv->rows[0].nfields);
		}
	csv_destroy(&csv);
}

/* check_resolved - what the ops rely on once a set is swapped in */
static void check_resolved(const struct unitset *set, size_t first)
{
	for (size_t i = first; i < set->nunits; i++) {
		const struct unit *u = set->units[i];
		char *joined;

		FUZZ_ASSERT(unit_code_valid(u->code) && unitset_find(set, u->code) == u);
		FUZZ_ASSERT(u->level >= 0 && (size_t)u->level < set->nlevels);
		for (size_t k = 0; u->emails && u->emails[k]; k++)
			FUZZ_ASSERT(email_valid(u->emails[k]));
		/* import_store joins the lists; units_list walks the hierarchy */
		joined = join_list(u->emails);
		free(joined);
		joined = join_list(u->successor_codes);
		free(joined);
		(void)unit_is_under_at(u, set->units[0], u->active_from);
		(void)unit_parent_at(u, u->active_to);
		FUZZ_ASSERT(utf8_valid_str(u->name));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct unitset *base = base_units();
	struct unitset *set;
	char **errors = NULL;
	size_t count = 0, first;
	int nerr;

	check_raw_csv((const char *)data, size);
	set = unitset_dup(base);
	first = set->nunits;
	nerr = units_csv_parse(set, (const char *)data, size, "fuzz.csv", &errors, &count);
	if (!nerr)
		nerr = unitset_resolve(set, &errors);
	if (nerr) {
		/* op_units_import's reply: the first error in the message, all in a list */
		json_t *reply = json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", "invalid_csv",
					  "message", errors && errors[0] ? errors[0] : "");

		FUZZ_ASSERT(errors && errors[0] && reply);
		for (size_t i = 0; errors[i]; i++)
			FUZZ_ASSERT(utf8_valid_str(errors[i]));
		json_decref(reply);
	} else {
		FUZZ_ASSERT(count == set->nunits - first && count >= 1);
		check_resolved(set, first);
	}
	strv_free(&errors);
	unitset_destroy(&set);
	return 0;
}
