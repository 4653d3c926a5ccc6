/*
 * blobs.h - submitted files, named by their SHA-256.
 */
#ifndef THIDUA_BLOBS_H
#define THIDUA_BLOBS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct request;

int blobs_put(struct daemon *d, struct request *rq, const char *name, const void *data, size_t size, char hex[65]);
void blobs_bind(sqlite3_stmt *s, int i, const void *data, size_t size, int kept);
int blobs_sync(struct daemon *d);
int blobs_check_file(const char *path, int64_t size, const char *hex, char *why, size_t whysize);
/* blobs_read - the content of a file kept under files/ (size bytes, SHA-256 hex), checked
 * again; malloc'd, or NULL with why */
void *blobs_read(struct daemon *d, const char *hex, int64_t size, char *why, size_t whysize);

#endif
