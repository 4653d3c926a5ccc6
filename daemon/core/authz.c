/*
 * authz.c - who may call which op and read what: the authorization table
 * (docs/PROTOCOL.md, section 9), checked before a request reaches its handler, and the
 * read rules the read ops apply to each row they answer with. The local administrator
 * (ipc, no --as) may do everything. A principal acts through its roles in its unit; a
 * principal with the admin role acts for its unit and every unit under it. Proposal ops
 * check their stage rules themselves. Every principal reads its own unit and the units
 * under it, what its unit receives and what waits for its unit's decision; an auditor,
 * the local administrator and an admin of a top unit read everything.
 */
#include <string.h>

#include "authz.h"
#include "config.h"
#include "inflow.h"
#include "registry.h"
#include "rq.h"
#include "store.h"
#include "thiduad.h"
#include "units.h"

/* principal_covers - the principal's unit is u, or with the admin role an ancestor of u */
static int principal_covers(const struct daemon *d, const struct principal *p, const struct unit *u)
{
	const struct unit *home = unitset_find(d->units, p->unit);

	if (!home || !u)
		return 0;
	if (home == u)
		return 1;
	return (p->roles & ROLE_ADMIN) && unit_is_under_at(u, home, registry_today(d));
}

/* authz_check - 0 allowed; -1 with a refusal naming who may */
int authz_check(struct daemon *d, struct request *rq, enum authz rule)
{
	const char *name = rq_principal(rq);
	const struct principal *p;

	if (!strcmp(name, "admin") || rule == A_ANY || rule == A_MODULE)
		return 0;
	p = cfg_principal_at(d->cfg, name, registry_today(d));
	if (!p)
		return rq_error(rq, ERR_FORBIDDEN, "%s is not a principal of the configuration", name);
	switch (rule) {
	case A_ADMIN:
		if (p->roles & ROLE_ADMIN) {
			const struct unit *home = unitset_find(d->units, p->unit);

			if (home && !home->parent)
				return 0;
		}
		return rq_error(rq, ERR_FORBIDDEN, "%s may not call %s: it changes the whole system; only the local administrator or an admin of the top unit may",
				name, rq_op(rq));
	case A_SUBMITTER: {
		const char *code = rq_str(rq, "unit", 0);
		const struct unit *u = code ? unitset_find(d->units, code) : NULL;

		if (rq_failed(rq))
			return -1;
		if ((p->roles & (ROLE_SUBMITTER | ROLE_ADMIN)) && principal_covers(d, p, u))
			return 0;
		return rq_error(rq, ERR_FORBIDDEN, "%s (%s of %s) may not submit for %s: a submitter of that unit (or an admin above it) may",
				name, p->roles & ROLE_SUBMITTER ? "submitter" : "without the submitter role", p->unit,
				code ? code : "that unit");
	}
	case A_AUDITOR:
		if (principal_reads_all(d, p))
			return 0;
		return rq_error(rq, ERR_FORBIDDEN, "%s may not call %s: it reads every unit's records; only an auditor (the 'auditor' role), an admin of the top unit or the local administrator may",
				name, rq_op(rq));
	case A_REVIEWER: {
		const char *code = rq_str(rq, "report", 0);

		if (rq_failed(rq))
			return -1;
		return authz_office(d, rq, code ? code : "?");
	}
	default:
		return 0;
	}
}

int authz_office(struct daemon *d, struct request *rq, const char *report)
{
	const char *name = rq_principal(rq);
	const struct principal *p;
	const struct report_type *rt;
	const struct unit *recv;

	if (!strcmp(name, "admin"))
		return 0;
	p = cfg_principal_at(d->cfg, name, registry_today(d));
	if (!p)
		return rq_error(rq, ERR_FORBIDDEN, "%s is not a principal of the configuration", name);
	if (!report) {
		if (p->roles & (ROLE_REVIEWER | ROLE_APPROVER | ROLE_ADMIN))
			return 0;
		return rq_error(rq, ERR_FORBIDDEN, "%s (%s) may not call %s: the reviewers, approvers and admins of the receiving unit may",
				name, p->unit, rq_op(rq));
	}
	rt = cfg_report(d->cfg, report);
	recv = rt ? unitset_find(d->units, rt->receiver) : NULL;
	if ((p->roles & (ROLE_REVIEWER | ROLE_APPROVER | ROLE_ADMIN)) && principal_covers(d, p, recv))
		return 0;
	if (strncmp(rq_op(rq), "inbox.", 6))
		return rq_error(rq, ERR_FORBIDDEN, "%s (%s) may not review report %s: reviewers of its receiving unit %s may",
				name, p->unit, report, rt ? rt->receiver : "?");
	return rq_error(rq, ERR_FORBIDDEN, "%s (%s) may not decide on mail for report %s: the reviewers, approvers and admins of its receiving unit %s may",
			name, p->unit, report, rt ? rt->receiver : "?");
}

/* the read rules ------------------------------------------------------------------- */

/* principal_reads_all - an auditor, or an admin of a top unit */
int principal_reads_all(const struct daemon *d, const struct principal *p)
{
	const struct unit *home = unitset_find(d->units, p->unit);

	return (p->roles & ROLE_AUDITOR) || ((p->roles & ROLE_ADMIN) && home && !home->parent);
}

/* authz_reader - how far the request's principal reads */
void authz_reader(struct daemon *d, struct request *rq, struct reader *r)
{
	const struct principal *p = cfg_principal_at(d->cfg, rq_principal(rq), registry_today(d));

	memset(r, 0, sizeof(*r));
	r->name = rq_principal(rq);
	r->today = registry_today(d);
	if (!p) {			/* the local administrator: "as" names only known principals */
		r->all = 1;
		return;
	}
	r->home = unitset_find(d->units, p->unit);
	r->all = principal_reads_all(d, p);
}

/* reader_sees_unit - the unit named code is the reader's own or under it */
int reader_sees_unit(const struct daemon *d, const struct reader *r, const char *code)
{
	const struct unit *u;

	if (r->all)
		return 1;
	if (!code || !r->home || !(u = unitset_find(d->units, code)))
		return 0;
	return u == r->home || unit_is_under_at(u, r->home, r->today)
	       || (u->active_to < r->today && unit_is_under_at(u, r->home, u->active_to));
}

/* reader_sees_report - what a unit owes or sent of a report: the unit's readers and the
 * receiving office's (and the units above them) */
int reader_sees_report(const struct daemon *d, const struct reader *r, const char *unit, const char *report)
{
	const struct report_type *rt;

	if (r->all || reader_sees_unit(d, r, unit))
		return 1;
	rt = report ? cfg_report(d->cfg, report) : NULL;
	return rt && reader_sees_unit(d, r, rt->receiver);
}

/* reader_sees_proposal - a proposal: the readers of its proposer, of the place and the
 * unit its nominee belongs to, and of every unit that has had it to decide (the one now,
 * from the row, and those before, from its history) */
int reader_sees_proposal(struct daemon *d, const struct reader *r, int64_t id, const char *proposer,
			 const char *place, const char *nominee, const char *decider)
{
	sqlite3_stmt *s;
	int seen = 0;

	if (r->all || reader_sees_unit(d, r, proposer) || reader_sees_unit(d, r, place)
	    || reader_sees_unit(d, r, nominee) || reader_sees_unit(d, r, decider))
		return 1;
	s = store_stmt(d->store, "SELECT DISTINCT decider FROM proposal_events WHERE proposal = ?1 AND decider IS NOT NULL");
	sqlite3_bind_int64(s, 1, id);
	while (!seen && sqlite3_step(s) == SQLITE_ROW)
		seen = reader_sees_unit(d, r, (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return seen;
}

/* authz_read_refused - the refusal of a read: what it is, and what the reader may read */
int authz_read_refused(struct request *rq, const struct reader *r, const char *what)
{
	return rq_error(rq, ERR_FORBIDDEN, "%s (of %s) may not read %s: a principal reads what concerns its unit and the units under it, what its unit receives and what waits for its decision; an auditor reads everything",
			r->name, r->home ? r->home->code : "no unit", what);
}
