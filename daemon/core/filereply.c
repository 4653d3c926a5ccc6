/*
 * filereply.c - one stored file as the file frame of a reply (report.file, proposal.file):
 * the bytes from their row or from under files/ (blobs.c), hashed again before they
 * leave, so that a file changed on disk is refused, not sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filereply.h"
#include "rq.h"
#include "sha256.h"
#include "thiduad.h"
#include "xalloc.h"

/* read_stored - the content of a file kept under files/ (blobs.c), malloc'd */
static void *read_stored(struct daemon *d, const char *hex, int64_t size)
{
	char path[4300];
	unsigned char *data;
	size_t done = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/files/%.2s/%s", d->state_dir, hex, hex);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	data = xmalloc(size ? (size_t)size : 1);
	while (done < (size_t)size) {
		ssize_t n = read(fd, data + done, (size_t)size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	if (done != (size_t)size) {
		free(data);
		return NULL;
	}
	return data;
}

/* filereply_want_sha256 - the request's sha256: 64 lowercase hexadecimal digits, or NULL with the
 * error reply */
const char *filereply_want_sha256(struct request *rq, const char *listed_by)
{
	const char *hex = rq_str(rq, "sha256", 1);

	if (hex && (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)) {
		rq_error(rq, "invalid_field", "'sha256' must be 64 lowercase hexadecimal digits, as %s lists them", listed_by);
		return NULL;
	}
	return hex;
}

/* filereply_read_row - row s (name, size, data) into f */
void filereply_read_row(sqlite3_stmt *s, struct found_file *f)
{
	f->name = xstrdup((const char *)sqlite3_column_text(s, 0));
	f->size = sqlite3_column_int64(s, 1);
	f->data = NULL;
	if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
		f->data = xmalloc(f->size ? (size_t)f->size : 1);
		if (sqlite3_column_bytes(s, 2) == f->size)
			memcpy(f->data, sqlite3_column_blob(s, 2), (size_t)f->size);
		else
			f->size = -1;
	}
}

/* filereply_send - the file's bytes (from its row, or under files/), hashed again, as the
 * reply's file frame (out holds the JSON members; emptied on an error); `whose` names it
 * in an error ("receipt BN-2024-000001"). Frees f. */
int filereply_send(struct daemon *d, struct request *rq, json_t *out, struct found_file *f, const char *hex,
		       const char *whose)
{
	char got[65];

	if (!f->data && f->size >= 0)
		f->data = read_stored(d, hex, f->size);
	if (f->data && f->size >= 0)
		sha256_hex(f->data, (size_t)f->size, got);
	if (!f->data || f->size < 0 || strcmp(got, hex)) {
		free(f->data);
		json_object_clear(out);
		rq_error(rq, "internal", "the stored copy of \"%s\" (%s) is missing or changed: run thiduactl files verify, restore it from a backup",
			 f->name, whose);
		free(f->name);
		return -1;
	}
	free(f->name);
	rq_reply_file(rq, f->data, (size_t)f->size);
	return 0;
}
