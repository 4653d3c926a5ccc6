/*
 * uploads.h - files sent ahead in parts (upload.open, upload.append, upload.cancel), then
 * named by the request that stores them ("uploads") in place of its file frames.
 */
#ifndef THIDUA_UPLOADS_H
#define THIDUA_UPLOADS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct request;

#define UPLOADS_MAX 1024		/* open at once, every principal together */
#define UPLOADS_PER_PRINCIPAL 64	/* open at once by one principal: a request's files */
#define UPLOADS_BYTES_FACTOR 8		/* all open uploads hold at most 8 x max_request_bytes
					 * (one principal's, max_request_bytes: what a request takes) */
#define UPLOAD_RATE_COST (1.0 / 64)	/* an upload op counts as this much of a request
					 * against daemon.requests_per_second */
#define UPLOAD_IDLE_SECONDS 900		/* an upload nobody appended to for this long is dropped */

int op_upload_open(struct daemon *d, struct request *rq, json_t *out);
int op_upload_append(struct daemon *d, struct request *rq, json_t *out);
int op_upload_cancel(struct daemon *d, struct request *rq, json_t *out);

/* uploads_take - the request's "uploads" made its file frames (each a read-only mapping
 * of the staged file, released with the frame); the uploads are used, whatever the op
 * answers. 0 (also without "uploads"), -1 refused (rq_error) */
int uploads_take(struct daemon *d, struct request *rq);

/* uploads_staged - is data (size bytes) the frame of an upload a request took? its
 * staged file's path and descriptor and its SHA-256 (hex), for blobs_put to rename it
 * into place instead of writing a copy; NULL when not */
struct upload_file {
	const char *path;
	int fd;
	const char *hex;
	int *placed;			/* set once renamed away */
};
const struct upload_file *uploads_staged(const void *data, size_t size);

/* uploads_start - the staging directory (STATE_DIR/uploads) made, emptied of what an
 * earlier run left; 0, -1 with err */
int uploads_start(struct daemon *d, char *err, size_t errsize);
/* uploads_sweep - uploads idle for UPLOAD_IDLE_SECONDS dropped (each turn: a short list) */
void uploads_sweep(struct daemon *d);

#endif
