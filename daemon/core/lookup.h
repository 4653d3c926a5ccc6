/*
 * lookup.h - the request fields that name a unit or a report type, resolved with one error
 * message everywhere: what was not found, the closest code when it looks like a typo, and
 * the command that lists the valid codes.
 */
#ifndef THIDUA_LOOKUP_H
#define THIDUA_LOOKUP_H

struct config;
struct daemon;
struct report_type;
struct request;
struct unit;
struct unitset;

const char *report_suggest(const struct config *cfg, const char *code);
int rq_report_unknown(struct request *rq, const struct config *cfg, const char *code);
int rq_unit_unknown(struct request *rq, const struct unitset *units, const char *code);
const struct report_type *rq_report(struct daemon *d, struct request *rq);

struct unit *rq_unit(struct daemon *d, struct request *rq, const char *key);

#endif
