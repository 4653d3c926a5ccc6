/*
 * csvout.h - writing RFC 4180 CSV: fields separated by commas, rows ended by CRLF, a
 * field quoted when it holds a comma, a double quote, CR or LF (inner quotes doubled).
 * Text is written as it is (UTF-8 in, UTF-8 out, no BOM). Shared by thiduactl's exports and
 * thidua-web's.
 */
#ifndef THIDUA_CSVOUT_H
#define THIDUA_CSVOUT_H

#include <stdio.h>

struct csvout {
	FILE *fp;
	size_t col;		/* fields written on the current row */
	char sep;		/* between fields: ',' (0 means ',' too) or ';' */
};

/* csvout_field - append one field (NULL is an empty field) to the current row */
void csvout_field(struct csvout *w, const char *s);

/* csvout_excel_field - csvout_field for a file Excel opens: a text starting with = + - @ TAB
 * or CR (which Excel would run as a formula) is written with a ' before it */
void csvout_excel_field(struct csvout *w, const char *s);

/* csvout_end - end the current row */
void csvout_end(struct csvout *w);

#endif
