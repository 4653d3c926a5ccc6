/*
 * csvout.c - RFC 4180 CSV output for thiduactl's --csv exports and thidua-web's (csvout.h).
 */
#include <stdlib.h>
#include <string.h>

#include "csvout.h"
#include "xalloc.h"

/* csvout_field - separator, then the field, quoted only when it must be */
void csvout_field(struct csvout *w, const char *s)
{
	char sep = w->sep ? w->sep : ',';
	char special[] = { sep, '"', '\r', '\n', 0 };

	if (w->col++)
		fputc(sep, w->fp);
	if (!s)
		return;
	if (!s[strcspn(s, special)]) {
		fputs(s, w->fp);
		return;
	}
	fputc('"', w->fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', w->fp);
		fputc(*s, w->fp);
	}
	fputc('"', w->fp);
}

/* csvout_end - CRLF, as RFC 4180 asks */
void csvout_end(struct csvout *w)
{
	fputs("\r\n", w->fp);
	w->col = 0;
}

void csvout_excel_field(struct csvout *w, const char *s)
{
	char *quoted;

	if (!s || !s[0] || !strchr("=+-@\t\r", s[0])) {
		csvout_field(w, s);
		return;
	}
	quoted = xasprintf("'%s", s);
	csvout_field(w, quoted);
	free(quoted);
}
