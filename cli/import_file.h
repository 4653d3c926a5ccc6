/*
 * import_file.h - the file an import sends (units import, proposals import): a CSV as it
 * is, or the first sheet of an Excel workbook (.xlsx) converted to the same CSV, sent as
 * NAME.xlsx.csv; the daemon's messages about it then name the sheet, row and cell.
 */
#ifndef THIDUA_IMPORT_FILE_H
#define THIDUA_IMPORT_FILE_H

#include <jansson.h>

#include "client.h"
#include "xlsx_read.h"

struct import_file {
	struct client_file f;		/* what is sent */
	char *data, *sent_name;
	const char *base;		/* the file's own name */
	int xlsx;
	struct xlsx_sheet sheet;
};

/* --sheet NAME, a struct cli_opt of the import commands: the workbook's sheet to read
 * (by default the first visible one) */
#define IMPORT_CLI_OPTS { "sheet", NULL, 0, import_opt_sheet }
int import_opt_sheet(json_t *req, const char *value);

/* import_file_read - path into f; EXIT_OK, or an exit code with the reason on stderr */
int import_file_read(struct import_file *f, const char *path);
void import_file_free(struct import_file *f);

#endif
