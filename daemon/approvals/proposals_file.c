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
	char whose[64];
	int rc;

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
	json_object_set_new(out, "proposal", json_integer(id));
	snprintf(whose, sizeof(whose), "proposal #%lld", id);
	rc = filereply_send(d, rq, out, s, hex, whose);
	if (rc > 0) {
		json_object_clear(out);
		return rq_error(rq, ERR_UNKNOWN_FILE, "proposal #%lld has no file with SHA-256 %s: proposal.show lists its files", id, hex);
	}
	return rc;
}
