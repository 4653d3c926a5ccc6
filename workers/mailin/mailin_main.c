/*
 * thidua-mailin - one message from the local mail server, into thidua.
 *
 *   thidua-mailin [--state-dir DIR] [--api ENDPOINT] [--sender ADDR] [--max-bytes N]
 *                 [--timeout SECONDS] [RECIPIENT]
 *
 * Postfix runs it through a pipe transport (config/examples/postfix-master.cf) with the
 * envelope recipient and sender. It reads the message from standard input (at most
 * --max-bytes, the daemon's max_request_bytes), writes it durably into STATE_DIR/inbox
 * (write, fsync, rename, fsync of the directory), parses it (mailin_parse.c) and hands the
 * parts to thiduad (op inbox.deliver, over the local api socket), and exits 0 only after
 * the daemon acknowledged. Exit codes (sysexits.h, which Postfix reads):
 *   0   the daemon recorded the message (a receipt, held for the office, or refused with
 *       an answer to the sender: every outcome is in `thiduactl inbox list`)
 *   65  EX_DATAERR: larger than --max-bytes; Postfix returns it to the sender with our
 *       reason (retrying would never succeed)
 *   64  EX_USAGE: a bad argument
 *   75  EX_TEMPFAIL: anything else (the inbox not writable, the daemon down or refusing,
 *       no answer in time): Postfix keeps the message and tries again later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailin.h"
#include "xalloc.h"

#define DEFAULT_MAX (32u * 1024 * 1024)

static void fail(const char *fmt, const char *a, const char *b)
{
	fputs("thidua-mailin: ", stderr);
	fprintf(stderr, fmt, a ? a : "", b ? b : "");
	fputc('\n', stderr);
}

/* read_all - standard input, at most max bytes; -2 when there is more */
static int read_all(size_t max, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *p = xmalloc(cap);

	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > max) {
				free(p);
				return -2;
			}
			cap *= 2;
			p = xrealloc(p, cap);
		}
		r = read(0, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(p);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(p);
			return -2;
		}
	}
	*out = p;
	*len = n;
	return 0;
}

static void usage(void)
{
	fputs("usage: thidua-mailin [--state-dir DIR] [--api ENDPOINT] [--sender ADDR] [--max-bytes N]\n"
	      "                     [--timeout SECONDS] [RECIPIENT]\n"
	      "Reads one message on standard input (a Postfix pipe transport: see README, \"Reply by e-mail\").\n",
	      stderr);
}

int main(int argc, char **argv)
{
	const char *state_dir = "/var/lib/thidua", *api = NULL, *sender = NULL, *recipient = NULL;
	size_t max = DEFAULT_MAX, len;
	double timeout = 60;
	char *data;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			return 0;
		} else if (i + 1 < argc && !strcmp(a, "--state-dir")) {
			state_dir = argv[++i];
		} else if (i + 1 < argc && !strcmp(a, "--api")) {
			api = argv[++i];
		} else if (i + 1 < argc && !strcmp(a, "--sender")) {
			sender = argv[++i];
		} else if (i + 1 < argc && !strcmp(a, "--max-bytes")) {
			char *end;
			unsigned long long v = strtoull(argv[++i], &end, 10);

			if (*end || v < 1024) {
				fail("--max-bytes %s is not a number of bytes of at least 1024%s", argv[i], "");
				return MAILIN_USAGE;
			}
			max = (size_t)v;
		} else if (i + 1 < argc && !strcmp(a, "--timeout")) {
			timeout = atof(argv[++i]);
			if (timeout <= 0) {
				fail("--timeout %s is not a positive number of seconds%s", argv[i], "");
				return MAILIN_USAGE;
			}
		} else if (a[0] == '-' && a[1]) {
			usage();
			return MAILIN_USAGE;
		} else if (!recipient) {
			recipient = a;
		} else {
			usage();
			return MAILIN_USAGE;
		}
	}
	rc = read_all(max, &data, &len);
	if (rc == -2) {
		char lim[32];

		snprintf(lim, sizeof(lim), "%zu", max);
		fail("the message is larger than %s bytes, the most thidua takes%s: send the report in a smaller file, or as a link",
		     lim, "");
		return MAILIN_DATAERR;
	}
	if (rc) {
		fail("cannot read the message: %s%s", strerror(errno), "");
		return MAILIN_TEMPFAIL;
	}
	rc = mailin_handover(state_dir, api, timeout, data, len, recipient, sender);
	free(data);
	return rc;
}
