/*
 * page.h - list ops answer a page at a time: at most PAGE_ROWS_MAX rows (the request's
 * "limit"), and rows stop once the page holds PAGE_BYTES_MAX of them; "more" says another
 * page follows, and a cursor member (the last row's id or seq) asks for it.
 */
#ifndef THIDUA_PAGE_H
#define THIDUA_PAGE_H

#include <sqlite3.h>
#include <stddef.h>

struct request;

#define PAGE_ROWS_MAX 1000
#define PAGE_BYTES_MAX (4 << 20)
int page_limit(struct request *rq, long long def, long long *limit);
int page_cursor(struct request *rq, const char *key, long long *cursor);
int page_full(size_t *bytes, size_t row_bytes);
size_t page_row_bytes(sqlite3_stmt *s);

#endif
