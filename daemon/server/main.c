/*
 * main.c - thiduad: options, start-up, the event loop, reload and shutdown.
 *
 * The daemon never forks. It owns the database, the clock and the sockets, and runs one
 * zmq_poll loop: requests, signals (through a signalfd) and the timer of the next due
 * moment. SIGHUP reloads the configuration; SIGTERM and SIGINT finish the turn and exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "api.h"
#include "audit.h"
#include "backup.h"
#include "calwarn.h"
#include "channels.h"
#include "clock.h"
#include "config.h"
#include "deadlines.h"
#include "events.h"
#include "inbox.h"
#include "inflow.h"
#include "intake.h"
#include "jalloc.h"
#include "jobs.h"
#include "log.h"
#include "notify.h"
#include "proposals.h"
#include "registry.h"
#include "reload.h"
#include "reorg.h"
#include "replyto.h"
#include "restore.h"
#include "spool.h"
#include "statedir.h"
#include "store.h"
#include "supervisor.h"
#include "thiduad.h"
#include "timeutil.h"
#include "units.h"
#include "utf8.h"
#include "xalloc.h"
#include "zap.h"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: thiduad -c FILE [--state-dir DIR] [-n] [-v] [--fake-clock]\n"
		"       thiduad -c FILE --restore ARCHIVE --state-dir DIR\n"
		"  -c, --config FILE    the configuration file (default /etc/thidua/thidua.cfg)\n"
		"  -d, --state-dir DIR  database, spool and sockets (overrides daemon.state_dir)\n"
		"  -n, --check          validate the configuration, print the result and exit\n"
		"      --restore ARCHIVE  restore a backup (thiduactl backup) into DIR, which must be\n"
		"                       empty or new; verify it (database, audit log, files) and exit\n"
		"  -v, --verbose        more log detail (repeat for debug)\n"
		"      --fake-clock[=TIME]  test mode: time starts now (or at TIME, or where a\n"
		"                       previous fake-clock run left it) and moves only through\n"
		"                       clock.set and clock.advance\n"
		"  -V, --version        print the version and exit\n");
}

/* print_errors - every configuration error on its own line */
static void print_errors(char **errors)
{
	for (size_t i = 0; errors && errors[i]; i++)
		fprintf(stderr, "%s\n", errors[i]);
}

/* mkdir_p - create a directory and its parents */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = xstrlcpy(buf, path, sizeof(buf));

	if (len >= sizeof(buf))
		return -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, mode) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -1;
	return 0;
}

/* setup_state - the state directory, its spool, and the endpoints */
static void setup_state(struct daemon *d, const char *state_dir_opt)
{
	const char *dir = state_dir_opt ? state_dir_opt
			  : d->cfg->state_dir ? d->cfg->state_dir : CFG_DEFAULT_STATE_DIR;

	d->state_dir = xstrdup(dir);
	if (mkdir_p(d->state_dir, 0750))
		fatal("cannot create the state directory %s: %s", d->state_dir, strerror(errno));
	d->db_path = xasprintf("%s/thidua.db", d->state_dir);
	d->spool_dir = xasprintf("%s/spool", d->state_dir);
	if (mkdir_p(d->spool_dir, 0750))
		fatal("cannot create the spool directory %s: %s", d->spool_dir, strerror(errno));
	d->api_endpoint = d->cfg->api_endpoint ? xstrdup(d->cfg->api_endpoint)
			  : xasprintf("ipc://%s/api.sock", d->state_dir);
	d->events_endpoint = d->cfg->events_endpoint ? xstrdup(d->cfg->events_endpoint)
			     : xasprintf("ipc://%s/events.sock", d->state_dir);
	d->jobs_endpoint = d->cfg->jobs_endpoint ? xstrdup(d->cfg->jobs_endpoint)
			   : xasprintf("ipc://%s/jobs.sock", d->state_dir);
	d->web_endpoint = d->cfg->web_endpoint ? xstrdup(d->cfg->web_endpoint)
			  : xasprintf("ipc://%s/web.sock", d->state_dir);
}

/* setup_signals - block the signals we handle and read them from a signalfd */
static void setup_signals(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		fatal("sigprocmask: %s", strerror(errno));
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		fatal("signalfd: %s", strerror(errno));
}

/* read_signals - turn pending signals into flags */
static void read_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			d->reload_asap = 1;
			break;
		case SIGCHLD:
			d->reap_asap = 1;
			break;
		case SIGINT:
		case SIGTERM:
			if (d->stop_asap && !d->stop_now) {
				log_notice("a second %s while finishing: stopping at once",
					   si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
				d->stop_now = 1;
			}
			d->stop_asap = 1;
			break;
		}
	}
}

/* stop_at_once - while finishing: 1 when a second SIGINT/SIGTERM came (read_signals) */
static int stop_at_once(struct daemon *d)
{
	read_signals(d);
	return d->stop_now;
}

/* run_timers - due work outside a request turn, in its own transaction */
static void run_timers(struct daemon *d)
{
	if (store_begin(d->store))
		return;
	sched_run_due(d);
	if (store_commit(d->store))
		log_err("due work could not be committed: %s; it will run again", store_errmsg(d->store));
	events_flush(d);
}

/* the next due moment: sched_next_due asks every source (a query each, or a walk of the
 * calendar), so the loop keeps the answer and asks again only after what may move it: a
 * write to the database (store_changes), a request, a reload, due work run (stale) */
struct due_memo {
	int64_t next, changes;
	int stale;
};

static int64_t next_due(struct daemon *d, struct due_memo *m)
{
	int64_t changes = store_changes(d->store);

	if (m->stale || changes < 0 || changes != m->changes) {
		m->next = sched_next_due(d);
		m->changes = changes;
		m->stale = 0;
	}
	return m->next;
}

/* poll_timeout - milliseconds until the next due moment or watchdog ping */
static long poll_timeout(struct daemon *d, int64_t next)
{
	long timeout = -1;

	if (d->fake_clock) {
		if (next <= clock_now(d))
			timeout = 0;	/* batches left at the fake moment (sched_advance_to) */
	} else {
		if (next != INT64_MAX) {
			struct timespec ts;
			int64_t ms;

			/* to the millisecond: a whole-second clock would wake up to a second late */
			clock_gettime(CLOCK_REALTIME, &ts);
			ms = next * 1000 - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);

			timeout = ms < 0 ? 0 : ms > 3600000 ? 3600000 : (long)ms;
		}
	}
	if (d->watchdog_usec) {
		long half = (long)(d->watchdog_usec / 2000);

		if (timeout < 0 || half < timeout)
			timeout = half;
	}
	return timeout;
}

/* main_loop - poll, dispatch, run due timers, repeat until asked to stop */
static long min_timeout(long a, long b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

static void main_loop(struct daemon *d)
{
	struct due_memo due = { .stale = 1 };

	while (!d->stop_asap) {
		zmq_pollitem_t items[] = {
			{ d->api, 0, ZMQ_POLLIN, 0 },
			{ NULL, d->sigfd, ZMQ_POLLIN, 0 },
			{ d->jobs, 0, ZMQ_POLLIN, 0 },
			{ d->zap, 0, ZMQ_POLLIN, 0 },
			{ d->events, 0, ZMQ_POLLIN, 0 },	/* (un)subscriptions */
			{ d->web, 0, ZMQ_POLLIN, 0 },
		};
		long timeout = min_timeout(min_timeout(poll_timeout(d, next_due(d, &due)), jobs_timeout_ms(d)),
					   min_timeout(supervisor_timeout_ms(d), backup_timeout_ms(d)));

		timeout = min_timeout(timeout, inflow_trim_ms());
		int rc = zmq_poll(items, 6, timeout);

		if (rc < 0 && errno != EINTR)
			fatal("zmq_poll: %s", zmq_strerror(errno));
		if (rc == 0 && timeout != 0) {
			store_checkpoint(d->store);	/* idle: write the WAL back now, not in a commit */
			audit_anchor(d, 1);
		}
		if (items[1].revents & ZMQ_POLLIN)
			read_signals(d);
		if (items[4].revents & ZMQ_POLLIN)
			events_subscriptions(d);
		while (items[3].revents & ZMQ_POLLIN) {
			int events = 0;
			size_t len = sizeof(events);

			zap_handle(d);
			zmq_getsockopt(d->zap, ZMQ_EVENTS, &events, &len);
			if (!(events & ZMQ_POLLIN))
				break;
		}
		if (d->reap_asap) {
			d->reap_asap = 0;
			if (store_begin(d->store) == 0) {
				supervisor_reap(d);
				store_commit(d->store);
			}
		}
		supervisor_tick(d);
		if (d->reload_asap) {
			char err[4096];

			d->reload_asap = 0;
			due.stale = 1;
			daemon_reload(d, err, sizeof(err));
			events_flush(d);
		}
		if ((items[0].revents | items[5].revents) & ZMQ_POLLIN) {
			due.stale = 1;	/* clock ops move the fake clock and run due work themselves */
			api_turn(d);
		}
		if (next_due(d, &due) <= clock_now(d)) {
			run_timers(d);
			due.stale = 1;
		}
		if ((items[2].revents & ZMQ_POLLIN) || jobs_timeout_ms(d) == 0)
			jobs_turn(d);
		backup_turn(d);
		audit_anchor(d, 0);
		inflow_trim();
		notify_watchdog(d);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "fake-clock", optional_argument, NULL, 'F' },
		{ "version", no_argument, NULL, 'V' },
		{ "restore", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { 0 };
	const char *state_dir = NULL, *fake_start = NULL, *restore = NULL;
	int check_only = 0, verbose = 0, opt;
	char **errors = NULL, err[1024], buf[32];

	jalloc_install();	/* before the first JSON value */
	d.config_path = "/etc/thidua/thidua.cfg";
	while ((opt = getopt_long(argc, argv, "c:d:nvVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': d.config_path = optarg; break;
		case 'd': state_dir = optarg; break;
		case 'n': check_only = 1; break;
		case 'v': verbose++; break;
		case 'F':
			d.fake_clock = 1;
			fake_start = optarg;
			break;
		case 'R': restore = optarg; break;
		case 'V': printf("thiduad %s\n", THIDUA_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "thiduad: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (restore && !state_dir) {
		fprintf(stderr, "thiduad: --restore needs --state-dir DIR: the new, empty directory to restore into\n");
		return 2;
	}
	log_init(argv[0], verbose);
	d.cfg = cfg_load(d.config_path, &errors);
	if (check_only) {
		if (!d.cfg) {
			print_errors(errors);
			fprintf(stderr, "%s: %zu error%s\n", d.config_path, strv_len(errors),
				strv_len(errors) == 1 ? "" : "s");
			strv_free(&errors);
			return 1;
		}
		printf("configuration OK: %s (%zu levels, %zu units, %zu calendar days)\n", d.config_path,
		       d.cfg->units->nlevels, d.cfg->units->nunits, d.cfg->nholidays);
		cfg_destroy(&d.cfg);
		return 0;
	}
	if (!d.cfg) {
		for (size_t i = 0; errors && errors[i]; i++)
			log_err("%s", errors[i]);
		strv_free(&errors);
		fatal("the configuration %s has errors; fix them (thiduad -n -c %s checks a file)",
		      d.config_path, d.config_path);
	}
	if (restore)
		return restore_run(&d, restore, state_dir);
	d.started_mono_ms = clock_mono_ms();
	warn_if_readable(d.cfg);
	setup_state(&d, state_dir);
	if (state_lock(&d, err, sizeof(err)))
		fatal("%s", err);
	d.store = store_open(d.db_path, err, sizeof(err));
	if (!d.store)
		fatal("%s", err);
	if (d.fake_clock) {
		d.fake_now = (int64_t)time(NULL);
		if (store_meta_get(d.store, "fake_clock", buf, sizeof(buf)) == 0)
			d.fake_now = strtoll(buf, NULL, 10);
		else if (fake_start && time_parse(fake_start, d.cfg->utc_offset, &d.fake_now))
			fatal("--fake-clock=%s is not a time: write 2024-11-10T09:00:00+07:00 or a date", fake_start);
		if (clock_range_problem(&d, d.fake_now, err, sizeof(err)))
			fatal("--fake-clock=%s: %s", fake_start ? fake_start : "", err);
		time_format(d.fake_now, d.cfg->utc_offset, buf, sizeof(buf));
		log_warn("fake clock: time stands at %s and moves only through clock.set/advance", buf);
	}
	if (store_meta_get(d.store, "epoch", buf, sizeof(buf)) == 0) {
		d.epoch = strtoll(buf, NULL, 10);
	} else {
		d.epoch = clock_now(&d);
		snprintf(buf, sizeof(buf), "%lld", (long long)d.epoch);
		if (store_meta_set(d.store, "epoch", buf))
			fatal("cannot write to the database %s: %s", d.db_path, store_errmsg(d.store));
	}
	if (audit_init(&d, err, sizeof(err)) || replyto_init(&d, err, sizeof(err)) || accounts_init(&d, err, sizeof(err)))
		fatal("%s", err);
	d.units = registry_build(&d, d.cfg, &errors);
	if (!d.units) {
		for (size_t i = 0; errors && errors[i]; i++)
			log_err("%s", errors[i]);
		fatal("the units of the configuration and the database do not fit together");
	}
	intake_init();
	deadlines_init();
	calwarn_init();
	spool_init();
	proposals_init();
	inbox_init();
	reorg_init();
	if (store_begin(d.store) || intake_reconcile(&d) || (channels_reconcile(&d), 0) || store_commit(d.store))
		fatal("opening the report periods due by now failed: %s", store_errmsg(d.store));
	d.started_at = clock_now(&d);
	setup_signals(&d);
	if (api_open(&d, err, sizeof(err)) || jobs_open(&d, err, sizeof(err)))
		fatal("%s", err);
	supervisor_start(&d);
	notify_ready(&d);
	notify_status("serving %zu units on %s", d.units->nunits, d.api_endpoint);
	log_notice("thiduad %s ready: api %s, events %s, %zu units, database %s", THIDUA_VERSION,
		   d.api_endpoint, d.events_endpoint, d.units->nunits, d.db_path);
	calwarn_log(&d);
	main_loop(&d);
	backup_stop(&d);
	notify_stopping();
	log_notice("stopping");
	jobs_close(&d);
	supervisor_stop(&d, stop_at_once);
	audit_anchor(&d, 1);
	api_close(&d);
	close(d.sigfd);
	daemon_free(&d);
	log_notice("stopped cleanly");
	return 0;
}
