/*
 * zmtp.c - a ZMTP 3.0 client (rfc.zeromq.org/spec/23) over a unix stream socket.
 *
 * The greeting: signature FF 00*7 01 7F, version 3.0, mechanism "NULL", as-server 0, then
 * the READY command with Socket-Type "DEALER" and an empty Identity. Both are written at
 * once: libzmq reads a greeting piece by piece, as far as each piece tells it to. The
 * peer's greeting must be ZMTP 3 with NULL, its READY a ROUTER's; an ERROR command ends
 * the handshake with its reason.
 *
 * A frame is flags (MORE 1, LONG 2, COMMAND 4), its size (one byte, or eight big-endian
 * when LONG), its bytes. Commands after the handshake: PING is answered with PONG (libzmq
 * sends it only with heartbeats configured), others are ignored.
 *
 * The socket is non-blocking; every wait is a poll() against the call's deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"
#include "zmtp.h"

#define F_MORE 1
#define F_LONG 2
#define F_COMMAND 4
#define IN_SIZE 8192		/* read buffer; a large frame goes straight to its own memory */
#define GROW_FIRST (256 * 1024)	/* a large frame's first allocation, doubled as it comes */
#define COMMAND_MAX 512		/* READY, ERROR, PING: small; larger is refused */

struct zmtp {
	int fd;
	size_t ipos, ilen;
	unsigned char in[IN_SIZE];
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* again - after a read or write on fd failed: 1 try again (EINTR, or fd ready before
 * deadline); 0 give up, errno telling why (ETIMEDOUT when the deadline passed) */
static int again(int fd, short events, long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long left;

	if (errno == EINTR)
		return 1;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return 0;
	while ((left = deadline - now_ms()) > 0) {
		int rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);

		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return 0;
	}
	errno = ETIMEDOUT;
	return 0;
}

/* rd - one read of at most n bytes: how many, or -1 (ECONNRESET: the peer closed) */
static ssize_t rd(int fd, void *dst, size_t n, long deadline)
{
	for (;;) {
		ssize_t got = read(fd, dst, n);

		if (got > 0)
			return got;
		if (got == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (!again(fd, POLLIN, deadline))
			return -1;
	}
}

/* need - at least n (<= IN_SIZE) bytes buffered; 0 or -1 */
static int need(struct zmtp *z, size_t n, long deadline)
{
	if (z->ilen - z->ipos >= n)
		return 0;
	memmove(z->in, z->in + z->ipos, z->ilen - z->ipos);
	z->ilen -= z->ipos;
	z->ipos = 0;
	while (z->ilen < n) {
		ssize_t got = rd(z->fd, z->in + z->ilen, sizeof(z->in) - z->ilen, deadline);

		if (got < 0)
			return -1;
		z->ilen += (size_t)got;
	}
	return 0;
}

/* take - n bytes of the stream into dst: those buffered, then straight from the socket */
static int take(struct zmtp *z, char *dst, size_t n, long deadline)
{
	size_t got = z->ilen - z->ipos < n ? z->ilen - z->ipos : n;

	memcpy(dst, z->in + z->ipos, got);
	z->ipos += got;
	while (got < n) {
		ssize_t k = rd(z->fd, dst + got, n - got, deadline);

		if (k < 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* put_all - all of the n iovecs (advanced as they go); 0 or -1 */
static int put_all(int fd, struct iovec *iov, int n, long deadline)
{
	struct msghdr mh = { 0 };

	while (n > 0) {
		ssize_t w;

		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (!again(fd, POLLOUT, deadline))
				return -1;
			continue;
		}
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* frame_head - flags and size of a frame into h; its length */
static size_t frame_head(unsigned char h[9], unsigned flags, uint64_t len)
{
	if (len <= 255) {
		h[0] = (unsigned char)flags;
		h[1] = (unsigned char)len;
		return 2;
	}
	h[0] = (unsigned char)(flags | F_LONG);
	for (int i = 0; i < 8; i++)
		h[1 + i] = (unsigned char)(len >> (56 - 8 * i));
	return 9;
}

int zmtp_send(struct zmtp *z, const struct zmtp_frame *f, size_t n, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	unsigned char (*heads)[9] = xmalloc(n * sizeof(*heads));
	struct iovec *iov = xmalloc(2 * n * sizeof(*iov));
	int niov = 0, rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t hl = frame_head(heads[i], i + 1 < n ? F_MORE : 0, f[i].len);

		iov[niov++] = (struct iovec){ heads[i], hl };
		if (f[i].len)
			iov[niov++] = (struct iovec){ (void *)f[i].data, f[i].len };
	}
	if (niov)
		rc = put_all(z->fd, iov, niov, deadline);
	free(heads);
	free(iov);
	return rc;
}

/* command - a command frame's body: PING is answered; READY and ERROR are the
 * handshake's (ready: 1 when it was READY from a ROUTER); others are ignored */
static int command(struct zmtp *z, const unsigned char *b, size_t len, int *ready, char *err,
		   size_t errsize, long deadline)
{
	size_t nl = len ? b[0] : 0;

	if (!len || nl + 1 > len)
		goto bad;
	if (nl == 4 && !memcmp(b + 1, "PING", 4) && len >= 7) {
		unsigned char pong[2 + 5 + 16];
		size_t ctx = len - 7 > 16 ? 16 : len - 7;
		struct iovec iov = { pong, 7 + ctx };

		pong[0] = F_COMMAND;
		pong[1] = (unsigned char)(5 + ctx);
		memcpy(pong + 2, "\4PONG", 5);
		memcpy(pong + 7, b + 7, ctx);
		return put_all(z->fd, &iov, 1, deadline);
	}
	if (nl == 5 && !memcmp(b + 1, "ERROR", 5)) {
		int rl = len > 6 ? b[6] : 0;

		if (7 + (size_t)rl > len)
			rl = (int)(len > 7 ? len - 7 : 0);
		snprintf(err, errsize, "thiduad refused the connection: %.*s", rl, (const char *)b + 7);
		errno = ECONNREFUSED;
		return -1;
	}
	if (nl == 5 && !memcmp(b + 1, "READY", 5) && ready) {
		/* properties: name (1-byte length), value (4-byte length) */
		for (size_t p = 6; p < len;) {
			size_t kl = b[p], vl;

			if (p + 1 + kl + 4 > len)
				goto bad;
			vl = (size_t)b[p + 1 + kl] << 24 | (size_t)b[p + 2 + kl] << 16 | (size_t)b[p + 3 + kl] << 8
			     | b[p + 4 + kl];
			if (vl > len - (p + 5 + kl))
				goto bad;
			if (kl == 11 && !strncasecmp((const char *)b + p + 1, "Socket-Type", 11)
			    && vl == 6 && !memcmp(b + p + 5 + kl, "ROUTER", 6))
				*ready = 1;
			p += 5 + kl + vl;
		}
		if (!*ready) {
			snprintf(err, errsize, "the peer is not a ROUTER socket (is this thiduad's web socket?)");
			errno = EPROTO;
			return -1;
		}
	}
	return 0;
bad:
	snprintf(err, errsize, "a malformed ZMTP command from the peer");
	errno = EPROTO;
	return -1;
}

/* next_head - the next frame's flags and size; 1, 0 (timed out before any byte of it
 * when no message is under way), -1 */
static int next_head(struct zmtp *z, unsigned *flags, uint64_t *len, long deadline, int started)
{
	if (need(z, 2, deadline) != 0)
		return errno == ETIMEDOUT && !started && z->ilen == z->ipos ? 0 : -1;
	*flags = z->in[z->ipos];
	if (*flags & ~7u)
		return errno = EPROTO, -1;
	if (!(*flags & F_LONG)) {
		*len = z->in[z->ipos + 1];
		z->ipos += 2;
		return 1;
	}
	if (need(z, 9, deadline) != 0)
		return -1;
	*len = 0;
	for (int i = 1; i <= 8; i++)
		*len = *len << 8 | z->in[z->ipos + i];
	z->ipos += 9;
	return 1;
}

/* read_command - a command frame's body into b: a data frame, a command with MORE or one
 * over COMMAND_MAX is refused (EPROTO) */
static int read_command(struct zmtp *z, unsigned flags, uint64_t len, unsigned char *b, long deadline)
{
	if (flags != F_COMMAND || len > COMMAND_MAX)
		return errno = EPROTO, -1;
	return take(z, (char *)b, (size_t)len, deadline);
}

struct zmtp *zmtp_connect(const char *path, int timeout_ms, char *err, size_t errsize)
{
	static const unsigned char greeting[64] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0, 'N', 'U', 'L', 'L' };
	static const unsigned char ready[] = "\4\051\5READY\013Socket-Type\0\0\0\6DEALER\010Identity\0\0\0\0";
	long deadline = now_ms() + timeout_ms;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct iovec iov[2] = { { (void *)greeting, 64 }, { (void *)ready, sizeof(ready) - 1 } };
	struct zmtp *z;
	int got_ready = 0;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errsize, "the socket path %s is too long", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	z = xcalloc(1, sizeof(*z));
	z->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (z->fd < 0) {
		snprintf(err, errsize, "socket: %s", strerror(errno));
		free(z);
		return NULL;
	}
	/* a unix socket connects at once, or answers EAGAIN while the backlog is full */
	while (connect(z->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if ((errno != EAGAIN && errno != EINTR) || now_ms() >= deadline) {
			snprintf(err, errsize, "cannot connect to %s: %s", path, strerror(errno));
			goto fail;
		}
		if (errno == EAGAIN)
			usleep(10000);
	}
	/* the greeting and READY at once; the peer's greeting, then its READY */
	if (put_all(z->fd, iov, 2, deadline) != 0 || need(z, 64, deadline) != 0) {
		snprintf(err, errsize, "no ZMTP greeting from %s: %s", path,
			 errno == ETIMEDOUT ? "no answer in time" : strerror(errno));
		goto fail;
	}
	if (z->in[0] != 0xff || z->in[9] != 0x7f || z->in[10] < 3 || memcmp(z->in + 12, "NULL\0", 5)) {
		snprintf(err, errsize, "%s does not speak ZMTP 3 with the NULL mechanism", path);
		goto fail;
	}
	z->ipos = 64;
	while (!got_ready) {
		unsigned char b[COMMAND_MAX];
		unsigned flags;
		uint64_t len;

		err[0] = 0;
		if (next_head(z, &flags, &len, deadline, 1) <= 0 || read_command(z, flags, len, b, deadline) != 0
		    || command(z, b, (size_t)len, &got_ready, err, errsize, deadline) != 0) {
			if (!err[0])
				snprintf(err, errsize, "the ZMTP handshake with %s failed: %s", path,
					 errno == ETIMEDOUT ? "no answer in time" : strerror(errno));
			goto fail;
		}
	}
	return z;
fail:
	close(z->fd);
	free(z);
	return NULL;
}

void zmtp_close(struct zmtp **zp)
{
	if (!*zp)
		return;
	close((*zp)->fd);
	free(*zp);
	*zp = NULL;
}

void zmtp_msg_free(struct zmtp_msg *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->part[i].data);
	m->n = 0;
}

/* read_frame - a data frame's len bytes, in memory grown as they arrive */
static char *read_frame(struct zmtp *z, size_t len, long deadline)
{
	size_t cap = len < GROW_FIRST ? len : GROW_FIRST, got = 0;
	char *p = xmalloc(cap + 1);

	while (got < len) {
		if (got == cap) {
			cap = len - cap < cap ? len : 2 * cap;
			p = xrealloc(p, cap + 1);
		}
		if (take(z, p + got, cap - got, deadline) != 0) {
			free(p);
			return NULL;
		}
		got = cap;
	}
	p[len] = 0;
	return p;
}

int zmtp_recv(struct zmtp *z, struct zmtp_msg *m, size_t max_bytes, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	size_t total = 0;
	unsigned flags = F_MORE;
	int rc = -1;

	m->n = 0;
	while (flags & F_MORE) {
		unsigned char b[COMMAND_MAX];
		char err[128];
		uint64_t len;

		rc = next_head(z, &flags, &len, deadline, m->n > 0);
		if (rc <= 0)
			break;
		rc = -1;
		if (flags & F_COMMAND) {	/* between messages only */
			if (m->n || read_command(z, flags, len, b, deadline) != 0
			    || command(z, b, (size_t)len, NULL, err, sizeof(err), deadline) != 0) {
				errno = m->n ? EPROTO : errno;
				break;
			}
			flags = F_MORE;	/* the message is still to come */
			continue;
		}
		if (len > max_bytes - total || m->n == ZMTP_MAX_FRAMES) {
			errno = EMSGSIZE;
			break;
		}
		total += (size_t)len;
		m->part[m->n].data = read_frame(z, (size_t)len, deadline);
		if (!m->part[m->n].data)
			break;
		m->part[m->n++].len = (size_t)len;
		rc = 1;
	}
	if (rc != 1)
		zmtp_msg_free(m);
	return rc;
}
