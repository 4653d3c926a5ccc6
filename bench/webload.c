/*
 * webload.c - an HTTP/1.1 load generator for bench/web.py: C connections kept alive on one
 * epoll loop, each asking for the same path again and again for S seconds, each with its own
 * Cookie line when a file of cookies is given (one per line: N logged-in sessions). A
 * request is timed from its first byte written to the last byte of its response read.
 *
 *   webload -p PORT -c CONNECTIONS -s SECONDS [-k COOKIES_FILE] [-H HOST] PATH
 *
 * Prints one line: requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E non200=F bytes=B
 * (the response sizes are checked to be all the same: differing=D). One thread: it reaches
 * well past what thidua-web serves on this machine (bench/web.py shows nginx's figure with
 * the same client).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

struct conn {
	int fd;
	char *req;		/* the request, with its cookie */
	size_t req_len, sent;
	char *in;		/* the response so far */
	size_t in_len, in_cap;
	double t0;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct sockaddr_in addr;
static int ep;

static int open_conn(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 && errno != EINPROGRESS) {
		close(c->fd);
		return -1;
	}
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	c->sent = 0;
	c->in_len = 0;
	c->t0 = now();
	return 0;
}

/* complete - the length of a whole response in c->in (headers + Content-Length), 0 if not yet */
static size_t complete(struct conn *c, int *status)
{
	char *end, *cl;
	size_t head;

	if (c->in_len < 12)
		return 0;
	c->in[c->in_len] = 0;
	end = strstr(c->in, "\r\n\r\n");
	if (!end)
		return 0;
	head = (size_t)(end - c->in) + 4;
	*status = atoi(c->in + 9);
	cl = strcasestr(c->in, "\r\nContent-Length:");
	if (!cl || cl > end)
		return head;
	return head + strtoull(cl + 17, NULL, 10) <= c->in_len ? head + strtoull(cl + 17, NULL, 10) : 0;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *cookies = NULL, *path;
	int port = 0, nconn = 0, opt;
	double seconds = 5, end, start;
	size_t cap_lat = 1 << 20, nlat = 0, errors = 0, non200 = 0, differing = 0, first_size = 0;
	double *lat = xmalloc(cap_lat * sizeof(*lat));
	unsigned long long bytes = 0;
	char **cookie = NULL;
	size_t ncookie = 0;
	struct conn *cs;
	struct epoll_event evs[256];

	while ((opt = getopt(argc, argv, "p:c:s:k:H:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'c': nconn = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'k': cookies = optarg; break;
		case 'H': host = optarg; break;
		default:
			fprintf(stderr, "usage: webload -p PORT -c CONNECTIONS -s SECONDS [-k COOKIES] [-H HOST] PATH\n");
			return 2;
		}
	}
	if (optind + 1 != argc || port <= 0 || nconn <= 0) {
		fprintf(stderr, "usage: webload -p PORT -c CONNECTIONS -s SECONDS [-k COOKIES] [-H HOST] PATH\n");
		return 2;
	}
	path = argv[optind];
	if (cookies) {
		FILE *fp = fopen(cookies, "r");
		char line[512];

		if (!fp) {
			perror(cookies);
			return 1;
		}
		while (fgets(line, sizeof(line), fp)) {
			line[strcspn(line, "\r\n")] = 0;
			if (!*line)
				continue;
			cookie = xrealloc(cookie, (ncookie + 1) * sizeof(*cookie));
			cookie[ncookie++] = xstrdup(line);
		}
		fclose(fp);
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &addr.sin_addr);
	ep = epoll_create1(EPOLL_CLOEXEC);
	cs = xcalloc((size_t)nconn, sizeof(*cs));
	for (int i = 0; i < nconn; i++) {
		struct conn *c = &cs[i];

		c->req = ncookie ? xasprintf("GET %s HTTP/1.1\r\nHost: %s:%d\r\nCookie: %s\r\n\r\n", path, host, port,
					     cookie[(size_t)i % ncookie])
				 : xasprintf("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
		c->req_len = strlen(c->req);
		c->in_cap = 1 << 16;
		c->in = xmalloc(c->in_cap + 1);
		if (open_conn(c) != 0) {
			perror("connect");
			return 1;
		}
	}
	start = now();
	end = start + seconds;
	while (now() < end) {
		int n = epoll_wait(ep, evs, 256, 100);

		for (int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			int status = 0;
			size_t whole;

			if (c->sent < c->req_len && (evs[k].events & EPOLLOUT)) {
				ssize_t w = write(c->fd, c->req + c->sent, c->req_len - c->sent);

				if (w > 0)
					c->sent += (size_t)w;
				if (c->sent == c->req_len) {
					struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				}
			}
			if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
			for (;;) {
				ssize_t r;

				if (c->in_len == c->in_cap) {
					c->in_cap *= 2;
					c->in = xrealloc(c->in, c->in_cap + 1);
				}
				r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
				if (r > 0) {
					c->in_len += (size_t)r;
					continue;
				}
				if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					/* closed by the server: an error unless a whole response came */
					if (!complete(c, &status))
						errors++;
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
					close(c->fd);
					open_conn(c);
					goto next;
				}
				break;
			}
			whole = complete(c, &status);
			if (!whole)
				continue;
			if (nlat == cap_lat) {
				cap_lat *= 2;
				lat = xrealloc(lat, cap_lat * sizeof(*lat));
			}
			lat[nlat++] = now() - c->t0;
			bytes += whole;
			if (!first_size)
				first_size = whole;
			else if (whole != first_size)
				differing++;
			if (status != 200)
				non200++;
			memmove(c->in, c->in + whole, c->in_len - whole);
			c->in_len -= whole;
			/* the next request on the same connection */
			c->sent = 0;
			c->t0 = now();
			{
				struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };

				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			}
next:;
		}
	}
	seconds = now() - start;
	qsort(lat, nlat, sizeof(*lat), dcmp);
	printf("requests=%zu seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%zu non200=%zu bytes=%llu "
	       "size=%zu differing=%zu\n",
	       nlat, seconds, (double)nlat / seconds, nlat ? lat[nlat / 2] * 1000 : 0,
	       nlat ? lat[(size_t)((double)nlat * 0.99)] * 1000 : 0, errors, non200, bytes, first_size, differing);
	return 0;
}
