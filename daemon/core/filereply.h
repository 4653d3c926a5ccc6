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

/* found_file - what a SELECT of (name, size, data) found: the name, the size, the
 * bytes when the row holds them (else size stays, data NULL), size -1 when the row's
 * bytes do not have the size it says */
struct found_file {
	char *name;
	void *data;
	int64_t size;
};

/* the request's "sha256" (64 lowercase hex digits), or NULL with the error reply naming
 * what lists the files (listed_by) */
const char *filereply_want_sha256(struct request *rq, const char *listed_by);
/* row s (name, size, data) into f */
void filereply_read_row(sqlite3_stmt *s, struct found_file *f);
/* f's bytes, hashed again against hex, as the reply's file frame; an error names `whose`
 * ("receipt BN-2024-000001") and empties out. Frees f. */
int filereply_send(struct daemon *d, struct request *rq, json_t *out, struct found_file *f, const char *hex,
		   const char *whose);

#endif
