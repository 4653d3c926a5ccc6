/*
 * csvout.c - RFC 4180 CSV output for thiduactl's --csv exports (see csvout.h).
 */
#include <string.h>

#include "csvout.h"

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
