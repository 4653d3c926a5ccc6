/*
 * jalloc.c - the allocator thiduad gives jansson (jalloc.h).
 *
 * A request's JSON (its body, reply, receipt, audit detail and events: about a hundred
 * blocks of 16 to 256 bytes) lives until its turn ends, so a turn of 64 requests frees
 * thousands of small blocks at once, and the next turn asks for as many again. glibc's
 * per-thread cache keeps seven blocks of a size; the rest went through its bins, at a
 * fifth of the daemon's work per submission for malloc and free together (callgrind,
 * bench/intake). Here a freed block of up to 256 bytes goes on a list of its size, up to
 * JALLOC_KEEP bytes in all, and the next request of that size takes it back.
 *
 * Each block carries its size class in a 16-byte header, as free() has no size. Under
 * AddressSanitizer nothing is kept, so it still sees every use after free.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define JALLOC_KEEP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JALLOC_KEEP 0
#endif
#endif
#ifndef JALLOC_KEEP
#define JALLOC_KEEP ((size_t)1 << 20)
#endif

#define CLASS_BYTES 16
#define NCLASSES 16		/* blocks of 16, 32, ... 256 bytes are kept */
#define HEADER 16		/* the class, before the block: keeps malloc's alignment */

struct block {
	struct block *next;
};

static struct block *lists[NCLASSES + 1];
static size_t kept;

static void *jalloc(size_t n)
{
	size_t c;
	unsigned char *p;

	if (n > SIZE_MAX - HEADER - CLASS_BYTES)
		return NULL;
	c = n ? (n + CLASS_BYTES - 1) / CLASS_BYTES : 1;
	if (c <= NCLASSES && lists[c]) {
		struct block *b = lists[c];

		lists[c] = b->next;
		kept -= c * CLASS_BYTES;
		return b;
	}
	p = malloc(HEADER + (c <= NCLASSES ? c * CLASS_BYTES : n));
	if (!p)
		return NULL;
	memcpy(p, &c, sizeof(c));
	return p + HEADER;
}

static void jfree(void *ptr)
{
	unsigned char *p;
	size_t c;

	if (!ptr)
		return;
	p = (unsigned char *)ptr - HEADER;
	memcpy(&c, p, sizeof(c));
	if (c <= NCLASSES && kept + c * CLASS_BYTES <= JALLOC_KEEP) {
		struct block *b = ptr;

		b->next = lists[c];
		lists[c] = b;
		kept += c * CLASS_BYTES;
		return;
	}
	free(p);
}

void jalloc_install(void)
{
	json_set_alloc_funcs(jalloc, jfree);
}

size_t jalloc_kept(void)
{
	return kept;
}

size_t jalloc_limit(void)
{
	return JALLOC_KEEP;
}
