/*
 * notices.c - the text of the notices about obligations (the outbox's default renderer,
 * registered by intake_init): reminders, overdue notices and escalations from the deadline
 * engine, receipts, returns and acceptances from intake.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "clock.h"
#include "compiled.h"
#include "config.h"
#include "notices.h"
#include "outbox.h"
#include "period_text.h"
#include "store.h"
#include "templates.h"
#include "thiduad.h"
#include "units.h"
#include "xalloc.h"

static const char *text_col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* actor_text - a principal as a message names it: "Display Name (Unit name)" */
static char *actor_text(struct daemon *d, const char *name)
{
	const struct principal *who = cfg_principal(d->cfg, name);
	const struct unit *u = who ? unitset_find(d->units, who->unit) : NULL;

	if (!who)
		return xstrdup(!strcmp(name, "admin") ? "quản trị hệ thống" : name);
	return xasprintf("%s (%s)", who->display_name ? who->display_name : who->name, u ? u->name : who->unit);
}

/* notice_words - what the template of a unit's message needs from the submission or
 * review its step names ("receipt/ID", "review/ID"): the reason, the actor and the receipt
 * number; new strings, NULL when there is none */
static void notice_words(struct daemon *d, const char *step, char **reason, char **actor, char **receipt)
{
	int review = !strncmp(step, "review/", 7), sub = !strncmp(step, "receipt/", 8);
	sqlite3_stmt *s;

	*reason = *actor = *receipt = NULL;
	if (!review && !sub)
		return;
	s = review ? store_stmt(d->store, "SELECT reason, principal, NULL FROM reviews WHERE id = ?1")
		   : store_stmt(d->store, "SELECT NULL, principal, receipt FROM submissions WHERE id = ?1");
	sqlite3_bind_int64(s, 1, strtoll(strchr(step, '/') + 1, NULL, 10));
	if (sqlite3_step(s) == SQLITE_ROW) {
		*reason = xstrdup(text_col(s, 0) ? text_col(s, 0) : "");
		*actor = actor_text(d, text_col(s, 1));
		*receipt = text_col(s, 2) ? xstrdup(text_col(s, 2)) : NULL;
	}
	sqlite3_reset(s);
}

#define LATE_NOTE "\n(Thông báo gửi muộn: hệ thống tạm ngừng vào thời điểm nhắc.)\n"

/* the text of one unit of a message: due date, days left and days late as the reader
 * counts them on the day the message leaves */
struct item_text {
	char due[16], left[16], late[16];
};

/* notices_render - subject and body from the templates (docs/CONFIG.md), Vietnamese by default,
 * for a channel kind: TC_MAIL for an email, TC_CHAT for chat posts, TC_ANY for a .json
 * spool file. A reminder, overdue, receipt, returned or accepted notice speaks of one
 * unit; an escalation lists them. */
void notices_render(struct daemon *d, const struct outbox_message *m, const struct unit *to,
		    const struct outbox_item *items, size_t n, int32_t today, enum tmpl_channel ch, char **subject,
		    char **body)
{
	const struct report_type *rt = cfg_report(d->cfg, m->report);
	const struct unit *recv = rt ? unitset_find(d->units, rt->receiver) : NULL;
	struct tmpl_item *units = xcalloc(n ? n : 1, sizeof(*units));
	struct item_text *texts = xcalloc(n ? n : 1, sizeof(*texts));
	struct tmpl_values v = { .units = units, .nunits = n };
	enum tmpl_event ev = !strcmp(m->kind, "reminder") ? TE_REMINDER : !strcmp(m->kind, "overdue") ? TE_OVERDUE
			     : !strcmp(m->kind, "returned") ? TE_RETURNED : !strcmp(m->kind, "accepted") ? TE_ACCEPTED
			     : !strcmp(m->kind, "receipt") ? TE_RECEIPT : TE_ESCALATION;
	char count[24], *reason = NULL, *actor = NULL, *receipt = NULL, late_until[16] = "";
	char title[1024], contact[512], expected[24], received[24], missing[24], listed[4096];
	struct inputs in;
	int32_t last_due = INT32_MIN;

	for (size_t i = 0; i < n; i++) {
		int32_t due = items[i].due_day;

		cal_vn_day(due, texts[i].due, sizeof(texts[i].due));
		snprintf(texts[i].left, sizeof(texts[i].left), "%ld", due > today ? (long)due - today : 0L);
		snprintf(texts[i].late, sizeof(texts[i].late), "%ld", today > due ? (long)today - due : 0L);
		units[i].v[TV_UNIT_NAME] = items[i].name;
		units[i].v[TV_UNIT_CODE] = items[i].code;
		units[i].v[TV_DUE_DATE] = texts[i].due;
		units[i].v[TV_DAYS_LEFT] = texts[i].left;
		units[i].v[TV_DAYS_OVERDUE] = texts[i].late;
		last_due = due > last_due ? due : last_due;
	}
	if (rt && rt->late_days >= 0 && n && (ev == TE_OVERDUE || ev == TE_ESCALATION))
		cal_vn_day(last_due + rt->late_days, late_until, sizeof(late_until));
	v.v[TV_LATE_UNTIL] = late_until[0] ? late_until : NULL;
	snprintf(count, sizeof(count), "%zu", n);
	v.v[TV_REPORT_NAME] = rt ? rt->name : m->report;
	v.v[TV_REPORT_CODE] = m->report;
	v.v[TV_PERIOD] = m->period;
	report_period_text(rt ? rt->name : m->report, rt && rt->yearly, m->period, title, sizeof(title));
	v.v[TV_REPORT_PERIOD] = title;
	v.v[TV_PLAN_NO] = d->cfg->movement_plan;
	v.v[TV_PLAN_NAME] = d->cfg->plan_name;
	v.v[TV_RECEIVER_NAME] = recv ? recv->name : "đơn vị nhận";
	unit_contact_text(recv, contact, sizeof(contact));
	v.v[TV_RECEIVER_CONTACT] = contact;
	v.v[TV_HOW_TO_SUBMIT] = rt && rt->how_to_submit ? rt->how_to_submit : d->cfg->how_to_submit;
	/* a compiled report: its inputs when it was filed (a receipt), else as they stand */
	if (compiled_inputs(d, rt, m->period, ev == TE_RECEIPT ? m->moment : clock_now(d), &in) == 0) {
		snprintf(expected, sizeof(expected), "%ld", in.expected);
		snprintf(received, sizeof(received), "%ld", in.received);
		snprintf(missing, sizeof(missing), "%ld", in.missing);
		inputs_missing_text(d, &in, listed, sizeof(listed));
		v.v[TV_INPUTS_EXPECTED] = expected;
		v.v[TV_INPUTS_RECEIVED] = received;
		v.v[TV_INPUTS_MISSING_COUNT] = missing;
		v.v[TV_INPUTS_MISSING] = listed;
		inputs_free(&in);
	}
	v.v[TV_RECIPIENT_NAME] = to ? to->name : m->recipient;
	v.v[TV_UNIT_COUNT] = count;
	v.v[TV_DEDUP_KEY] = m->key;
	v.v[TV_LATE_NOTE] = m->late ? LATE_NOTE : "";
	if (ev == TE_RETURNED || ev == TE_ACCEPTED || ev == TE_RECEIPT)
		notice_words(d, m->step, &reason, &actor, &receipt);
	v.v[TV_REASON] = reason ? reason : "";
	v.v[TV_ACTOR] = actor ? actor : "";
	v.v[TV_RECEIPT] = receipt ? receipt : "";
	templates_render(d->cfg->templates, ev, ch, &v, subject, body);
	free(reason);
	free(actor);
	free(receipt);
	free(texts);
	free(units);
}
