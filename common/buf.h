/*
 * buf.h - a growing text buffer, and JSON strings written into it the way jansson writes
 * them. For text built piece by piece where a jansson tree would only be written out
 * again: delivery payloads, rendered templates, jdump().
 *
 * struct buf b = { 0 } is empty; after any put, b.p is NUL-terminated and b.len long. The
 * buffer owns b.p: free(b.p), or hand it on.
 */
#ifndef THIDUA_BUF_H
#define THIDUA_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len, cap;
};

/* buf_put - append s[0..n) */
void buf_put(struct buf *b, const char *s, size_t n);

/* buf_grow - room for n more bytes and the NUL */
void buf_grow(struct buf *b, size_t n);

/* buf_putc - append one byte */
static inline void buf_putc(struct buf *b, char c)
{
	if (b->len + 2 > b->cap)
		buf_grow(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = 0;
}

/* buf_int - append v in decimal, as printf's %lld writes it */
void buf_int(struct buf *b, long long v);

/* int_text - v in decimal into out, NUL-terminated (%lld without printf); its length */
size_t int_text(char out[24], long long v);

/* BUF_PUT - append a string literal */
#define BUF_PUT(b, lit) buf_put((b), "" lit, sizeof(lit) - 1)

void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* buf_json_str - s[0..n) as a JSON string, escaped as jansson escapes it: \" \\ \b \f \n
 * \r \t, and \u00XX (upper case) for the other control characters. Other bytes are copied
 * as they are: the caller knows the text is UTF-8. */
void buf_json_str(struct buf *b, const char *s, size_t n);

#endif
