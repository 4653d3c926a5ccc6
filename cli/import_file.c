/*
 * import_file.c - a CSV or an .xlsx workbook to the CSV an import sends (see import_file.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "import_file.h"
#include "xalloc.h"

static char *map(const char *text, void *ctx)
{
	struct import_file *f = ctx;

	return xlsx_map_message(&f->sheet, f->sent_name, f->base, text);
}

static const char *sheet;

int import_opt_sheet(json_t *req, const char *value)
{
	(void)req;
	sheet = value;
	return 0;
}

int import_file_read(struct import_file *f, const char *path)
{
	size_t size = 0;
	char err[512];

	*f = (struct import_file){ 0 };
	if (!(f->data = cli_read_file(path, &size)))
		return EXIT_USAGE;
	f->base = cli_base_name(path);
	if (size >= 8 && !memcmp(f->data, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8)) {
		fprintf(stderr, "thiduactl: %s is an Excel 97-2003 workbook (.xls): open it in Excel and save it as"
			" \"Excel Workbook (*.xlsx)\" or \"CSV UTF-8\"\n", path);
		return EXIT_DAEMON_ERROR;
	}
	if (!xlsx_is_workbook(f->data, size)) {
		size_t n = strlen(f->base);

		if (n > 5 && !strcasecmp(f->base + n - 5, ".xlsx")) {
			fprintf(stderr, "thiduactl: %s is named .xlsx but is not an Excel workbook (not a zip file)\n", path);
			return EXIT_DAEMON_ERROR;
		}
		if (sheet) {
			fprintf(stderr, "thiduactl: --sheet is for Excel workbooks, and %s is not one\n", path);
			return EXIT_USAGE;
		}
		f->f = (struct client_file){ f->base, f->data, size };
		return EXIT_OK;
	}
	if (xlsx_read(f->data, size, sheet, &f->sheet, err, sizeof(err))) {
		fprintf(stderr, "thiduactl: %s: %s; nothing was imported\n", path, err);
		return EXIT_DAEMON_ERROR;
	}
	f->xlsx = 1;
	f->sent_name = xasprintf("%s.csv", f->base);
	f->f = (struct client_file){ f->sent_name, f->sheet.csv, f->sheet.csv_len };
	cli_error_map = map;
	cli_error_ctx = f;
	return EXIT_OK;
}

void import_file_free(struct import_file *f)
{
	if (cli_error_ctx == f)
		cli_error_map = NULL, cli_error_ctx = NULL;
	xlsx_free(&f->sheet);
	free(f->sent_name);
	free(f->data);
	*f = (struct import_file){ 0 };
}
