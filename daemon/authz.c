/*
 * authz.c - who may call which op: the authorization table, checked before a request
 * reaches its handler. The local administrator (ipc, no --as) may do everything. A
 * principal acts through its roles in its unit; a principal with the admin role acts for
 * its unit and every unit under it. Proposal ops check their stage rules themselves.
 */
#include <string.h>

#include "thiduad.h"

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
	p = cfg_principal(d->cfg, name);
	if (!p)
		return rq_error(rq, "forbidden", "%s is not a principal of the configuration", name);
	switch (rule) {
	case A_ADMIN:
		if (p->roles & ROLE_ADMIN) {
			const struct unit *home = unitset_find(d->units, p->unit);

			if (home && !home->parent)
				return 0;
		}
		return rq_error(rq, "forbidden", "%s may not call %s: it changes the whole system; only the local administrator or an admin of the top unit may",
				name, rq_op(rq));
	case A_SUBMITTER: {
		const char *code = rq_str(rq, "unit", 0);
		const struct unit *u = code ? unitset_find(d->units, code) : NULL;

		if (rq_failed(rq))
			return -1;
		if ((p->roles & (ROLE_SUBMITTER | ROLE_ADMIN)) && principal_covers(d, p, u))
			return 0;
		return rq_error(rq, "forbidden", "%s (%s of %s) may not submit for %s: a submitter of that unit (or an admin above it) may",
				name, p->roles & ROLE_SUBMITTER ? "submitter" : "without the submitter role", p->unit,
				code ? code : "that unit");
	}
	case A_REVIEWER: {
		const char *code = rq_str(rq, "report", 0);
		const struct report_type *rt = code ? cfg_report(d->cfg, code) : NULL;
		const struct unit *recv = rt ? unitset_find(d->units, rt->receiver) : NULL;

		if (rq_failed(rq))
			return -1;
		if ((p->roles & (ROLE_REVIEWER | ROLE_APPROVER | ROLE_ADMIN)) && principal_covers(d, p, recv))
			return 0;
		return rq_error(rq, "forbidden", "%s (%s) may not review report %s: reviewers of its receiving unit %s may",
				name, p->unit, code ? code : "?", rt ? rt->receiver : "?");
	}
	default:
		return 0;
	}
}
