/*
 * proposals.h - the approval workflows: proposals for the movement's titles and awards
 * (docs/CONFIG.md "programmes"), the stages they climb, and the registry of titles.
 *
 * A proposal is created as a draft (or straight away submitted), then sits at one stage
 * after another; at each, the deciding unit (resolved relative to the proposer when the
 * dossier reaches it) approves, returns or rejects. Approving the last stage grants the
 * title. Every transition writes a row of proposal_events and attaches the proposal to an
 * outbox message (kind 'proposal', report = programme, period = year): one message per
 * proposal, or one per batch and recipient for an import. A stage past its time limit
 * escalates once, through the scheduler (next_at, a partial index).
 *
 * Modules: proposals.c (state, rules, transitions, escalation, message values),
 * proposals_ops.c (the ops), proposals_import.c (CSV import and batch decisions).
 * The part below "internal" is shared by those three files only.
 */
#ifndef THIDUA_PROPOSALS_H
#define THIDUA_PROPOSALS_H

#include <jansson.h>
#include <stdint.h>

#include "templates.h"

struct daemon;
struct request;

/* proposals_init - register the escalation of overdue stages with the scheduler */
void proposals_init(void);
/* proposals_reorg_sweep - dossiers moved on in a reorganisation (proposals_reorg.c) */
int proposals_reorg_sweep(struct daemon *d, int32_t today);

/* the ops (api.c dispatches them) */
int op_proposal_create(struct daemon *d, struct request *rq, json_t *out);
int op_proposal_submit(struct daemon *d, struct request *rq, json_t *out);
int op_proposal_decide(struct daemon *d, struct request *rq, json_t *out);
int op_proposal_withdraw(struct daemon *d, struct request *rq, json_t *out);
int op_proposal_show(struct daemon *d, struct request *rq, json_t *out);
int op_proposal_file(struct daemon *d, struct request *rq, json_t *out);
int op_proposals_list(struct daemon *d, struct request *rq, json_t *out);
int op_proposals_import(struct daemon *d, struct request *rq, json_t *out);
int op_titles_list(struct daemon *d, struct request *rq, json_t *out);

/* proposals_render - the subject and body of outbox message 'outbox' (kind 'proposal',
 * its step and dedup key as stored) for recipient and channel kind ch, from the templates
 * of the proposal_* events; the caller frees both */
void proposals_render(struct daemon *d, int64_t outbox, const char *step, const char *key,
		      const char *recipient, enum tmpl_channel ch, char **subject, char **body);

/* internal -------------------------------------------------------------------------- */

struct config;
struct programme;
struct principal;
struct unit;

/* a proposal row as the rules need it; strings owned (proposal_clear frees them) */
struct proposal {
	int64_t id, batch, due_at;
	int year, level, stage, cycle, version, line;
	char *programme, *nominee, *nominee_name, *nominee_kind, *place, *proposer, *state, *decider;
	json_t *self_scores;		/* {criterion: value}, never NULL */
};

int proposal_load(struct daemon *d, int64_t id, struct proposal *p);	/* 0, or -1 not found */
void proposal_clear(struct proposal *p);

/* the rubric's verdict on a set of scores */
struct verdict {
	double total;		/* points */
	int max_total;
	int complete;		/* every criterion has a value */
	int met_all;		/* every met / not met criterion is met */
	int passed;		/* complete, met_all and total >= threshold (always 1 without a rubric) */
	char why[256];		/* when not passed: what is missing or short, for people */
};

/* proposal_scores_parse - a request's {criterion: value} checked against pg's rubric: a new object
 * with numbers for points and booleans for met; NULL with *why filled */
json_t *proposal_scores_parse(const struct programme *pg, json_t *in, char *why, size_t size);

/* proposal_score_text - one value as text ("8", "8.5", "đạt", "no") for criterion c; 0 ok, -1 bad */
int proposal_score_text(const struct programme *pg, size_t c, const char *text, json_t **value, char *why, size_t size);

void proposal_verdict(const struct programme *pg, json_t *scores, struct verdict *v);

/* proposal_scores - the scores in force: self-assessment, then every stage's in order;
 * a new object */
json_t *proposal_scores(struct daemon *d, const struct proposal *p);



/* proposal_may_propose - may the request's principal act for proposing unit u? 0 yes, -1 with an
 * error reply naming who may */
int proposal_may_propose(struct daemon *d, struct request *rq, const struct unit *u, const char *what);
int proposal_precheck(struct daemon *d, struct request *rq, const struct programme *pg,
		      const struct unit *proposer, long long level, long long year, int32_t today, const char *what);

/* proposal_may_decide - may the request's principal decide at unit 'decider' with one of roles?
 * 0 yes, -1 with an error reply naming who may */
int proposal_may_decide(struct daemon *d, struct request *rq, const struct programme *pg, const struct proposal *p,
	       unsigned roles);

/* proposal_level2_refusal - 0 when nominee (at place) may be proposed for level 2 of pg today;
 * else -1 and why */
int proposal_level2_refusal(struct daemon *d, const struct programme *pg, const char *nominee, const char *place,
		   int32_t today, char *why, size_t size);

/* proposal_window_refusal - 0 while the dossier window of pg for year is open at now; else -1 and why */
int proposal_window_refusal(struct daemon *d, const struct programme *pg, int year, int64_t now, char *why, size_t size);

/* proposal_event_add - a proposal_events row; returns its id or -1 */
int64_t proposal_event_add(struct daemon *d, const struct proposal *p, const char *principal, const char *action,
		  int stage, const char *decider, const char *reason, json_t *scores, const struct verdict *v,
		  int override, const char *decision_no, const char *state_after);

/* proposal_notify - attach event 'event' of p to the outbox message for (step, recipient): the
 * batch's message when group is set (a digest), else one of its own; 0 ok, -1 error */
int proposal_notify(struct daemon *d, const struct proposal *p, int64_t event, const char *step, const char *recipient,
	   int group);

/* proposal_enter_stage - move p to stage n (1-based) of pg: resolve its deciding unit relative to
 * the proposer, set the time limit and the escalation moment, notify the decider.
 * 0 ok; -1 with why (the deciding unit cannot be found) or a database error (why empty) */
int proposal_enter_stage(struct daemon *d, struct proposal *p, const struct programme *pg, int n, int64_t event,
		int group, char *why, size_t size);

/* a decision at a stage, as the request gives it */
struct decision {
	const char *action;		/* approve, return, reject, score */
	const char *reason;
	json_t *scores;			/* parsed, or NULL */
	const char *decision_no;
	int32_t decision_day;
	int decision_day_given;		/* --decision-date was given (else today) */
	int group;			/* a batch decision: digest messages, audit rows written here */
};

/* proposal_decide_one - one decision on a submitted proposal by the request's principal.
 * 0 ok, -1 with an error reply */
int proposal_decide_one(struct daemon *d, struct request *rq, const struct programme *pg, struct proposal *p,
	       const struct decision *dc);

/* who is proposed: the code that identifies the nominee in the registry (a unit code, or
 * the nominee's own code, else its name), its name, and the unit it belongs to ("" for a
 * unit nominee) */
struct nominee {
	char code[256], name[512], place[80];
};
int proposal_nominee_resolve(struct daemon *d, const struct programme *pg, const struct unit *proposer, const char *code,
		    const char *name, const char *hamlet, struct nominee *out, char *why, size_t size);

/* proposal_existing - the open or granted proposal of the same nominee, year and level: its
 * id and state, or 0 */
int64_t proposal_existing(struct daemon *d, const char *programme, const struct nominee *nm, int year, int level,
			  char *state, size_t size);

/* proposals_rules.c ---------------------------------------------------------------- */

/* proposal_title_overlap - 1 when nominee (at place) holds a level-1 title of pg valid on day (why
 * names it and its validity), else 0; never for an award */
int proposal_title_overlap(struct daemon *d, const struct programme *pg, const char *nominee, const char *place, int32_t day,
		  char *why, size_t size);

/* proposal_nominee_refusal - may nm be proposed for pg, year and level today? 0 yes; -1 with the
 * error code (title_held, rejected_this_year) and why */
int proposal_nominee_refusal(struct daemon *d, const struct programme *pg, const struct nominee *nm, int year, int level,
		    int32_t today, const char **code, char *why, size_t size);

/* proposal_decision_day_refusal - 0 when day may date the decision on p (not before its dossier
 * was submitted; a working day when given); else -1 and why */
int proposal_decision_day_refusal(struct daemon *d, const struct proposal *p, int32_t day, int given, char *why, size_t size);

/* proposal_exception_refusal - approving p although it fails the rubric (verdict v): 0 when the
 * request's principal holds the permission "exception" and gives a reason; else -1 with an
 * error reply naming what is not met */
int proposal_exception_refusal(struct daemon *d, struct request *rq, const struct programme *pg, const struct proposal *p,
		      const struct verdict *v, const char *reason);

struct stage;
/* proposal_stage_decider - the deciding unit of a stage for the proposer on day, or NULL */
const struct unit *proposal_stage_decider(struct daemon *d, const struct stage *st, const struct unit *proposer, int32_t day);

/* proposal_submit - a draft's first submission or a returned proposal's resubmission:
 * the self-assessment must be complete; group as for notify. 0 ok, -1 with an error reply */
int proposal_submit(struct daemon *d, struct request *rq, const struct programme *pg, struct proposal *p, int group);

/* proposal_batch_decide - proposal.decide with "batch": every submitted proposal of the import at
 * its current stage (proposals_import.c) */
int proposal_batch_decide(struct daemon *d, struct request *rq, json_t *out, int64_t batch, const struct decision *dc);

/* proposal_json - a proposal for replies; full adds stages, files, history and title */
json_t *proposal_json(struct daemon *d, int64_t id, int full);

/* proposal_want_programme - the programme named by key, or an error reply with a suggestion */
const struct programme *proposal_want_programme(struct daemon *d, struct request *rq, const char *key);
/* proposal_want_unit - the unit named by key (required), or an error reply */
const struct unit *proposal_want_unit(struct daemon *d, struct request *rq, const char *key);


#endif
