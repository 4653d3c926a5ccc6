/*
 * uploads.c - files sent ahead in parts, so that a large file is on disk and hashed by
 * the time its last byte arrives.
 *
 * A principal opens an upload (a 128-bit random id), appends parts in order (each part
 * written to STATE_DIR/uploads/ID at its offset, its writeback started, and added to the
 * running SHA-256), then names it in the request that stores it: "uploads": [ID, ...] in
 * place of file frames. uploads_take makes each one a file frame of that request, a
 * read-only mapping of the staged file, so every op that takes files takes uploads
 * unchanged; blobs_put renames a staged file into files/ instead of writing a copy
 * (uploads_staged), so the request's commit waits only for the flush of its last part.
 *
 * The state is in memory: an upload is the daemon's until it is used, cancelled or idle
 * for UPLOAD_IDLE_SECONDS; a restart drops every one (uploads_start empties the
 * directory), and the client, whose request was never acknowledged, sends the file again.
 * Nothing of an upload is in the database and none of its ops is replayed: a part sent
 * again after a lost reply is refused with upload_offset and the size the upload has,
 * from which the client goes on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "rq.h"
#include "sha256.h"
#include "thiduad.h"
#include "uploads.h"
#include "utf8.h"
#include "xalloc.h"

struct upload {
	char id[33];
	char *principal;
	char *path;
	int fd;				/* open only once taken (between appends: closed) */
	int64_t size, touched;
	struct sha256 sha;
	char hex[65];
	void *map;			/* taken: the frame's bytes */
	int placed;			/* renamed into files/ by blobs_put */
	struct upload_file file;
	struct upload *next;
};

static struct upload *open_list;	/* open: parts may be appended */
static struct upload *taken_list;	/* taken by a request, until its frame is released */
static size_t nopen;
static uint64_t open_bytes;		/* what the open uploads hold together */

static void upload_free(struct upload *u)
{
	if (u->map)
		munmap(u->map, (size_t)u->size);
	if (u->fd >= 0)
		close(u->fd);
	if (!u->placed && u->path)
		unlink(u->path);
	free(u->path);
	free(u->principal);
	free(u);
}

/* unlink_from - u out of *list */
static void unlink_from(struct upload **list, struct upload *u)
{
	for (struct upload **p = list; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			return;
		}
}

/* close_open - u out of the open list (and its counts) */
static void close_open(struct upload *u)
{
	unlink_from(&open_list, u);
	nopen--;
	open_bytes -= (uint64_t)u->size;
}

static void drop_open(struct upload *u)
{
	close_open(u);
	upload_free(u);
}

/* find_open - the principal's open upload named id, or NULL */
static struct upload *find_open(const char *id, const char *principal)
{
	for (struct upload *u = open_list; u; u = u->next)
		if (!strcmp(u->id, id) && !strcmp(u->principal, principal))
			return u;
	return NULL;
}

static int unknown_upload(struct request *rq, const char *id)
{
	return rq_error(rq, ERR_UNKNOWN_UPLOAD, "upload '%.*s' is not open for %s: it was used by a request, cancelled, idle for %d minutes, or the daemon restarted; send the file again",
			(int)utf8_clip(id, RQ_QUOTE_MAX), id, rq_principal(rq), UPLOAD_IDLE_SECONDS / 60);
}

int uploads_start(struct daemon *d, char *err, size_t errsize)
{
	char dir[4200], path[4500];
	struct dirent *e;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/uploads", d->state_dir);
	if (mkdir(dir, 0750) && errno != EEXIST) {
		snprintf(err, errsize, "cannot make %s: %s", dir, strerror(errno));
		return -1;
	}
	dp = opendir(dir);
	if (!dp) {
		snprintf(err, errsize, "cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(dp)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path))
				log_warn("cannot remove %s, an upload an earlier run left: %s", path, strerror(errno));
		}
	closedir(dp);
	return 0;
}

void uploads_sweep(struct daemon *d)
{
	int64_t now;

	if (!open_list)
		return;
	now = clock_now(d);
	for (struct upload *u = open_list, *next; u; u = next) {
		next = u->next;
		if (now - u->touched >= UPLOAD_IDLE_SECONDS || now < u->touched - UPLOAD_IDLE_SECONDS) {
			log_info("upload %s of %s dropped: idle for %d minutes (%lld bytes)", u->id, u->principal,
				 UPLOAD_IDLE_SECONDS / 60, (long long)u->size);
			drop_open(u);
		}
	}
}

int op_upload_open(struct daemon *d, struct request *rq, json_t *out)
{
	const char *who = rq_principal(rq);
	unsigned char raw[16];
	struct upload *u;
	size_t mine = 0;
	int fd;

	uploads_sweep(d);
	for (u = open_list; u; u = u->next)
		mine += !strcmp(u->principal, who);
	if (mine >= UPLOADS_PER_PRINCIPAL)
		return rq_error(rq, ERR_TOO_MANY_UPLOADS, "%s has %d uploads open, the most one principal may; use or cancel one (upload.cancel) first",
				who, UPLOADS_PER_PRINCIPAL);
	if (nopen >= UPLOADS_MAX)
		return rq_error(rq, ERR_TOO_MANY_UPLOADS, "%d uploads are open, the most the daemon holds; send again in a minute, or send the file in the request's file frames",
				UPLOADS_MAX);
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return rq_error(rq, ERR_INTERNAL, "no random bytes for an upload's id: %s", strerror(errno));
	u = xcalloc(1, sizeof(*u));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(u->id + 2 * i, 3, "%02x", raw[i]);
	u->path = xasprintf("%s/uploads/%s", d->state_dir, u->id);
	u->fd = -1;
	fd = open(u->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0 || close(fd)) {
		int e = errno;

		u->placed = fd < 0;	/* nothing to unlink */
		upload_free(u);
		return rq_error(rq, e == ENOSPC || e == EDQUOT ? ERR_STORAGE_FULL : ERR_INTERNAL,
				"cannot make a file for the upload in %s/uploads: %s", d->state_dir, strerror(e));
	}
	u->principal = xstrdup(who);
	u->touched = clock_now(d);
	sha256_init(&u->sha);
	u->next = open_list;
	open_list = u;
	nopen++;
	json_object_set_new_nocheck(out, "upload", json_string(u->id));
	json_object_set_new_nocheck(out, "max_bytes", json_integer((json_int_t)d->cfg->max_request_bytes));
	return 0;
}

/* put_all - n bytes at offset; 0, -1 errno */
static int put_all(int fd, const unsigned char *p, size_t n, off_t offset)
{
	while (n) {
		ssize_t k = pwrite(fd, p, n, offset);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
		offset += k;
	}
	return 0;
}

int op_upload_append(struct daemon *d, struct request *rq, json_t *out)
{
	const char *id = rq_str(rq, "upload", 1);
	long long offset;
	const void *data;
	struct upload *u;
	uint64_t mine = 0;
	size_t size;
	int fd, e = 0;

	if (!id || rq_int(rq, "offset", 1, 0, INT64_MAX, &offset))
		return -1;
	if (!(u = find_open(id, rq_principal(rq))))
		return unknown_upload(rq, id);
	if (rq_nfiles(rq) != 1)
		return rq_error(rq, ERR_INVALID_FIELD, "upload.append takes the part in one file frame after the JSON; this request has %zu",
				rq_nfiles(rq));
	if (offset != u->size) {
		rq_error(rq, ERR_UPLOAD_OFFSET, "upload '%s' has %lld bytes; send the part that starts at offset %lld",
			 u->id, (long long)u->size, (long long)u->size);
		rq_error_set(rq, "size", json_integer(u->size));
		return -1;
	}
	data = rq_file(rq, 0, &size);
	if (size == 0)
		return rq_error(rq, ERR_EMPTY_FILE, "the part is empty; send the file's next bytes");
	for (struct upload *o = open_list; o; o = o->next)
		if (!strcmp(o->principal, u->principal))
			mine += (uint64_t)o->size;
	if (mine + size > d->cfg->max_request_bytes)
		return rq_error(rq, ERR_TOO_LARGE, "the uploads of %s would hold %llu bytes, over daemon.max_request_bytes (%zu), the most a request takes; use or cancel some (upload.cancel)",
				u->principal, (unsigned long long)(mine + size), d->cfg->max_request_bytes);
	if (open_bytes + size > UPLOADS_BYTES_FACTOR * (uint64_t)d->cfg->max_request_bytes)
		return rq_error(rq, ERR_TOO_MANY_UPLOADS, "the daemon holds %llu bytes of uploads, the most it keeps; send again in a minute",
				(unsigned long long)open_bytes);
	fd = open(u->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || put_all(fd, data, size, (off_t)u->size))
		e = errno;
	else
		sync_file_range(fd, (off_t)u->size, (off_t)size, SYNC_FILE_RANGE_WRITE);	/* a hint: fsync decides */
	if (e && fd >= 0 && ftruncate(fd, (off_t)u->size))	/* back to the parts acknowledged */
		log_warn("upload %s: cannot cut back to %lld bytes: %s", u->id, (long long)u->size, strerror(errno));
	if (fd >= 0 && close(fd) && !e)
		e = errno;
	if (e)
		return rq_error(rq, e == ENOSPC || e == EDQUOT ? ERR_STORAGE_FULL : ERR_INTERNAL,
				"the part could not be written (%s); upload '%s' still has %lld bytes: send the part again",
				strerror(e), u->id, (long long)u->size);
	sha256_update(&u->sha, data, size);
	u->size += (int64_t)size;
	open_bytes += size;
	u->touched = clock_now(d);
	json_object_set_new_nocheck(out, "upload", json_string(u->id));
	json_object_set_new_nocheck(out, "size", json_integer(u->size));
	return 0;
}

int op_upload_cancel(struct daemon *d, struct request *rq, json_t *out)
{
	const char *id = rq_str(rq, "upload", 1);
	struct upload *u;

	(void)d;
	(void)out;
	if (!id)
		return -1;
	if (!(u = find_open(id, rq_principal(rq))))
		return unknown_upload(rq, id);
	drop_open(u);
	return 0;
}

/* frame_release - zmq's free function of a taken upload's frame */
static void frame_release(void *data, void *hint)
{
	struct upload *u = hint;

	(void)data;
	unlink_from(&taken_list, u);
	upload_free(u);
}

/* take_one - u, out of the open list, as the request's next file frame */
static int take_one(struct request *rq, struct upload *u)
{
	zmq_msg_t *m = &rq->frames[rq->nframes];

	close_open(u);
	sha256_final_hex(&u->sha, u->hex);
	if (u->size == 0) {		/* nothing to map: an empty frame (the op says empty_file) */
		upload_free(u);
		zmq_msg_init(m);
		rq->nframes++;
		return 0;
	}
	u->fd = open(u->path, O_RDONLY | O_CLOEXEC);	/* fsync (blobs_put) works on it too */
	u->map = u->fd < 0 ? MAP_FAILED : mmap(NULL, (size_t)u->size, PROT_READ, MAP_SHARED, u->fd, 0);
	u->file = (struct upload_file){ u->path, u->fd, u->hex, &u->placed };
	if (u->map == MAP_FAILED) {
		int e = errno;
		char id[33];

		memcpy(id, u->id, sizeof(id));
		u->map = NULL;
		upload_free(u);
		return rq_error(rq, ERR_INTERNAL, "upload '%s' could not be read back: %s; send the file again", id, strerror(e));
	}
	u->next = taken_list;
	taken_list = u;
	zmq_msg_init_data(m, u->map, (size_t)u->size, frame_release, u);
	rq->nframes++;
	return 0;
}

int uploads_take(struct daemon *d, struct request *rq)
{
	json_t *ids = json_object_get(rq_body(rq), "uploads"), *v;
	struct upload *found[RQ_FRAMES_MAX];
	uint64_t total = 0;
	size_t i, j;

	if (!ids || json_is_null(ids) || rq->uploads_taken)
		return 0;
	rq->uploads_taken = 1;
	if (!json_is_array(ids) || json_array_size(ids) == 0)
		return rq_error(rq, ERR_INVALID_FIELD, "'uploads' must be an array of upload ids (upload.open), one per file, in the order of 'files'");
	if (rq_nfiles(rq))
		return rq_error(rq, ERR_INVALID_FIELD, "send the files either in file frames or as 'uploads', not both; this request has %zu file frames",
				rq_nfiles(rq));
	if (json_array_size(ids) > RQ_FRAMES_MAX - 1)
		return rq_error(rq, ERR_TOO_MANY_FRAMES, "'uploads' names %zu files; a request takes at most %d",
				json_array_size(ids), RQ_FRAMES_MAX - 1);
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);

		if (!id)
			return rq_error(rq, ERR_INVALID_FIELD, "'uploads' item %zu must be a string, an upload id", i + 1);
		if (!(found[i] = find_open(id, rq_principal(rq))))
			return unknown_upload(rq, id);
		for (j = 0; j < i; j++)
			if (found[j] == found[i])
				return rq_error(rq, ERR_INVALID_FIELD, "'uploads' names upload '%s' twice (items %zu and %zu)", id, j + 1, i + 1);
		total += (uint64_t)found[i]->size;
	}
	if (total > d->cfg->max_request_bytes)
		return rq_error(rq, ERR_TOO_LARGE, "the uploads the request names hold %llu bytes, over daemon.max_request_bytes (%zu); send fewer files at once",
				(unsigned long long)total, d->cfg->max_request_bytes);
	for (i = 0; i < json_array_size(ids); i++)
		if (take_one(rq, found[i]))
			return -1;
	return 0;
}

const struct upload_file *uploads_staged(const void *data, size_t size)
{
	for (struct upload *u = taken_list; u; u = u->next)
		if (u->map == data && (size_t)u->size == size)
			return &u->file;
	return NULL;
}
