/*
 * tar.h - the POSIX ustar headers of backup archives: written by backup.c, read back by
 * restore.c. Regular files only; a size past the 11 octal digits (8 GiB) is written in
 * the base-256 form GNU tar and bsdtar read.
 */
#ifndef THIDUA_TAR_H
#define THIDUA_TAR_H

#include <stdint.h>

#define TAR_BLOCK 512

/* tar_header - the header block of a regular file; -1 when name is too long for it */
int tar_header(unsigned char block[TAR_BLOCK], const char *name, int64_t size, unsigned mode, int64_t mtime);

/* tar_parse - a header block: 1 a regular file (name, size), 0 the end (a zero block),
 * -1 not a header we write (why says what is wrong) */
int tar_parse(const unsigned char block[TAR_BLOCK], char name[101], int64_t *size, char *why, size_t whysize);

/* tar_padding - the zero bytes after size bytes of content */
static inline int64_t tar_padding(int64_t size)
{
	return (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
}

#endif
