/*
 * intake.c - the intake benchmark client: acknowledged durable submissions per second.
 *
 * Run by bench/intake.sh against a real thiduad (see there). One thread drives N DEALER
 * sockets with zmq_poll; every socket is one client that keeps exactly one report.submit
 * outstanding and sends the next when the reply arrives. Only replies with "ok": true and a
 * receipt count. Each client count runs for a warm-up, then for a fixed measured time.
 *
 * It also measures, on the same disk, the ceiling of one SQLite commit per fsync (WAL,
 * synchronous=FULL, autocommit INSERTs), and prints how far group commit gets above it.
 *
 *   intake -e ENDPOINT -d DIR [-t SECONDS] [-w SECONDS] [-f SECONDS] [-c 1,8,32,64] [-p PID] [-u]
 *
 * Figures, not pass/fail: the exit status is non-zero only when nothing could be measured.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>
#include <zmq.h>

#include "xalloc.h"

#define MAX_CLIENTS 1024
#define MAX_UNITS 4096
#define MAX_PHASES 16
#define DRAIN_SECONDS 10.0

static const char *report_code = "BC-NAM", *period_name = "2024";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6
	       + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* proc_cpu_s - user+system CPU seconds of another process (from /proc), -1 unknown */
static double proc_cpu_s(long pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut = 0, st = 0;
	FILE *fp;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	p = strrchr(buf, ')');	/* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* proc_alive - is the process there and not a zombie (its parent, the script, is busy
 * waiting for us, so an exited daemon stays a zombie until we end)? */
static int proc_alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return !(p && (p[2] == 'Z' || p[2] == 'X'));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* one-commit-per-fsync ceiling --------------------------------------------------------- */

static double fsync_ceiling(const char *dir, double seconds)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	double t0, t1;
	long n = 0;
	char *msg = NULL;

	snprintf(path, sizeof(path), "%s/fsync-ceiling.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK
	    || sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			    "CREATE TABLE t (id INTEGER PRIMARY KEY, at REAL NOT NULL, v TEXT NOT NULL)",
			    NULL, NULL, &msg) != SQLITE_OK
	    || sqlite3_prepare_v2(db, "INSERT INTO t (at, v) VALUES (?1, ?2)", -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "intake: fsync ceiling: %s: %s\n", path, msg ? msg : db ? sqlite3_errmsg(db) : "?");
		sqlite3_free(msg);
		sqlite3_close(db);
		return -1;
	}
	t0 = now_s();
	do {
		sqlite3_bind_double(s, 1, t0);
		sqlite3_bind_text(s, 2, "a small row, about the size of a receipt number", -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			fprintf(stderr, "intake: fsync ceiling: insert: %s\n", sqlite3_errmsg(db));
			break;
		}
		sqlite3_reset(s);
		n++;
		t1 = now_s();
	} while (t1 - t0 < seconds);
	t1 = now_s();
	sqlite3_finalize(s);
	sqlite3_close(db);
	for (int i = 0; i < 3; i++) {
		static const char *const suffix[] = { "", "-wal", "-shm" };
		char p[4200];

		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	printf("fsync ceiling: %ld commits in %.2f s, one fsync each (WAL, synchronous=FULL)\n", n, t1 - t0);
	printf("fsync ceiling: %.0f commits/s\n", (double)n / (t1 - t0));
	fflush(stdout);
	return n > 0 ? (double)n / (t1 - t0) : -1;
}

/* requests ----------------------------------------------------------------------------- */

/* recv_json - the JSON frame of a reply ([""][json]) on a DEALER; NULL with *why on trouble */
static json_t *recv_json(void *sock, const char **why)
{
	zmq_msg_t m;
	json_t *j = NULL;
	int more = 1, idx = 0;

	*why = "no JSON frame";
	while (more) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, 0) < 0) {
			*why = zmq_strerror(errno);
			zmq_msg_close(&m);
			return j;
		}
		more = zmq_msg_more(&m);
		if (idx == 1 && !j) {
			j = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, NULL);
			if (!j)
				*why = "the reply is not JSON";
		} else if (idx == 0 && zmq_msg_size(&m) != 0) {
			*why = "the reply does not start with an empty frame";
			more = 0;
			while (zmq_msg_more(&m)) {	/* drop the rest */
				zmq_msg_close(&m);
				zmq_msg_init(&m);
				if (zmq_msg_recv(&m, sock, 0) < 0)
					break;
			}
		}
		zmq_msg_close(&m);
		idx++;
	}
	return j;
}

/* send_frames - [""][json][file?] */
static int send_frames(void *sock, const char *json, size_t jlen, const char *file, size_t flen)
{
	if (zmq_send(sock, "", 0, ZMQ_SNDMORE) < 0)
		return -1;
	if (zmq_send(sock, json, jlen, file ? ZMQ_SNDMORE : 0) < 0)
		return -1;
	if (file && zmq_send(sock, file, flen, 0) < 0)
		return -1;
	return 0;
}

/* load_units - the units that owe report_code period_name, from obligations.list */
static size_t load_units(void *ctx, const char *endpoint, char **units, size_t max)
{
	void *sock = zmq_socket(ctx, ZMQ_DEALER);
	int linger = 0;
	char req[256];
	int len;
	size_t n = 0;
	zmq_pollitem_t it;
	const char *why = NULL;
	json_t *r = NULL, *list;

	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(sock, endpoint) != 0) {
		fprintf(stderr, "intake: cannot connect to %s: %s\n", endpoint, zmq_strerror(errno));
		zmq_close(sock);
		return 0;
	}
	len = snprintf(req, sizeof(req), "{\"op\":\"obligations.list\",\"id\":\"bench-obl-%ld\",\"report\":\"%s\",\"period\":\"%s\"}",
		       (long)getpid(), report_code, period_name);
	send_frames(sock, req, (size_t)len, NULL, 0);
	it = (zmq_pollitem_t){ .socket = sock, .events = ZMQ_POLLIN };
	if (zmq_poll(&it, 1, 10000) == 1)
		r = recv_json(sock, &why);
	else
		why = "no reply within 10 s";
	list = json_object_get(r, "obligations");
	if (!r || !json_is_true(json_object_get(r, "ok")) || !json_is_array(list)) {
		json_t *e = json_object_get(json_object_get(r, "error"), "message");

		fprintf(stderr, "intake: obligations.list failed: %s\n", e ? json_string_value(e) : why ? why : "?");
	} else {
		for (size_t i = 0; i < json_array_size(list) && n < max; i++) {
			const char *u = json_string_value(json_object_get(json_array_get(list, i), "unit"));

			if (u)
				units[n++] = xstrdup(u);
		}
	}
	json_decref(r);
	zmq_close(sock);
	return n;
}

/* one client count ---------------------------------------------------------------------- */

struct client {
	void *sock;
	double sent_at;
	int busy;
};

struct phase {
	int clients;
	long acked, errors, bad;
	double seconds, rate, p50, p99, client_cpu, daemon_cpu;
};

struct bench {
	void *ctx;
	const char *endpoint;
	char **units;
	size_t nunits;
	unsigned long long seq;
	long daemon_pid;
	int same_file;			/* -u: one content for every file (diagnostic) */
	char first_error[512];
	long total_errors;
	char file[512];
	char json[512];
};

/* submit - send the next report.submit on c */
static int submit(struct bench *b, struct client *c, int nclients)
{
	unsigned long long k = b->seq++;
	const char *unit = b->units[k % b->nunits];
	char id[96];
	int jlen, flen;

	snprintf(id, sizeof(id), "bench-%ld-c%d-%llu", (long)getpid(), nclients, k);
	jlen = snprintf(b->json, sizeof(b->json),
			"{\"op\":\"report.submit\",\"id\":\"%s\",\"unit\":\"%s\",\"report\":\"%s\",\"period\":\"%s\",\"files\":[\"bc.txt\"]}",
			id, unit, report_code, period_name);
	/* about 200 bytes, different for every request so every file is a new blob (with -u
	 * the same for all: the daemon then stores no file and does not flush them) */
	flen = snprintf(b->file, sizeof(b->file),
			"BAO CAO KET QUA THUC HIEN PHONG TRAO THI DUA NAM %s\n"
			"Don vi: %s\nMa yeu cau: %s\n"
			"Noi dung: so lieu tong hop cua don vi, ban chay thu hieu nang.\n"
			"Ket thuc bao cao so %llu.\n",
			period_name, b->same_file ? "-" : unit, b->same_file ? "-" : id, b->same_file ? 0ULL : k);
	if (jlen < 0 || flen < 0 || (size_t)jlen >= sizeof(b->json) || (size_t)flen >= sizeof(b->file))
		return -1;
	c->sent_at = now_s();
	if (send_frames(c->sock, b->json, (size_t)jlen, b->file, (size_t)flen) != 0) {
		fprintf(stderr, "intake: send: %s\n", zmq_strerror(errno));
		return -1;
	}
	c->busy = 1;
	return 0;
}

/* run_phase - n clients for warmup + seconds; the figures of the measured part go to ph */
static int run_phase(struct bench *b, int n, double warmup, double seconds, struct phase *ph)
{
	struct client *cl = xcalloc((size_t)n, sizeof(*cl));
	zmq_pollitem_t *items = xcalloc((size_t)n, sizeof(*items));
	size_t nlat = 0, cap = 65536;
	double *lat = xmalloc(cap * sizeof(*lat));
	double t0, start, end, cpu0 = 0, cpu1, dcpu0, dcpu1, t, drain_until;
	int linger = 0, busy = 0, rc = 0, measuring = 0;

	memset(ph, 0, sizeof(*ph));
	ph->clients = n;
	for (int i = 0; i < n; i++) {
		int hwm = 1000;

		cl[i].sock = zmq_socket(b->ctx, ZMQ_DEALER);
		zmq_setsockopt(cl[i].sock, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_setsockopt(cl[i].sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
		if (zmq_connect(cl[i].sock, b->endpoint) != 0) {
			fprintf(stderr, "intake: cannot connect to %s: %s\n", b->endpoint, zmq_strerror(errno));
			rc = -1;
			goto out;
		}
		items[i] = (zmq_pollitem_t){ .socket = cl[i].sock, .events = ZMQ_POLLIN };
	}
	t0 = now_s();
	start = t0 + warmup;
	end = start + seconds;
	dcpu0 = proc_cpu_s(b->daemon_pid);
	for (int i = 0; i < n; i++) {
		if (submit(b, &cl[i], n)) {
			rc = -1;
			goto out;
		}
		busy++;
	}
	drain_until = end + DRAIN_SECONDS;
	while (busy > 0) {
		long timeout;

		t = now_s();
		if (!measuring && t >= start) {
			measuring = 1;
			cpu0 = cpu_s();
			dcpu0 = proc_cpu_s(b->daemon_pid);
		}
		if (t >= drain_until) {
			fprintf(stderr, "intake: %d replies still missing %.0f s after the end; giving up\n",
				busy, DRAIN_SECONDS);
			rc = -1;
			break;
		}
		if (b->daemon_pid > 0 && !proc_alive(b->daemon_pid)) {
			fprintf(stderr, "intake: the daemon (pid %ld) has exited; stopping\n", b->daemon_pid);
			rc = -1;
			break;
		}
		timeout = (long)(((t < start ? start : t < end ? end : drain_until) - t) * 1000) + 1;
		if (zmq_poll(items, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "intake: zmq_poll: %s\n", zmq_strerror(errno));
			rc = -1;
			break;
		}
		for (int i = 0; i < n; i++) {
			const char *why = NULL;
			json_t *r, *ok;
			double done;

			if (!(items[i].revents & ZMQ_POLLIN))
				continue;
			r = recv_json(cl[i].sock, &why);
			done = now_s();
			cl[i].busy = 0;
			busy--;
			ok = json_object_get(r, "ok");
			if (done >= start && done < end) {
				if (json_is_true(ok) && json_is_object(json_object_get(r, "receipt"))) {
					ph->acked++;
					if (nlat == cap) {
						cap *= 2;
						lat = xrealloc(lat, cap * sizeof(*lat));
					}
					lat[nlat++] = (done - cl[i].sent_at) * 1000.0;
				} else if (r && json_is_false(ok)) {
					ph->errors++;
				} else {
					ph->bad++;
				}
			}
			if (!json_is_true(ok)) {
				json_t *e = json_object_get(r, "error");

				b->total_errors++;
				if (!b->first_error[0])
					snprintf(b->first_error, sizeof(b->first_error), "%s: %s",
						 e ? json_string_value(json_object_get(e, "code")) : "bad reply",
						 e ? json_string_value(json_object_get(e, "message")) : why ? why : "?");
			}
			json_decref(r);
			if (done < end) {
				if (submit(b, &cl[i], n)) {
					rc = -1;
					goto out;
				}
				busy++;
			}
		}
	}
	cpu1 = cpu_s();
	dcpu1 = proc_cpu_s(b->daemon_pid);
	ph->seconds = seconds;
	ph->rate = (double)ph->acked / seconds;
	ph->client_cpu = (cpu1 - cpu0) / (now_s() - start);
	ph->daemon_cpu = dcpu0 >= 0 && dcpu1 >= 0 ? (dcpu1 - dcpu0) / (now_s() - start) : -1;
	if (nlat) {
		qsort(lat, nlat, sizeof(*lat), cmp_double);
		ph->p50 = lat[(nlat - 1) / 2];
		ph->p99 = lat[(size_t)((double)(nlat - 1) * 0.99)];
	}
out:
	for (int i = 0; i < n; i++)
		if (cl[i].sock)
			zmq_close(cl[i].sock);
	free(cl);
	free(items);
	free(lat);
	return rc;
}

static void usage(FILE *fp)
{
	fprintf(fp, "usage: intake -e ENDPOINT -d DIR [-t SECONDS] [-w SECONDS] [-f SECONDS] [-c N,N,...] [-p DAEMON_PID] [-u]\n"
		"  -e  the daemon's api endpoint, e.g. ipc://STATE/api.sock\n"
		"  -d  a directory on the daemon's disk for the fsync-ceiling database\n"
		"  -t  measured seconds per client count (default 5)\n"
		"  -w  warm-up seconds before each measurement (default 1)\n"
		"  -f  seconds of the fsync-ceiling loop (default 3; 0 skips it)\n"
		"  -c  client counts (default 1,8,32,64)\n"
		"  -p  the daemon's pid, to report its CPU use\n"
		"  -u  diagnostic: the same file content in every request, so the daemon writes\n"
		"      no new file and skips its file-system flush\n");
}

int main(int argc, char **argv)
{
	struct bench b;
	struct phase ph[MAX_PHASES];
	int counts[MAX_PHASES], ncounts = 0, nph = 0, opt, io_threads = 1;
	const char *dir = NULL, *clist = "1,8,32,64";
	double seconds = 5, warmup = 1, fsecs = 3, ceiling = -1;
	char *units[MAX_UNITS];

	memset(&b, 0, sizeof(b));
	while ((opt = getopt(argc, argv, "e:d:t:w:f:c:p:uh")) != -1) {
		switch (opt) {
		case 'e': b.endpoint = optarg; break;
		case 'd': dir = optarg; break;
		case 't': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'f': fsecs = atof(optarg); break;
		case 'c': clist = optarg; break;
		case 'p': b.daemon_pid = atol(optarg); break;
		case 'u': b.same_file = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!b.endpoint || !dir || seconds <= 0 || warmup < 0 || fsecs < 0) {
		usage(stderr);
		return 2;
	}
	for (const char *p = clist; *p && ncounts < MAX_PHASES;) {
		char *e;
		long v = strtol(p, &e, 10);

		if (e == p || v < 1 || v > MAX_CLIENTS) {
			fprintf(stderr, "intake: -c wants client counts from 1 to %d, like 1,8,32,64\n", MAX_CLIENTS);
			return 2;
		}
		counts[ncounts++] = (int)v;
		p = *e == ',' ? e + 1 : e;
	}

	b.ctx = zmq_ctx_new();
	zmq_ctx_set(b.ctx, ZMQ_IO_THREADS, io_threads);
	zmq_ctx_set(b.ctx, ZMQ_MAX_SOCKETS, MAX_CLIENTS + 16);
	b.units = units;
	b.nunits = load_units(b.ctx, b.endpoint, units, MAX_UNITS);
	if (b.nunits == 0) {
		fprintf(stderr, "intake: no unit owes %s %s; nothing to submit\n", report_code, period_name);
		zmq_ctx_term(b.ctx);
		return 1;
	}
	printf("intake benchmark: report.submit %s %s, one ~200-byte file each (%s), %zu units owing it, "
	       "%.0f s measured after %.0f s warm-up per client count\n",
	       report_code, period_name, b.same_file ? "all the same: -u" : "all different",
	       b.nunits, seconds, warmup);
	fflush(stdout);

	for (int i = 0; i < ncounts; i++) {
		struct phase *p = &ph[nph];

		if (run_phase(&b, counts[i], warmup, seconds, p))
			break;
		nph++;
		printf("clients=%d acked=%ld seconds=%.1f rate=%.0f/s p50=%.2fms p99=%.2fms\n",
		       p->clients, p->acked, p->seconds, p->rate, p->p50, p->p99);
		if (p->errors || p->bad)
			printf("clients=%d errors=%ld bad_replies=%ld\n", p->clients, p->errors, p->bad);
		if (p->daemon_cpu >= 0)
			printf("clients=%d cpu: daemon %.0f%% of a core (%.1f us per submission), this client %.0f%%\n",
			       p->clients, p->daemon_cpu * 100, p->rate > 0 ? p->daemon_cpu / p->rate * 1e6 : 0.0,
			       p->client_cpu * 100);
		fflush(stdout);
	}
	if (b.total_errors)
		printf("errors: %ld, the first: %s\n", b.total_errors, b.first_error);

	if (fsecs > 0)
		ceiling = fsync_ceiling(dir, fsecs);

	printf("summary:\n");
	{
		const struct phase *best = NULL, *p64 = NULL;

		for (int i = 0; i < nph; i++) {
			printf("  %3d clients: %8.0f acked submissions/s  (p50 %.2f ms, p99 %.2f ms)\n",
			       ph[i].clients, ph[i].rate, ph[i].p50, ph[i].p99);
			if (!best || ph[i].rate > best->rate)
				best = &ph[i];
			if (ph[i].clients == 64)
				p64 = &ph[i];
		}
		if (ceiling > 0)
			printf("  fsync ceiling: %.0f commits/s\n", ceiling);
		if (best && ceiling > 0)
			printf("ratio (best, %d clients / one-commit-per-fsync ceiling): %.1f\n",
			       best->clients, best->rate / ceiling);
		if (p64 && ceiling > 0)
			printf("ratio (64 clients / one-commit-per-fsync ceiling): %.1f\n", p64->rate / ceiling);
	}
	for (size_t i = 0; i < b.nunits; i++)
		free(units[i]);
	zmq_ctx_term(b.ctx);
	return nph ? 0 : 1;
}
