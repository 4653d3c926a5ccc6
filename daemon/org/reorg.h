/*
 * reorg.h - the reorganisation of units in the running daemon: what is in force on a date
 * (stages, programmes, principals) and what a closed unit may no longer do. The spans
 * themselves are read and checked in config_span.c.
 */
#ifndef THIDUA_REORG_H
#define THIDUA_REORG_H

#include <stddef.h>
#include <stdint.h>

struct daemon;
struct request;
struct programme;
struct principal;
struct unit;

/* stage_skip_refusal - *n becomes the first stage from *n in force on today; -1 and why
 * when none is */
int stage_skip_refusal(struct daemon *d, const struct programme *pg, int *n, int32_t today, char *why,
		       size_t size);

/* programme_span_refusal - 0 while pg takes new dossiers today; else -1 and why */
int programme_span_refusal(struct daemon *d, const struct programme *pg, char *why, size_t size);

/* principal_refusal - 0 when p holds its roles today; else an rq_error naming its unit,
 * the dates and the successor */
int principal_refusal(struct daemon *d, struct request *rq, const struct principal *p);

/* closed_unit_refusal - 0 when u is in force today; else an rq_error naming its successor
 * and the date it closed */
int closed_unit_refusal(struct daemon *d, struct request *rq, const struct unit *u, const char *what);

/* reorg_init - register the sweep run on the day after a unit or a stage ends: open
 * obligations of a closed unit pass to its successor or close with the reason; dossiers
 * waiting at a stage that ended or whose deciding unit closed move on */
void reorg_init(void);

/* reorg_recipient - the unit code, or its only successor once it has closed (a message
 * to a proposer that merged reaches the commune it merged into) */
const char *reorg_recipient(struct daemon *d, const char *code, int32_t today);

/* reorg_predecessor_in - u itself, or the unit above it on day, that closed into under
 * (its successors lead to under), or NULL: the row of u reads under its successor */
const struct unit *reorg_predecessor_in(const struct unit *u, const struct unit *under, int32_t day);

/* successors_text - "XA-BINHMY-2025 (Ủy ban nhân dân xã Bình Mỹ)", or "no successor" */
void successors_text(const struct unit *u, char *buf, size_t size);

#endif
