/*
 * download.c - report.file and proposal.file: one file of a receipt or of a proposal's
 * dossier, by its SHA-256, as a file frame of the reply, for whoever may read the receipt
 * (the report.receipt row of the authorization table) or the proposal (proposal.show's).
 * The web page's downloads go through them: the gateway never opens the database. The
 * bytes are hashed again before they leave: a file changed on disk is refused, not sent.
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
#include "proposals.h"
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

/* want_sha256 - the request's sha256: 64 lowercase hexadecimal digits, or NULL with the
 * error reply */
static const char *want_sha256(struct request *rq, const char *listed_by)
{
	const char *hex = rq_str(rq, "sha256", 1);

	if (hex && (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)) {
		rq_error(rq, "invalid_field", "'sha256' must be 64 lowercase hexadecimal digits, as %s lists them", listed_by);
		return NULL;
	}
	return hex;
}

/* found_file - what a SELECT of (name, size, data) found: the name, the size, the
 * bytes when the row holds them (else size stays, data NULL), size -1 when the row's
 * bytes do not have the size it says */
struct found_file {
	char *name;
	void *data;
	int64_t size;
};

/* found_read - row s (name, size, data) into f */
static void found_read(sqlite3_stmt *s, struct found_file *f)
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

/* reply_found - the file's bytes (from its row, or under files/), hashed again, as the
 * reply's file frame (out holds the JSON members; emptied on an error); `whose` names it
 * in an error ("receipt BN-2024-000001"). Frees f. */
static int reply_found(struct daemon *d, struct request *rq, json_t *out, struct found_file *f, const char *hex,
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

int op_report_file(struct daemon *d, struct request *rq, json_t *out)
{
	const char *number = rq_str(rq, "receipt", 1), *hex = number ? want_sha256(rq, "the receipt") : NULL;
	sqlite3_stmt *s;
	struct reader rd;
	struct found_file f = { 0 };
	char whose[128];
	int found = 0, seen;

	if (!hex)
		return -1;
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
		found_read(s, &f);
	}
	sqlite3_reset(s);
	if (!found)
		return rq_error(rq, "unknown_file", "receipt %s has no file with SHA-256 %s: report.receipt lists its files", number, hex);
	json_object_set_new(out, "receipt", json_string(number));
	json_object_set_new(out, "name", json_string(f.name));
	json_object_set_new(out, "size", json_integer(f.size));
	json_object_set_new(out, "sha256", json_string(hex));
	snprintf(whose, sizeof(whose), "receipt %s", number);
	return reply_found(d, rq, out, &f, hex, whose);
}

/* op_proposal_file - a file of a proposal's dossier (any version of it): the proposal is
 * found and its reader checked as proposal.show does, with its errors */
int op_proposal_file(struct daemon *d, struct request *rq, json_t *out)
{
	long long id;
	const char *hex;
	json_t *shown;
	sqlite3_stmt *s;
	struct found_file f = { 0 };
	char whose[64];
	int found = 0;

	if (rq_int(rq, "proposal", 1, 1, INT64_MAX, &id) || !(hex = want_sha256(rq, "proposal.show")))
		return -1;
	shown = json_object();
	if (op_proposal_show(d, rq, shown)) {	/* unknown_proposal, forbidden */
		json_decref(shown);
		return -1;
	}
	json_decref(shown);
	s = store_stmt(d->store, "SELECT name, size, data FROM proposal_files WHERE proposal = ?1 AND sha256 = ?2"
		       " ORDER BY version DESC, idx LIMIT 1");
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, hex, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		found = 1;
		found_read(s, &f);
	}
	sqlite3_reset(s);
	if (!found)
		return rq_error(rq, "unknown_file", "proposal #%lld has no file with SHA-256 %s: proposal.show lists its files", id, hex);
	json_object_set_new(out, "proposal", json_integer(id));
	json_object_set_new(out, "name", json_string(f.name));
	json_object_set_new(out, "size", json_integer(f.size));
	json_object_set_new(out, "sha256", json_string(hex));
	snprintf(whose, sizeof(whose), "proposal #%lld", id);
	return reply_found(d, rq, out, &f, hex, whose);
}
