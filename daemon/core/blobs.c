/*
 * blobs.c - submitted files, named by their SHA-256.
 *
 * Files up to BLOB_INLINE_MAX live in the database, in the row that names them (column
 * data): they become durable with the turn's one commit, with no file to create, rename or
 * flush. Larger ones are written under STATE_DIR/files/ab/abcdef... (content-addressed:
 * identical content is stored once) to a temporary name, fsynced and renamed into place
 * before the transaction that names them commits, so a receipt never names a file that a
 * crash could lose. A file already there under the same name is trusted only after its
 * content is hashed again: a copy changed on disk is replaced by the one received.
 * (Creating and flushing a file per submission held group commit at a
 * fifth of its speed; a table of small files keyed by their hash, another quarter: one
 * more page written per submission at a random place of its index. bench/intake.)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobs.h"
#include "log.h"
#include "rq.h"
#include "sha256.h"
#include "statedir.h"
#include "thiduad.h"
#include "uploads.h"
#include "xalloc.h"

#define BLOB_INLINE_MAX (1024 * 1024)

#define WRITE_CHUNK (1024 * 1024)
#define HASH_THREAD_MIN (4 * 1024 * 1024)

static int blobs_dirty;
static unsigned char dirty_dirs[256];	/* files/00 .. files/ff holding a file renamed in this turn */
static int top_made;			/* files/ itself was made this turn */

static int blob_write(struct daemon *d, const char *name, const void *data, size_t size, char hex[65]);
static int blob_staged(struct daemon *d, const char *name, const struct upload_file *st, size_t size, char hex[65]);

/* blobs_put - hash data into hex; files over BLOB_INLINE_MAX are written under files/
 * (hashed while they are written, blob_write). 1: the caller keeps data in its row
 * (blobs_bind); 0: it is under files/; -1: refused (storage_full or internal, naming the
 * file) */
int blobs_put(struct daemon *d, struct request *rq, const char *name, const void *data, size_t size, char hex[65])
{
	if (size <= BLOB_INLINE_MAX) {
		sha256_hex(data, size, hex);
		return 1;
	}
	const struct upload_file *st = uploads_staged(data, size);

	if ((st ? blob_staged(d, name, st, size, hex) : blob_write(d, name, data, size, hex)) == 0)
		return 0;
	return rq_error(rq, errno == ENOSPC || errno == EDQUOT ? ERR_STORAGE_FULL : ERR_INTERNAL,
			"file \"%s\" could not be stored: %s; nothing was recorded", name, strerror(errno));
}

/* blobs_check_file - does the file at path hold size bytes (-1: any size) whose SHA-256 is
 * hex? 0 yes; -1 no, with why (missing, another size, another content, unreadable) */
int blobs_check_file(const char *path, int64_t size, const char *hex, char *why, size_t whysize)
{
	static char chunk[1 << 20];
	struct sha256 c;
	struct stat st;
	char got[65];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(why, whysize, errno == ENOENT ? "missing: the file is not there" : "unreadable: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && size >= 0 && st.st_size != size) {
		snprintf(why, whysize, "changed: %lld bytes, not %lld", (long long)st.st_size, (long long)size);
		close(fd);
		return -1;
	}
	sha256_init(&c);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whysize, "unreadable: %s", strerror(errno));
			close(fd);
			return -1;
		}
		sha256_update(&c, chunk, (size_t)n);
	}
	close(fd);
	sha256_final_hex(&c, got);
	if (strcmp(got, hex)) {
		snprintf(why, whysize, "changed: its content's SHA-256 is now %.12s...", got);
		return -1;
	}
	return 0;
}

struct hash_job {
	const void *data;
	size_t size;
	char *hex;
};

static void *hash_job_run(void *arg)
{
	struct hash_job *j = arg;

	sha256_hex(j->data, j->size, j->hex);
	return NULL;
}

/* write_hashed - data into fd a chunk at a time, each chunk's writeback started as soon
 * as the kernel has it, so that the disk writes while the rest is copied and the flush
 * after waits only for the last chunks; hex its SHA-256, computed meanwhile by a thread of
 * its own for a large file (on another processor, the copy into the page cache and the
 * hash take the time of the longer one), or chunk by chunk after each write. 0, -1 errno */
static int write_hashed(int fd, const void *data, size_t size, char hex[65])
{
	const unsigned char *p = data;
	struct hash_job job = { data, size, hex };
	struct sha256 c;
	pthread_t t;
	int threaded = size >= HASH_THREAD_MIN && pthread_create(&t, NULL, hash_job_run, &job) == 0, e = 0;
	size_t done = 0;

	sha256_init(&c);
	while (done < size && !e) {
		size_t n = size - done < WRITE_CHUNK ? size - done : WRITE_CHUNK, put = 0;

		while (put < n) {
			ssize_t k = write(fd, p + done + put, n - put);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				e = errno;
				break;
			}
			put += (size_t)k;
		}
		if (e)
			break;
		sync_file_range(fd, (off_t)done, (off_t)n, SYNC_FILE_RANGE_WRITE);	/* a hint: fsync decides */
		if (!threaded)
			sha256_update(&c, p + done, n);
		done += n;
	}
	if (threaded)
		pthread_join(t, NULL);
	else
		sha256_final_hex(&c, hex);
	errno = e;
	return e ? -1 : 0;
}

/* blob_place - the file tmp (open as fd: size bytes whose SHA-256 is hex) flushed and
 * renamed into place under files/ by its hash. A copy already there is kept only if its
 * content still has this hash (1: tmp is left to the caller); a changed one is replaced
 * (0). A failure removes the directories it made. The directories are flushed by
 * blobs_sync before the turn commits. 1, 0, -1 errno */
static int blob_place(struct daemon *d, const char *name, const char *tmp, int fd, size_t size, const char *hex)
{
	char top[4096], dir[4200], path[4300], why[128];
	int made_top = 0, made_dir = 0, e;

	snprintf(top, sizeof(top), "%s/files", d->state_dir);
	snprintf(dir, sizeof(dir), "%s/%.2s", top, hex);
	snprintf(path, sizeof(path), "%s/%s", dir, hex);
	if (access(path, F_OK) == 0) {
		if (blobs_check_file(path, (int64_t)size, hex, why, sizeof(why)) == 0)
			return 1;
		log_warn("stored file %s is %s; the copy of \"%s\" just received replaces it", path, why, name);
	}
	if (fsync(fd))
		return -1;
	if (mkdir(top, 0750) == 0)
		made_top = 1;
	else if (errno != EEXIST)
		return -1;
	if (mkdir(dir, 0750) == 0)
		made_dir = 1;
	else if (errno != EEXIST)
		goto fail;
	if (rename(tmp, path))
		goto fail;
	blobs_dirty = 1;
	dirty_dirs[strtoul((char[3]){ hex[0], hex[1], 0 }, NULL, 16)] = 1;
	if (made_top)
		top_made = 1;
	return 0;
fail:
	e = errno;
	if (made_dir)
		rmdir(dir);
	if (made_top)
		rmdir(top);
	errno = e;
	return -1;
}

/* blob_write - a large file under files/: written to a temporary name while it is hashed
 * (hex), then put in place (blob_place). A failure leaves nothing behind: no partial
 * file, no directory it made. 0, -1 errno */
static int blob_write(struct daemon *d, const char *name, const void *data, size_t size, char hex[65])
{
	static unsigned long seq;
	char top[4096], tmp[4400];
	int made_top = 0, fd, rc = -1, e;

	snprintf(top, sizeof(top), "%s/files", d->state_dir);
	if (mkdir(top, 0750) == 0)
		made_top = 1;
	else if (errno != EEXIST)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%d-%lu", top, (int)getpid(), ++seq);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd >= 0 && write_hashed(fd, data, size, hex) == 0)
		rc = blob_place(d, name, tmp, fd, size, hex);
	e = errno;
	if (fd >= 0 && close(fd) && rc == 0) {
		e = errno;
		rc = -1;
	}
	if (rc != 0)
		unlink(tmp);
	if (rc < 0 && made_top)
		rmdir(top);
	else if (made_top)
		top_made = 1;
	errno = e;
	return rc < 0 ? -1 : 0;
}

/* blob_staged - a file sent ahead (uploads.c) put in place as it is: it was written and
 * hashed as its parts arrived. 0, -1 errno */
static int blob_staged(struct daemon *d, const char *name, const struct upload_file *st, size_t size, char hex[65])
{
	int rc = *st->placed ? 0 : blob_place(d, name, st->path, st->fd, size, st->hex);

	if (rc < 0)
		return -1;
	if (rc == 0)
		*st->placed = 1;
	memcpy(hex, st->hex, 65);
	return 0;
}

/* blobs_read - the content of a file kept under files/ (size bytes, SHA-256 hex), checked
 * again; malloc'd, or NULL with why */
void *blobs_read(struct daemon *d, const char *hex, int64_t size, char *why, size_t whysize)
{
	char path[4300];
	unsigned char *p;
	size_t done = 0;
	char got[65];
	int fd;

	snprintf(path, sizeof(path), "%s/files/%.2s/%s", d->state_dir, hex, hex);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		return NULL;
	}
	p = xmalloc(size > 0 ? (size_t)size : 1);
	while (done < (size_t)size) {
		ssize_t n = read(fd, p + done, (size_t)size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	sha256_hex(p, done, got);
	if (done != (size_t)size || strcmp(got, hex)) {
		snprintf(why, whysize, "%s changed on disk (%zu bytes, not the %lld received)", path, done, (long long)size);
		free(p);
		return NULL;
	}
	return p;
}

/* blobs_bind - the content kept in the row (kept: what blobs_put answered), or NULL */
void blobs_bind(sqlite3_stmt *s, int i, const void *data, size_t size, int kept)
{
	if (kept > 0)
		sqlite3_bind_blob64(s, i, data, size, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* fsync_dir - flush a directory's entries. 0, -1 errno */
static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;

	if (fd < 0)
		return -1;
	e = fsync(fd) ? errno : 0;
	close(fd);
	errno = e;
	return e ? -1 : 0;
}

/* blobs_sync - make the names of every file written this turn durable (the files were
 * flushed as they were written): their directories flushed, and the state directory if
 * files/ is new. Only these, not the whole file system (syncfs), which also waited for
 * every other program's writes to the same disk. */
int blobs_sync(struct daemon *d)
{
	char dir[4200];

	if (!blobs_dirty)
		return 0;
	for (int i = 0; i < 256; i++) {
		if (!dirty_dirs[i])
			continue;
		snprintf(dir, sizeof(dir), "%s/files/%02x", d->state_dir, i);
		if (fsync_dir(dir))
			goto fail;
		dirty_dirs[i] = 0;
	}
	if (top_made) {
		snprintf(dir, sizeof(dir), "%s/files", d->state_dir);
		if (fsync_dir(dir) || fsync_dir(d->state_dir))
			goto fail;
		top_made = 0;
	}
	blobs_dirty = 0;
	return 0;
fail:
	log_err("flushing the stored files' directory %s failed: %s", dir, strerror(errno));
	return -1;
}
