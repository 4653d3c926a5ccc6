/*
 * fuzz_xlsx.c - libFuzzer target: thiduactl's reading of an Excel workbook (cli/xlsx_read.c).
 * An input that starts like a zip is read as the workbook itself. Any other input is the
 * parts of one, separated by NUL bytes: the sheet, the shared strings, the styles and the
 * workbook part (a missing one gets a small valid default); they are zipped (stored) in
 * memory around the usual relationships, so the fuzzer reaches the XML readers instead of
 * stopping at the zip's checksums.
 *
 * Properties: no crash, leak or undefined behaviour; a workbook read gives CSV that is
 * valid UTF-8, rows in increasing order on increasing CSV lines, and every message mapped
 * back from the CSV is UTF-8.
 */
#include <string.h>

#include <zip.h>

#include "fuzz.h"
#include "utf8.h"
#include "xalloc.h"
#include "xlsx_read.h"

#define NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"" \
	" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""
#define REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

static const char *const names[] = { "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml", "xl/workbook.xml" };
static const char *const defaults[] = {
	"<worksheet " NS "><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row></sheetData></worksheet>",
	"<sst " NS "><si><t>code</t></si></sst>",
	"<styleSheet " NS "><cellXfs><xf numFmtId=\"14\"/></cellXfs></styleSheet>",
	"<workbook " NS "><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>",
};
static const char rels[] = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"" REL "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
static const char wb_rels[] = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"" REL "/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
	"<Relationship Id=\"rId2\" Type=\"" REL "/sharedStrings\" Target=\"sharedStrings.xml\"/>"
	"<Relationship Id=\"rId3\" Type=\"" REL "/styles\" Target=\"styles.xml\"/></Relationships>";

/* add - one stored member */
static void add(zip_t *za, const char *name, const void *data, size_t len)
{
	zip_source_t *s = zip_source_buffer(za, data, len, 0);
	zip_int64_t i = zip_file_add(za, name, s, ZIP_FL_OVERWRITE);

	FUZZ_ASSERT(i >= 0);
	zip_set_file_compression(za, (zip_uint64_t)i, ZIP_CM_STORE, 0);
}

/* zip_parts - the workbook of the NUL-separated parts of data, in a new buffer */
static char *zip_parts(const uint8_t *data, size_t size, size_t *len)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *za;
	const uint8_t *p = data, *end = data + size;
	char *out;

	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_source_keep(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	FUZZ_ASSERT(za);
	add(za, "_rels/.rels", rels, sizeof(rels) - 1);
	add(za, "xl/_rels/workbook.xml.rels", wb_rels, sizeof(wb_rels) - 1);
	for (size_t k = 0; k < 4; k++) {
		const uint8_t *nul = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;

		if (p < end)
			add(za, names[k], p, (size_t)((nul ? nul : end) - p));
		else
			add(za, names[k], defaults[k], strlen(defaults[k]));
		p = nul ? nul + 1 : end;
	}
	FUZZ_ASSERT(zip_close(za) == 0);
	FUZZ_ASSERT(zip_source_open(src) == 0);
	zip_source_seek(src, 0, SEEK_END);
	*len = (size_t)zip_source_tell(src);
	zip_source_seek(src, 0, SEEK_SET);
	out = xmalloc(*len + 1);
	FUZZ_ASSERT(zip_source_read(src, out, *len) == (zip_int64_t)*len);
	zip_source_close(src);
	zip_source_free(src);
	zip_error_fini(&ze);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlsx_sheet x;
	char err[512], *zipped = NULL, *msg;
	size_t len = size;
	const char *book = (const char *)data;

	if (!xlsx_is_workbook(book, size))
		book = zipped = zip_parts(data, size, &len);
	if (xlsx_read(book, len, size % 7 ? NULL : "S", &x, err, sizeof(err))) {
		FUZZ_ASSERT(utf8_valid_str(err));
		free(zipped);
		return 0;
	}
	FUZZ_ASSERT(x.nrows > 0 && x.csv && utf8_valid(x.csv, x.csv_len));
	for (size_t i = 1; i < x.nrows; i++)
		FUZZ_ASSERT(x.rows[i].row > x.rows[i - 1].row && x.rows[i].line > x.rows[i - 1].line);
	msg = xlsx_map_message(&x, "f.xlsx.csv", "f.xlsx",
			       "f.xlsx.csv: 2 problems: f.xlsx.csv:1: unknown column 'code'; f.xlsx.csv:2: 'x' also on line 1");
	FUZZ_ASSERT(utf8_valid_str(msg));
	free(msg);
	xlsx_free(&x);
	free(zipped);
	return 0;
}
