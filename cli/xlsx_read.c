/*
 * xlsx_read.c - an .xlsx workbook's first visible sheet as CSV (see xlsx_read.h).
 *
 * The parts are found the way the format says: _rels/.rels names the workbook, the
 * workbook's relationships name its sheets, shared strings and styles. Cells are read as
 * Excel stores them: shared strings (rich text runs joined, phonetic runs left out),
 * inline strings, numbers (a number with a date format becomes YYYY-MM-DD), booleans,
 * formulas by their computed value; _xHHHH_ escapes are decoded. A document type
 * declaration is refused, so no entity is ever expanded.
 */
#include <ctype.h>
#include <math.h>		/* isfinite */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <zip.h>

#include "buf.h"
#include "csvout.h"
#include "timeutil.h"
#include "utf8.h"
#include "xalloc.h"
#include "xlsx_read.h"

/* the reading of one workbook */
struct rd {
	zip_t *zip;
	char *err;
	size_t errsize;
	int failed;
	const char *sheet;		/* for messages */
	/* workbook */
	char *wb_path;			/* xl/workbook.xml */
	char *sheet_name, *sheet_rid;
	const char *want;		/* the sheet asked for, or NULL: the first visible one */
	struct buf names;		/* the sheets' names, for a message */
	int date1904;
	/* relationships: the one asked for by id or by type suffix */
	const char *want_id, *want_type;
	char *found;
	/* styles: is cellXfs[i] a date? */
	unsigned char *xf_date;
	size_t nxf;
	struct { unsigned id; int date; } *fmts;
	size_t nfmts;
	int in_xfs;
	/* shared strings */
	char **sst;
	size_t nsst;
	/* parsing state */
	XML_Parser p;
	int depth_rph;			/* inside <rPh> (phonetic text, not part of the value) */
	int in_si, in_t, in_v, in_is, in_f;
	struct buf text, v;
	/* the cell being read */
	uint32_t row, col, next_col;
	int has_r;
	char type[16];
	long style;
	struct xlsx_sheet *out;
	struct xlsx_row cur;
	size_t ncells;
};

static void fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed++)
		return;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errsize, fmt, ap);
	va_end(ap);
	if (r->p)
		XML_StopParser(r->p, XML_FALSE);
}

int xlsx_is_workbook(const char *data, size_t size)
{
	return size >= 4 && !memcmp(data, "PK\x03\x04", 4);
}

/* local - an element or attribute name without its namespace prefix */
static const char *local(const char *name)
{
	const char *c = strrchr(name, ':');

	return c ? c + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (!strcmp(local(atts[i]), name))
			return atts[i + 1];
	return NULL;
}

/* read_part - one member of the zip, at most max bytes unzipped; NULL when absent (or failed).
 * The buffer grows with what is read: the size the zip declares is only a first guess. */
static char *read_part(struct rd *r, const char *name, size_t max, size_t *len)
{
	zip_int64_t i = zip_name_locate(r->zip, name, 0);
	zip_stat_t st;
	zip_file_t *f;
	char *data;
	size_t used = 0, cap;

	if (i < 0)
		i = zip_name_locate(r->zip, name, ZIP_FL_NOCASE);
	if (i < 0)
		return NULL;
	if (!(f = zip_fopen_index(r->zip, (zip_uint64_t)i, 0))) {
		fail(r, "cannot read %s in the workbook: %s", name, zip_error_strerror(zip_get_error(r->zip)));
		return NULL;
	}
	cap = !zip_stat_index(r->zip, (zip_uint64_t)i, 0, &st) && (st.valid & ZIP_STAT_SIZE) && st.size < max
	      ? (size_t)st.size + 1 : 65536;
	data = xmalloc(cap + 1);
	for (;;) {
		zip_int64_t n;

		if (used == cap) {
			cap = cap > max / 2 ? max + 1 : cap * 2;
			data = xrealloc(data, cap + 1);
		}
		if ((n = zip_fread(f, data + used, cap - used)) < 0) {
			fail(r, "cannot read %s in the workbook: %s (is the file damaged?)", name, zip_file_strerror(f));
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			fail(r, "%s in the workbook is over %zu MiB unpacked: split the sheet into smaller files", name, max >> 20);
			break;
		}
	}
	zip_fclose(f);
	if (r->failed) {
		free(data);
		return NULL;
	}
	data[used] = 0;
	*len = used;
	return data;
}

static void XMLCALL no_doctype(void *ud, const XML_Char *name, const XML_Char *sys, const XML_Char *pub, int internal)
{
	(void)name, (void)sys, (void)pub, (void)internal;
	fail(ud, "the workbook declares a document type, which Excel never writes: save it again from Excel as .xlsx");
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct rd *r = ud;

	if (r->in_v || r->in_f == 2)
		buf_put(&r->v, s, (size_t)len);
	else if (r->in_t && !r->depth_rph)
		buf_put(&r->text, s, (size_t)len);
}

/* parse - one part through expat with the given handlers */
static int parse(struct rd *r, const char *part, const char *data, size_t len, XML_StartElementHandler start,
		 XML_EndElementHandler end)
{
	r->p = XML_ParserCreate("UTF-8");
	XML_SetUserData(r->p, r);
	XML_SetElementHandler(r->p, start, end);
	XML_SetCharacterDataHandler(r->p, on_text);
	XML_SetStartDoctypeDeclHandler(r->p, no_doctype);
	if (XML_Parse(r->p, data, (int)len, 1) == XML_STATUS_ERROR && !r->failed)
		fail(r, "%s in the workbook is not well-formed XML (line %lu: %s): save it again from Excel as .xlsx", part,
		     (unsigned long)XML_GetCurrentLineNumber(r->p), XML_ErrorString(XML_GetErrorCode(r->p)));
	XML_ParserFree(r->p);
	r->p = NULL;
	return r->failed ? -1 : 0;
}

/* --- relationships ------------------------------------------------------------------ */

static void XMLCALL rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct rd *r = ud;
	const char *id = attr(atts, "Id"), *type = attr(atts, "Type"), *target = attr(atts, "Target");
	size_t tl, wl;

	if (strcmp(local(name), "Relationship") || !target || r->found)
		return;
	if (r->want_id && id && !strcmp(id, r->want_id))
		r->found = xstrdup(target);
	if (r->want_type && type && (tl = strlen(type)) >= (wl = strlen(r->want_type)) && !strcmp(type + tl - wl, r->want_type))
		r->found = xstrdup(target);
}

static void XMLCALL ignore_end(void *ud, const XML_Char *name)
{
	(void)ud, (void)name;
}

/* resolve - target relative to the directory of base ("xl/workbook.xml" + "worksheets/sheet1.xml") */
static char *resolve(const char *base, const char *target)
{
	const char *slash = strrchr(base, '/');

	if (target[0] == '/')
		return xstrdup(target + 1);
	if (!slash)
		return xstrdup(target);
	return xasprintf("%.*s/%s", (int)(slash - base), base, target);
}

/* relation - the target of the relationship of part (by id or type suffix), resolved */
static char *relation(struct rd *r, const char *part, const char *id, const char *type)
{
	const char *slash = strrchr(part, '/');
	char *rels = slash ? xasprintf("%.*s/_rels/%s.rels", (int)(slash - part), part, slash + 1)
			   : xasprintf("_rels/%s.rels", part);
	size_t len;
	char *data = read_part(r, rels, XLSX_MAX_SMALL, &len), *target = NULL;

	r->want_id = id;
	r->want_type = type;
	r->found = NULL;
	if (data && !parse(r, rels, data, len, rels_start, ignore_end) && r->found)
		target = *part ? resolve(part, r->found) : xstrdup(r->found[0] == '/' ? r->found + 1 : r->found);
	free(r->found);
	r->found = NULL;
	free(data);
	free(rels);
	return target;
}

/* --- workbook ------------------------------------------------------------------------ */

static void XMLCALL wb_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct rd *r = ud;
	const char *n = local(name), *v;

	if (!strcmp(n, "workbookPr") && (v = attr(atts, "date1904")))
		r->date1904 = !strcmp(v, "1") || !strcmp(v, "true");
	if (strcmp(n, "sheet") || !attr(atts, "name") || !attr(atts, "id"))
		return;
	if (r->names.len < 1024) {
		if (r->names.len)
			BUF_PUT(&r->names, ", ");
		BUF_PUT(&r->names, "'");
		buf_put(&r->names, attr(atts, "name"), strlen(attr(atts, "name")));
		BUF_PUT(&r->names, "'");
	}
	if (!r->sheet_rid && (r->want ? !strcmp(r->want, attr(atts, "name"))
			      : !(v = attr(atts, "state")) || !strcmp(v, "visible"))) {
		r->sheet_name = xstrdup(attr(atts, "name"));
		r->sheet_rid = xstrdup(attr(atts, "id"));
	}
}

/* --- styles: which cell formats are dates ------------------------------------------- */

/* date_code - a number format code that shows a date or time (d, m, y, h, s outside quotes) */
static int date_code(const char *code)
{
	if (!strcasecmp(code, "General"))
		return 0;
	for (const char *c = code; *c; c++) {
		if (*c == '"') {
			while (c[1] && c[1] != '"')
				c++;
			c += !!c[1];
		} else if (*c == '\\' || *c == '_' || *c == '*') {
			c += !!c[1];
		} else if (*c == '[') {
			while (c[1] && c[1] != ']')
				c++;
		} else if (strchr("dmyhsDMYHS", *c)) {
			return 1;
		}
	}
	return 0;
}

static int builtin_date(unsigned id)
{
	return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58);
}

static void XMLCALL styles_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct rd *r = ud;
	const char *n = local(name), *id = attr(atts, "numFmtId");

	if (!strcmp(n, "cellXfs"))
		r->in_xfs = 1;
	else if (!strcmp(n, "numFmt") && id && attr(atts, "formatCode") && r->nfmts < 4096) {
		r->fmts = xrealloc(r->fmts, (r->nfmts + 1) * sizeof(*r->fmts));
		r->fmts[r->nfmts].id = (unsigned)strtoul(id, NULL, 10);
		r->fmts[r->nfmts++].date = date_code(attr(atts, "formatCode"));
	} else if (!strcmp(n, "xf") && r->in_xfs && r->nxf < 65536) {
		unsigned fid = id ? (unsigned)strtoul(id, NULL, 10) : 0;
		int date = builtin_date(fid);

		for (size_t i = 0; i < r->nfmts; i++)
			if (r->fmts[i].id == fid)
				date = r->fmts[i].date;
		r->xf_date = xrealloc(r->xf_date, r->nxf + 1);
		r->xf_date[r->nxf++] = (unsigned char)date;
	}
}

static void XMLCALL styles_end(void *ud, const XML_Char *name)
{
	if (!strcmp(local(name), "cellXfs"))
		((struct rd *)ud)->in_xfs = 0;
}

/* --- shared strings ------------------------------------------------------------------ */

static void XMLCALL sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct rd *r = ud;
	const char *n = local(name);

	(void)atts;
	if (!strcmp(n, "si")) {
		r->in_si = 1;
		r->text.len = 0;
	} else if (!strcmp(n, "rPh")) {
		r->depth_rph++;
	} else if (!strcmp(n, "t") && r->in_si) {
		r->in_t = 1;
	}
}

/* unescape - text with Excel's _xHHHH_ escapes decoded (a character XML cannot carry) */
static char *unescape(const char *s, size_t len)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < len; i++) {
		unsigned cp;
		char enc[4];

		if (s[i] == '_' && i + 6 < len && s[i + 1] == 'x' && s[i + 6] == '_' && isxdigit((unsigned char)s[i + 2])
		    && isxdigit((unsigned char)s[i + 3]) && isxdigit((unsigned char)s[i + 4]) && isxdigit((unsigned char)s[i + 5])
		    && sscanf(s + i + 2, "%4x", &cp) == 1 && cp && (cp < 0xD800 || cp > 0xDFFF)) {
			size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;

			if (n == 1)
				enc[0] = (char)cp;
			else if (n == 2)
				enc[0] = (char)(0xC0 | cp >> 6), enc[1] = (char)(0x80 | (cp & 0x3F));
			else
				enc[0] = (char)(0xE0 | cp >> 12), enc[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
				enc[2] = (char)(0x80 | (cp & 0x3F));
			buf_put(&b, enc, n);
			i += 6;
		} else {
			buf_put(&b, s + i, 1);
		}
	}
	return b.p ? b.p : xstrdup("");
}

static void XMLCALL sst_end(void *ud, const XML_Char *name)
{
	struct rd *r = ud;
	const char *n = local(name);

	if (!strcmp(n, "t")) {
		r->in_t = 0;
	} else if (!strcmp(n, "rPh")) {
		r->depth_rph--;
	} else if (!strcmp(n, "si") && r->in_si) {
		r->in_si = 0;
		if (r->nsst >= XLSX_MAX_STRINGS) {
			fail(r, "the workbook has over %u different texts: split it into smaller files", XLSX_MAX_STRINGS);
			return;
		}
		if (!(r->nsst & (r->nsst - 1)) || !r->nsst)
			r->sst = xrealloc(r->sst, (r->nsst ? r->nsst * 2 : 1) * sizeof(*r->sst));
		r->sst[r->nsst++] = unescape(r->text.len ? r->text.p : "", r->text.len);
	}
}

/* --- the sheet ------------------------------------------------------------------------ */

/* cell_ref - "C7" into column (0-based) and row; -1 when malformed or past XFD1048576 */
static int cell_ref(const char *s, uint32_t *col, uint32_t *row)
{
	uint32_t c = 0, r = 0;
	const char *p = s;

	while (isalpha((unsigned char)*p) && c <= XLSX_MAX_COL)
		c = c * 26 + (uint32_t)(toupper((unsigned char)*p++) - 'A' + 1);
	while (isdigit((unsigned char)*p) && r <= XLSX_MAX_ROW)
		r = r * 10 + (uint32_t)(*p++ - '0');
	if (p == s || *p || !c || c > XLSX_MAX_COL || !r || r > XLSX_MAX_ROW)
		return -1;
	*col = c - 1;
	*row = r;
	return 0;
}

static void col_name(uint32_t col, char *buf, size_t size)
{
	char tmp[8];
	size_t n = 0;

	col++;
	while (col && n < sizeof(tmp)) {
		tmp[n++] = (char)('A' + (col - 1) % 26);
		col = (col - 1) / 26;
	}
	for (size_t i = 0; i < n && i + 1 < size; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n < size ? n : size - 1] = 0;
}

static void XMLCALL sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct rd *r = ud;
	const char *n = local(name), *v;

	if (!strcmp(n, "row")) {
		uint32_t row = r->row + 1;

		if (r->cur.cells) {
			fail(r, "sheet '%s': a row starts inside row %u: save the file again from Excel", r->sheet, r->row);
			return;
		}
		if ((v = attr(atts, "r"))) {
			char *end;
			unsigned long x = strtoul(v, &end, 10);

			if (*end || !x || x > XLSX_MAX_ROW) {
				fail(r, "sheet '%s': row number '%s' is not one Excel writes: save the file again from Excel", r->sheet, v);
				return;
			}
			row = (uint32_t)x;
		}
		if (row <= r->row) {
			fail(r, "sheet '%s': row %u comes after row %u: save the file again from Excel", r->sheet, row, r->row);
			return;
		}
		r->row = row;
		r->next_col = 0;
		r->cur = (struct xlsx_row){ row, 0, 0, NULL };
	} else if (!strcmp(n, "c")) {
		uint32_t col = r->next_col, row = r->row;

		if ((v = attr(atts, "r")) && cell_ref(v, &col, &row)) {
			fail(r, "sheet '%s': '%s' is not a cell reference: save the file again from Excel", r->sheet, v);
			return;
		}
		if (row != r->row || col < r->next_col || col >= XLSX_MAX_COL) {
			fail(r, "sheet '%s': cell %s is out of place in row %u: save the file again from Excel", r->sheet,
			     v ? v : "?", r->row);
			return;
		}
		r->col = col;
		r->next_col = col + 1;
		snprintf(r->type, sizeof(r->type), "%s", (v = attr(atts, "t")) ? v : "n");
		r->style = (v = attr(atts, "s")) ? strtol(v, NULL, 10) : 0;
		r->v.len = 0;
		r->text.len = 0;
		r->in_f = 0;
	} else if (!strcmp(n, "v")) {
		r->in_v = 1;
	} else if (!strcmp(n, "f")) {
		r->in_f = 2;		/* a formula: its text is not the value */
	} else if (!strcmp(n, "is")) {
		r->in_is = 1;
	} else if (!strcmp(n, "rPh")) {
		r->depth_rph++;
	} else if (!strcmp(n, "t") && r->in_is) {
		r->in_t = 1;
	}
}

/* number_text - a number as the importers read it; a date (by its style) as YYYY-MM-DD */
static char *number_text(struct rd *r, const char *ref, const char *s)
{
	char *end;
	double x = strtod(s, &end);

	if (end == s || *end || !isfinite(x)) {
		fail(r, "sheet '%s', cell %s: '%s' is not a number: save the file again from Excel", r->sheet, ref, s);
		return NULL;
	}
	if (r->style >= 0 && (size_t)r->style < r->nxf && r->xf_date[r->style] && x >= 1 && x < 2958466) {
		double day = (double)(long long)x;
		long secs = (long)((x - day) * 86400 + 0.5);
		int y;
		unsigned m, d;
		int32_t z;

		if (secs >= 86400)
			day += 1, secs = 0;
		if (r->date1904)
			z = (int32_t)day - 24107;
		else if (day == 60) {
			fail(r, "sheet '%s', cell %s: 29/02/1900 is not a date (Excel counts it, the calendar does not)", r->sheet, ref);
			return NULL;
		} else
			z = (int32_t)day - (day < 60 ? 25568 : 25569);
		civil_from_days(z, &y, &m, &d);
		if (!secs)
			return xasprintf("%04d-%02u-%02u", y, m, d);
		return xasprintf("%04d-%02u-%02uT%02ld:%02ld:%02ld", y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
	}
	return xasprintf("%.15g", x);
}

static void XMLCALL sheet_end(void *ud, const XML_Char *name)
{
	struct rd *r = ud;
	const char *n = local(name);
	char ref[24], colbuf[8], *value = NULL;
	const char *v;

	if (!strcmp(n, "v")) {
		r->in_v = 0;
	} else if (!strcmp(n, "f")) {
		r->in_f = 1;		/* seen */
		r->v.len = 0;
	} else if (!strcmp(n, "is")) {
		r->in_is = 0;
	} else if (!strcmp(n, "t")) {
		r->in_t = 0;
	} else if (!strcmp(n, "rPh")) {
		r->depth_rph--;
	} else if (!strcmp(n, "c")) {
		v = r->v.len ? r->v.p : "";
		col_name(r->col, colbuf, sizeof(colbuf));
		snprintf(ref, sizeof(ref), "%s%u", colbuf, r->row);
		if (!strcmp(r->type, "inlineStr")) {
			value = unescape(r->text.len ? r->text.p : "", r->text.len);
		} else if (!r->v.len) {
			if (r->in_f)
				fail(r, "sheet '%s', cell %s: the formula there has no computed value: open the file in Excel and"
				     " save it, or type the value", r->sheet, ref);
			return;
		} else if (!strcmp(r->type, "s")) {
			char *end;
			unsigned long i = strtoul(v, &end, 10);

			if (*end || i >= r->nsst) {
				fail(r, "sheet '%s', cell %s: refers to text %s, which the workbook does not have: is the file damaged?",
				     r->sheet, ref, v);
				return;
			}
			value = xstrdup(r->sst[i]);
		} else if (!strcmp(r->type, "str") || !strcmp(r->type, "d")) {
			value = unescape(v, r->v.len);
		} else if (!strcmp(r->type, "b")) {
			value = xstrdup(!strcmp(v, "1") ? "true" : "false");
		} else if (!strcmp(r->type, "e")) {
			fail(r, "sheet '%s', cell %s holds the error %s: put a value there", r->sheet, ref, v);
			return;
		} else if (!(value = number_text(r, ref, v))) {
			return;
		}
		if (!*value) {
			free(value);
			return;
		}
		if (++r->ncells > XLSX_MAX_CELLS) {
			free(value);
			fail(r, "sheet '%s' has over %u cells with a value: split it into smaller files", r->sheet, XLSX_MAX_CELLS);
			return;
		}
		if (!(r->cur.n & (r->cur.n - 1)) || !r->cur.n)
			r->cur.cells = xrealloc(r->cur.cells, (r->cur.n ? r->cur.n * 2 : 1) * sizeof(*r->cur.cells));
		r->cur.cells[r->cur.n++] = (struct xlsx_cell){ r->col, value };
	} else if (!strcmp(n, "row")) {
		struct xlsx_sheet *x = r->out;

		if (!r->cur.n) {
			free(r->cur.cells);
		} else {
			if (!(x->nrows & (x->nrows - 1)) || !x->nrows)
				x->rows = xrealloc(x->rows, (x->nrows ? x->nrows * 2 : 1) * sizeof(*x->rows));
			x->rows[x->nrows++] = r->cur;
		}
		r->cur = (struct xlsx_row){ 0, 0, 0, NULL };
	}
}

/* --- CSV -------------------------------------------------------------------------------- */

/* to_csv - the rows as CSV, line N being row N where no cell above holds a line break */
static int to_csv(struct rd *r, struct xlsx_sheet *x)
{
	size_t line = 1, size = 0;
	uint32_t width = 0;
	FILE *fp = open_memstream(&x->csv, &size);
	struct csvout w = { fp, 0, ',' };

	for (size_t i = 0; i < x->nrows; i++)
		if (x->rows[i].cells[x->rows[i].n - 1].col + 1 > width)
			width = x->rows[i].cells[x->rows[i].n - 1].col + 1;
	for (size_t i = 0; i < x->nrows && !r->failed; i++) {
		struct xlsx_row *row = &x->rows[i];
		size_t k = 0;

		for (; line < row->row; line++)
			fputs("\r\n", fp);
		row->line = line;
		for (uint32_t c = 0; c < width; c++) {
			const char *t = k < row->n && row->cells[k].col == c ? row->cells[k++].text : NULL;

			csvout_field(&w, t);
			for (; t && *t; t++)
				line += *t == '\n';
		}
		csvout_end(&w);
		line++;
		if ((size_t)ftell(fp) > XLSX_MAX_CSV)
			fail(r, "sheet '%s' makes over %u MiB of text: split it into smaller files", r->sheet, XLSX_MAX_CSV >> 20);
	}
	fclose(fp);
	x->csv_len = size;
	return r->failed ? -1 : 0;
}

void xlsx_free(struct xlsx_sheet *x)
{
	for (size_t i = 0; i < x->nrows; i++) {
		for (size_t k = 0; k < x->rows[i].n; k++)
			free(x->rows[i].cells[k].text);
		free(x->rows[i].cells);
	}
	free(x->rows);
	free(x->csv);
	free(x->name);
	*x = (struct xlsx_sheet){ 0 };
}

int xlsx_read(const char *data, size_t size, const char *want, struct xlsx_sheet *out, char *err, size_t errsize)
{
	struct rd r = { .err = err, .errsize = errsize, .sheet = "?", .out = out, .want = want };
	zip_error_t ze;
	zip_source_t *src;
	char *sheet_path = NULL, *part = NULL, *path;
	size_t len;

	*out = (struct xlsx_sheet){ 0 };
	if (size > XLSX_MAX_FILE) {
		snprintf(err, errsize, "the workbook is over %u MiB: split it into smaller files", XLSX_MAX_FILE >> 20);
		return -1;
	}
	zip_error_init(&ze);
	if (!(src = zip_source_buffer_create(data, size, 0, &ze))
	    || !(r.zip = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze))) {
		snprintf(err, errsize, "not a readable .xlsx workbook (%s): save it from Excel as \"Excel Workbook (*.xlsx)\"",
			 zip_error_strerror(&ze));
		if (src)
			zip_source_free(src);
		zip_error_fini(&ze);
		return -1;
	}
	zip_error_fini(&ze);
	r.wb_path = relation(&r, "", NULL, "/officeDocument");
	if (!r.failed && !r.wb_path)
		r.wb_path = xstrdup("xl/workbook.xml");
	if (!r.failed && !(part = read_part(&r, r.wb_path, XLSX_MAX_SMALL, &len)) && !r.failed)
		fail(&r, "the file has no workbook (%s): is it an Excel .xlsx file? (OpenDocument .ods: save it as .xlsx)", r.wb_path);
	if (part && !parse(&r, r.wb_path, part, len, wb_start, ignore_end) && !r.sheet_rid) {
		if (want)
			fail(&r, "the workbook has no sheet '%s' (its sheets: %s)", want, r.names.len ? r.names.p : "none");
		else
			fail(&r, "the workbook has no visible sheet");
	}
	free(part), part = NULL;
	if (!r.failed) {
		r.sheet = r.sheet_name;
		if (!(sheet_path = relation(&r, r.wb_path, r.sheet_rid, NULL)) && !r.failed)
			fail(&r, "sheet '%s' is named in the workbook but not found in the file: is the file damaged?", r.sheet);
	}
	if (!r.failed && (path = relation(&r, r.wb_path, NULL, "/styles"))) {
		if ((part = read_part(&r, path, XLSX_MAX_SMALL, &len)))
			parse(&r, path, part, len, styles_start, styles_end);
		free(part), part = NULL;
		free(path);
	}
	if (!r.failed && (path = relation(&r, r.wb_path, NULL, "/sharedStrings"))) {
		if ((part = read_part(&r, path, XLSX_MAX_PART, &len)))
			parse(&r, path, part, len, sst_start, sst_end);
		free(part), part = NULL;
		free(path);
	}
	if (!r.failed && !(part = read_part(&r, sheet_path, XLSX_MAX_PART, &len)) && !r.failed)
		fail(&r, "sheet '%s' (%s) is missing from the file: is the file damaged?", r.sheet, sheet_path);
	if (part)
		parse(&r, sheet_path, part, len, sheet_start, sheet_end);
	free(part);
	for (size_t k = 0; k < r.cur.n; k++)	/* a row left open by a failure */
		free(r.cur.cells[k].text);
	free(r.cur.cells);
	if (!r.failed && !out->nrows)
		fail(&r, "sheet '%s' is empty: the first row names the columns, each row after it is one entry", r.sheet);
	if (!r.failed)
		to_csv(&r, out);
	out->name = r.sheet_name;
	r.sheet_name = NULL;
	for (size_t i = 0; i < r.nsst; i++)
		free(r.sst[i]);
	free(r.sst);
	free(r.xf_date);
	free(r.fmts);
	free(r.text.p);
	free(r.v.p);
	free(r.sheet_rid);
	free(r.sheet_name);
	free(r.names.p);
	free(r.wb_path);
	free(sheet_path);
	zip_discard(r.zip);
	if (r.failed)
		xlsx_free(out);
	return r.failed ? -1 : 0;
}

/* --- messages about the CSV, told as the sheet -------------------------------------------- */

static int word_byte(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || (unsigned char)c >= 0x80;
}

/* has_token - needle in hay[0..len) standing alone (not inside a longer code or word) */
static int has_token(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return 0;
	for (const char *p = hay; (p = memmem(p, len - (size_t)(p - hay), needle, n)); p++)
		if ((p == hay || !word_byte(p[-1])) && (p + n == hay + len || !word_byte(p[n])))
			return 1;
	return 0;
}

/* has_quoted - 2 when 'text' or "text" in hay[0..len) is the cell's whole value, 1 when part of it */
static int has_quoted(const char *hay, size_t len, const char *value)
{
	int best = 0;

	for (size_t i = 0; i < len; i++) {
		const char *close;

		if (hay[i] != '\'' && hay[i] != '"')
			continue;
		if (!(close = memchr(hay + i + 1, hay[i], len - i - 1)))
			break;
		if (close > hay + i + 1) {
			size_t n = (size_t)(close - hay - i - 1);

			if (n == strlen(value) && !memcmp(hay + i + 1, value, n))
				return 2;
			if (n >= 2 && memmem(value, strlen(value), hay + i + 1, n))
				best = 1;
		}
		i = (size_t)(close - hay);
	}
	return best;
}

/* row_of - the sheet's row whose CSV line is line (the header for the lines before it) */
static const struct xlsx_row *row_of(const struct xlsx_sheet *x, size_t line)
{
	for (size_t i = 0; i < x->nrows; i++)
		if (x->rows[i].line == line)
			return &x->rows[i];
	return line && x->nrows && line <= x->rows[0].line ? &x->rows[0] : NULL;
}

static const char *cell_at(const struct xlsx_row *row, uint32_t col)
{
	for (size_t k = 0; k < row->n; k++)
		if (row->cells[k].col == col)
			return row->cells[k].text;
	return NULL;
}

/* where - "cell C7 (column level)" when the message points at one cell of row, else "row 7" */
static void where(const struct xlsx_sheet *x, const struct xlsx_row *row, const char *msg, size_t len, struct buf *out)
{
	int best = 0;
	uint32_t col = 0, ncols = 0;
	char name[8], num[24];

	for (size_t i = 0; i < x->nrows; i++)
		if (x->rows[i].cells[x->rows[i].n - 1].col + 1 > ncols)
			ncols = x->rows[i].cells[x->rows[i].n - 1].col + 1;
	for (uint32_t c = 0; c < ncols; c++) {
		const char *head = cell_at(&x->rows[0], c), *value = cell_at(row, c);
		int score = 0;

		if (value)
			score += has_quoted(msg, len, value) * 2 + (strlen(value) >= 3 && has_token(msg, len, value));
		if (head && row != &x->rows[0])
			score += has_token(msg, len, head);
		if (score > best)
			best = score, col = c;
	}
	int_text(num, row->row);
	if (!best) {
		BUF_PUT(out, "row ");
		buf_put(out, num, strlen(num));
		return;
	}
	col_name(col, name, sizeof(name));
	BUF_PUT(out, "cell ");
	buf_put(out, name, strlen(name));
	buf_put(out, num, strlen(num));
	if (cell_at(&x->rows[0], col) && row != &x->rows[0]) {
		BUF_PUT(out, " (column ");
		buf_put(out, cell_at(&x->rows[0], col), strlen(cell_at(&x->rows[0], col)));
		BUF_PUT(out, ")");
	}
}

/* line_refs - text with "line N" told as "row R" */
static void line_refs(const struct xlsx_sheet *x, const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		const struct xlsx_row *row;
		char *end, num[24];
		unsigned long n;

		if (i + 5 < len && !memcmp(s + i, "line ", 5) && (i == 0 || !word_byte(s[i - 1])) && isdigit((unsigned char)s[i + 5])
		    && (n = strtoul(s + i + 5, &end, 10)) && end <= s + len && (row = row_of(x, n))) {
			BUF_PUT(out, "row ");
			int_text(num, row->row);
			buf_put(out, num, strlen(num));
			i = (size_t)(end - s) - 1;
		} else {
			buf_putc(out, s[i]);
		}
	}
}

char *xlsx_map_message(const struct xlsx_sheet *x, const char *sent, const char *file, const char *msg)
{
	struct buf out = { 0 };
	size_t sl = strlen(sent);
	const char *p = msg;

	while (*p) {
		const char *hit = strstr(p, sent), *q, *next;
		const struct xlsx_row *row = NULL;
		unsigned long line = 0;
		char *end = NULL;

		if (!hit) {
			line_refs(x, p, strlen(p), &out);
			break;
		}
		line_refs(x, p, (size_t)(hit - p), &out);
		q = hit + sl;
		if (*q == ':' && isdigit((unsigned char)q[1])) {
			line = strtoul(q + 1, &end, 10);
			q = end;
			row = row_of(x, line);
		}
		/* the text this reference is about: up to the next reference */
		next = strstr(q, sent);
		next = next ? next : q + strlen(q);
		buf_put(&out, file, strlen(file));
		BUF_PUT(&out, ", sheet '");
		buf_put(&out, x->name, strlen(x->name));
		BUF_PUT(&out, "'");
		if (row) {
			BUF_PUT(&out, ", ");
			if (*q == ':')		/* "FILE:LINE: message": the message may name the cell */
				where(x, row, q + 1, (size_t)(next - q - 1), &out);
			else {
				char num[24];

				int_text(num, row->row);
				BUF_PUT(&out, "row ");
				buf_put(&out, num, strlen(num));
			}
		}
		p = q;
	}
	return out.p ? out.p : xstrdup("");
}
