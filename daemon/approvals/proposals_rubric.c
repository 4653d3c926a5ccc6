/*
 * proposals_rubric.c - a programme's rubric: criteria scored in points or met / not met,
 * the scores a stage gives read and checked, and the verdict against the points needed.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "proposals.h"
#include "store.h"
#include "thiduad.h"
#include "xalloc.h"

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* the rubric ------------------------------------------------------------------------- */

/* criteria_list - "TC1, TC2, TC3" */
static void criteria_list(const struct programme *pg, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < pg->ncriteria && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", pg->criteria[i].code);
}

/* word_is - text equals one of the words (ASCII letters compared without case) */
static int word_is(const char *text, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(text, words[i]))
			return 1;
	return 0;
}

/* proposal_score_text - one value of criterion c from text */
int proposal_score_text(const struct programme *pg, size_t c, const char *text, json_t **value, char *why, size_t size)
{
	static const char *const yes[] = { "yes", "true", "1", "met", "x", "đạt", "có", NULL };
	static const char *const no[] = { "no", "false", "0", "not met", "không", "không đạt", "chưa đạt", NULL };
	const struct criterion *cr = &pg->criteria[c];
	char buf[64];
	size_t n;
	char *end;
	double v;

	while (*text == ' ' || *text == '\t')
		text++;
	n = xstrlcpy(buf, text, sizeof(buf));
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = 0;
	if (cr->met) {
		if (word_is(buf, yes)) {
			*value = json_true();
			return 0;
		}
		if (word_is(buf, no)) {
			*value = json_false();
			return 0;
		}
		snprintf(why, size, "%s (%s) is met or not met: write yes or no (đạt / không đạt), not \"%s\"", cr->code,
			 cr->name, buf);
		return -1;
	}
	v = strtod(buf, &end);
	if (end == buf || *end || !isfinite(v) || v < 0 || v > cr->max) {
		snprintf(why, size, "%s (%s) is scored from 0 to %d points, not \"%s\"", cr->code, cr->name, cr->max, buf);
		return -1;
	}
	*value = v == floor(v) ? json_integer((json_int_t)v) : json_real(v);
	return 0;
}

/* proposal_scores_parse - {criterion: value} against the rubric */
json_t *proposal_scores_parse(const struct programme *pg, json_t *in, char *why, size_t size)
{
	json_t *out, *v;
	const char *key;
	char list[512];

	if (!json_is_object(in)) {
		snprintf(why, size, "'scores' must be an object {\"CRITERION\": value, ...}");
		return NULL;
	}
	if (!pg->ncriteria && json_object_size(in)) {
		snprintf(why, size, "programme %s has no rubric: send no scores", pg->code);
		return NULL;
	}
	criteria_list(pg, list, sizeof(list));
	out = json_object();
	json_object_foreach(in, key, v) {
		char text[64];
		json_t *value;
		size_t c;

		for (c = 0; c < pg->ncriteria && strcmp(pg->criteria[c].code, key); c++)
			;
		if (c == pg->ncriteria) {
			snprintf(why, size, "programme %s has no criterion '%s'; its criteria are %s", pg->code, key, list);
			json_decref(out);
			return NULL;
		}
		if (json_is_string(v))
			xstrlcpy(text, json_string_value(v), sizeof(text));
		else if (json_is_integer(v))
			snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(text, sizeof(text), "%.17g", json_real_value(v));
		else if (json_is_boolean(v))
			snprintf(text, sizeof(text), "%s", json_is_true(v) ? "yes" : "no");
		else {
			snprintf(why, size, "the score of %s must be a number, true or false", key);
			json_decref(out);
			return NULL;
		}
		if (proposal_score_text(pg, c, text, &value, why, size)) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, key, value);
	}
	return out;
}

/* proposal_verdict - total, completeness and pass of scores under pg's rubric */
void proposal_verdict(const struct programme *pg, json_t *scores, struct verdict *v)
{
	size_t used = 0;

	memset(v, 0, sizeof(*v));
	v->complete = v->met_all = 1;
	for (size_t i = 0; i < pg->ncriteria; i++) {
		const struct criterion *cr = &pg->criteria[i];
		json_t *x = json_object_get(scores, cr->code);

		v->max_total += cr->max;
		if (!x) {
			v->complete = 0;
			if (used < sizeof(v->why))
				used += (size_t)snprintf(v->why + used, sizeof(v->why) - used, "%s%s has no score",
							 used ? "; " : "", cr->code);
		} else if (cr->met) {
			if (!json_is_true(x)) {
				v->met_all = 0;
				if (used < sizeof(v->why))
					used += (size_t)snprintf(v->why + used, sizeof(v->why) - used, "%s%s is not met",
								 used ? "; " : "", cr->code);
			}
		} else {
			v->total += json_number_value(x);
		}
	}
	v->passed = !pg->ncriteria || (v->complete && v->met_all && (pg->threshold < 0 || v->total >= pg->threshold));
	if (pg->ncriteria && pg->threshold >= 0 && v->total < pg->threshold && used < sizeof(v->why))
		snprintf(v->why + used, sizeof(v->why) - used, "%s%g of %d points, below the threshold of %d",
			 used ? "; " : "", v->total, v->max_total, pg->threshold);
}

/* proposal_scores - self-assessment, then each stage's scores in order */
json_t *proposal_scores(struct daemon *d, const struct proposal *p)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT scores FROM proposal_events WHERE proposal = ?1"
				     " AND scores IS NOT NULL ORDER BY id");
	json_t *all = json_deep_copy(p->self_scores);

	sqlite3_bind_int64(s, 1, p->id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *x = json_loads(col(s, 0), 0, NULL);

		if (x)
			json_object_update(all, x);
		json_decref(x);
	}
	sqlite3_reset(s);
	return all;
}
