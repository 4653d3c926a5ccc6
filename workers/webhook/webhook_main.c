/*
 * webhook_main.c - thidua-webhook: options, signals and the one loop.
 *
 * The loop: read the signalfd, take the daemon's messages, let libcurl move the transfers,
 * answer what finished, start what the rate limits allow, send, and sleep in
 * curl_multi_poll on libcurl's sockets plus the jobs socket, its monitor and the signalfd.
 * SIGTERM and SIGINT are like the daemon's stop: the transfers under way finish and are
 * answered, jobs not started go back; a second one stops at once. Never forks.
 *
 * A tcp endpoint (a worker on another host than thiduad) needs CURVE keys, --server-key and
 * --key: a missing one is a usage error before anything starts; the files are read when
 * the jobs socket is made (common/jobwire.c). Other endpoints use no keys.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "curve.h"
#include "jobwire.h"
#include "log.h"
#include "proto.h"
#include "xalloc.h"
#include "webhook.h"

#define LOOP_MAX_MS 5000
#define TURN_MAX 256			/* messages read per turn, so transfers get their share */

/* whk_now - seconds on the monotonic clock */
double whk_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: thidua-webhook [-e ENDPOINT] [-c CAPACITY] [-v] [--name NAME]\n"
		"                      [--server-key KEY|FILE --key FILE]\n"
		"  -e, --endpoint ENDPOINT  the daemon's jobs socket (default %s)\n"
		"  -c, --capacity N         jobs taken at once, 1..1024 (default %d)\n"
		"  -n, --name NAME          how the daemon lists this worker (default webhook@HOST)\n"
		"      --server-key KEY|FILE  tcp endpoint: the daemon's public key, or a file holding\n"
		"                           it (the .pub beside daemon.curve_key_file)\n"
		"      --key FILE           tcp endpoint: this worker's secret key; make one with\n"
		"                           'thiduactl keys generate NAME' and add the public key it\n"
		"                           prints (also in NAME.pub) to daemon.worker_keys\n"
		"  -v, --verbose            more log detail (repeat for debug)\n"
		"  -h, --help               this text\n",
		WHK_DEFAULT_ENDPOINT, WHK_DEFAULT_CAPACITY);
}

/* signals_open - SIGTERM, SIGINT and SIGHUP through a signalfd, blocked before libcurl or
 * zmq start threads so that none of them takes the signal */
static int signals_open(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		fatal("sigprocmask: %s", strerror(errno));
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		fatal("signalfd: %s", strerror(errno));
	return fd;
}

/* signals_read - stop on TERM and INT (now, on the second); HUP has nothing to reload */
static void signals_read(struct whk *w, int fd)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: nothing to reload (a worker holds no configuration)");
			continue;
		}
		if (w->stopping) {
			log_notice("%s again: stopping now", strsignal((int)si.ssi_signo));
			w->stopping = 2;
		} else {
			log_notice("%s: finishing %zu job(s) in hand, then exiting", strsignal((int)si.ssi_signo),
				   w->njobs);
			w->stopping = 1;
		}
	}
}

/* default_name - webhook@HOST */
static char *default_name(void)
{
	char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		xstrlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = 0;
	return xasprintf("webhook@%s", host);
}

/* json_id - the job id as a string (the daemon sends strings; a number is taken too) */
static char *json_id(json_t *v)
{
	if (json_is_string(v) && *json_string_value(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return NULL;
}

/* take_messages - read what the daemon sent (jobwire_recv answers all but job and stop) */
static void take_messages(struct whk *w)
{
	json_t *msg;

	jobwire_turn(w->wire);
	for (int n = 0; n < TURN_MAX && (msg = jobwire_recv(w->wire)); n++) {
		const char *type = json_string_value(json_object_get(msg, "type"));

		if (!strcmp(type, JOBS_JOB)) {
			char *id = json_id(json_object_get(msg, "job"));
			json_t *attempt = json_object_get(msg, "attempt"), *lease = json_object_get(msg, "lease");

			if (!id)
				log_warn("jobs socket: a job without an id was ignored");
			else
				jobs_add(w, id, json_is_integer(attempt) ? (long)json_integer_value(attempt) : 1,
					 json_is_number(lease) ? (long)json_number_value(lease) : 0,
					 json_object_get(msg, "payload"));
			free(id);
		} else if (!strcmp(type, JOBS_STOP) && !w->stopping) {
			log_notice("the daemon asks to stop: finishing %zu job(s) in hand", w->njobs);
			w->stopping = 1;
		}
		json_decref(msg);
	}
}

/* loop - until stopped and every job answered */
static void loop(struct whk *w, int sigfd)
{
	struct curl_waitfd fds[3];
	unsigned nfds;

	for (;;) {
		long t, tw;
		int running;

		signals_read(w, sigfd);
		if (w->stopping == 2) {
			jobs_abort(w, "the worker was stopped before the message was posted");
			jobwire_flush(w->wire);
			return;
		}
		take_messages(w);
		curl_multi_perform(w->multi, &running);
		jobs_reap(w);
		t = jobs_run(w);
		jobwire_flush(w->wire);
		if (w->stopping && w->njobs == 0 && jobwire_drained(w->wire))
			return;
		tw = jobwire_tick(w->wire);
		if (tw >= 0 && (t < 0 || tw < t))
			t = tw;
		if (t < 0)
			t = LOOP_MAX_MS;
		if (t > LOOP_MAX_MS)
			t = LOOP_MAX_MS;
		if (jobwire_pending(w->wire))
			t = 0;
		nfds = 0;
		fds[nfds++] = (struct curl_waitfd){ .fd = w->sock_fd, .events = CURL_WAIT_POLLIN };
		fds[nfds++] = (struct curl_waitfd){ .fd = sigfd, .events = CURL_WAIT_POLLIN };
		fds[nfds++] = (struct curl_waitfd){ .fd = w->mon_fd, .events = CURL_WAIT_POLLIN };
		if (curl_multi_poll(w->multi, fds, nfds, (int)t, NULL) != CURLM_OK)
			fatal("curl_multi_poll failed");
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "server-key", required_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct whk w = { .endpoint = WHK_DEFAULT_ENDPOINT, .capacity = WHK_DEFAULT_CAPACITY };
	int verbose = 0, opt, sigfd;
	const char *name = NULL;
	char err[1024];

	while ((opt = getopt_long(argc, argv, "e:c:n:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e': w.endpoint = optarg; break;
		case 'c': {
			char *end;
			long c = strtol(optarg, &end, 10);

			if (*end || end == optarg || c < 1 || c > 1024) {
				fprintf(stderr, "thidua-webhook: the capacity must be a number from 1 to 1024\n");
				return 2;
			}
			w.capacity = (int)c;
			break;
		}
		case 'n': name = optarg; break;
		case 'S': w.server_key = optarg; break;
		case 'K': w.key_file = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "thidua-webhook: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init(argv[0], verbose);
	switch (curve_client_needed(w.endpoint, w.server_key, w.key_file, err, sizeof(err))) {
	case -1:
		fprintf(stderr, "thidua-webhook: %s\n", err);
		return 2;
	case 0:
		if (w.server_key || w.key_file)
			log_notice("--server-key and --key are not used: %s is not a tcp endpoint, "
				   "and only tcp endpoints use CURVE", w.endpoint);
		w.server_key = w.key_file = NULL;
		break;
	}
	w.name = name ? xstrdup(name) : default_name();
	sigfd = signals_open();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("libcurl cannot start");
	jobs_init(&w);
	w.wire = jobwire_open(&(struct jobwire_opts){ .endpoint = w.endpoint, .kind = "webhook", .name = w.name,
			      .capacity = w.capacity, .server_key = w.server_key, .key_file = w.key_file,
			      .hello_quiet_ms = 5000 });
	jobwire_fds(w.wire, &w.sock_fd, &w.mon_fd);
	log_notice("%s: capacity %d, jobs from %s, %s", w.name, w.capacity, w.endpoint, curl_version());
	loop(&w, sigfd);
	log_notice("stopped");
	jobwire_close(&w.wire);
	jobs_fini(&w);
	curl_global_cleanup();
	close(sigfd);
	free(w.name);
	return 0;
}
