/*
 * backup.h - backup.create, backup.status, backup.read: a consistent copy of the state
 * directory, taken while the daemon serves, as one ustar archive.
 */
#ifndef THIDUA_BACKUP_H
#define THIDUA_BACKUP_H

#include <jansson.h>

struct daemon;
struct request;

int op_backup_create(struct daemon *d, struct request *rq, json_t *out);
int op_backup_status(struct daemon *d, struct request *rq, json_t *out);
int op_backup_read(struct daemon *d, struct request *rq, json_t *out);
void backup_turn(struct daemon *d);
long backup_timeout_ms(const struct daemon *d);
void backup_stop(struct daemon *d);

#endif
