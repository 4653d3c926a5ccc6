/*
 * blobs.c - submitted files, content-addressed by SHA-256; identical content is stored once.
 *
 * Files up to BLOB_INLINE_MAX live in the database (table blobs): they become durable with
 * the turn's one commit, with no file to create, rename or flush. Larger ones are written
 * under STATE_DIR/files/ab/abcdef... to a temporary name, fsynced and renamed into place
 * before the transaction that names them commits, so a receipt never names a file that a
 * crash could lose. (Creating and flushing a file per submission held group commit at a
 * fifth of its speed: bench/intake.)
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

/* blob_inline - INSERT OR IGNORE into the database */
static int blob_inline(struct daemon *d, const void *data, size_t size, const char *hex)
{
	sqlite3_stmt *s = store_stmt(d->store, "INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?1, ?2, ?3)");
	int rc;

	sqlite3_bind_text(s, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)size);
	sqlite3_bind_blob64(s, 3, data, size, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		errno = (rc & 0xff) == SQLITE_FULL ? ENOSPC : EIO;
		return -1;
	}
	return 0;
}

/* blobs_put - store data; its hex digest goes to hex. 0 ok, -1 with errno (ENOSPC...) */
int blobs_put(struct daemon *d, const void *data, size_t size, char hex[65])
{
	char dir[4096], path[4200], tmp[4300];
	struct stat st;
	int fd;
	size_t done = 0;

	sha256_hex(data, size, hex);
	if (size <= BLOB_INLINE_MAX)
		return blob_inline(d, data, size, hex);
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
