/*
 * statedir.c - one daemon per state directory, and the ipc socket files it owns.
 *
 * thiduad takes an exclusive flock(2) on STATE_DIR/thiduad.lock before it opens the
 * database or touches a socket, and holds it for its life (the kernel drops it when the
 * process ends, however it ends: no stale lock after a crash). A second thiduad on the
 * same directory is refused, naming the first one's pid, which the lock file holds.
 *
 * A socket file left by a daemon that died is removed only once the lock is held, and
 * only when nothing listens on it (an endpoint configured outside the state directory may
 * be shared with another daemon). At stop a daemon removes a socket file only if it is
 * still the one it bound (same device and inode), never one another process made since.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "thiduad.h"
#include "xalloc.h"

static int lock_fd = -1;

/* the socket files this process bound: removed at stop only while they are still these */
static struct bound {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
} bound[8];
static size_t nbound;

/* state_lock - hold STATE_DIR/thiduad.lock for the life of the process. 0, or -1 with
 * err naming the daemon that holds it */
int state_lock(struct daemon *d, char *err, size_t errsize)
{
	char path[4200], text[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/thiduad.lock", d->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errsize, "cannot open the lock file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;

		n = (int)pread(fd, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = 0;
		text[strcspn(text, "\n")] = 0;
		close(fd);
		if (e == EWOULDBLOCK)
			snprintf(err, errsize, "the state directory %s is in use by another thiduad (pid %s, lock %s):"
				 " stop it first, or give this one another --state-dir", d->state_dir,
				 *text ? text : "unknown", path);
		else
			snprintf(err, errsize, "cannot lock %s: %s", path, strerror(e));
		return -1;
	}
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, text, (size_t)n, 0) != n)
		log_warn("cannot write the pid to %s: %s", path, strerror(errno));
	lock_fd = fd;
	return 0;
}

/* ipc_path - the file of an ipc:// endpoint, or NULL for another transport */
static const char *ipc_path(const char *endpoint)
{
	return endpoint && !strncmp(endpoint, "ipc://", 6) ? endpoint + 6 : NULL;
}

/* ipc_prepare - before binding: remove the socket file a dead daemon left; refuse one a
 * live process listens on. 0, or -1 with err */
int ipc_prepare(const char *endpoint, char *err, size_t errsize)
{
	const char *path = ipc_path(endpoint);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, live;

	if (!path || lstat(path, &st) || !S_ISSOCK(st.st_mode) || strlen(path) >= sizeof(sa.sun_path))
		return 0;	/* nothing there (or not a socket: bind says what is wrong) */
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);	/* a full backlog: EAGAIN, not a wait */
	if (fd < 0)
		return 0;
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN;
	close(fd);
	if (live) {
		snprintf(err, errsize, "another process listens on %s: stop it, or configure another endpoint", endpoint);
		return -1;
	}
	if (unlink(path) && errno != ENOENT) {
		snprintf(err, errsize, "cannot remove the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	log_info("removed the stale socket %s", path);
	return 0;
}

/* ipc_bound - remember the socket file just bound, to remove it at stop */
void ipc_bound(const char *endpoint)
{
	const char *path = ipc_path(endpoint);
	struct stat st;

	if (!path || nbound == sizeof(bound) / sizeof(bound[0]) || lstat(path, &st)
	    || strlen(path) >= sizeof(bound[0].path))
		return;
	xstrlcpy(bound[nbound].path, path, sizeof(bound[0].path));
	bound[nbound].dev = st.st_dev;
	bound[nbound].ino = st.st_ino;
	nbound++;
}

/* ipc_remove - at stop: remove the socket file if it is still the one this process bound */
void ipc_remove(const char *endpoint)
{
	const char *path = ipc_path(endpoint);
	struct stat st;

	if (!path)
		return;
	for (size_t i = 0; i < nbound; i++) {
		if (strcmp(bound[i].path, path))
			continue;
		if (lstat(path, &st) == 0 && st.st_dev == bound[i].dev && st.st_ino == bound[i].ino)
			unlink(path);
		bound[i] = bound[--nbound];
		return;
	}
}

/* file_put_durable - data into tmp, flushed, then renamed to path: path holds either its
 * old content or all of data, never a part. On failure tmp is gone. 0, -1 errno */
int file_put_durable(const char *tmp, const char *path, const void *data, size_t len, mode_t mode)
{
	size_t done = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode), e;

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd))
		goto fail;
	e = close(fd);
	fd = -1;
	if (e || rename(tmp, path))
		goto fail;
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

/* state_write_file - replace STATE_DIR/name with text, atomically and durably (the
 * directory flushed after the rename). 0, -1 errno */
int state_write_file(const struct daemon *d, const char *name, const char *text, mode_t mode)
{
	char path[4200], tmp[4300];
	int dfd, e;

	snprintf(path, sizeof(path), "%s/%s", d->state_dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);	/* one writer: the lock's holder */
	if (file_put_durable(tmp, path, text, strlen(text), mode))
		return -1;
	dfd = open(d->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	e = fsync(dfd);
	close(dfd);
	return e ? -1 : 0;
}

/* state_read_file - STATE_DIR/name into buf (at most size - 1 bytes, NUL-terminated);
 * its length, or -1 errno (ENOENT: not there) */
ssize_t state_read_file(const struct daemon *d, const char *name, char *buf, size_t size)
{
	char path[4200];
	ssize_t n, got = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->state_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)got < size - 1 && (n = read(fd, buf + got, size - 1 - (size_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		got += n;
	}
	close(fd);
	buf[got] = 0;
	return got;
}

/* state_key - a 256-bit key in STATE_DIR/name as 64 hexadecimal digits (text, at least
 * 65 bytes), drawn and written 0600 the first time; never in the database. what says in
 * the log what the new key is for. */
int state_key(const struct daemon *d, const char *name, const char *what, char *text, char *err, size_t errsize)
{
	unsigned char raw[32];
	static const char hex[] = "0123456789abcdef";

	if (state_read_file(d, name, text, 128) >= 0) {
		text[strcspn(text, "\r\n")] = 0;
		if (strlen(text) != 64 || strspn(text, hex) != 64) {
			snprintf(err, errsize, "%s/%s is not 64 hexadecimal digits: restore it from a backup", d->state_dir, name);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errsize, "cannot read %s/%s: %s", d->state_dir, name, strerror(errno));
		return -1;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		snprintf(err, errsize, "cannot draw the key %s/%s: %s", d->state_dir, name, strerror(errno));
		return -1;
	}
	for (int i = 0; i < 32; i++) {
		text[2 * i] = hex[raw[i] >> 4];
		text[2 * i + 1] = hex[raw[i] & 15];
	}
	text[64] = '\n';
	text[65] = 0;
	if (state_write_file(d, name, text, 0600)) {
		snprintf(err, errsize, "cannot write %s/%s: %s", d->state_dir, name, strerror(errno));
		return -1;
	}
	text[64] = 0;
	log_notice("a new key in %s/%s %s: keep it with the backups", d->state_dir, name, what);
	return 0;
}
