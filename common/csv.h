/*
 * csv.h - RFC 4180 CSV parsing of a whole buffer, keeping each row's line number so
 * importers can report every bad row as "line N: ...". Owns its rows and fields.
 */
#ifndef THIDUA_CSV_H
#define THIDUA_CSV_H

#include <stddef.h>

struct csv_row {
	size_t line;		/* 1-based line where the row starts */
	size_t nfields;
	char **fields;
};

struct csv {
	size_t nrows;
	struct csv_row *rows;
};

/* csv_parse - parse buf; blank lines are skipped, a UTF-8 BOM is ignored.
 * Returns NULL with a message in err on malformed quoting or invalid UTF-8. */
struct csv *csv_parse(const char *buf, size_t len, char *err, size_t errsize);
void csv_destroy(struct csv **self_p);

/* csv_field_index - the column named name in the header row, or -1 */
int csv_field_index(const struct csv_row *header, const char *name);

#endif
