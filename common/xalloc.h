/*
 * xalloc.h - allocation that never returns NULL: exhaustion ends the process.
 * Also the bounded string helpers every module uses instead of strcpy/sprintf/strcat.
 */
#ifndef THIDUA_XALLOC_H
#define THIDUA_XALLOC_H

#include <stddef.h>
#include <stdarg.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* strlcpy-like: copy at most size-1 bytes, always terminate; returns strlen(src) */
size_t xstrlcpy(char *dst, const char *src, size_t size);

/* strv: NULL-terminated arrays of owned strings */
char **strv_append(char **v, const char *s);
size_t strv_len(char *const *v);
void strv_free(char ***v_p);

#endif
