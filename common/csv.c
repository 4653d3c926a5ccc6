/*
 * csv.c - a small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "utf8.h"
#include "xalloc.h"

struct field_buf {
	char *p;
	size_t len, cap;
};

static void fb_put(struct field_buf *fb, char c)
{
	if (fb->len + 1 >= fb->cap) {
		fb->cap = fb->cap ? fb->cap * 2 : 64;
		fb->p = xrealloc(fb->p, fb->cap);
	}
	fb->p[fb->len++] = c;
}

static void row_add_field(struct csv_row *row, struct field_buf *fb)
{
	row->fields = xrealloc(row->fields, (row->nfields + 1) * sizeof(char *));
	row->fields[row->nfields++] = xstrndup(fb->p ? fb->p : "", fb->len);
	fb->len = 0;
}

/* row_blank - a row made of one empty field is a blank line */
static int row_blank(const struct csv_row *row)
{
	return row->nfields == 1 && row->fields[0][0] == 0;
}

static void row_free(struct csv_row *row)
{
	for (size_t i = 0; i < row->nfields; i++)
		free(row->fields[i]);
	free(row->fields);
}

/* csv_parse - one pass over the buffer with a two-state (in quotes or not) scanner */
struct csv *csv_parse(const char *buf, size_t len, char *err, size_t errsize)
{
	struct csv *csv = xcalloc(1, sizeof(*csv));
	struct csv_row row = { 0 };
	struct field_buf fb = { 0 };
	size_t i = 0, line = 1;
	int quoted = 0, was_quoted = 0;

	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	if (!utf8_valid(buf + i, len - i)) {
		snprintf(err, errsize, "the file is not valid UTF-8 text (save it as CSV UTF-8)");
		goto fail;
	}
	row.line = line;
	for (; i <= len; i++) {
		char c = i < len ? buf[i] : '\n';
		int at_end = i == len;

		if (quoted) {
			if (at_end) {
				snprintf(err, errsize, "line %zu: a quoted field is not closed", row.line);
				goto fail;
			}
			if (c == '"') {
				if (i + 1 < len && buf[i + 1] == '"') {
					fb_put(&fb, '"');
					i++;
				} else {
					quoted = 0;
				}
			} else {
				if (c == '\n')
					line++;
				fb_put(&fb, c);
			}
			continue;
		}
		if (c == '"') {
			if (fb.len || was_quoted) {
				snprintf(err, errsize, "line %zu: a quote inside an unquoted field", line);
				goto fail;
			}
			quoted = was_quoted = 1;
		} else if (c == ',') {
			row_add_field(&row, &fb);
			was_quoted = 0;
		} else if (c == '\r' && i + 1 < len && buf[i + 1] == '\n') {
			continue;
		} else if (c == '\n') {
			if (at_end && row.nfields == 0 && fb.len == 0 && !was_quoted)
				break;
			row_add_field(&row, &fb);
			was_quoted = 0;
			if (row_blank(&row)) {
				row_free(&row);
			} else {
				csv->rows = xrealloc(csv->rows, (csv->nrows + 1) * sizeof(*csv->rows));
				csv->rows[csv->nrows++] = row;
			}
			memset(&row, 0, sizeof(row));
			row.line = ++line;
		} else {
			if (was_quoted) {
				snprintf(err, errsize, "line %zu: text after a closing quote", line);
				goto fail;
			}
			fb_put(&fb, c);
		}
	}
	free(fb.p);
	return csv;
fail:
	free(fb.p);
	row_free(&row);
	csv_destroy(&csv);
	return NULL;
}

/* csv_destroy - free all rows; accepts NULL and clears the pointer */
void csv_destroy(struct csv **self_p)
{
	struct csv *csv = *self_p;

	if (!csv)
		return;
	for (size_t r = 0; r < csv->nrows; r++)
		row_free(&csv->rows[r]);
	free(csv->rows);
	free(csv);
	*self_p = NULL;
}

/* csv_field_index - find a column by its header name (exact, after trimming spaces) */
int csv_field_index(const struct csv_row *header, const char *name)
{
	for (size_t i = 0; i < header->nfields; i++) {
		const char *f = header->fields[i];
		size_t n = strlen(f);

		while (*f == ' ')
			f++, n--;
		while (n && f[n - 1] == ' ')
			n--;
		if (strlen(name) == n && strncmp(f, name, n) == 0)
			return (int)i;
	}
	return -1;
}
