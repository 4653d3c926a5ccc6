/*
 * filereply.h - one stored file as the file frame of a reply (filereply.c)
 */
#ifndef THIDUA_FILEREPLY_H
#define THIDUA_FILEREPLY_H

#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>

struct daemon;
struct request;

/* the request's "sha256" (64 lowercase hex digits), or NULL with the error reply naming
 * what lists the files (listed_by) */
const char *filereply_want_sha256(struct request *rq, const char *listed_by);
/* the file of row s, a SELECT of (name, size, data) the caller bound, hashed again, as the
 * reply's file frame with "name", "size" and "sha256" in out; 1 when s finds no row, -1
 * (the error reply naming `whose`, out emptied) when the stored copy is missing or changed */
int filereply_send(struct daemon *d, struct request *rq, json_t *out, sqlite3_stmt *s, const char *hex,
		   const char *whose);

#endif
