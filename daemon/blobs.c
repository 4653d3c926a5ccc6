/*
 * blobs.c - submitted files, stored content-addressed under STATE_DIR/files/ab/abcdef...
 *
 * A file is written to a temporary name and renamed into place; identical content is
 * stored once. Before the turn's transaction commits, blobs_sync() flushes the file system
 * once (syncfs), so a receipt never names a file that a crash could lose, and a turn with
 * many submissions pays for one flush, not one per file.
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

static int blobs_dirty;

/* blobs_put - store data; its hex digest goes to hex. 0 ok, -1 with errno (ENOSPC...) */
int blobs_put(struct daemon *d, const void *data, size_t size, char hex[65])
{
	char dir[4096], path[4200], tmp[4300];
	struct stat st;
	int fd;
	size_t done = 0;

	sha256_hex(data, size, hex);
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
	if (close(fd) || rename(tmp, path)) {
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
