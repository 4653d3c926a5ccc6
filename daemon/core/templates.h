/*
 * templates.h - message templates: the subject and body of every message thiduad sends,
 * per event and per channel kind, with {{variables}} and one list section
 * {{#units}}...{{/units}}. Templates are compiled when the configuration is loaded, so a
 * mistake (an unknown variable, an unclosed section) is a configuration error, never a
 * failure at send time. What the configuration does not set falls back to the built-in
 * Vietnamese texts.
 *
 * Ownership: a struct tmpl belongs to whoever compiled it until templates_set() takes it;
 * a struct templates owns its templates and is read only once the configuration is loaded.
 * Rendering inserts values as they are (UTF-8 in, UTF-8 out); escaping for a chat service
 * is the worker's business.
 */
#ifndef THIDUA_TEMPLATES_H
#define THIDUA_TEMPLATES_H

#include <stddef.h>

/* what a message is about */
enum tmpl_event {
	TE_REMINDER, TE_OVERDUE, TE_ESCALATION, TE_DIGEST, TE_RETURNED, TE_ACCEPTED, TE_DEAD_LETTER,
	TE_TEST, TE_RECEIPT, TE_PROPOSAL_PENDING, TE_PROPOSAL_RETURNED, TE_PROPOSAL_REJECTED, TE_PROPOSAL_GRANTED,
	TE_PROPOSAL_OVERDUE, TE_PROPOSAL_ESCALATION, TE_PROPOSAL_WITHDRAWN, TE_PROPOSAL_MOVED,
	TE_CHANNEL_DISABLED, TE_CHANNEL_ENABLED, TE_ACCOUNT_INVITE, TE_COUNT
};

/* where it goes: a template for TC_ANY serves every kind without its own */
enum tmpl_channel { TC_ANY, TC_MAIL, TC_CHAT, TC_COUNT };

/* the variables. The first TV_NITEM belong to the items of a list: TV_UNIT_NAME to
 * TV_DAYS_OVERDUE to each unit of {{#units}}, TV_PROPOSAL_ID to TV_PROPOSAL_REASON to each
 * proposal of {{#proposals}}; the others are the message's. */
enum tmpl_var {
	TV_UNIT_NAME, TV_UNIT_CODE, TV_DUE_DATE, TV_DAYS_LEFT, TV_DAYS_OVERDUE,
	TV_PROPOSAL_ID, TV_NOMINEE_CODE, TV_NOMINEE_NAME, TV_LEVEL, TV_PROPOSER_NAME, TV_PROPOSER_CODE,
	TV_PROPOSAL_REASON,
	TV_REPORT_NAME, TV_REPORT_CODE, TV_PERIOD, TV_RECEIVER_NAME, TV_RECIPIENT_NAME, TV_UNIT_COUNT,
	TV_REASON, TV_ACTOR, TV_LINK, TV_DEDUP_KEY, TV_LATE_NOTE, TV_CHANNEL, TV_CHANNEL_KIND,
	TV_NOTIFICATION, TV_RECEIPT, TV_PROGRAMME_NAME, TV_PROGRAMME_CODE, TV_YEAR, TV_STAGE,
	TV_PROPOSAL_COUNT, TV_DECISION_NO, TV_DECISION_DATE, TV_MORE_COUNT, TV_LATE_UNTIL,
	TV_REPORT_PERIOD, TV_PLAN_NO, TV_PLAN_NAME, TV_RECEIVER_CONTACT, TV_HOW_TO_SUBMIT,
	TV_INPUTS_EXPECTED, TV_INPUTS_RECEIVED, TV_INPUTS_MISSING_COUNT, TV_INPUTS_MISSING,
	TV_ACCOUNT, TV_EXPIRES_AT, TV_COUNT
};
#define TV_NITEM (TV_PROPOSAL_REASON + 1)

/* one item of a list: a unit fills the unit variables, a proposal the proposal ones */
struct tmpl_item {
	const char *v[TV_NITEM];	/* NULL renders as nothing */
};

/* the values of one message; NULL renders as nothing. Outside {{#units}} the unit
 * variables left NULL take the first unit's values; the proposal variables exist only
 * inside {{#proposals}}. */
struct tmpl_values {
	const char *v[TV_COUNT];
	const struct tmpl_item *units;
	size_t nunits;
	const struct tmpl_item *proposals;
	size_t nproposals;
};

struct tmpl;
struct templates;

/* where compiling failed and why: offset is the byte of the text at fault, msg the
 * mistake ("unknown variable 'nope'"), hint what is allowed */
struct tmpl_error {
	size_t offset;
	char msg[160];
	char hint[1024];
};

const char *tmpl_event_name(enum tmpl_event ev);
const char *tmpl_channel_name(enum tmpl_channel ch);
int tmpl_event_code(const char *name);		/* -1 when unknown */
int tmpl_channel_code(const char *name);	/* "mail" or "chat"; -1 otherwise */
const char *tmpl_var_name(enum tmpl_var v);

/* tmpl_compile - text to parts; NULL with *err filled on a mistake */
struct tmpl *tmpl_compile(const char *text, struct tmpl_error *err);
void tmpl_destroy(struct tmpl **self_p);

/* tmpl_render - the text with the values in; the caller frees the result */
char *tmpl_render(const struct tmpl *t, const struct tmpl_values *vals);

/* templates_new - a set where every event has its built-in text */
struct templates *templates_new(void);
void templates_destroy(struct templates **self_p);

/* templates_set - the subject and/or body of (event, channel); takes either pointer
 * (NULL or *NULL: that part keeps falling back) and clears it */
void templates_set(struct templates *set, enum tmpl_event ev, enum tmpl_channel ch,
		   struct tmpl **subject_p, struct tmpl **body_p);

/* templates_render - subject (one line) and body of a message, each found in this order:
 * for a reminder, overdue or escalation listing several units, digest for the channel
 * kind, then digest for any; then the event for the channel kind, the event for any, and
 * the built-in text. The caller frees both strings. */
void templates_render(const struct templates *set, enum tmpl_event ev, enum tmpl_channel ch,
		      const struct tmpl_values *vals, char **subject, char **body);

#endif
