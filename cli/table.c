/*
 * table.c - column-aligned text tables.
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "xalloc.h"

struct table {
	size_t ncols, nrows;
	char **cells;		/* row-major, headers first */
};

/* text_width - count code points, skipping combining marks (U+0300..U+036F) */
size_t text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p) {
		unsigned cp = *p;
		int n = 0;

		if (cp >= 0xF0) { cp &= 0x07; n = 3; }
		else if (cp >= 0xE0) { cp &= 0x0F; n = 2; }
		else if (cp >= 0xC0) { cp &= 0x1F; n = 1; }
		p++;
		for (int i = 0; i < n && *p; i++, p++)
			cp = (cp << 6) | (*p & 0x3F);
		if (!(cp >= 0x300 && cp <= 0x36F))
			w++;
	}
	return w;
}

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	table_add(t, headers);
	return t;
}

void table_add(struct table *t, const char *const *cells)
{
	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "");
	t->nrows++;
}

/* table_print - pad every column but the last to its widest cell */
void table_print(struct table *t, FILE *fp)
{
	size_t *width = xcalloc(t->ncols, sizeof(size_t));

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = text_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			fputs(cell, fp);
			if (c + 1 < t->ncols)
				fprintf(fp, "%*s", (int)(width[c] - text_width(cell) + 2), "");
		}
		fputc('\n', fp);
	}
	free(width);
}

void table_destroy(struct table **self_p)
{
	struct table *t = *self_p;

	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	*self_p = NULL;
}
