/*
 * blobs.c - submitted files, named by their SHA-256.
 *
 * Files up to BLOB_INLINE_MAX live in the database, in the row that names them (column
 * data): they become durable with the turn's one commit, with no file to create, rename or
 * flush. Larger ones are written under STATE_DIR/files/ab/abcdef... (content-addressed:
 * identical content is stored once) to a temporary name, fsynced and renamed into place
 * before the transaction that names them commits, so a receipt never names a file that a
 * crash could lose. (Creating and flushing a file per submission held group commit at a
 * fifth of its speed; a table of small files keyed by their hash, another quarter: one
 * more page written per submission at a random place of its index. bench/intake.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sha256.h"
#include "thiduad.h"
#include "xalloc.h"

#define BLOB_INLINE_MAX (1024 * 1024)

static int blobs_dirty;

static int blob_write(struct daemon *d, const void *data, size_t size, const char *hex);

/* blobs_put - hash data into hex; files over BLOB_INLINE_MAX are written under files/.
 * 1: the caller keeps data in its row (blobs_bind); 0: it is under files/; -1: refused
 * (storage_full or internal, naming the file) */
int blobs_put(struct daemon *d, struct request *rq, const char *name, const void *data, size_t size, char hex[65])
{
	sha256_hex(data, size, hex);
	if (size <= BLOB_INLINE_MAX)
		return 1;
	if (blob_write(d, data, size, hex) == 0)
		return 0;
	return rq_error(rq, errno == ENOSPC || errno == EDQUOT ? "storage_full" : "internal",
			"file \"%s\" could not be stored: %s; nothing was recorded", name, strerror(errno));
}

/* blob_write - a large file under files/, flushed and renamed into place. 0, -1 errno */
static int blob_write(struct daemon *d, const void *data, size_t size, const char *hex)
{
	char dir[4096], path[4200], tmp[4300];
	struct stat st;
	int fd;
	size_t done = 0;

	snprintf(dir, sizeof(dir), "%s/files/%.2s", d->state_dir, hex);
	snprintf(path, sizeof(path), "%s/%s", dir, hex);
	if (stat(path, &st) == 0 && (size_t)st.st_size == size)
		return 0;
	if (mkdir(dir, 0750) && errno != EEXIST) {
		char top[4096];

		snprintf(top, sizeof(top), "%s/files", d->state_dir);
		if (mkdir(top, 0750) && errno != EEXIST)
			return -1;
		if (mkdir(dir, 0750) && errno != EEXIST)
			return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-%d", dir, hex, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	while (done < size) {
		ssize_t n = write(fd, (const char *)data + done, size - done);

		if (n < 0) {
			int e = errno;

			close(fd);
			unlink(tmp);
			errno = e;
			return -1;
		}
		done += (size_t)n;
	}
	if (fsync(fd) || close(fd) || rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return -1;
	}
	blobs_dirty = 1;
	return 0;
}

/* blobs_bind - the content kept in the row (kept: what blobs_put answered), or NULL */
void blobs_bind(sqlite3_stmt *s, int i, const void *data, size_t size, int kept)
{
	if (kept > 0)
		sqlite3_bind_blob64(s, i, data, size, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* blobs_sync - make every file written this turn durable with one flush */
int blobs_sync(struct daemon *d)
{
	int fd;

	if (!blobs_dirty)
		return 0;
	fd = open(d->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd)) {
		log_err("flushing the stored files failed: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	blobs_dirty = 0;
	return 0;
}
