/*
 * page.c - list ops answer a page at a time: at most PAGE_ROWS_MAX rows (the request's
 * "limit"), and rows stop once the page holds PAGE_BYTES_MAX of them; "more" says another
 * page follows, and a cursor member (the last row's id or seq) asks for it.
 */
#include "proposals.h"
#include "thiduad.h"

/* page_limit - the "limit" member: def when absent, else 1 to PAGE_ROWS_MAX; -1 error */
int page_limit(struct request *rq, long long def, long long *limit)
{
	*limit = def;
	return want_int(rq, "limit", 0, 1, PAGE_ROWS_MAX, limit) < 0 ? -1 : 0;
}

/* page_cursor - the cursor member key, the last id of the page before: 0 when absent */
int page_cursor(struct request *rq, const char *key, long long *cursor)
{
	*cursor = 0;
	return want_int(rq, key, 0, 1, INT64_MAX, cursor) < 0 ? -1 : 0;
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
