/*
 * xlsx_read.h - the first sheet of an Excel workbook (.xlsx) as the CSV the daemon's
 * importers check, and the daemon's messages about that CSV mapped back to the sheet, its
 * rows and cells ("donvi.xlsx, sheet 'Đơn vị', cell C7 (column level): ...").
 *
 * The workbook is read in memory with libzip and each part with expat, every size bounded
 * (XLSX_MAX_*): a hostile file is refused with a reason, never expanded without limit. The
 * CSV's line N is the sheet's row N (blank lines stand for empty rows) unless a cell above
 * holds a line break; the map is kept either way.
 */
#ifndef THIDUA_XLSX_READ_H
#define THIDUA_XLSX_READ_H

#include <stddef.h>
#include <stdint.h>

#define XLSX_MAX_FILE (64u << 20)	/* the .xlsx itself */
#define XLSX_MAX_PART (128u << 20)	/* one part (sheet, shared strings) unzipped */
#define XLSX_MAX_SMALL (4u << 20)	/* workbook, relationships, styles unzipped */
#define XLSX_MAX_CELLS 2000000u		/* cells holding a value */
#define XLSX_MAX_STRINGS 2000000u	/* shared strings */
#define XLSX_MAX_CSV (64u << 20)	/* the CSV made of the sheet */
#define XLSX_MAX_COL 16384u		/* XFD, Excel's last column */
#define XLSX_MAX_ROW 1048576u		/* Excel's last row */

struct xlsx_cell {
	uint32_t col;			/* 0 = A */
	char *text;
};

struct xlsx_row {
	uint32_t row;			/* the sheet's row, 1-based */
	size_t line;			/* the CSV line it starts on */
	size_t n;
	struct xlsx_cell *cells;	/* by column, only those holding a value */
};

struct xlsx_sheet {
	char *name;			/* the sheet read */
	char *csv;
	size_t csv_len;
	size_t nrows;
	struct xlsx_row *rows;		/* rows holding a value; rows[0] is the header */
};

/* xlsx_is_workbook - data starts like a zip file (an .xlsx is one) */
int xlsx_is_workbook(const char *data, size_t size);

/* xlsx_read - the sheet named want (NULL: the first visible one) of the workbook into out
 * (xlsx_free it); -1 with the reason in err (naming the sheet and cell when one is at fault) */
int xlsx_read(const char *data, size_t size, const char *want, struct xlsx_sheet *out, char *err, size_t errsize);
void xlsx_free(struct xlsx_sheet *x);

/* xlsx_map_message - msg with every "SENT:LINE" (SENT the name the CSV was sent under)
 * told as the workbook's sheet, row and, when the message names one, cell; a new string */
char *xlsx_map_message(const struct xlsx_sheet *x, const char *sent, const char *file, const char *msg);

#endif
