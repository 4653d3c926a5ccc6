/*
 * proposals_reorg.c - proposals in a reorganisation (reorg.c runs it at the midnight after
 * a unit's last day or a stage's): a dossier waiting at a stage that ended, or before a
 * deciding unit that closed, goes to the stage in force after it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "calendar.h"
#include "config.h"
#include "events.h"
#include "log.h"
#include "proposals.h"
#include "registry.h"
#include "store.h"
#include "thiduad.h"
#include "units.h"
#include "xalloc.h"

/* move_proposal - a dossier waiting at a stage that ended, or whose deciding unit closed,
 * goes to the stage in force after it; a proposal event, an audit row, notices */
static int move_proposal(struct daemon *d, int64_t id, int32_t today)
{
	struct proposal p;
	const struct programme *pg;
	const struct stage *st;
	const struct unit *dec;
	char why[512], reason[512], day[16], from_decider[80], object[64];
	int from_stage, to, rc = 0;
	int64_t ev;

	if (proposal_load(d, id, &p))
		return 0;
	pg = cfg_programme(d->cfg, p.programme);
	if (!pg || p.stage < 1 || (size_t)p.stage > pg->nstages || !p.decider)
		goto out;
	st = &pg->stages[p.stage - 1];
	dec = unitset_find(registry_units(d), p.decider);
	if (span_contains(st->from, st->until, today) && (!dec || unit_active_at(dec, today)))
		goto out;
	from_stage = p.stage;
	xstrlcpy(from_decider, p.decider, sizeof(from_decider));
	to = span_contains(st->from, st->until, today) ? p.stage : p.stage + 1;
	if (dec && !unit_active_at(dec, today)) {
		cal_vn_day(dec->active_to, day, sizeof(day));
		snprintf(reason, sizeof(reason), "Đơn vị xét duyệt %s (%s) đã sắp xếp lại ngày %s.", dec->code, dec->name, day);
	} else {
		cal_vn_day(st->until, day, sizeof(day));
		snprintf(reason, sizeof(reason), "Bước %d (%s) kết thúc ngày %s.", p.stage, st->decider, day);
	}
	ev = proposal_event_add(d, &p, "thiduad", "move", p.stage, p.decider, reason, NULL, NULL, 0, NULL, "submitted");
	if (ev < 0) {
		rc = -1;
		goto out;
	}
	if (proposal_enter_stage(d, &p, pg, to, ev, 0, why, sizeof(why))) {
		if (*why)
			log_warn("reorganisation: proposal %lld stays at stage %d: %s", (long long)id, from_stage, why);
		rc = *why ? 0 : -1;
		goto out;
	}
	snprintf(object, sizeof(object), "proposal/%lld", (long long)id);
	if (proposal_notify(d, &p, ev, "moved", p.proposer, 0)
	    || audit_append(d, "thiduad", "proposal.move", object, p.proposer,
			    json_pack("{s:i,s:s,s:i,s:s,s:s}", "from_stage", from_stage, "from_decider", from_decider,
				      "stage", p.stage, "decider", p.decider, "reason", reason))) {
		rc = -1;
		goto out;
	}
	events_emit(d, "proposal.moved", json_pack("{s:I,s:s,s:i,s:i,s:s}", "proposal", (json_int_t)id, "programme",
						   p.programme, "from_stage", from_stage, "stage", p.stage, "decider", p.decider));
	log_info("reorganisation: proposal %lld moved from stage %d (%s) to stage %d (%s)", (long long)id, from_stage,
		 from_decider, p.stage, p.decider);
out:
	proposal_clear(&p);
	return rc;
}

/* proposals_reorg_sweep - every dossier waiting at a stage, moved on when its stage ended
 * or its deciding unit closed (registered with reorg.c) */
int proposals_reorg_sweep(struct daemon *d, int32_t today)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT id FROM proposals WHERE state = 'submitted' ORDER BY id");
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = move_proposal(d, ids[i], today);
	free(ids);
	return rc;
}
