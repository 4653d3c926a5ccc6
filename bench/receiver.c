/*
 * receiver.c - a fast HTTP/1.1 sink for bench/delivery.py: one thread, epoll, 127.0.0.1.
 *
 *   receiver [-p PORT] [-o RECORDS] [-b BODYDIR]
 *
 * Reads each request (headers, then Content-Length bytes of body; pipelined requests too),
 * answers "HTTP/1.1 200 OK" with "ok" and keeps the connection open (unless the client
 * said Connection: close). Every POST is counted and recorded with its arrival time
 * (CLOCK_REALTIME ns, taken when its last byte was read) and its webhook-id header.
 * GET /count answers "COUNT FIRST_NS LAST_NS" (the arrival of the first and the latest POST)
 * and is not counted. The port actually bound is printed on stdout as "port N".
 *
 * On SIGTERM or SIGINT it writes one "webhook-id<TAB>arrival_ns<TAB>body_bytes" line per
 * POST to RECORDS (a missing id is "-"), with -b each body to BODYDIR/NNNNN.json, then
 * exits 0. A benchmark tool, not a server: no TLS, no chunked bodies, 1 MB per request.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (1024 * 1024)
#define MAX_EVENTS 256

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	char *out;		/* answers not yet written */
	size_t outlen, outcap, outoff;
	int closing;		/* close once the answers are out */
};

struct record {
	char *id;
	int64_t ns;
	char *body;
	size_t blen;
};

static struct record *recs;
static size_t nrecs, caprecs;
static int keep_bodies;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *xmalloc_or_die(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "receiver: out of memory\n");
		exit(1);
	}
	return p;
}

static void *xrealloc_or_die(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "receiver: out of memory\n");
		exit(1);
	}
	return p;
}

static void out_append(struct conn *c, const char *data, size_t n)
{
	if (c->outlen + n > c->outcap) {
		c->outcap = (c->outlen + n) * 2;
		c->out = xrealloc_or_die(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, data, n);
	c->outlen += n;
}

/* header_value - the value of header name in the header block [h, end), or NULL */
static const char *header_value(const char *h, const char *end, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = memchr(h, '\n', (size_t)(end - h));	/* skip the request line */

	while (p && p + 1 < end) {
		const char *line = p + 1, *eol = memchr(line, '\n', (size_t)(end - line));

		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > nlen && line[nlen] == ':' && !strncasecmp(line, name, nlen)) {
			const char *v = line + nlen + 1, *ve = eol;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		p = eol < end ? eol : NULL;
	}
	return NULL;
}

static void record(const char *id, size_t idlen, const char *body, size_t blen, int64_t ns)
{
	struct record *r;

	if (nrecs == caprecs) {
		caprecs = caprecs ? caprecs * 2 : 16384;
		recs = xrealloc_or_die(recs, caprecs * sizeof(*recs));
	}
	r = &recs[nrecs++];
	r->ns = ns;
	r->id = NULL;
	if (id) {
		r->id = xmalloc_or_die(idlen + 1);
		memcpy(r->id, id, idlen);
		r->id[idlen] = 0;
	}
	r->body = NULL;
	r->blen = blen;
	if (keep_bodies) {
		r->body = xmalloc_or_die(blen);
		memcpy(r->body, body, blen);
	}
}

/* parse - answer every complete request in the buffer; -1 on a request we cannot take */
static int parse(struct conn *c)
{
	size_t off = 0;

	while (off < c->len) {
		char *start = c->buf + off, *hend = memmem(start, c->len - off, "\r\n\r\n", 4);
		const char *v;
		size_t vlen, clen = 0, hlen, total;

		if (!hend)
			break;
		hlen = (size_t)(hend - start) + 4;
		v = header_value(start, hend + 2, "Content-Length", &vlen);
		if (v) {
			char num[32];

			if (vlen >= sizeof(num))
				return -1;
			memcpy(num, v, vlen);
			num[vlen] = 0;
			clen = strtoul(num, NULL, 10);
		}
		if (clen > MAX_REQUEST)
			return -1;
		total = hlen + clen;
		if (c->len - off < total) {
			v = header_value(start, hend + 2, "Expect", &vlen);
			if (v && vlen == 12 && !strncasecmp(v, "100-continue", 12) && c->len - off == hlen)
				out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
			break;
		}
		v = header_value(start, hend + 2, "Connection", &vlen);
		if (v && vlen == 5 && !strncasecmp(v, "close", 5))
			c->closing = 1;
		if (!strncmp(start, "GET /count", 10)) {
			char body[96], head[128];
			int bn = snprintf(body, sizeof(body), "%zu %lld %lld", nrecs,
					  nrecs ? (long long)recs[0].ns : 0LL, nrecs ? (long long)recs[nrecs - 1].ns : 0LL);
			int hn = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", bn);

			out_append(c, head, (size_t)hn);
			out_append(c, body, (size_t)bn);
		} else {
			int64_t ns = now_ns();

			v = header_value(start, hend + 2, "webhook-id", &vlen);
			record(v, v ? vlen : 0, start + hlen, clen, ns);
			out_append(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40);
		}
		off += total;
		if (c->closing)
			break;
	}
	if (off) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
	return 0;
}

/* flush - write what is queued; -1 when the connection is done for */
static int flush(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	return c->closing ? -1 : 0;
}

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	free(c->out);
	free(c);
}

/* conn_read - read until EAGAIN, answer; -1 to close */
static int conn_read(struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->cap - c->len < 16384) {
			c->cap = c->cap ? c->cap * 2 : 65536;
			if (c->cap > 2 * MAX_REQUEST + 65536)
				return -1;
			c->buf = xrealloc_or_die(c->buf, c->cap);
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->len += (size_t)n;
		if (parse(c))
			return -1;
	}
	return flush(c);
}

static int write_results(const char *path, const char *bodydir)
{
	FILE *fp = path ? fopen(path, "w") : NULL;

	if (path && !fp) {
		fprintf(stderr, "receiver: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < nrecs; i++) {
		if (fp)
			fprintf(fp, "%s\t%lld\t%zu\n", recs[i].id ? recs[i].id : "-", (long long)recs[i].ns, recs[i].blen);
		if (bodydir && recs[i].body) {
			char name[4096];
			FILE *b;

			snprintf(name, sizeof(name), "%s/%05zu.json", bodydir, i);
			b = fopen(name, "w");
			if (!b || fwrite(recs[i].body, 1, recs[i].blen, b) != recs[i].blen) {
				fprintf(stderr, "receiver: cannot write %s\n", name);
				if (b)
					fclose(b);
				return 1;
			}
			fclose(b);
		}
	}
	if (fp && fclose(fp)) {
		fprintf(stderr, "receiver: cannot write %s\n", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *out = NULL, *bodydir = NULL;
	int port = 0, opt, lfd, ep, sfd, one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct epoll_event ev, evs[MAX_EVENTS];
	sigset_t set;

	while ((opt = getopt(argc, argv, "p:o:b:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'o': out = optarg; break;
		case 'b': bodydir = optarg; keep_bodies = 1; break;
		default:
			fprintf(stderr, "usage: receiver [-p PORT] [-o RECORDS] [-b BODYDIR]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (lfd < 0 || sfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4096)
	    || getsockname(lfd, (struct sockaddr *)&a, &alen)) {
		fprintf(stderr, "receiver: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &sfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	printf("port %d\n", ntohs(a.sin_port));
	fflush(stdout);

	for (;;) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "receiver: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &sfd)
				return write_results(out, bodydir);
			if (!p) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct conn *c = calloc(1, sizeof(*c));

					if (!c) {
						close(fd);
						continue;
					}
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev = (struct epoll_event){ .events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.ptr = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			{
				struct conn *c = p;
				int bad = 0;

				if (evs[i].events & EPOLLIN)
					bad = conn_read(c);
				if (!bad && (evs[i].events & EPOLLOUT))
					bad = flush(c);
				if (!bad && (evs[i].events & (EPOLLHUP | EPOLLERR)))
					bad = 1;
				if (!bad && (evs[i].events & EPOLLRDHUP) && !(evs[i].events & EPOLLIN))
					bad = 1;
				if (bad)
					conn_close(ep, c);
			}
		}
	}
}
