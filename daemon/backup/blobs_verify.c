/*
 * blobs_verify.c - files.verify: every stored file against the SHA-256 its receipt states.
 *
 * The files of receipts (submission_files), of held mail (inbox_files), of proposals
 * (proposal_files) and of proposal imports (proposal_batches) are hashed again, those kept in their rows and those under
 * files/ alike; a file under files/ that several rows name is read once. Each row whose
 * content no longer matches is named with what refers to it (a receipt number, a proposal
 * and its dossier version, an import batch), so the operator knows whom to ask for the
 * file again. The walk reads every stored byte, in one turn of the loop.
 */
#include <stdio.h>
#include <string.h>

#include "blobs.h"
#include "blobs_verify.h"
#include "log.h"
#include "rq.h"
#include "sha256.h"
#include "store.h"
#include "thiduad.h"
#include "xalloc.h"

#define VERIFY_LIST_MAX 1000	/* bad rows named in the reply; the count covers them all */

/* op_files_verify - reply: files (rows checked), database and under_files (distinct
 * contents checked in each place), bytes, valid, bad_count, bad (at most
 * VERIFY_LIST_MAX), receipts (the distinct receipts affected, as many) */
int op_files_verify(struct daemon *d, struct request *rq, json_t *out)
{
	sqlite3_stmt *s = store_stmt(d->store,
		"SELECT 'receipt', s.receipt, NULL, f.name, f.size, f.sha256, f.data"
		" FROM submission_files f JOIN submissions s ON s.id = f.submission"
		" UNION ALL SELECT 'proposal', p.proposal, p.version, p.name, p.size, p.sha256, p.data FROM proposal_files p"
		" UNION ALL SELECT 'batch', b.id, NULL, b.filename, -1, b.sha256, b.data FROM proposal_batches b"
		" UNION ALL SELECT 'message', m.inbox, NULL, m.name, m.size, m.sha256, m.data FROM inbox_files m"
		" ORDER BY 6");
	json_t *bad = json_array(), *receipts = json_array(), *seen = json_object();
	char last[65] = "", last_why[160] = "";
	int64_t rows = 0, inline_n = 0, files_n = 0, bytes = 0, nbad = 0;
	int last_ok = 1;

	(void)rq;
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);
		const char *hex = (const char *)sqlite3_column_text(s, 5);
		int64_t size = sqlite3_column_int64(s, 4);
		char why[160] = "", where[128];
		int ok;

		rows++;
		if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
			const void *data = sqlite3_column_blob(s, 6);
			int64_t len = sqlite3_column_bytes(s, 6);
			char got[65];

			inline_n++;
			bytes += len;
			sha256_hex(data ? data : "", (size_t)len, got);
			ok = strcmp(got, hex) == 0 && (size < 0 || len == size);
			if (!ok && size >= 0 && len != size)
				snprintf(why, sizeof(why), "changed: %lld bytes, not %lld", (long long)len, (long long)size);
			else if (!ok)
				snprintf(why, sizeof(why), "changed: its content's SHA-256 is now %.12s...", got);
			xstrlcpy(where, "database", sizeof(where));
		} else {
			snprintf(where, sizeof(where), "files/%.2s/%s", hex, hex);
			if (strcmp(last, hex)) {	/* rows are in hash order: each file is read once */
				char path[4400];

				snprintf(path, sizeof(path), "%s/%s", d->state_dir, where);
				files_n++;
				bytes += size > 0 ? size : 0;
				last_ok = blobs_check_file(path, size, hex, last_why, sizeof(last_why)) == 0;
				xstrlcpy(last, hex, sizeof(last));
			}
			ok = last_ok;
			xstrlcpy(why, last_why, sizeof(why));
		}
		if (ok)
			continue;
		nbad++;
		if (!strcmp(kind, "receipt") && json_array_size(receipts) < VERIFY_LIST_MAX
		    && !json_object_get(seen, (const char *)sqlite3_column_text(s, 1))) {
			json_object_set_new(seen, (const char *)sqlite3_column_text(s, 1), json_true());
			json_array_append_new(receipts, json_string((const char *)sqlite3_column_text(s, 1)));
		}
		if (json_array_size(bad) < VERIFY_LIST_MAX) {
			json_t *row = json_pack("{s:s,s:s,s:s,s:s}", "name", (const char *)sqlite3_column_text(s, 3),
						"sha256", hex, "where", where, "problem", why);

			if (!strcmp(kind, "receipt")) {
				json_object_set_new(row, "receipt", json_string((const char *)sqlite3_column_text(s, 1)));
			} else if (!strcmp(kind, "proposal")) {
				json_object_set_new(row, "proposal", json_integer(sqlite3_column_int64(s, 1)));
				json_object_set_new(row, "version", json_integer(sqlite3_column_int64(s, 2)));
			} else if (!strcmp(kind, "message")) {	/* a held message's file (inbox.c) */
				json_object_set_new(row, "message", json_integer(sqlite3_column_int64(s, 1)));
			} else {
				json_object_set_new(row, "batch", json_integer(sqlite3_column_int64(s, 1)));
			}
			if (size >= 0)
				json_object_set_new(row, "size", json_integer(size));
			json_array_append_new(bad, row);
		}
	}
	sqlite3_reset(s);
	json_decref(seen);
	if (nbad)
		log_err("files verify: %lld of %lld stored files no longer match their SHA-256 (%zu receipts affected)",
			(long long)nbad, (long long)rows, json_array_size(receipts));
	json_object_set_new(out, "valid", json_boolean(nbad == 0));
	json_object_set_new(out, "files", json_integer(rows));
	json_object_set_new(out, "database", json_integer(inline_n));
	json_object_set_new(out, "under_files", json_integer(files_n));
	json_object_set_new(out, "bytes", json_integer(bytes));
	json_object_set_new(out, "bad_count", json_integer(nbad));
	json_object_set_new(out, "bad", bad);
	json_object_set_new(out, "receipts", receipts);
	return 0;
}
