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

#include "blobs.h"
#include "filereply.h"
#include "log.h"
#include "rq.h"
#include "sha256.h"
#include "thiduad.h"
#include "xalloc.h"

/* filereply_want_sha256 - the request's sha256: 64 lowercase hexadecimal digits, or NULL with the
 * error reply */
const char *filereply_want_sha256(struct request *rq, const char *listed_by)
{
	const char *hex = rq_str(rq, "sha256", 1);

	if (hex && (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)) {
		rq_error(rq, ERR_INVALID_FIELD, "'sha256' must be 64 lowercase hexadecimal digits, as %s lists them", listed_by);
		return NULL;
	}
	return hex;
}

/* filereply_send - the file of row s, a SELECT of (name, size, data) bound by the caller:
 * its bytes (from the row, or under files/: blobs_read), hashed again, as the reply's file
 * frame, with "name", "size" and "sha256" beside what out holds (emptied on an error);
 * `whose` names it in an error ("receipt BN-2024-000001"). 1 when s finds no row. */
int filereply_send(struct daemon *d, struct request *rq, json_t *out, sqlite3_stmt *s, const char *hex,
		   const char *whose)
{
	char got[65] = "", why[512] = "";
	char *name;
	void *data = NULL;
	int64_t size;
	int whole = 1;

	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return 1;
	}
	name = xstrdup((const char *)sqlite3_column_text(s, 0));
	size = sqlite3_column_int64(s, 1);
	if (sqlite3_column_type(s, 2) != SQLITE_NULL) {	/* kept in the row */
		whole = sqlite3_column_bytes(s, 2) == size;
		if (whole) {
			data = xmalloc(size ? (size_t)size : 1);
			memcpy(data, sqlite3_column_blob(s, 2), (size_t)size);
			sha256_hex(data, (size_t)size, got);
		}
	} else {
		data = blobs_read(d, hex, size, why, sizeof(why));	/* checks the hash */
		if (data)
			snprintf(got, sizeof(got), "%s", hex);
	}
	sqlite3_reset(s);
	if (!data || !whole || strcmp(got, hex)) {
		free(data);
		json_object_clear(out);
		rq_error(rq, ERR_INTERNAL, "the stored copy of \"%s\" (%s) is missing or changed: run thiduactl files verify, restore it from a backup",
			 name, whose);
		if (*why)
			log_msg(LOG_ERR, "files: %s", why);
		free(name);
		return -1;
	}
	json_object_set_new(out, "name", json_string(name));
	json_object_set_new(out, "size", json_integer(size));
	json_object_set_new(out, "sha256", json_string(hex));
	free(name);
	rq_reply_file(rq, data, (size_t)size);
	return 0;
}
