/*
 * page.c - list ops answer a page at a time: at most PAGE_ROWS_MAX rows (the request's
 * "limit"), and rows stop once the page holds PAGE_BYTES_MAX of them; "more" says another
 * page follows, and a cursor member (the last row's id or seq) asks for it.
 */
#include "thiduad.h"

/* page_limit - the "limit" member: def when absent, else 1 to PAGE_ROWS_MAX; -1 error */
int page_limit(struct request *rq, long long def, long long *limit)
{
	json_t *v = json_object_get(rq_body(rq), "limit");

	*limit = def;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > PAGE_ROWS_MAX)
		return rq_error(rq, "invalid_field", "'limit' must be a whole number from 1 to %d (a page; ask for the next one with the cursor the reply's 'more' points to)",
				PAGE_ROWS_MAX);
	*limit = json_integer_value(v);
	return 0;
}

/* page_cursor - an optional whole number member key (1 or more): 1 and *cursor when
 * present, 0 when absent, -1 error */
int page_cursor(struct request *rq, const char *key, long long *cursor)
{
	json_t *v = json_object_get(rq_body(rq), key);

	*cursor = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return rq_error(rq, "invalid_field", "'%s' must be a whole number from 1, the last id of the page before", key);
	*cursor = json_integer_value(v);
	return 1;
}

/* page_full - count a row of about row_bytes; 1 when the page cannot take it */
int page_full(size_t *bytes, size_t row_bytes)
{
	if (*bytes && *bytes + row_bytes > PAGE_BYTES_MAX)
		return 1;
	*bytes += row_bytes;
	return 0;
}

/* page_row_bytes - about what a row of s takes in a reply: its columns and their names */
size_t page_row_bytes(sqlite3_stmt *s)
{
	size_t n = 2;

	for (int i = 0; i < sqlite3_column_count(s); i++)
		n += (size_t)sqlite3_column_bytes(s, i) + 24;
	return n;
}
