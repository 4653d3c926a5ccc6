/*
 * intake.h - who owes which report when; durable submissions with receipts; review by the
 * receiving office; completeness per unit.
 */
#ifndef THIDUA_INTAKE_H
#define THIDUA_INTAKE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

struct cal_period;
struct daemon;
struct report_type;
struct request;

/* obligation_state - an obligation's state as it reads now: "missing" for one still open
 * or returned past its lock (calendar.h, cal_lock_at), else the stored state */
const char *obligation_state(struct daemon *d, const struct report_type *rt, const char *state, int64_t due_at);
void intake_init(void);
int intake_reconcile(struct daemon *d);
int op_report_submit(struct daemon *d, struct request *rq, json_t *out);
int op_report_receipt(struct daemon *d, struct request *rq, json_t *out);

/* a replayed report.submit: its receipt number, and the reply's members from it */
const char *receipt_replay_key(const json_t *reply);
int receipt_replay(struct daemon *d, const char *number, json_t *out);
int op_report_review(struct daemon *d, struct request *rq, json_t *out);
int op_obligations_list(struct daemon *d, struct request *rq, json_t *out);
int op_completeness(struct daemon *d, struct request *rq, json_t *out);
int op_reports_list(struct daemon *d, struct request *rq, json_t *out);

/* for intake_lists.c: the columns intake_obligation_row_json reads, in order; the period of
 * rt a request names (its "period" member), or an error reply */
#define OBLIGATION_COLUMNS "unit, report, period, due_at, state, on_time, submitted_at, receipt, version, reason"
json_t *intake_obligation_row_json(struct daemon *d, sqlite3_stmt *s);
/* a receipt's files ([] for an unknown one); the versions and reviews of its obligation
 * into out's "versions" and "reviews" */
json_t *intake_receipt_files(struct daemon *d, const char *number);
void intake_receipt_history(struct daemon *d, const char *number, json_t *out);
int intake_want_period(struct daemon *d, struct request *rq, const struct report_type *rt, struct cal_period *p);

#endif
