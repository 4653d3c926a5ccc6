/*
 * tar.c - ustar header blocks (POSIX.1-1988 as pax(1) writes them): name, mode, owner
 * 0/0 named thidua, size, mtime, checksum, "ustar\0" "00". Enough for `tar xf` and for
 * restore.c; no long names, links or extended headers are ever written.
 */
#include <stdio.h>
#include <string.h>

#include "tar.h"
#include "xalloc.h"

/* octal - v into field of width w as w-1 octal digits and a NUL */
static void octal(unsigned char *field, size_t w, uint64_t v)
{
	field[w - 1] = 0;
	for (size_t i = w - 1; i-- > 0; v >>= 3)
		field[i] = (unsigned char)('0' + (v & 7));
}

/* checksum - the sum of the block's bytes with the checksum field as spaces */
static unsigned checksum(const unsigned char *b)
{
	unsigned sum = 0;

	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += i >= 148 && i < 156 ? ' ' : b[i];
	return sum;
}

int tar_header(unsigned char block[TAR_BLOCK], const char *name, int64_t size, unsigned mode, int64_t mtime)
{
	size_t len = strlen(name);

	if (len == 0 || len > 100 || size < 0)
		return -1;
	memset(block, 0, TAR_BLOCK);
	memcpy(block, name, len);
	octal(block + 100, 8, mode & 07777);
	octal(block + 108, 8, 0);
	octal(block + 116, 8, 0);
	if ((uint64_t)size < (UINT64_C(1) << 33)) {
		octal(block + 124, 12, (uint64_t)size);
	} else {		/* base-256: a leading 0x80, the size big-endian */
		block[124] = 0x80;
		for (int i = 11; i > 3; i--)
			block[124 + i] = (unsigned char)((uint64_t)size >> (8 * (11 - i)));
	}
	octal(block + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
	block[156] = '0';
	memcpy(block + 257, "ustar", 6);
	memcpy(block + 263, "00", 2);
	memcpy(block + 265, "thidua", 6);
	memcpy(block + 297, "thidua", 6);
	octal(block + 148, 7, checksum(block));
	block[155] = ' ';
	return 0;
}

/* field_octal - an octal field (spaces and NULs around the digits); -1 when not octal */
static int64_t field_octal(const unsigned char *f, size_t w)
{
	int64_t v = 0;
	size_t i = 0;

	while (i < w && f[i] == ' ')
		i++;
	if (i == w || f[i] < '0' || f[i] > '7')
		return -1;
	for (; i < w && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (INT64_MAX >> 3))
			return -1;
		v = v * 8 + (f[i] - '0');
	}
	for (; i < w; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	return v;
}

int tar_parse(const unsigned char block[TAR_BLOCK], char name[101], int64_t *size, char *why, size_t whysize)
{
	int64_t sum;
	size_t i;

	for (i = 0; i < TAR_BLOCK && !block[i]; i++)
		;
	if (i == TAR_BLOCK)
		return 0;
	sum = field_octal(block + 148, 8);
	if (sum < 0 || (unsigned)sum != checksum(block)) {
		snprintf(why, whysize, "a header's checksum does not match: the archive is damaged");
		return -1;
	}
	if (memcmp(block + 257, "ustar", 5)) {
		snprintf(why, whysize, "a header is not in the ustar format");
		return -1;
	}
	memcpy(name, block, 100);
	name[100] = 0;
	if (block[345]) {
		snprintf(why, whysize, "member \"%.100s\" has a name prefix, which thidua never writes", name);
		return -1;
	}
	if (block[156] != '0' && block[156] != 0) {
		snprintf(why, whysize, "member \"%.100s\" is not a regular file (type '%c')", name, block[156]);
		return -1;
	}
	if (block[124] == 0x80) {
		*size = 0;
		for (i = 4; i < 12; i++)
			*size = (*size << 8) | block[124 + i];
		for (i = 1; i < 4; i++)
			if (block[124 + i])
				*size = -1;
	} else {
		*size = field_octal(block + 124, 12);
	}
	if (*size < 0) {
		snprintf(why, whysize, "member \"%.100s\" has no readable size", name);
		return -1;
	}
	return 1;
}
