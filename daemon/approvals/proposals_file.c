/*
 * proposals_file.c - proposal.file: a file of a proposal's dossier (any version of it), by
 * its SHA-256, as a file frame of the reply, for whoever proposal.show shows it to
 * (core/filereply.c hashes the bytes again before they leave).
 */
#include <stdint.h>
#include <stdio.h>

#include "filereply.h"
#include "proposals.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"

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

	if (rq_int(rq, "proposal", 1, 1, INT64_MAX, &id) || !(hex = filereply_want_sha256(rq, "proposal.show")))
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
		filereply_read_row(s, &f);
	}
	sqlite3_reset(s);
	if (!found)
		return rq_error(rq, "unknown_file", "proposal #%lld has no file with SHA-256 %s: proposal.show lists its files", id, hex);
	json_object_set_new(out, "proposal", json_integer(id));
	json_object_set_new(out, "name", json_string(f.name));
	json_object_set_new(out, "size", json_integer(f.size));
	json_object_set_new(out, "sha256", json_string(hex));
	snprintf(whose, sizeof(whose), "proposal #%lld", id);
	return filereply_send(d, rq, out, &f, hex, whose);
}
