/*
 * jalloc.h - the allocator thiduad gives jansson: small blocks kept for reuse.
 */
#ifndef THIDUA_JALLOC_H
#define THIDUA_JALLOC_H

#include <stddef.h>

/* jalloc_install - make jansson allocate through the lists of jalloc.c. Call it before
 * the first JSON value is made, in a process that uses jansson from one thread only. */
void jalloc_install(void);

/* jalloc_kept - bytes of freed blocks held for reuse now; jalloc_limit - at most */
size_t jalloc_kept(void);
size_t jalloc_limit(void);

#endif
