/*
 * proposals_import.c - bulk nominations: proposals.import reads one CSV (a row per nominee:
 * code, name, hamlet, a column per rubric criterion, note), checks every row and creates
 * all of them or none, naming every bad row with its line; and proposal.decide with
 * "batch", which decides every proposal of an import waiting at its stage at once.
 *
 * An import is a batch: its proposals share digest messages (one per recipient rather than
 * one per household) and can be decided together or one by one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "blobs.h"
#include "clock.h"
#include "config.h"
#include "csv.h"
#include "events.h"
#include "jdump.h"
#include "log.h"
#include "lookup.h"
#include "proposals.h"
#include "proto.h"
#include "registry.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

#define MAX_LISTED 1000		/* bad rows listed in a reply; the rest are counted */
#define MAX_BELOW 20		/* proposals below the threshold named in the message */

static const char *const fixed_columns[] = { "code", "name", "hamlet", "note", NULL };

/* one checked row, ready to insert */
struct row {
	struct nominee nm;
	json_t *scores;
	const char *note;
	size_t line;
};

struct problems {
	char **list;
	size_t n;
	const char *file;
};

static void problem(struct problems *pb, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* problem - "FILE:LINE: message"; past MAX_LISTED only counted */
static void problem(struct problems *pb, size_t line, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full;

	if (pb->n++ >= MAX_LISTED)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	full = xasprintf("%s:%zu: %s", pb->file, line, msg);
	pb->list = strv_append(pb->list, full);
	free(full);
	free(msg);
}

/* cmp_rows - by nominee code and place, then line */
static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	int c = strcmp(x->nm.code, y->nm.code);

	if (!c)
		c = strcmp(x->nm.place, y->nm.place);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* check_rows - every data row to a struct row; problems for the bad ones */
static void check_rows(struct daemon *d, const struct programme *pg, const struct unit *proposer, int year, int level,
		       const char *default_hamlet, const struct csv *csv, struct row *rows, struct problems *pb)
{
	const struct csv_row *hdr = &csv->rows[0];
	int c_code = csv_field_index(hdr, "code"), c_name = csv_field_index(hdr, "name");
	int c_hamlet = csv_field_index(hdr, "hamlet"), c_note = csv_field_index(hdr, "note");
	int *c_crit = xcalloc(pg->ncriteria + 1, sizeof(*c_crit));
	int32_t today = registry_today(d);
	struct row **sorted;
	size_t nrows = csv->nrows - 1;
	char why[512], state[16];

	for (size_t c = 0; c < pg->ncriteria; c++)
		c_crit[c] = csv_field_index(hdr, pg->criteria[c].code);
	for (size_t r = 1; r < csv->nrows; r++) {
		const struct csv_row *cr = &csv->rows[r];
		struct row *row = &rows[r - 1];
		const char *hamlet, *refused;
		int64_t other;
		int bad = 0;

		row->line = cr->line;
		row->scores = json_object();
		if (cr->nfields != hdr->nfields) {
			problem(pb, cr->line, "the row has %zu fields but the header has %zu", cr->nfields, hdr->nfields);
			continue;
		}
		hamlet = c_hamlet >= 0 ? cr->fields[c_hamlet] : default_hamlet;
		if (c_hamlet >= 0 && !*hamlet)
			hamlet = default_hamlet;
		if (proposal_nominee_resolve(d, pg, proposer, c_code >= 0 ? cr->fields[c_code] : NULL,
				    c_name >= 0 ? cr->fields[c_name] : NULL, hamlet, &row->nm, why, sizeof(why))) {
			problem(pb, cr->line, "%s", why);
			bad = 1;
		}
		for (size_t c = 0; c < pg->ncriteria; c++) {
			const char *text = cr->fields[c_crit[c]];
			json_t *v;

			if (!*text) {
				problem(pb, cr->line, "%s (%s) has no score: every row needs a self-assessed score for every criterion",
					pg->criteria[c].code, pg->criteria[c].name);
				bad = 1;
			} else if (proposal_score_text(pg, c, text, &v, why, sizeof(why))) {
				problem(pb, cr->line, "%s", why);
				bad = 1;
			} else {
				json_object_set_new(row->scores, pg->criteria[c].code, v);
			}
		}
		row->note = c_note >= 0 && *cr->fields[c_note] ? cr->fields[c_note] : NULL;
		if (row->note && strlen(row->note) > 10000) {
			problem(pb, cr->line, "the note is longer than 10000 bytes");
			bad = 1;
		}
		if (bad)
			continue;
		if ((other = proposal_existing(d, pg->code, &row->nm, year, level, state, sizeof(state))))
			problem(pb, cr->line, "%s (%s) already has proposal #%lld (%s) for %s %d level %d", row->nm.name,
				row->nm.code, (long long)other, state, pg->code, year, level);
		else if (proposal_nominee_refusal(d, pg, &row->nm, year, level, today, &refused, why, sizeof(why)))
			problem(pb, cr->line, "%s", why);
		else if (level == 2 && proposal_level2_refusal(d, pg, row->nm.code, row->nm.place, today, why, sizeof(why)))
			problem(pb, cr->line, "%s", why);
	}
	/* the same nominee twice in the file */
	sorted = xcalloc(nrows + 1, sizeof(*sorted));
	for (size_t i = 0; i < nrows; i++)
		sorted[i] = &rows[i];
	qsort(sorted, nrows, sizeof(*sorted), cmp_rows);
	for (size_t i = 1; i < nrows; i++)
		if (*sorted[i]->nm.code && !strcmp(sorted[i]->nm.code, sorted[i - 1]->nm.code)
		    && !strcmp(sorted[i]->nm.place, sorted[i - 1]->nm.place))
			problem(pb, sorted[i]->line, "%s (%s) of %s is also on line %zu: a nominee is proposed once",
				sorted[i]->nm.name, sorted[i]->nm.code, sorted[i]->nm.place, sorted[i - 1]->line);
	free(sorted);
	free(c_crit);
}

/* check_header - the columns: known ones only; the name (or code) and every criterion */
static void check_header(const struct programme *pg, const struct csv_row *hdr, struct problems *pb)
{
	for (size_t i = 0; i < hdr->nfields; i++) {
		const char *f = hdr->fields[i];
		int known = 0;

		for (size_t k = 0; fixed_columns[k]; k++)
			known |= !strcmp(fixed_columns[k], f);
		for (size_t c = 0; c < pg->ncriteria; c++)
			known |= !strcmp(pg->criteria[c].code, f);
		if (!known) {
			char list[512];
			size_t used = (size_t)snprintf(list, sizeof(list), "code, name, hamlet, note");

			for (size_t c = 0; c < pg->ncriteria && used < sizeof(list); c++)
				used += (size_t)snprintf(list + used, sizeof(list) - used, ", %s", pg->criteria[c].code);
			problem(pb, hdr->line, "unknown column '%s' (the columns of %s are %s)", f, pg->code, list);
		} else if ((int)i != csv_field_index(hdr, f)) {
			problem(pb, hdr->line, "column '%s' appears twice", f);
		}
	}
	if (csv_field_index(hdr, "name") < 0 && csv_field_index(hdr, "code") < 0)
		problem(pb, hdr->line, "the header has neither 'name' nor 'code': each row must say who is proposed");
	for (size_t c = 0; c < pg->ncriteria; c++)
		if (csv_field_index(hdr, pg->criteria[c].code) < 0)
			problem(pb, hdr->line, "the column of criterion %s (%s) is missing: the self-assessment has a column per criterion",
				pg->criteria[c].code, pg->criteria[c].name);
}

/* insert_row - one proposal of the batch (a draft; submitted by the caller) */
static int64_t insert_row(struct daemon *d, struct request *rq, const struct programme *pg, const struct unit *proposer,
			  int year, int level, int64_t batch, const struct row *row, int64_t now)
{
	sqlite3_stmt *s = store_stmt(d->store, "INSERT INTO proposals (programme, year, level, nominee, nominee_name, nominee_kind,"
				     " place, proposer, self_scores, note, batch, line, principal, created_at, updated_at)"
				     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)");
	int rc;

	sqlite3_bind_text(s, 1, pg->code, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, year);
	sqlite3_bind_int(s, 3, level);
	sqlite3_bind_text(s, 4, row->nm.code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, row->nm.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, pg->nominee, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, row->nm.place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, proposer->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, jdump(row->scores, JSON_COMPACT | JSON_SORT_KEYS), -1, free);
	sqlite3_bind_text(s, 10, row->note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, batch);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)row->line);
	sqlite3_bind_text(s, 13, rq_principal(rq), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 14, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? sqlite3_last_insert_rowid(store_db(d->store)) : -1;
}

/* create_batch - the batch row and every proposal, submitted unless draft */
static int create_batch(struct daemon *d, struct request *rq, json_t *out, const struct programme *pg,
			const struct unit *proposer, int year, int level, const char *file, const void *data,
			size_t size, struct row *rows, size_t nrows, int draft)
{
	int64_t now = clock_now(d), batch, first = 0, id = 0;
	char hex[65], object[64];
	struct proposal p;
	sqlite3_stmt *s;
	int rc, kept = blobs_put(d, rq, file, data, size, hex);

	if (kept < 0)
		return -1;
	s = store_stmt(d->store, "INSERT INTO proposal_batches (programme, year, level, proposer, filename, sha256, rows,"
		       " principal, created_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	sqlite3_bind_text(s, 1, pg->code, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, year);
	sqlite3_bind_int(s, 3, level);
	sqlite3_bind_text(s, 4, proposer->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, file, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)nrows);
	sqlite3_bind_text(s, 8, rq_principal(rq), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, now);
	blobs_bind(s, 10, data, size, kept);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		goto db_error;
	batch = sqlite3_last_insert_rowid(store_db(d->store));
	for (size_t i = 0; i < nrows; i++) {
		json_t *detail;

		id = insert_row(d, rq, pg, proposer, year, level, batch, &rows[i], now);
		if (id < 0 || proposal_load(d, id, &p))
			goto db_error;
		if (!first)
			first = id;
		detail = json_pack("{s:I,s:I,s:s,s:i,s:i,s:s,s:s,s:s}", "batch", (json_int_t)batch, "line", (json_int_t)rows[i].line,
				   "programme", pg->code, "year", year, "level", level, "nominee", p.nominee,
				   "nominee_name", p.nominee_name, "place", p.place);
		snprintf(object, sizeof(object), "proposal/%lld", (long long)id);
		if (proposal_event_add(d, &p, rq_principal(rq), "create", 0, NULL, NULL, NULL, NULL, 0, NULL, "draft") < 0
		    || audit_append(d, rq_principal(rq), OP_PROPOSAL_CREATE, object, proposer->code, detail)) {
			proposal_clear(&p);
			goto db_error;
		}
		if (!draft && proposal_submit(d, rq, pg, &p, 1)) {
			proposal_clear(&p);
			return -1;
		}
		proposal_clear(&p);
	}
	events_emit(d, "proposals.imported", json_pack("{s:I,s:s,s:i,s:s,s:I}", "batch", (json_int_t)batch, "programme", pg->code,
						       "year", year, "proposer", proposer->code, "count", (json_int_t)nrows));
	json_object_set_new(out, "batch", json_pack("{s:I,s:s,s:i,s:i,s:s,s:s,s:s,s:I}", "id", (json_int_t)batch,
						    "programme", pg->code, "year", year, "level", level, "proposer", proposer->code,
						    "filename", file, "sha256", hex, "rows", (json_int_t)nrows));
	json_object_set_new(out, "imported", json_integer((json_int_t)nrows));
	json_object_set_new(out, "first", json_integer(first));
	json_object_set_new(out, "last", json_integer(id));
	json_object_set_new(out, "state", json_string(draft ? "draft" : "submitted"));
	return 0;
db_error:
	return rq_error(rq, store_last_full(d->store) ? ERR_STORAGE_FULL : ERR_INTERNAL,
			"the proposals could not be stored: %s; nothing was imported", store_errmsg(d->store));
}

/* op_proposals_import - one CSV frame: every row checked, all created or none */
int op_proposals_import(struct daemon *d, struct request *rq, json_t *out)
{
	const struct programme *pg = proposal_want_programme(d, rq, "programme");
	const char *file = NULL, *hamlet = NULL, *uc;
	const struct unit *proposer = NULL;
	long long year = 0, level = 1;
	int32_t today = registry_today(d);
	int draft = 0, rc = -1;
	struct problems pb = { 0 };
	struct csv *csv = NULL;
	struct row *rows = NULL;
	size_t size = 0, nrows = 0;
	const void *data;
	char why[512];

	if (!pg || rq_int(rq, "year", 1, 2000, 2100, &year) || rq_int(rq, "level", 0, 1, 2, &level) < 0
	    || rq_bool(rq, "draft", &draft) < 0)
		return -1;
	uc = rq_str(rq, "unit", 1);
	file = rq_file_name(rq, "filename");
	hamlet = rq_str(rq, "hamlet", 0);
	if (rq_failed(rq))
		return -1;
	if (!(proposer = unitset_find(registry_units(d), uc)))
		return rq_unit_unknown(rq, registry_units(d), uc);
	if (!file)
		file = "proposals.csv";
	if (rq_nfiles(rq) != 1)
		return rq_error(rq, ERR_MISSING_FILE, "proposals.import needs exactly one file frame holding the CSV text (got %zu)",
				rq_nfiles(rq));
	if (proposal_precheck(d, rq, pg, proposer, level, year, today, "import proposals"))
		return -1;
	if (!draft && proposal_window_refusal(d, pg, (int)year, clock_now(d), why, sizeof(why)))
		return rq_error(rq, ERR_WINDOW_CLOSED, "%s", why);
	data = rq_file(rq, 0, &size);
	pb.file = file;
	csv = csv_parse(data, size, why, sizeof(why));
	if (!csv) {
		problem(&pb, 0, "%s", why);
	} else if (csv->nrows < 2) {
		problem(&pb, 1, "the file has no nominees: a header row and at least one row per nominee are needed");
	} else {
		check_header(pg, &csv->rows[0], &pb);
		nrows = csv->nrows - 1;
		rows = xcalloc(nrows, sizeof(*rows));
		if (!pb.n)
			check_rows(d, pg, proposer, (int)year, (int)level, hamlet, csv, rows, &pb);
	}
	if (pb.n) {
		json_t *list = json_array();

		for (size_t i = 0; pb.list && pb.list[i]; i++)
			json_array_append_new(list, json_string(pb.list[i]));
		if (pb.n > MAX_LISTED)
			json_array_append_new(list, json_sprintf("... and %zu more", pb.n - MAX_LISTED));
		rq_error(rq, ERR_INVALID_CSV, "%s: %zu problem%s found, nothing was imported: %s", file, pb.n, pb.n == 1 ? "" : "s",
			 pb.list && pb.list[0] ? pb.list[0] : "");
		rq_error_set(rq, "errors", list);
	} else {
		rc = create_batch(d, rq, out, pg, proposer, (int)year, (int)level, file, data, size, rows, nrows, draft);
	}
	for (size_t i = 0; rows && i < nrows; i++)
		json_decref(rows[i].scores);
	free(rows);
	strv_free(&pb.list);
	csv_destroy(&csv);
	return rc;
}

/* proposal_batch_decide - every proposal of the batch waiting at the batch's earliest stage */
int proposal_batch_decide(struct daemon *d, struct request *rq, json_t *out, int64_t batch, const struct decision *dc)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT programme FROM proposal_batches WHERE id = ?1");
	const struct programme *pg = NULL;
	char code[80] = "";
	int64_t *ids = NULL;
	size_t n = 0, cap = 0, skipped = 0, below = 0;
	int stage = 0, found = 0, rc = -1;
	json_t *states, *list = NULL;
	char msg[2048] = "";
	size_t used = 0;

	sqlite3_bind_int64(s, 1, batch);
	if (sqlite3_step(s) == SQLITE_ROW) {
		found = 1;
		xstrlcpy(code, (const char *)sqlite3_column_text(s, 0), sizeof(code));
	}
	sqlite3_reset(s);
	if (!found)
		return rq_error(rq, ERR_UNKNOWN_BATCH, "there is no import (batch) %lld; 'thiduactl proposals list' shows each proposal's batch",
				(long long)batch);
	if (!(pg = cfg_programme(d->cfg, code)))
		return rq_error(rq, ERR_UNKNOWN_PROGRAMME, "batch %lld belongs to programme %s, which the configuration no longer declares",
				(long long)batch, code);
	s = store_stmt(d->store, "SELECT id, stage FROM proposals WHERE batch = ?1 AND state = 'submitted' ORDER BY stage, id");
	sqlite3_bind_int64(s, 1, batch);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int st = sqlite3_column_int(s, 1);

		if (!n)
			stage = st;
		if (st != stage) {
			skipped++;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (!n)
		return rq_error(rq, ERR_NOTHING_TO_DECIDE, "no proposal of batch %lld is waiting for a decision; 'thiduactl proposals list --batch %lld' shows where they are",
				(long long)batch, (long long)batch);
	/* below the threshold without a reason: name them all before deciding any */
	if (!strcmp(dc->action, "approve") && (!dc->reason || !*dc->reason)) {
		list = json_array();
		for (size_t i = 0; i < n; i++) {
			struct proposal p;
			struct verdict v;
			json_t *sc;

			if (proposal_load(d, ids[i], &p))
				continue;
			sc = proposal_scores(d, &p);
			proposal_verdict(pg, sc, &v);
			json_decref(sc);
			if (!v.passed) {
				if (below < MAX_BELOW && used < sizeof(msg))
					used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s#%lld (line %d, %s): %s",
								 below ? "; " : "", (long long)p.id, p.line, p.nominee_name, v.why);
				json_array_append_new(list, json_sprintf("#%lld line %d %s: %s", (long long)p.id, p.line,
									 p.nominee_name, v.why));
				below++;
			}
			proposal_clear(&p);
		}
		if (below) {
			free(ids);
			rq_error(rq, ERR_BELOW_THRESHOLD, "%zu of the %zu proposals of batch %lld do not pass the rubric of %s: %s%s; approving them anyway is an exception (xét đặc cách): a decider with the permission \"exception\" gives its reason (--reason) to approve them all; or decide those one by one",
				 below, n, (long long)batch, pg->code, msg, below > MAX_BELOW ? "; ..." : "");
			rq_error_set(rq, "errors", list);
			return -1;
		}
		json_decref(list);
	}
	for (size_t i = 0; i < n; i++) {
		struct proposal p;

		if (proposal_load(d, ids[i], &p)) {
			rq_error(rq, ERR_INTERNAL, "proposal #%lld vanished during the decision", (long long)ids[i]);
			goto out;
		}
		rc = proposal_decide_one(d, rq, pg, &p, dc);
		proposal_clear(&p);
		if (rc)
			goto out;
	}
	states = json_object();
	s = store_stmt(d->store, "SELECT state, count(*) FROM proposals WHERE batch = ?1 GROUP BY state ORDER BY state");
	sqlite3_bind_int64(s, 1, batch);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_object_set_new(states, (const char *)sqlite3_column_text(s, 0), json_integer(sqlite3_column_int64(s, 1)));
	sqlite3_reset(s);
	events_emit(d, "proposals.decided", json_pack("{s:I,s:s,s:s,s:i,s:I,s:s}", "batch", (json_int_t)batch, "programme",
						      pg->code, "action", dc->action, "stage", stage, "count", (json_int_t)n,
						      "by", rq_principal(rq)));
	json_object_set_new(out, "batch", json_integer(batch));
	json_object_set_new(out, "action", json_string(dc->action));
	json_object_set_new(out, "stage", json_integer(stage));
	json_object_set_new(out, "decided", json_integer((json_int_t)n));
	json_object_set_new(out, "skipped", json_integer((json_int_t)skipped));
	json_object_set_new(out, "states", states);
	rc = 0;
out:
	free(ids);
	return rc;
}
