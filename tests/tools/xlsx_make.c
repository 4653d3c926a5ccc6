/*
 * xlsx_make.c - a workbook written by libxlsxwriter itself, for the import tests: reads
 * {"sheet": NAME, "rows": [[CELL, ...], ...]} on stdin and writes FILE. A CELL is a string,
 * a number, null (left empty), {"date": "YYYY-MM-DD"} (a date with a dd/mm/yyyy format) or
 * {"bool": true}.
 *
 *   xlsx_make FILE < spec.json
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <xlsxwriter.h>

int main(int argc, char **argv)
{
	json_error_t je;
	json_t *spec, *row, *cell;
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *date;
	size_t r, c;

	if (argc != 2) {
		fprintf(stderr, "usage: xlsx_make FILE < spec.json\n");
		return 2;
	}
	if (!(spec = json_loadf(stdin, 0, &je))) {
		fprintf(stderr, "xlsx_make: %s\n", je.text);
		return 2;
	}
	wb = workbook_new(argv[1]);
	ws = workbook_add_worksheet(wb, json_string_value(json_object_get(spec, "sheet")));
	date = workbook_add_format(wb);
	format_set_num_format(date, "dd/mm/yyyy");
	json_array_foreach(json_object_get(spec, "rows"), r, row) {
		json_array_foreach(row, c, cell) {
			lxw_row_t rr = (lxw_row_t)r;
			lxw_col_t cc = (lxw_col_t)c;
			lxw_datetime dt = { 0 };

			if (json_is_string(cell))
				worksheet_write_string(ws, rr, cc, json_string_value(cell), NULL);
			else if (json_is_number(cell))
				worksheet_write_number(ws, rr, cc, json_number_value(cell), NULL);
			else if (json_object_get(cell, "date")
				 && sscanf(json_string_value(json_object_get(cell, "date")), "%d-%d-%d", &dt.year, &dt.month, &dt.day) == 3)
				worksheet_write_datetime(ws, rr, cc, &dt, date);
			else if (json_object_get(cell, "bool"))
				worksheet_write_boolean(ws, rr, cc, json_is_true(json_object_get(cell, "bool")), NULL);
		}
	}
	json_decref(spec);
	if (workbook_close(wb) != LXW_NO_ERROR) {
		fprintf(stderr, "xlsx_make: cannot write %s\n", argv[1]);
		return 1;
	}
	return 0;
}
