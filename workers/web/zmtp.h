/*
 * zmtp.h - a ZMTP 3 client over a unix stream socket: a DEALER speaking to thiduad's web
 * socket (a libzmq ROUTER on ipc://, NULL mechanism) without libzmq.
 *
 * One connection per thread. Every call has a timeout; a call that fails (-1) leaves the
 * connection unusable: close it, and connect again for the next request (the daemon may
 * have restarted). Received frames are bounded: a message larger than the caller's bound
 * is refused before its bytes are allocated, and memory grows as the bytes arrive, never
 * by what a frame header claims.
 */
#ifndef THIDUA_ZMTP_H
#define THIDUA_ZMTP_H

#include <stddef.h>
#include <sys/types.h>

#define ZMTP_MAX_FRAMES 64	/* frames of one received message */

struct zmtp;

/* one frame to send: len bytes at data */
struct zmtp_frame {
	const void *data;
	size_t len;
};

/* a received message: frames owned by it until zmtp_msg_free (take one by setting its
 * data to NULL) */
struct zmtp_msg {
	size_t n;
	struct zmtp_part {
		char *data;	/* malloc'd, NUL-terminated beyond len */
		size_t len;
	} part[ZMTP_MAX_FRAMES];
};

/* zmtp_connect - connect to the unix socket path and do the handshake (greeting, READY as
 * a DEALER) within timeout_ms; NULL with the reason in err when it cannot */
struct zmtp *zmtp_connect(const char *path, int timeout_ms, char *err, size_t errsize);

/* zmtp_close - close the connection (NULL is fine); *zp is cleared */
void zmtp_close(struct zmtp **zp);

/* zmtp_send - the n frames as one message within timeout_ms; 0, or -1 (errno set) */
int zmtp_send(struct zmtp *z, const struct zmtp_frame *f, size_t n, int timeout_ms);

/* zmtp_recv - one whole message of at most max_bytes (its frames together) into m:
 * 1 got one; 0 none came within timeout_ms (the connection is still usable);
 * -1 the connection failed or closed (errno set; EMSGSIZE: the message was larger than
 * max_bytes or had more than ZMTP_MAX_FRAMES frames, EPROTO: not ZMTP). Commands between
 * messages (PING is answered) are handled here. */
int zmtp_recv(struct zmtp *z, struct zmtp_msg *m, size_t max_bytes, int timeout_ms);

/* zmtp_msg_free - the frames still owned by m */
void zmtp_msg_free(struct zmtp_msg *m);

#endif
