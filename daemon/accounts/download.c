/*
 * download.c - report.file: one file of a receipt, by its SHA-256, as a file frame of the
 * reply, for whoever may read the receipt (the report.receipt row of the authorization
 * table). The web page's downloads go through it (proposal.file is approvals/
 * proposals_file.c): the gateway never opens the database. core/filereply.c hashes the
 * bytes again before they leave.
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
#include "filereply.h"
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

int op_report_file(struct daemon *d, struct request *rq, json_t *out)
{
	const char *number = rq_str(rq, "receipt", 1), *hex = number ? filereply_want_sha256(rq, "the receipt") : NULL;
	sqlite3_stmt *s;
	struct reader rd;
	char whose[128];
	int rc, seen;

	if (!hex)
		return -1;
	s = store_stmt(d->store, "SELECT o.unit, o.report FROM submissions s JOIN obligations o ON o.id = s.obligation WHERE s.receipt = ?1");
	sqlite3_bind_text(s, 1, number, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return rq_error(rq, ERR_UNKNOWN_RECEIPT, "there is no receipt %.*s; receipt numbers look like BN-2024-000123",
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
	json_object_set_new(out, "receipt", json_string(number));
	snprintf(whose, sizeof(whose), "receipt %s", number);
	rc = filereply_send(d, rq, out, s, hex, whose);
	if (rc > 0) {
		json_object_clear(out);
		return rq_error(rq, ERR_UNKNOWN_FILE, "receipt %s has no file with SHA-256 %s: report.receipt lists its files", number, hex);
	}
	return rc;
}
