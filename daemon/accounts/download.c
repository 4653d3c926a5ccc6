/*
 * download.c - report.file: one file of a receipt, by its SHA-256, as a file frame of the
 * reply, for whoever may read the receipt (the report.receipt row of the authorization
 * table). The web page's downloads go through it: the gateway never opens the database.
 * The bytes are hashed again before they leave: a file changed on disk is refused, not
 * sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "config.h"
#include "outbox.h"
#include "registry.h"
#include "reorg.h"
#include "rq.h"
#include "sha256.h"
#include "statedir.h"
#include "store.h"
#include "templates.h"
#include "thiduad.h"
#include "units.h"
#include "utf8.h"
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

int op_report_file(struct daemon *d, struct request *rq, json_t *out)
{
	const char *number = rq_str(rq, "receipt", 1), *hex = number ? rq_str(rq, "sha256", 1) : NULL;
	sqlite3_stmt *s;
	struct reader rd;
	void *data = NULL;
	char *name = NULL, got[65];
	int64_t size = 0;
	int found = 0, seen;

	if (!hex)
		return -1;
	if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
		return rq_error(rq, "invalid_field", "'sha256' must be 64 lowercase hexadecimal digits, as the receipt lists them");
	s = store_stmt(d->store, "SELECT o.unit, o.report FROM submissions s JOIN obligations o ON o.id = s.obligation WHERE s.receipt = ?1");
	sqlite3_bind_text(s, 1, number, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return rq_error(rq, "unknown_receipt", "there is no receipt %.*s; receipt numbers look like BN-2024-000123",
				(int)utf8_clip(number, 64), number);
	}
	authz_reader(d, rq, &rd);
	seen = reader_sees_report(d, &rd, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
	sqlite3_reset(s);
	if (!seen)
		return authz_read_refused(rq, &rd, "the files of this receipt (of another unit, reported to another office)");
	s = store_stmt(d->store, "SELECT f.name, f.size, f.data FROM submissions s JOIN submission_files f ON f.submission = s.id"
		       " WHERE s.receipt = ?1 AND f.sha256 = ?2 ORDER BY f.idx LIMIT 1");
	sqlite3_bind_text(s, 1, number, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, hex, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		found = 1;
		name = xstrdup((const char *)sqlite3_column_text(s, 0));
		size = sqlite3_column_int64(s, 1);
		if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
			data = xmalloc(size ? (size_t)size : 1);
			if (sqlite3_column_bytes(s, 2) == size)
				memcpy(data, sqlite3_column_blob(s, 2), (size_t)size);
			else
				size = -1;
		}
	}
	sqlite3_reset(s);
	if (!found)
		return rq_error(rq, "unknown_file", "receipt %s has no file with SHA-256 %s: report.receipt lists its files", number, hex);
	if (!data && size >= 0)
		data = read_stored(d, hex, size);
	if (data && size >= 0)
		sha256_hex(data, (size_t)size, got);
	if (!data || size < 0 || strcmp(got, hex)) {
		free(data);
		rq_error(rq, "internal", "the stored copy of \"%s\" (receipt %s) is missing or changed: run thiduactl files verify, restore it from a backup",
			 name, number);
		free(name);
		return -1;
	}
	json_object_set_new(out, "receipt", json_string(number));
	json_object_set_new(out, "name", json_string(name));
	json_object_set_new(out, "size", json_integer(size));
	json_object_set_new(out, "sha256", json_string(hex));
	free(name);
	rq_reply_file(rq, data, (size_t)size);
	return 0;
}
