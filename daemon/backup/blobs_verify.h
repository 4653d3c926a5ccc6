/*
 * blobs_verify.h - files.verify: every stored file against the SHA-256 its receipt states.
 */
#ifndef THIDUA_BLOBS_VERIFY_H
#define THIDUA_BLOBS_VERIFY_H

#include <jansson.h>

struct daemon;
struct request;

int op_files_verify(struct daemon *d, struct request *rq, json_t *out);

#endif
