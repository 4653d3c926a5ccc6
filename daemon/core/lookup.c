/*
 * lookup.c - the request fields that name a unit or a report type, resolved with one
 * error message everywhere: what was not found, the closest code when it looks like a
 * typo, and the command that lists the valid codes.
 */
#include <string.h>

#include "config.h"
#include "lookup.h"
#include "rq.h"
#include "thiduad.h"
#include "units.h"

/* report_suggest - the closest report code, when close enough to be a typo */
const char *report_suggest(const struct config *cfg, const char *code)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; i < cfg->nreports; i++) {
		size_t dist = text_distance(code, cfg->reports[i].code);

		if (dist < best_d) {
			best_d = dist;
			best = cfg->reports[i].code;
		}
	}
	return best_d <= strlen(code) / 2 + 1 ? best : NULL;
}

/* rq_report_unknown - the unknown_report error reply for code */
int rq_report_unknown(struct request *rq, const struct config *cfg, const char *code)
{
	const char *s = strlen(code) <= 64 ? report_suggest(cfg, code) : NULL;

	return rq_error(rq, ERR_UNKNOWN_REPORT, "there is no report type '%.64s'%s%s%s; 'thiduactl reports' lists them", code,
			s ? " (did you mean " : "", s ? s : "", s ? "?)" : "");
}

/* rq_report - the report type named by the "report" field (required), or an error reply */
const struct report_type *rq_report(struct daemon *d, struct request *rq)
{
	const char *code = rq_str(rq, "report", 1);
	const struct report_type *rt;

	if (!code)
		return NULL;
	if ((rt = cfg_report(d->cfg, code)))
		return rt;
	rq_report_unknown(rq, d->cfg, code);
	return NULL;
}

/* rq_unit_unknown - the error reply for a unit code that is not in units; -1 */
int rq_unit_unknown(struct request *rq, const struct unitset *units, const char *code)
{
	const char *s = strlen(code) <= 64 ? unitset_suggest(units, code) : NULL;

	return rq_error(rq, ERR_UNKNOWN_UNIT, "there is no unit '%.64s'%s%s%s; 'thiduactl units list' shows the codes",
			code, s ? " (did you mean " : "", s ? s : "", s ? "?)" : "");
}

/* rq_unit - the unit named by field key (required), or an error reply */
struct unit *rq_unit(struct daemon *d, struct request *rq, const char *key)
{
	const char *code = rq_str(rq, key, 1);
	struct unit *u;

	if (!code)
		return NULL;
	if ((u = unitset_find(d->units, code)))
		return u;
	rq_unit_unknown(rq, d->units, code);
	return NULL;
}
