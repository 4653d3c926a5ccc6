/*
 * mail_main.c - thidua-mail: options, signals, and the one loop of the process.
 *
 *   thidua-mail [-e ENDPOINT] [-c CAPACITY] [-v]... [--name NAME] [--server-key KEY|FILE --key FILE]
 *
 * A tcp endpoint (a worker on another host than thiduad) needs CURVE keys: thiduad's public
 * key and this worker's secret key, whose public half is in daemon.worker_keys. A missing
 * one is a usage error before anything starts; the files are read when the jobs socket is
 * made (common/jobwire.c). Other endpoints use no keys.
 *
 * The loop polls, in one zmq_poll, the jobs socket and its monitor (common/jobwire.c), a
 * signalfd, and the sockets libcurl is waiting on (mail_smtp.c); it sleeps until the
 * next ping or libcurl's next timeout. `stop` from thiduad, SIGTERM or SIGINT: take no
 * new job, finish those in hand, answer them, exit 0. A second SIGTERM or SIGINT while
 * finishing stops at once (exit 1; the jobs in hand return to the queue when their
 * leases end). Signals are blocked and read from the signalfd: no signal handler runs.
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
#include "mail.h"
#include "proto.h"
#include "xalloc.h"

#define DEFAULT_ENDPOINT "ipc:///var/lib/thidua/jobs.sock"	/* thiduad's default state_dir */
#define DEFAULT_CAPACITY 4

struct worker {
	struct jobwire *link;
	struct smtp *smtp;
	int stopping;
};

/* mail_mono_ms - a monotonic clock in milliseconds (the jobs link's) */
int64_t mail_mono_ms(void)
{
	return jobwire_mono_ms();
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: thidua-mail [-e ENDPOINT] [-c CAPACITY] [-v]... [--name NAME]\n"
		"                   [--server-key KEY|FILE --key FILE]\n"
		"Delivers thiduad's mail jobs over SMTP (docs/JOBS.md).\n"
		"  -e, --endpoint ENDPOINT  thiduad's jobs socket (default %s)\n"
		"  -c, --capacity N         jobs taken at once, 1..1024 (default %d)\n"
		"  -v, --verbose            more detail in the log; -vv shows the SMTP dialogue\n"
		"                           (without credentials)\n"
		"      --name NAME          how thiduad names this worker (default mail-HOST-PID)\n"
		"      --server-key KEY|FILE  tcp endpoint: thiduad's public key, or a file holding\n"
		"                           it (the .pub beside daemon.curve_key_file)\n"
		"      --key FILE           tcp endpoint: this worker's secret key; make one with\n"
		"                           'thiduactl keys generate NAME' and add the public key it\n"
		"                           prints (also in NAME.pub) to daemon.worker_keys\n"
		"  -h, --help               this text\n", DEFAULT_ENDPOINT, DEFAULT_CAPACITY);
}

/* send_result - the outcome of one job; code is null when no server reply gave one */
static void send_result(struct worker *w, const char *job, const struct mail_outcome *o)
{
	json_t *msg = json_pack("{s:s,s:s,s:s,s:s}", "type", JOBS_RESULT, "job", job, "status",
				mail_outcome_status_name(o->status), "reason", o->reason ? o->reason : "");

	json_object_set_new(msg, "code", o->code ? json_integer(o->code) : json_null());
	if (o->status == MAIL_RETRY)
		json_object_set_new(msg, "retry_after", json_integer(o->retry_after));
	if (o->recipients)
		json_object_set(msg, "recipients", o->recipients);
	jobwire_send(w->link, msg);
}

/* job_done - the outcome of a job goes back to thiduad */
static void job_done(struct mail_job **job_p, struct mail_outcome *out, void *arg)
{
	struct worker *w = arg;

	send_result(w, (*job_p)->id, out);
}

/* heartbeat - a ping when one is due, also while libcurl blocks */
static void heartbeat(void *arg)
{
	struct worker *w = arg;

	jobwire_tick(w->link);
}

/* answer_now - a job answered without a transfer */
static void answer_now(struct worker *w, struct mail_job **job_p, enum mail_status st, int retry_after,
		       const char *reason)
{
	struct mail_outcome out = { 0 };

	mail_outcome_set(&out, st, 0, "%s", reason);
	if (st == MAIL_RETRY)
		out.retry_after = retry_after;
	send_result(w, (*job_p)->id, &out);
	mail_outcome_clear(&out);
	mail_job_destroy(job_p);
}

/* on_job - a `job` message */
static void on_job(struct worker *w, const json_t *msg)
{
	const char *id = json_string_value(json_object_get(msg, "job"));
	struct mail_job *job;
	char err[512];

	if (!id) {
		log_warn("a job without a string 'job' id was ignored");
		return;
	}
	job = mail_job_new(id);
	if (w->stopping) {
		answer_now(w, &job, MAIL_RETRY, 0, "the mail worker is stopping");
		return;
	}
	if (mail_job_parse(job, msg, err, sizeof(err))) {
		log_notice("job %s: failed: %s", id, err);
		answer_now(w, &job, MAIL_FAILED, 0, err);
		return;
	}
	log_debug("job %s (attempt %d): %zu recipient(s) via channel %s", job->id, job->attempt, job->nto, job->channel);
	smtp_start(w->smtp, &job);
	mail_job_destroy(&job);
}

/* dispatch - one message from thiduad (jobwire_recv answers the others itself) */
static void dispatch(struct worker *w, json_t *msg)
{
	const char *type = json_string_value(json_object_get(msg, "type"));

	if (!strcmp(type, JOBS_JOB)) {
		on_job(w, msg);
	} else if (!strcmp(type, JOBS_STOP)) {
		if (!w->stopping)
			log_notice("thiduad asks us to stop; finishing %zu job(s) in hand", smtp_active(w->smtp));
		w->stopping = 1;
	}
}

/* on_signal - read the signalfd; returns 1 when the worker must stop at once */
static int on_signal(struct worker *w, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: a worker has no configuration to reload");
			continue;
		}
		if (w->stopping && si.ssi_signo != 0) {
			log_notice("%s again: stopping now, %zu job(s) unanswered", strsignal((int)si.ssi_signo),
				   smtp_active(w->smtp));
			return 1;
		}
		log_notice("%s: finishing %zu job(s) in hand, then exiting", strsignal((int)si.ssi_signo),
			   smtp_active(w->smtp));
		w->stopping = 1;
	}
	return 0;
}

/* min_timeout - the sooner of two zmq_poll timeouts (-1: none) */
static long min_timeout(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* mail_loop - poll, let libcurl work, read thiduad's messages, ping; returns the exit code */
static int mail_loop(struct worker *w, int sfd)
{
	zmq_pollitem_t *items = NULL;
	size_t cap = 0;

	for (;;) {
		int64_t now = mail_mono_ms();
		size_t n, nc;
		long timeout;
		json_t *msg;

		if (w->stopping && smtp_active(w->smtp) == 0)
			break;
		if (cap < 3 + smtp_nfds(w->smtp)) {
			cap = 3 + smtp_nfds(w->smtp) + 8;
			items = xrealloc(items, cap * sizeof(*items));
		}
		n = jobwire_pollitems(w->link, items);
		items[n++] = (zmq_pollitem_t){ .fd = sfd, .events = ZMQ_POLLIN };
		nc = smtp_pollitems(w->smtp, items + n, cap - n);
		timeout = min_timeout(jobwire_tick(w->link), smtp_timeout_ms(w->smtp, now));
		if (zmq_poll(items, (int)(n + nc), timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("zmq_poll: %s", zmq_strerror(errno));
		}
		if ((items[2].revents & ZMQ_POLLIN) && on_signal(w, sfd)) {
			free(items);
			return 1;
		}
		smtp_action(w->smtp, items + n, nc, mail_mono_ms());
		jobwire_turn(w->link);
		while ((msg = jobwire_recv(w->link))) {
			dispatch(w, msg);
			json_decref(msg);
		}
	}
	free(items);
	log_info("every job answered; exiting");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "name", required_argument, NULL, 'n' },
		{ "server-key", required_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *endpoint = DEFAULT_ENDPOINT, *server_key = NULL, *key_file = NULL;
	char *name = NULL, host[64] = "localhost", err[1024];
	long capacity = DEFAULT_CAPACITY;
	int verbose = 0, opt, sfd, rc;
	struct worker w = { 0 };
	const curl_version_info_data *cv;
	sigset_t set;
	int smtp_ok = 0;

	while ((opt = getopt_long(argc, argv, "e:c:vh", longopts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'e':
			endpoint = optarg;
			break;
		case 'c':
			errno = 0;
			capacity = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || capacity < 1 || capacity > 1024) {
				fprintf(stderr, "thidua-mail: the capacity is a number from 1 to 1024, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'v':
			verbose++;
			break;
		case 'n':
			free(name);
			name = xstrdup(optarg);
			break;
		case 'S':
			server_key = optarg;
			break;
		case 'K':
			key_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "thidua-mail: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init(argv[0], verbose);
	switch (curve_client_needed(endpoint, server_key, key_file, err, sizeof(err))) {
	case -1:
		fprintf(stderr, "thidua-mail: %s\n", err);
		free(name);
		return 2;
	case 0:
		if (server_key || key_file)
			log_notice("--server-key and --key are not used: %s is not a tcp endpoint, "
				   "and only tcp endpoints use CURVE", endpoint);
		server_key = key_file = NULL;
		break;
	}
	if (!name) {
		gethostname(host, sizeof(host) - 1);
		host[strcspn(host, ".")] = 0;
		name = xasprintf("mail-%s-%ld", host, (long)getpid());
	}

	/* before any thread exists (libzmq's, libcurl's resolver), so all inherit the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 || (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		fatal("cannot set up the signals: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);	/* a peer that hangs up is an error code, not a death */

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("cannot initialise libcurl");
	cv = curl_version_info(CURLVERSION_NOW);
	for (const char *const *p = cv->protocols; p && *p; p++)
		smtp_ok |= !strcmp(*p, "smtp");
	if (!smtp_ok)
		fatal("this libcurl (%s) was built without SMTP", cv->version);

	w.link = jobwire_open(&(struct jobwire_opts){ .endpoint = endpoint, .kind = "mail", .name = name,
			      .capacity = (int)capacity, .server_key = server_key, .key_file = key_file });
	w.smtp = smtp_new(job_done, heartbeat, &w);
	log_notice("started (libcurl %s, capacity %ld)", cv->version, capacity);
	rc = mail_loop(&w, sfd);
	smtp_destroy(&w.smtp);
	jobwire_close(&w.link);
	curl_global_cleanup();
	close(sfd);
	free(name);
	return rc;
}
