/*
 * audit.h - the audit log: append-only, each row carrying the hash of the one before, so
 * `thiduactl audit verify` can prove that no row was edited or removed.
 */
#ifndef THIDUA_AUDIT_H
#define THIDUA_AUDIT_H

#include <jansson.h>
#include <stddef.h>

struct daemon;
struct request;

int audit_init(struct daemon *d, char *err, size_t errsize);
void audit_anchor(struct daemon *d, int now);
int audit_append(struct daemon *d, const char *principal, const char *op, const char *object,
		 const char *unit, json_t *detail);
int audit_request(struct daemon *d, const char *principal, const char *op, json_t *body, json_t *reply);
int op_audit_list(struct daemon *d, struct request *rq, json_t *out);
int op_audit_verify(struct daemon *d, struct request *rq, json_t *out);

#endif
