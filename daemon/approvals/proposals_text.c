/*
 * proposals_text.c - the words of the messages about proposals (the outbox renderer of
 * kind "proposal"): one or many proposals listed from the notices, from the templates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "proposals.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "xalloc.h"

#define RENDER_MAX 50		/* proposals listed in one message; the rest are counted */

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	return col(s, i) ? xstrdup(col(s, i)) : NULL;
}

/* message texts ------------------------------------------------------------------------- */

/* one proposal of a message, as the notice recorded it, with its values as text */
struct render_item {
	char *nominee, *nominee_name, *proposer, *reason;
	char id[24], level[16], where[512];
};

/* proposal_event - the template event of a step; an unknown step reads as a withdrawal, as
 * it always has */
static enum tmpl_event proposal_event(const char *step)
{
	char name[64];
	int ev;

	snprintf(name, sizeof(name), "proposal_%s", step);
	ev = tmpl_event_code(name);
	return ev >= TE_PROPOSAL_PENDING && ev <= TE_PROPOSAL_MOVED ? (enum tmpl_event)ev : TE_PROPOSAL_WITHDRAWN;
}

/* proposals_render - one message about one or many proposals: the first RENDER_MAX are
 * listed, the rest counted; the words come from the templates (docs/CONFIG.md) */
void proposals_render(struct daemon *d, int64_t outbox, const char *step, const char *key, const char *recipient,
		      enum tmpl_channel ch, char **subject, char **body)
{
	sqlite3_stmt *s = store_stmt(d->store,
		"SELECT p.id, p.programme, p.year, p.level, p.nominee, p.nominee_name, p.proposer, n.stage, e.reason,"
		" e.decision_no, n.due_at, p.decision_day, count(*) OVER (), p.place FROM proposal_notices n"
		" JOIN proposals p ON p.id = n.proposal JOIN proposal_events e ON e.id = n.event"
		" WHERE n.outbox = ?1 ORDER BY p.id LIMIT ?2");
	const struct unit *to = unitset_find(d->units, recipient);
	const struct programme *pg = NULL;
	struct render_item items[RENDER_MAX];
	struct tmpl_item list[RENDER_MAX];
	struct tmpl_values v = { .proposals = list };
	char *programme = NULL, *no = NULL;
	char due[16] = "", date[16] = "", year[16] = "0", stage[16] = "0", total[24] = "0", more[24] = "0";
	const char *reason = NULL;
	long count = 0;
	size_t n = 0;
	int same_reason = 1;

	memset(list, 0, sizeof(list));
	sqlite3_bind_int64(s, 1, outbox);
	sqlite3_bind_int(s, 2, RENDER_MAX);
	while (n < RENDER_MAX && sqlite3_step(s) == SQLITE_ROW) {
		struct render_item *it = &items[n];
		const struct unit *pu;

		if (!n) {
			programme = col_dup(s, 1);
			pg = cfg_programme(d->cfg, programme);
			snprintf(year, sizeof(year), "%d", sqlite3_column_int(s, 2));
			snprintf(stage, sizeof(stage), "%d", sqlite3_column_int(s, 7));
			count = (long)sqlite3_column_int64(s, 12);
			if (sqlite3_column_type(s, 10) != SQLITE_NULL)
				cal_vn_day(day_of_time(sqlite3_column_int64(s, 10), d->cfg->utc_offset), due, sizeof(due));
			no = col_dup(s, 9);
			if (sqlite3_column_type(s, 11) != SQLITE_NULL)
				cal_vn_day(sqlite3_column_int(s, 11), date, sizeof(date));
		}
		snprintf(it->id, sizeof(it->id), "%lld", (long long)sqlite3_column_int64(s, 0));
		if (pg && pg->award)
			it->level[0] = 0;	/* an award has no level: its line says none */
		else
			snprintf(it->level, sizeof(it->level), "%d", sqlite3_column_int(s, 3));
		it->nominee = col_dup(s, 4);
		it->nominee_name = col_dup(s, 5);
		it->proposer = col_dup(s, 6);
		it->reason = col_dup(s, 8);
		if (n && strcmp(it->reason ? it->reason : "", reason ? reason : ""))
			same_reason = 0;
		reason = items[0].reason;
		pu = unitset_find(d->units, it->proposer);
		list[n].v[TV_PROPOSAL_ID] = it->id;
		list[n].v[TV_NOMINEE_CODE] = it->nominee;
		/* a nominee without a code of its own is known by its name: the parenthesis then
		 * says where it belongs, not the name again */
		if (it->nominee && it->nominee_name && !strcmp(it->nominee, it->nominee_name)) {
			const struct unit *pl = unitset_find(d->units, col(s, 13));

			xstrlcpy(it->where, pl ? pl->name : col(s, 13), sizeof(it->where));
			list[n].v[TV_NOMINEE_CODE] = it->where;
		}
		list[n].v[TV_NOMINEE_NAME] = it->nominee_name;
		list[n].v[TV_LEVEL] = it->level;
		list[n].v[TV_PROPOSER_NAME] = pu ? pu->name : it->proposer;
		list[n].v[TV_PROPOSER_CODE] = it->proposer;
		list[n].v[TV_PROPOSAL_REASON] = it->reason;
		n++;
	}
	sqlite3_reset(s);
	snprintf(total, sizeof(total), "%ld", count);
	if (count > (long)n)
		snprintf(more, sizeof(more), "%ld", count - (long)n);
	v.nproposals = n;
	v.v[TV_RECIPIENT_NAME] = to ? to->name : recipient;
	v.v[TV_PROGRAMME_NAME] = pg ? pg->name : programme ? programme : "";
	v.v[TV_PROGRAMME_CODE] = programme ? programme : "";
	v.v[TV_YEAR] = year;
	v.v[TV_STAGE] = stage;
	v.v[TV_DUE_DATE] = due;
	v.v[TV_PROPOSAL_COUNT] = total;
	v.v[TV_MORE_COUNT] = more;
	v.v[TV_DECISION_NO] = no ? no : "";
	v.v[TV_DECISION_DATE] = date;
	v.v[TV_REASON] = same_reason && reason ? reason : "";
	v.v[TV_DEDUP_KEY] = key;
	v.v[TV_PLAN_NO] = d->cfg->movement_plan;
	v.v[TV_PLAN_NAME] = d->cfg->plan_name;
	templates_render(d->cfg->templates, proposal_event(step), ch, &v, subject, body);
	for (size_t i = 0; i < n; i++) {
		free(items[i].nominee);
		free(items[i].nominee_name);
		free(items[i].proposer);
		free(items[i].reason);
	}
	free(programme);
	free(no);
}
