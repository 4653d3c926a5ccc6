/*
 * authz.h - who may call which op and read what: the authorization table (docs/PROTOCOL.md,
 * section 9), checked before a request reaches its handler, and the read rules the read ops
 * apply to each row they answer with. The local administrator (ipc, no --as) may do
 * everything. A principal acts through its roles in its unit; a principal with the admin
 * role acts for its unit and every unit under it. Proposal ops check their stage rules
 * themselves. Every principal reads its own unit and the units under it, what its unit
 * receives and what waits for its unit's decision; an auditor, the local administrator and
 * an admin of a top unit read everything.
 */
#ifndef THIDUA_AUTHZ_H
#define THIDUA_AUTHZ_H

#include <stdint.h>

struct daemon;
struct principal;
struct request;
struct unit;

enum authz {
	A_ANY,		/* any principal: reads */
	A_ADMIN,	/* the local administrator or an admin of the top unit */
	A_SUBMITTER,	/* a submitter of the request's unit (or an admin above it) */
	A_REVIEWER,	/* a reviewer or approver of the report's receiving unit */
	A_MODULE,	/* the op checks its own rules (proposals: stage deciders) */
	A_AUDITOR,	/* an auditor, an admin of the top unit, the local administrator */
};

int authz_check(struct daemon *d, struct request *rq, enum authz rule);
/* authz_office - may the request's principal decide for the receiving unit of report (a
 * reviewer, approver or admin covering it, or the local administrator)? With report NULL:
 * does it have one of those roles at all? 0, or -1 with the refusal */
int authz_office(struct daemon *d, struct request *rq, const char *report);

/* what a read op answers to its principal: every row, or those of its subtree */
struct reader {
	int all;			/* reads everything */
	const struct unit *home;	/* else: its unit, the units under it, ... (authz.c) */
	const char *name;
	int32_t today;
};
int principal_reads_all(const struct daemon *d, const struct principal *p);
void authz_reader(struct daemon *d, struct request *rq, struct reader *r);
int reader_sees_unit(const struct daemon *d, const struct reader *r, const char *code);
int reader_sees_report(const struct daemon *d, const struct reader *r, const char *unit, const char *report);
int reader_sees_proposal(struct daemon *d, const struct reader *r, int64_t id, const char *proposer,
			 const char *place, const char *nominee, const char *decider);
int authz_read_refused(struct request *rq, const struct reader *r, const char *what);

#endif
