/*
 * fuzz_api.c - libFuzzer target: the whole request path of a real daemon in this process.
 * The input is one request: its frames separated by NUL bytes (the first is the JSON,
 * the others are files; JSON text never holds a NUL). They are sent from a DEALER over
 * inproc to the ROUTER that api_open() bound, and api_turn() reads, decodes, dispatches,
 * commits and answers them, as thiduad's loop does. An input that begins with a 0x01
 * byte is a turn of up to BATCH requests, separated by 0x01 bytes, sent together and
 * served by one api_turn(): requests that succeed, fail and replay in one transaction.
 *
 * The daemon runs the shipped configuration with a fake clock, on a state directory of
 * its own under $TMPDIR (or /dev/shm), and starts afresh every RESET_EVERY inputs so that
 * the database stays small. Each input sees the state the inputs before it left.
 *
 * Properties: no crash, leak or undefined behaviour, and thiduad never exits (fatal() is
 * an exit, which libFuzzer reports); every request gets one reply, a JSON object with a
 * boolean "ok" and, when false, an error code and message, never "internal" (a failure of
 * the daemon itself, not of the request); every row a request adds to the audit log is
 * shown by audit.list; the receipt numbers a turn hands out are new and consecutive.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "api.h"
#include "audit.h"
#include "clock.h"
#include "config.h"
#include "deadlines.h"
#include "events.h"
#include "fuzz.h"
#include "inbox.h"
#include "inflow.h"
#include "intake.h"
#include "jobs.h"
#include "log.h"
#include "proposals.h"
#include "registry.h"
#include "reload.h"
#include "spool.h"
#include "store.h"
#include "thiduad.h"
#include "timeutil.h"
#include "xalloc.h"

#ifndef FUZZ_CONFIG
#define FUZZ_CONFIG "config/thidua.cfg"
#endif
#define RESET_EVERY 20000
#define MAX_FRAMES_SENT 80
#define BATCH 8
#define START "2024-11-10T09:00:00+07:00"

static struct daemon d;
static void *client;		/* DEALER connected to the api socket */
static char *state_root;	/* mkdtemp'd; the daemon's state_dir is inside */
static unsigned long inputs;
static int inited_once;

/* daemon_reload - the real one (reload.c) reads the configuration file again: not what
 * this target explores; reloading is for the configuration's own tests */
int daemon_reload(struct daemon *dm, char *err, size_t errsize)
{
	(void)dm;
	snprintf(err, errsize, "config.reload is not run by fuzz_api");
	return -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* daemon_down - what main() does at exit, then the state directory goes */
static void daemon_down(void)
{
	if (!d.cfg)
		return;
	zmq_close(client);
	client = NULL;
	jobs_close(&d);
	api_close(&d);
	daemon_free(&d);
	memset(&d, 0, sizeof(d));
	nftw(state_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void at_exit(void)
{
	daemon_down();
	free(state_root);
	state_root = NULL;
}

/* daemon_up - main()'s start-up, with inproc endpoints and no workers */
static void daemon_up(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char **errors = NULL, err[1024], buf[32];
	int linger = 0;

	if (!inited_once) {
		log_init("fuzz_api", 0);
		intake_init();
		deadlines_init();
		spool_init();
		proposals_init();	/* its escalation, and the renderer of its messages */
		inbox_init();
		atexit(at_exit);
		inited_once = 1;
	}
	free(state_root);
	state_root = xasprintf("%s/thidua-fuzz-api-XXXXXX", tmp);
	if (!mkdtemp(state_root)) {
		perror("fuzz_api: mkdtemp");
		exit(1);
	}
	d.config_path = getenv("THIDUA_FUZZ_CONFIG") ? getenv("THIDUA_FUZZ_CONFIG") : FUZZ_CONFIG;
	d.cfg = cfg_load(d.config_path, &errors);
	if (!d.cfg) {
		fprintf(stderr, "fuzz_api: cannot load %s (run from the top of the tree): %s\n", d.config_path,
			errors && errors[0] ? errors[0] : "?");
		exit(1);
	}
	d.state_dir = xstrdup(state_root);
	d.db_path = xasprintf("%s/thidua.db", d.state_dir);
	d.spool_dir = xasprintf("%s/spool", d.state_dir);
	if (mkdir(d.spool_dir, 0700)) {
		perror("fuzz_api: mkdir spool");
		exit(1);
	}
	d.api_endpoint = xasprintf("inproc://fuzz-api-%lu", inputs);
	d.events_endpoint = xasprintf("inproc://fuzz-events-%lu", inputs);
	d.jobs_endpoint = xasprintf("inproc://fuzz-jobs-%lu", inputs);
	d.started_mono_ms = clock_mono_ms();
	if (!(d.store = store_open(d.db_path, err, sizeof(err))))
		fatal("%s", err);
	d.fake_clock = 1;
	if (time_parse(START, d.cfg->utc_offset, &d.fake_now))
		fatal("fuzz_api: bad start time");
	d.epoch = d.fake_now;
	if (audit_init(&d, err, sizeof(err)) || accounts_init(&d, err, sizeof(err)))
		fatal("%s", err);
	snprintf(buf, sizeof(buf), "%lld", (long long)d.epoch);
	if (store_meta_set(d.store, "epoch", buf))
		fatal("fuzz_api: %s", store_errmsg(d.store));
	if (!(d.units = registry_build(&d, d.cfg, &errors)))
		fatal("fuzz_api: the units do not fit together");
	if (store_begin(d.store) || intake_reconcile(&d) || store_commit(d.store))
		fatal("fuzz_api: %s", store_errmsg(d.store));
	d.started_at = clock_now(&d);
	if (api_open(&d, err, sizeof(err)) || jobs_open(&d, err, sizeof(err)))
		fatal("fuzz_api: %s", err);
	client = zmq_socket(d.zctx, ZMQ_DEALER);
	zmq_setsockopt(client, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(client, d.api_endpoint))
		fatal("fuzz_api: connect: %s", zmq_strerror(errno));
}

/* send_frames - [""][frame0]...: data split at NUL bytes */
static void send_frames(const uint8_t *data, size_t size)
{
	size_t start = 0, n = 0;

	zmq_send(client, "", 0, ZMQ_SNDMORE);
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != 0)
			continue;
		n++;
		zmq_send(client, data + start, i - start, i < size && n < MAX_FRAMES_SENT ? ZMQ_SNDMORE : 0);
		if (n == MAX_FRAMES_SENT)
			break;
		start = i + 1;
	}
}

/* poll_in - wait for one socket to be readable; a signal (libFuzzer's timer) is not an
 * answer */
static int poll_in(void *socket, long ms)
{
	zmq_pollitem_t it = { socket, 0, ZMQ_POLLIN, 0 };
	int rc;

	while ((rc = zmq_poll(&it, 1, ms)) < 0 && errno == EINTR)
		;
	return rc;
}

/* reply - take one reply off the client and check its shape */
static json_t *reply(void)
{
	zmq_msg_t m;
	json_t *r = NULL;
	json_error_t jerr;
	int more = 1, frames = 0;

	FUZZ_ASSERT(poll_in(client, 5000) == 1);	/* one reply per request */
	while (more) {
		zmq_msg_init(&m);
		FUZZ_ASSERT(zrecv(&m, client, 0) >= 0);
		more = zmq_msg_more(&m);
		if (frames++ == 1)
			r = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, &jerr);
		zmq_msg_close(&m);
	}
	FUZZ_ASSERT(frames == 2 && r && json_is_object(r));
	FUZZ_ASSERT(json_is_boolean(json_object_get(r, "ok")));
	if (!json_is_true(json_object_get(r, "ok"))) {
		json_t *e = json_object_get(r, "error");
		const char *code = json_string_value(json_object_get(e, "code"));

		FUZZ_ASSERT(code && json_is_string(json_object_get(e, "message")));
		if (!strcmp(code, "internal"))
			fprintf(stderr, "fuzz_api: internal error: %s\n", json_string_value(json_object_get(e, "message")));
		FUZZ_ASSERT(strcmp(code, "internal") != 0);
	}
	return r;
}

/* turn - let the daemon serve what is waiting (n requests) in one turn; their replies */
static void turn(json_t **replies, size_t n)
{
	FUZZ_ASSERT(poll_in(d.api, 5000) == 1);
	api_turn(&d);
	events_flush(&d);
	for (size_t i = 0; i < n; i++)
		replies[i] = reply();
}

/* receipt_seq - a new receipt's number in a reply, BN-YYYY-NNNNNN as YYYY * 10^7 + NNNNNN
 * (a counter per year), or -1 */
static long receipt_seq(json_t *r)
{
	const char *number = json_string_value(json_object_get(json_object_get(r, "receipt"), "number"));
	const char *dash = number ? strrchr(number, '-') : NULL;

	if (!dash || dash - number < 4 || json_is_true(json_object_get(r, "replayed")))
		return -1;
	return strtol(dash - 4, NULL, 10) * 10000000L + strtol(dash + 1, NULL, 10);
}

/* last_audit_seq - the newest row of the audit log, 0 when empty */
static long long last_audit_seq(void)
{
	sqlite3_stmt *s = store_stmt(d.store, "SELECT max(seq) FROM audit");
	long long seq = 0;

	if (sqlite3_step(s) == SQLITE_ROW)
		seq = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return seq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char list[] = "{\"op\":\"audit.list\",\"limit\":1}";
	json_t *replies[BATCH];
	long long before;
	long last = -1;
	size_t n = 0;

	if (!d.cfg || inputs % RESET_EVERY == 0) {
		daemon_down();
		daemon_up();
	}
	inputs++;
	before = last_audit_seq();
	if (size > 0 && data[0] == 0x01) {	/* a turn of requests: 0x01 before each */
		size_t at = 1;

		while (n < BATCH) {
			const uint8_t *end = memchr(data + at, 0x01, size - at);
			size_t len = end ? (size_t)(end - (data + at)) : size - at;

			send_frames(data + at, len);
			n++;
			if (!end)
				break;
			at += len + 1;
		}
	} else {
		send_frames(data, size);
		n = 1;
	}
	turn(replies, n);
	for (size_t i = 0; i < n; i++) {
		long seq = receipt_seq(replies[i]);

		if (seq >= 0) {		/* of one year, the next number of the turn */
			FUZZ_ASSERT(last < 0 || seq / 10000000L != last / 10000000L || seq == last + 1);
			last = seq;
		}
		json_decref(replies[i]);
	}
	if (last_audit_seq() != before) {
		/* a row the request wrote must be listed: audit.list shows the newest first */
		send_frames((const uint8_t *)list, sizeof(list) - 1);
		turn(replies, 1);
		FUZZ_ASSERT(json_is_true(json_object_get(replies[0], "ok")));
		FUZZ_ASSERT(json_integer_value(json_object_get(json_array_get(json_object_get(replies[0], "rows"), 0), "seq"))
			    == last_audit_seq());
		json_decref(replies[0]);
	}
	return 0;
}
