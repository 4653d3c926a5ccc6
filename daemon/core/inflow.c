/*
 * inflow.c - per-connection byte counts under libzmq, and the bounds they enforce
 * (see inflow.h for why). recv/send/accept/accept4 run in libzmq's I/O thread; the
 * counters are atomics, written there and by the daemon's thread.
 *
 * Wire overhead, so that the daemon's credit matches what the connection sent: a ZMTP 3
 * frame has a flags byte and a size of 1 byte (up to 255) or 8. Over ipc (the NULL
 * mechanism) a message frame is that header and the payload; over tcp (CURVE) each
 * frame travels as a MESSAGE command: "\x07MESSAGE", an 8-byte nonce, a 16-byte
 * authenticator and a flags byte before the payload.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "inflow.h"

#define NFDS 65536		/* descriptors counted; the daemon lowers RLIMIT_NOFILE to it */
#define MiB ((uint64_t)1 << 20)
#define STEP ((uint64_t)64 << 10)	/* memory is looked at each 64 KiB a connection holds */
#define CURVE_OVERHEAD 33
#define TRIM_OVER ((uint64_t)16 << 20)
#define TRIM_FIRST_MS 1000	/* then twice as long each time, up to a minute */
#define TRIM_LAST_MS 60000

enum { F_OPEN = 1, F_CURVE = 2, F_CUT = 4 };

static struct conn {
	_Atomic uint64_t rx, credited;	/* bytes read from it; bytes the daemon took */
	_Atomic uint64_t tx, queued;	/* bytes written to it; bytes of replies queued */
	_Atomic unsigned flags;
} conns[NFDS];

static _Atomic uint64_t conn_limit = UINT64_MAX, anon_limit = UINT64_MAX;
static _Atomic unsigned long cut_own, cut_memory, dropped_replies;
static _Atomic int statm_fd = -1;
static long page_size;
static uint64_t anon_base;
static int64_t last_trim_ms, trim_every_ms = TRIM_FIRST_MS;
static uint64_t trimmed_to;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct conn *conn_of(int fd)
{
	return fd >= 0 && fd < NFDS ? &conns[fd] : NULL;
}

/* wire - bytes a frame of size n takes on a connection */
static uint64_t wire(const struct conn *c, size_t n)
{
	uint64_t body = n + ((atomic_load_explicit(&c->flags, memory_order_relaxed) & F_CURVE) ? CURVE_OVERHEAD : 0);

	return body + (body > 255 ? 9 : 2);
}

uint64_t inflow_anon_bytes(void)
{
	char buf[128];
	unsigned long long size, resident, shared;
	int fd = atomic_load(&statm_fd);
	ssize_t n;

	if (fd < 0) {
		int nfd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC), expected = -1;

		if (nfd < 0)
			return 0;
		if (!atomic_compare_exchange_strong(&statm_fd, &expected, nfd))
			close(nfd);
		fd = atomic_load(&statm_fd);
	}
	if (!page_size)
		page_size = sysconf(_SC_PAGESIZE);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu %llu", &size, &resident, &shared) != 3 || shared > resident)
		return 0;
	return (uint64_t)(resident - shared) * (uint64_t)page_size;
}

void inflow_limits(size_t max_request_bytes)
{
	static int once;

	atomic_store(&conn_limit, 2 * (uint64_t)max_request_bytes + MiB);
	atomic_store(&anon_limit, 8 * (uint64_t)max_request_bytes + ((uint64_t)256 << 20));
	if (!once) {
		struct rlimit rl;

		once = 1;
		/* a descriptor past the table would not be counted */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > NFDS)) {
			rl.rlim_cur = NFDS;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		/* a big block (a file frame, a long reply) is its own mapping, given back
		 * whole when freed, not a hole in the heap that glibc keeps */
		mallopt(M_MMAP_THRESHOLD, 512 * 1024);
		anon_base = inflow_anon_bytes();
		last_trim_ms = mono_ms();
	}
}

/* cut - make the connection's reads fail from now on (libzmq then closes it) */
static ssize_t cut(struct conn *c, _Atomic unsigned long *why)
{
	atomic_fetch_or(&c->flags, F_CUT);
	atomic_fetch_add(why, 1);
	errno = ECONNRESET;
	return -1;
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct conn *c = conn_of(fd);
	uint64_t before, now, held;
	ssize_t rc;

	if (c && (atomic_load(&c->flags) & F_CUT)) {
		errno = ECONNRESET;
		return -1;
	}
	rc = recvfrom(fd, buf, len, flags, NULL, NULL);
	if (rc <= 0 || !c || !(atomic_load_explicit(&c->flags, memory_order_relaxed) & F_OPEN))
		return rc;
	before = atomic_fetch_add(&c->rx, (uint64_t)rc);
	now = before + (uint64_t)rc;
	held = now - atomic_load(&c->credited);
	if (held > now)		/* credited ahead of what was read (a late credit): nothing held */
		return rc;
	if (held > atomic_load(&conn_limit))
		return cut(c, &cut_own);
	if (held >= STEP && now / STEP != before / STEP && inflow_anon_bytes() > atomic_load(&anon_limit))
		return cut(c, &cut_memory);
	return rc;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct conn *c = conn_of(fd);
	ssize_t rc = sendto(fd, buf, len, flags, NULL, 0);

	if (rc > 0 && c)
		atomic_fetch_add(&c->tx, (uint64_t)rc);
	return rc;
}

/* accepted - a new connection on descriptor fd: counters from zero */
static int accepted(int fd)
{
	struct conn *c = conn_of(fd);
	int domain = 0;
	socklen_t len = sizeof(domain);

	if (fd < 0 || !c)
		return fd;
	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
	atomic_store(&c->rx, 0);
	atomic_store(&c->credited, 0);
	atomic_store(&c->tx, 0);
	atomic_store(&c->queued, 0);
	/* the api and jobs sockets require CURVE on tcp (zap.c); ipc has no mechanism */
	atomic_store(&c->flags, F_OPEN | (domain == AF_INET || domain == AF_INET6 ? F_CURVE : 0));
	return fd;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	return accepted((int)syscall(SYS_accept4, fd, addr, addrlen, flags));
}

int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return accepted((int)syscall(SYS_accept4, fd, addr, addrlen, 0));
}

int inflow_fd(zmq_msg_t *m)
{
	return zmq_msg_get(m, ZMQ_SRCFD);
}

void inflow_credit(zmq_msg_t *m)
{
	struct conn *c = conn_of(inflow_fd(m));

	if (c)
		atomic_fetch_add(&c->credited, wire(c, zmq_msg_size(m)));
}

int inflow_reply(int fd, const size_t *sizes, size_t n, int sent)
{
	struct conn *c = conn_of(fd);
	uint64_t bytes = 0, queued, tx;

	if (!c || !(atomic_load(&c->flags) & F_OPEN))
		return 1;
	for (size_t i = 0; i < n; i++)
		bytes += wire(c, sizes[i]);
	if (sent) {
		atomic_fetch_add(&c->queued, bytes);
		return 1;
	}
	queued = atomic_load(&c->queued);
	tx = atomic_load(&c->tx);
	/* tx also counts the handshake, so it may be ahead of what was queued */
	if (queued > tx && queued - tx + bytes > INFLOW_REPLY_BYTES) {
		inflow_reply_dropped();
		return 0;
	}
	return 1;
}

void inflow_reply_dropped(void)
{
	atomic_fetch_add(&dropped_replies, 1);
}

void inflow_cuts(unsigned long *own, unsigned long *memory, unsigned long *replies)
{
	*own = atomic_exchange(&cut_own, 0);
	*memory = atomic_exchange(&cut_memory, 0);
	*replies = atomic_exchange(&dropped_replies, 0);
}

long inflow_trim_ms(void)
{
	static uint64_t anon;
	static int64_t read_ms = -1000;
	int64_t now = mono_ms(), due;

	if (now - read_ms >= 100) {	/* the loop asks at each turn: /proc at most ten times a second */
		anon = inflow_anon_bytes();
		read_ms = now;
	}

	if (anon <= anon_base + TRIM_OVER)
		return -1;
	if (anon > trimmed_to + TRIM_OVER)	/* grown again: soon */
		trim_every_ms = TRIM_FIRST_MS;
	due = last_trim_ms + trim_every_ms - now;
	return due < 0 ? 0 : (long)due;
}

/* inflow_trim - glibc keeps freed memory for the next allocation; while the daemon holds
 * much more than it did at start (a client's unread replies or unfinished message, freed
 * by libzmq when the client goes, without the daemon being told), it is handed back: a
 * second after it grew, then after 2, 4 ... 60 seconds while it stays high */
void inflow_trim(void)
{
	if (inflow_trim_ms() != 0)
		return;
	malloc_trim(0);
	trimmed_to = inflow_anon_bytes();
	last_trim_ms = mono_ms();
	if (trim_every_ms < TRIM_LAST_MS)
		trim_every_ms *= 2;
}
