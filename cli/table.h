/*
 * table.h - plain text tables for people: columns padded by display width, so
 * Vietnamese names (precomposed or with combining marks) line up.
 */
#ifndef THIDUA_TABLE_H
#define THIDUA_TABLE_H

#include <stdio.h>

struct table;

struct table *table_new(size_t ncols, const char *const *headers);
void table_add(struct table *t, const char *const *cells);	/* copies the cells */
void table_print(struct table *t, FILE *fp);
void table_destroy(struct table **self_p);

size_t text_width(const char *s);	/* display columns of UTF-8 text */

#endif
