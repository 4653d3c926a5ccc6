/*
 * thidua-imap - replies to reminders fetched from a mailbox the district does not run
 * (the city's mail service), into thidua, as thidua-mailin takes them from Postfix.
 *
 *   thidua-imap --url imaps://HOST[:PORT]/MAILBOX --user NAME --password-file FILE
 *               [--state-dir DIR] [--api ENDPOINT] [--move-to MAILBOX] [--interval SECONDS]
 *               [--once] [--cacert FILE] [--timeout SECONDS] [--max-bytes N]
 *
 * Each round (libcurl, IMAP over TLS): UID SEARCH UNSEEN, then for each message UID FETCH
 * (libcurl's fetch by URL, BODY[]), the hand-over shared with thidua-mailin
 * (mailin_handover.c: kept durably in STATE_DIR/inbox, parsed, inbox.deliver), and only
 * once the daemon acknowledged it, UID STORE +FLAGS (\Seen) or UID MOVE to --move-to.
 *
 * A fetch of BODY[] sets \Seen on the server by itself. So before it the UID is written
 * durably to STATE_DIR/imap-pending; when the hand-over fails the flag is taken back
 * (UID STORE -FLAGS (\Seen)), and when the worker died between the fetch and the mark,
 * the next start takes the flag back before searching: the message is fetched again, and
 * the daemon stores it once (the request id is the Message-ID's).
 *
 * Exit status with --once: 0 every message taken, 75 one could not be (it stays unseen
 * for the next round), 64 a bad argument, 69 the mailbox could not be reached.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mailin.h"
#include "xalloc.h"

#define EX_UNAVAILABLE 69
#define ROUND_MAX 200		/* messages taken in one round; the rest in the next */

struct imap {
	const char *url;	/* imaps://host:port/MAILBOX */
	const char *user, *cacert, *move_to, *state_dir, *api;
	char password[512];
	double timeout;
	size_t max_bytes;
	CURL *curl;
	char pending[4200];	/* STATE_DIR/imap-pending */
};

static void say(const char *fmt, const char *a, const char *b)
{
	fputs("thidua-imap: ", stderr);
	fprintf(stderr, fmt, a ? a : "", b ? b : "");
	fputc('\n', stderr);
}

struct sink {
	struct buf b;
	size_t max;
	int over;
};

static size_t sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (s->b.len + size * n > s->max) {
		s->over = 1;
		return 0;
	}
	buf_put(&s->b, p, size * n);
	return size * n;
}

/* run - one IMAP command on the mailbox (custom, or NULL: fetch url as it is); the
 * untagged answer or the fetched message in *out. 0, or -1 with why on stderr */
static int run(struct imap *im, const char *url, const char *custom, struct sink *out)
{
	CURLcode rc;
	char err[CURL_ERROR_SIZE] = "";

	curl_easy_setopt(im->curl, CURLOPT_URL, url);
	curl_easy_setopt(im->curl, CURLOPT_CUSTOMREQUEST, custom);
	curl_easy_setopt(im->curl, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(im->curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(im->curl, CURLOPT_ERRORBUFFER, err);
	rc = curl_easy_perform(im->curl);
	curl_easy_setopt(im->curl, CURLOPT_ERRORBUFFER, NULL);
	if (rc != CURLE_OK) {
		if (!(out && out->over))
			say("%s: %s", custom ? custom : url, *err ? err : curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

static int command(struct imap *im, const char *custom)
{
	struct sink s = { .max = 1 << 20 };
	int rc = run(im, im->url, custom, &s);

	free(s.b.p);
	return rc;
}

/* flag - the message's \Seen flag set (+) or taken back (-) */
static int flag(struct imap *im, unsigned long uid, char sign)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "UID STORE %lu %cFLAGS (\\Seen)", uid, sign);
	return command(im, cmd);
}

/* pending_set - the UID being fetched, durably (0: none) */
static int pending_set(struct imap *im, unsigned long uid)
{
	char tmp[4300], text[32];
	int fd, n;

	if (!uid)
		return unlink(im->pending) && errno != ENOENT ? -1 : 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", im->pending);
	n = snprintf(text, sizeof(text), "%lu\n", uid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) || close(fd) || rename(tmp, im->pending)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/* recover - a worker that died between a fetch and its mark left the UID: the fetch set
 * \Seen, which is taken back so that the search finds the message again */
static int recover(struct imap *im)
{
	FILE *fp = fopen(im->pending, "r");
	unsigned long uid = 0;
	char num[32];

	if (!fp)
		return 0;
	if (fscanf(fp, "%lu", &uid) != 1)
		uid = 0;
	fclose(fp);
	if (uid) {
		snprintf(num, sizeof(num), "%lu", uid);
		say("message UID %s was fetched but not marked before the last stop: it is taken again%s", num, "");
		if (flag(im, uid, '-'))
			return -1;
	}
	return pending_set(im, 0);
}

/* return_path - the address of the message's Return-Path header ("" a bounce), or NULL */
static char *return_path(const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (p < end && *p != '\r' && *p != '\n') {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (n > 12 && !strncasecmp(p, "Return-Path:", 12)) {
			const char *lt = memchr(p, '<', n), *gt = lt ? memchr(lt, '>', n - (size_t)(lt - p)) : NULL;

			if (lt && gt)
				return xstrndup(lt + 1, (size_t)(gt - lt - 1));
			return NULL;
		}
		p = eol ? eol + 1 : end;
	}
	return NULL;
}

/* take - one message: fetched, handed over, marked; 0, 1 kept for the next round, -1 the
 * mailbox failed */
static int take(struct imap *im, unsigned long uid)
{
	struct sink s = { .max = im->max_bytes };
	char url[4400], num[32];
	char *rp;
	int rc;

	snprintf(num, sizeof(num), "%lu", uid);
	if (pending_set(im, uid)) {
		say("cannot write %s: %s", im->pending, strerror(errno));
		return 1;
	}
	snprintf(url, sizeof(url), "%s/;UID=%lu", im->url, uid);
	if (run(im, url, NULL, &s)) {
		free(s.b.p);
		if (s.over) {	/* never taken: marked read, left in the mailbox for a person */
			say("message UID %s is larger than --max-bytes: left in the mailbox, marked read%s", num, "");
			return flag(im, uid, '+') || pending_set(im, 0) ? -1 : 0;
		}
		return flag(im, uid, '-') || pending_set(im, 0) ? -1 : 1;
	}
	rp = return_path(s.b.p ? s.b.p : "", s.b.len);
	rc = mailin_handover(im->state_dir, im->api, im->timeout, s.b.p ? s.b.p : "", s.b.len, NULL, rp);
	free(rp);
	free(s.b.p);
	if (rc != MAILIN_OK) {
		say("message UID %s was not taken by thiduad: it stays unseen for the next round%s", num, "");
		return flag(im, uid, '-') || pending_set(im, 0) ? -1 : 1;
	}
	if (im->move_to) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "UID MOVE %lu \"%s\"", uid, im->move_to);
		if (command(im, cmd))
			return -1;
	} else if (flag(im, uid, '+')) {
		return -1;
	}
	return pending_set(im, 0) ? -1 : 0;
}

/* round - every unseen message once; 0 all taken, 1 some kept, -1 the mailbox failed */
static int round_once(struct imap *im)
{
	struct sink s = { .max = 1 << 22 };
	unsigned long uids[ROUND_MAX];
	size_t n = 0;
	int kept = 0;
	char *p;

	if (recover(im))
		return -1;
	if (run(im, im->url, "UID SEARCH UNSEEN", &s)) {
		free(s.b.p);
		return -1;
	}
	if (!s.b.p)
		buf_put(&s.b, "", 0);
	p = strstr(s.b.p, "* SEARCH");
	for (p = p ? p + 8 : NULL; p && *p == ' ' && n < ROUND_MAX;) {	/* "* SEARCH 3 4 7\r\n" */
		char *end;
		unsigned long v = strtoul(p + 1, &end, 10);

		if (end == p + 1 || !v)
			break;
		uids[n++] = v;
		p = end;
	}
	free(s.b.p);
	for (size_t i = 0; i < n; i++) {
		int rc = take(im, uids[i]);

		if (rc < 0)
			return -1;
		kept |= rc;
	}
	return kept;
}

static void usage(void)
{
	fputs("usage: thidua-imap --url imaps://HOST[:PORT]/MAILBOX --user NAME --password-file FILE\n"
	      "                   [--state-dir DIR] [--api ENDPOINT] [--move-to MAILBOX] [--interval SECONDS]\n"
	      "                   [--once] [--cacert FILE] [--timeout SECONDS] [--max-bytes N]\n"
	      "Takes the replies in a mailbox into thidua (see README, \"Reply by e-mail\").\n", stderr);
}

static int read_password(const char *path, char *out, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return -1;
	n = fread(out, 1, size - 1, fp);
	fclose(fp);
	out[n] = 0;
	out[strcspn(out, "\r\n")] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	struct imap im = { .state_dir = "/var/lib/thidua", .timeout = 60, .max_bytes = 32u * 1024 * 1024 };
	const char *password_file = NULL;
	double interval = 60;
	int once = 0, rc;

	mailin_prog = "thidua-imap";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			return 0;
		} else if (!strcmp(a, "--once")) {
			once = 1;
		} else if (v && !strcmp(a, "--url")) {
			im.url = argv[++i];
		} else if (v && !strcmp(a, "--user")) {
			im.user = argv[++i];
		} else if (v && !strcmp(a, "--password-file")) {
			password_file = argv[++i];
		} else if (v && !strcmp(a, "--state-dir")) {
			im.state_dir = argv[++i];
		} else if (v && !strcmp(a, "--api")) {
			im.api = argv[++i];
		} else if (v && !strcmp(a, "--move-to")) {
			im.move_to = argv[++i];
		} else if (v && !strcmp(a, "--cacert")) {
			im.cacert = argv[++i];
		} else if (v && !strcmp(a, "--interval")) {
			interval = atof(argv[++i]);
		} else if (v && !strcmp(a, "--timeout")) {
			im.timeout = atof(argv[++i]);
		} else if (v && !strcmp(a, "--max-bytes")) {
			im.max_bytes = (size_t)strtoull(argv[++i], NULL, 10);
		} else {
			usage();
			return MAILIN_USAGE;
		}
	}
	if (!im.url || !im.user || !password_file || interval <= 0 || im.timeout <= 0 || im.max_bytes < 1024) {
		usage();
		return MAILIN_USAGE;
	}
	if (strncmp(im.url, "imaps://", 8) && strncmp(im.url, "imap://", 7)) {
		say("--url %s is not an imaps:// URL (imap:// only on a loopback test server)%s", im.url, "");
		return MAILIN_USAGE;
	}
	if (im.move_to && strpbrk(im.move_to, "\"\\\r\n")) {
		say("--move-to %s: a mailbox name without quotes, backslashes or line breaks%s", im.move_to, "");
		return MAILIN_USAGE;
	}
	if (read_password(password_file, im.password, sizeof(im.password))) {
		say("cannot read the password from %s: %s", password_file, strerror(errno));
		return MAILIN_USAGE;
	}
	snprintf(im.pending, sizeof(im.pending), "%s/imap-pending", im.state_dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	im.curl = curl_easy_init();
	curl_easy_setopt(im.curl, CURLOPT_USERNAME, im.user);
	curl_easy_setopt(im.curl, CURLOPT_PASSWORD, im.password);
	curl_easy_setopt(im.curl, CURLOPT_PROTOCOLS_STR, "imaps,imap");
	curl_easy_setopt(im.curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(im.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(im.curl, CURLOPT_LOW_SPEED_TIME, 120L);
	if (im.cacert)
		curl_easy_setopt(im.curl, CURLOPT_CAINFO, im.cacert);
	for (;;) {
		rc = round_once(&im);
		if (once)
			break;
		if (rc < 0)	/* the mailbox failed: a new connection next round */
			curl_easy_setopt(im.curl, CURLOPT_FRESH_CONNECT, 1L);
		else
			curl_easy_setopt(im.curl, CURLOPT_FRESH_CONNECT, 0L);
		{
			struct timespec ts = { (time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9) };

			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
	}
	curl_easy_cleanup(im.curl);
	curl_global_cleanup();
	return rc < 0 ? EX_UNAVAILABLE : rc ? MAILIN_TEMPFAIL : 0;
}
