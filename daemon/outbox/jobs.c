/*
 * jobs.c - the jobs socket: workers announce themselves, take deliveries as jobs and
 * answer with results (docs/JOBS.md). Owns the deliveries table's life cycle: pending ->
 * leased -> sent | pending again (retry with backoff) | failed (dead letter).
 *
 * Leases live in the database, so a restarted daemon hands out again what was in flight.
 * A delivery is at least once: a worker that dies or goes silent loses its jobs to the
 * queue, and the receiver drops repeats by the dedup key carried as Message-ID/webhook-id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calendar.h"
#include "buf.h"
#include "channels.h"
#include "clock.h"
#include "config.h"
#include "events.h"
#include "inflow.h"
#include "jdump.h"
#include "jload.h"
#include "jobs.h"
#include "log.h"
#include "proto.h"
#include "results.h"
#include "statedir.h"
#include "store.h"
#include "supervisor.h"
#include "thiduad.h"
#include "xalloc.h"
#include "zalo.h"
#include "zap.h"

#define MAX_WORKERS 64
#define HEARTBEAT_MS 5000
#define SILENCE_MS 15000

static struct worker workers[MAX_WORKERS];
static size_t nworkers;
static int64_t last_ping_ms;
static struct buf frame;	/* send_job's buffer, kept between jobs */

static void worker_hex(const struct worker *w, char *buf, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < w->idlen && o + 3 < size; i++) {
		buf[o++] = digits[w->id[i] >> 4];
		buf[o++] = digits[w->id[i] & 15];
	}
	buf[o] = 0;
}

static const struct settle_source jobs_settle_source = { jobs_next_due, jobs_settle };

/* jobs_open - bind the jobs endpoint; the fake clock lets workers take deliveries as it
 * moves (sched_advance_to) */
int jobs_open(struct daemon *d, char *err, size_t errsize)
{
	int linger = 0, handover = 1;

	sched_register_settle(&jobs_settle_source);
	supervisor_on_exit(jobs_worker_exited);

	d->jobs = zmq_socket(d->zctx, ZMQ_ROUTER);
	zmq_setsockopt(d->jobs, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(d->jobs, ZMQ_ROUTER_HANDOVER, &handover, sizeof(handover));
	if (ipc_prepare(d->jobs_endpoint, err, errsize))
		return -1;
	if (zap_secure(d, d->jobs, d->jobs_endpoint, "jobs", err, errsize))
		return -1;
	if (zmq_bind(d->jobs, d->jobs_endpoint) != 0) {
		snprintf(err, errsize, "cannot bind the jobs socket %s: %s", d->jobs_endpoint, zmq_strerror(errno));
		return -1;
	}
	ipc_bound(d->jobs_endpoint);
	if (!strncmp(d->jobs_endpoint, "ipc://", 6))
		chmod(d->jobs_endpoint + 6, 0660);
	/* what was leased when the daemon stopped goes back to the queue */
	store_exec(d->store, "UPDATE deliveries SET state = 'pending', worker = NULL WHERE state = 'leased'");
	return 0;
}

/* send_to - one JSON frame to a worker */
static void send_to(struct daemon *d, const struct worker *w, json_t *msg)
{
	char *text = jdump(msg, JSON_COMPACT);

	if (zmq_send(d->jobs, w->id, w->idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
	    || zmq_send(d->jobs, text, strlen(text), ZMQ_DONTWAIT) < 0)
		log_warn("jobs: a message to worker %s was not sent: %s", w->name, zmq_strerror(errno));
	free(text);
	json_decref(msg);
}

/* jobs_close - ask the workers to stop, close the socket */
void jobs_close(struct daemon *d)
{
	/* the workers it started stop with the daemon; one started by hand (another host)
	 * keeps running and reconnects when the daemon is back */
	for (size_t i = 0; i < nworkers; i++)
		if (supervisor_owns(workers[i].pid))
			send_to(d, &workers[i], json_pack("{s:s}", "type", JOBS_STOP));
	free(frame.p);
	frame = (struct buf){ 0 };
	if (d->jobs)
		zmq_close(d->jobs);
	ipc_remove(d->jobs_endpoint);
	d->jobs = NULL;
}

static struct worker *find_worker(const unsigned char *id, size_t len)
{
	for (size_t i = 0; i < nworkers; i++)
		if (workers[i].idlen == len && !memcmp(workers[i].id, id, len))
			return &workers[i];
	return NULL;
}

/* requeue_worker - its leased jobs go back to the queue */
static void requeue_worker(struct daemon *d, const struct worker *w)
{
	sqlite3_stmt *s;

	s = store_stmt(d->store, "UPDATE deliveries SET state = 'pending', worker = NULL, next_at = ?2"
		       " WHERE state = 'leased' AND worker = ?1");
	sqlite3_bind_text(s, 1, w->hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, clock_now(d));
	sqlite3_step(s);
	sqlite3_reset(s);
	if (sqlite3_changes(store_db(d->store)))
		log_warn("jobs: worker %s (pid %ld) is gone; %d job(s) go back to the queue", w->name, w->pid,
			 sqlite3_changes(store_db(d->store)));
}

static void drop_worker(struct daemon *d, size_t i)
{
	requeue_worker(d, &workers[i]);
	workers[i] = workers[--nworkers];
}

/* jobs_worker_exited - the supervisor saw a local worker die: forget it at once */
void jobs_worker_exited(struct daemon *d, long pid)
{
	for (size_t i = 0; i < nworkers; i++)
		if (workers[i].pid == pid) {
			drop_worker(d, i);
			return;
		}
}

/* channel_json - the settings a job carries (the worker holds no configuration) */
static json_t *channel_json(const struct channel *c)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:i,s:b,s:b,s:b}", "name", c->name, "kind", c->kind, "url", c->url,
			      "connect_timeout", c->connect_timeout, "timeout", c->timeout, "split", c->split,
			      "allow_http", c->allow_http, "allow_private", c->allow_private);

	if (c->username) json_object_set_new(o, "username", json_string(c->username));
	if (c->password) json_object_set_new(o, "password", json_string(c->password));
	if (c->secret) json_object_set_new(o, "secret", json_string(c->secret));
	if (c->chat_id) json_object_set_new(o, "chat_id", json_string(c->chat_id));
	if (c->group_id) json_object_set_new(o, "group_id", json_string(c->group_id));
	if (c->phone) json_object_set_new(o, "phone", json_string(c->phone));
	if (c->template_id) json_object_set_new(o, "template_id", json_string(c->template_id));
	if (c->tls) json_object_set_new(o, "tls", json_string(c->tls));
	if (c->from) json_object_set_new(o, "from", json_string(c->from));
	if (c->from_name) json_object_set_new(o, "from_name", json_string(c->from_name));
	if (c->ca_file) json_object_set_new(o, "ca_file", json_string(c->ca_file));
	if (!strcmp(c->kind, "smtp")) json_object_set_new(o, "utc_offset", json_integer(c->utc_offset));
	if (c->rate > 0) json_object_set_new(o, "rate", json_real(c->rate));
	if (c->burst) json_object_set_new(o, "burst", json_integer(c->burst));
	if (c->max_length) json_object_set_new(o, "max_length", json_integer(c->max_length));
	return o;
}

/* the channel settings as JSON text, serialized once per dispatch for each channel */
struct chan_text {
	const struct channel *c;
	char *text;
	char print[CHANNEL_PRINT];	/* channel_fingerprint */
};

static const struct chan_text *channel_text(const struct channel *c, struct chan_text *cache, size_t *n)
{
	json_t *o;

	for (size_t i = 0; i < *n; i++)
		if (cache[i].c == c)
			return &cache[i];
	o = channel_json(c);
	if (*n == 16) {		/* more channels than slots: recycle the last */
		free(cache[15].text);
		(*n)--;
	}
	cache[*n].c = c;
	cache[*n].text = jdump(o, JSON_COMPACT);
	channel_fingerprint(c, cache[*n].print);
	json_decref(o);
	return &cache[(*n)++];
}

static void chan_text_free(struct chan_text *cache, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cache[i].text);
}

/* send_job - the job frame spliced as text (common/jdump's writer): the stored payload (a
 * JSON object) gains the channel's settings without being parsed and serialized again */
static void send_job(struct daemon *d, const struct worker *w, int64_t id, int attempt,
		     const char *channel, const char *payload, size_t plen)
{
	struct jw jw = JW_INIT(&frame);
	char num[24];

	frame.len = 0;
	jw_open(&jw, '{');
	jw_key(&jw, "type");
	jw_str(&jw, JOBS_JOB);
	jw_key(&jw, "job");
	jw_strn(&jw, num, int_text(num, id));
	jw_key(&jw, "attempt");
	jw_int(&jw, attempt);
	jw_key(&jw, "lease");
	jw_int(&jw, LEASE_SECONDS);
	jw_key(&jw, "payload");
	jw_open(&jw, '{');
	jw_key(&jw, "channel");
	jw_raw(&jw, channel, strlen(channel));
	jw_members(&jw, payload, plen);
	jw_close(&jw, '}');
	jw_close(&jw, '}');
	if (zmq_send(d->jobs, w->id, w->idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
	    || zmq_send(d->jobs, frame.p, frame.len, ZMQ_DONTWAIT) < 0)
		log_warn("jobs: job %lld for worker %s was not sent: %s", (long long)id, w->name, zmq_strerror(errno));
}

/* a pending delivery whose channel is not disabled (a disabled channel's wait) */
#define NOT_DISABLED "NOT EXISTS (SELECT 1 FROM channel_state cs WHERE cs.channel = deliveries.channel" \
	" AND cs.disabled_at IS NOT NULL)"

/* postpone_to_working_hours - outside working hours the deliveries due now wait for the
 * next working moment (cal_working_moment, as the first attempt was placed), except those that
 * may leave at any hour: every attempt of a message, retries and deliveries given back by a
 * worker included, leaves in working hours */
static void postpone_to_working_hours(struct daemon *d, int64_t now, int64_t open)
{
	sqlite3_stmt *s = store_stmt(d->store, "UPDATE deliveries SET next_at = ?2"
				     " WHERE state = 'pending' AND next_at <= ?1 AND anytime = 0");

	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, open);
	sqlite3_step(s);
	sqlite3_reset(s);
	if (sqlite3_changes(store_db(d->store)))
		log_info("delivery: %d delivery(ies) due outside working hours wait until the next working moment",
			 sqlite3_changes(store_db(d->store)));
}

/* dispatch - hand due deliveries to workers with room; returns the number handed out */
static int dispatch(struct daemon *d)
{
	int64_t now = clock_now(d), open = cal_working_moment(d->cfg, now);
	int handed = 0;
	struct chan_text cache[16] = { { 0 } };
	size_t ncache = 0;

	if (open != now && nworkers)
		postpone_to_working_hours(d, now, open);
	for (size_t w = 0; w < nworkers; w++) {
		struct worker *wk = &workers[w];
		int room = wk->capacity - wk->inflight;
		sqlite3_stmt *s;

		if (room <= 0)
			continue;
		s = store_stmt(d->store, "SELECT id, outbox, channel, payload, attempts, expires_at FROM deliveries"
			       " WHERE state = 'pending' AND next_at <= ?1 AND kind = ?2 AND " NOT_DISABLED
			       " ORDER BY next_at, id LIMIT ?3");
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_text(s, 2, wk->kind, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, room);
		while (sqlite3_step(s) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(s, 0), outbox = sqlite3_column_int64(s, 1);
			const char *chname = (const char *)sqlite3_column_text(s, 2);
			const struct channel *c = cfg_channel(d->cfg, chname);
			const char *stored = (const char *)sqlite3_column_text(s, 3);
			size_t slen = (size_t)sqlite3_column_bytes(s, 3);
			int payload = stored && slen >= 2 && stored[0] == '{' && stored[slen - 1] == '}';
			int attempt = sqlite3_column_int(s, 4) + 1;
			int64_t expires = sqlite3_column_int64(s, 5);
			const struct chan_text *ct;
			sqlite3_stmt *u;

			if (!c || !payload || now >= expires) {
				char *why = xstrdup(!c ? "the channel is no longer in the configuration"
						    : !payload ? "the stored message cannot be read"
						    : "it expired before it could be delivered");
				char *name = xstrdup(chname);

				sqlite3_reset(s);
				delivery_dead_letter(d, id, outbox, name, why);
				free(why);
				free(name);
				handed++;	/* progress: look again */
				break;
			}
			ct = channel_text(c, cache, &ncache);
			u = store_stmt(d->store, "UPDATE deliveries SET state = 'leased', worker = ?2, lease_until = ?3,"
				       " attempts = attempts + 1, settings = ?4 WHERE id = ?1");
			sqlite3_bind_int64(u, 1, id);
			sqlite3_bind_text(u, 2, wk->hex, -1, SQLITE_STATIC);
			sqlite3_bind_int64(u, 3, now + LEASE_SECONDS);
			sqlite3_bind_text(u, 4, ct->print, -1, SQLITE_STATIC);
			sqlite3_step(u);
			sqlite3_reset(u);
			{
				char *ztext = zalo_managed(c) ? zalo_channel_text(d, c, ct->text) : NULL;

				send_job(d, wk, id, attempt, ztext ? ztext : ct->text, stored, slen);
				free(ztext);
			}
			if (!wk->quiet_from_ms)
				wk->quiet_from_ms = clock_mono_ms();
			wk->inflight++;
			handed++;
		}
		sqlite3_reset(s);
	}
	chan_text_free(cache, ncache);
	return handed;
}

/* ready_version_ok - 1 when a worker's ready carries our protocol version; otherwise the
 * worker is refused (told both versions), and forgotten if it was known: nothing is
 * leased to it */
static int ready_version_ok(struct daemon *d, struct worker *w, const unsigned char *id, size_t idlen, json_t *msg)
{
	json_t *v = json_object_get(msg, "version");
	const char *name = json_string_value(json_object_get(msg, "name"));
	char theirs[32];
	struct worker tmp = { .idlen = idlen };

	if (json_is_integer(v) && json_integer_value(v) == THIDUA_PROTOCOL_VERSION)
		return 1;
	if (json_is_integer(v))
		snprintf(theirs, sizeof(theirs), "%lld", (long long)json_integer_value(v));
	else
		xstrlcpy(theirs, v ? "not an integer" : "none", sizeof(theirs));
	log_warn("jobs: worker %.64s (pid %lld) refused: it speaks jobs protocol version %s, this daemon version %d;"
		 " run a worker of the daemon's release", name ? name : "unnamed",
		 (long long)json_integer_value(json_object_get(msg, "pid")), theirs, THIDUA_PROTOCOL_VERSION);
	if (idlen <= sizeof(tmp.id)) {
		memcpy(tmp.id, id, idlen);
		xstrlcpy(tmp.name, name ? name : "unnamed", sizeof(tmp.name));
		send_to(d, &tmp, json_pack("{s:s,s:i,s:O?,s:s}", "type", JOBS_REFUSED, "version", THIDUA_PROTOCOL_VERSION,
					   "yours", v, "reason", "another jobs protocol version"));
	}
	if (w)
		drop_worker(d, (size_t)(w - workers));
	return 0;
}

/* handle_message - one frame from a worker */
static void handle_message(struct daemon *d, const unsigned char *id, size_t idlen, const char *data, size_t len)
{
	json_t *msg = jload(data, len, 0, NULL);
	const char *type = json_string_value(json_object_get(msg, "type"));
	struct worker *w = find_worker(id, idlen);

	if (!type) {
		log_warn("jobs: a malformed message from a worker was ignored");
		json_decref(msg);
		return;
	}
	if (!strcmp(type, JOBS_READY)) {
		const char *kind = json_string_value(json_object_get(msg, "kind"));
		json_int_t cap = json_integer_value(json_object_get(msg, "capacity"));

		if (!ready_version_ok(d, w, id, idlen, msg)) {
			w = NULL;	/* forgotten: its next message is answered hello */
		} else if (!kind || (strcmp(kind, "mail") && strcmp(kind, "webhook")) || cap < 1 || cap > 1024 || idlen > sizeof(w->id)) {
			log_warn("jobs: a worker announced an unknown kind or capacity; ignored");
		} else {
			if (w)
				requeue_worker(d, w);
			else if (nworkers < MAX_WORKERS)
				w = &workers[nworkers++];
			if (w) {
				const char *name = json_string_value(json_object_get(msg, "name"));

				memset(w, 0, sizeof(*w));
				memcpy(w->id, id, idlen);
				w->idlen = idlen;
				worker_hex(w, w->hex, sizeof(w->hex));
				xstrlcpy(w->kind, kind, sizeof(w->kind));
				xstrlcpy(w->name, name ? name : kind, sizeof(w->name));
				w->capacity = (int)cap;
				w->pid = (long)json_integer_value(json_object_get(msg, "pid"));
				log_notice("jobs: worker %s ready (%s, capacity %d, pid %ld)", w->name, w->kind, w->capacity, w->pid);
			}
		}
	} else if (!w) {
		/* not announced (the daemon restarted): ask it to announce itself again */
		struct worker tmp = { .idlen = idlen };

		if (idlen <= sizeof(tmp.id)) {
			memcpy(tmp.id, id, idlen);
			xstrlcpy(tmp.name, "unknown", sizeof(tmp.name));
			send_to(d, &tmp, json_pack("{s:s}", "type", JOBS_HELLO));
		}
	} else if (!strcmp(type, JOBS_RESULT)) {
		jobs_result(d, w, msg, data, len);
	} else if (strcmp(type, JOBS_PING)) {
		log_warn("jobs: unexpected message '%s' from worker %s", type, w->name);
	}
	if (w) {
		w->last_seen_ms = clock_mono_ms();
		w->quiet_from_ms = 0;
	}
	json_decref(msg);
}

/* read_messages - what the workers sent, up to a batch; 1 when there was something */
static int read_messages(struct daemon *d)
{
	int got = 0;

	for (int n = 0; n < 1024; n++) {
		zmq_msg_t id, body;
		int more;

		zmq_msg_init(&id);
		if (zrecv_routing(&id, d->jobs, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&id);
			break;
		}
		more = zmq_msg_more(&id);
		zmq_msg_init(&body);
		if (more && zrecv(&body, d->jobs, 0) >= 0) {
			while (zmq_msg_more(&body)) {	/* extra frames are not part of the protocol */
				zmq_msg_t extra;

				zmq_msg_init(&extra);
				zrecv(&extra, d->jobs, 0);
				more = zmq_msg_more(&extra);
				zmq_msg_close(&extra);
				if (!more)
					break;
			}
			handle_message(d, zmq_msg_data(&id), zmq_msg_size(&id), zmq_msg_data(&body), zmq_msg_size(&body));
			got = 1;
		}
		zmq_msg_close(&body);
		zmq_msg_close(&id);
	}
	return got;
}

/* moment_of - the one moment a statement selects (its parameters bound); INT64_MAX when
 * it selects none or NULL */
static int64_t moment_of(sqlite3_stmt *s)
{
	int64_t t = INT64_MAX;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		t = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return t;
}

/* first_lease_end - when the first lease runs out; INT64_MAX when none is held */
static int64_t first_lease_end(struct daemon *d)
{
	return moment_of(store_stmt(d->store, "SELECT min(lease_until) FROM deliveries WHERE state = 'leased'"));
}

/* expire_leases - leases that ran out go back to the queue. The worker may still hold
 * such a job, and ignores a second copy of it without an answer: its slot is counted free
 * now, or each one would be lost for good (a late answer is not counted twice: inflight
 * stays >= 0). With the fake clock, time can pass a lease in an instant: a worker that
 * has said nothing since it was handed a job whose lease ran out is gone (with the real
 * clock it would have been silent for longer than SILENCE_MS already). */
static void expire_leases(struct daemon *d)
{
	int64_t now = clock_now(d);
	sqlite3_stmt *s;

	if (first_lease_end(d) > now)
		return;
	s = store_stmt(d->store, "SELECT worker, count(*) FROM deliveries"
		       " WHERE state = 'leased' AND lease_until <= ?1 GROUP BY worker");
	sqlite3_bind_int64(s, 1, now);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(s, 0);
		int n = sqlite3_column_int(s, 1);

		for (size_t i = 0; hex && i < nworkers; i++)
			if (!strcmp(workers[i].hex, hex)) {
				workers[i].inflight = workers[i].inflight > n ? workers[i].inflight - n : 0;
				if (d->fake_clock && workers[i].quiet_from_ms)
					workers[i].quiet_from_ms = -1;	/* marked: dropped below */
			}
	}
	sqlite3_reset(s);
	s = store_stmt(d->store, "UPDATE deliveries SET state = 'pending', worker = NULL"
		       " WHERE state = 'leased' AND lease_until <= ?1");
	sqlite3_bind_int64(s, 1, now);
	sqlite3_step(s);
	sqlite3_reset(s);
	if (sqlite3_changes(store_db(d->store)))
		log_warn("jobs: %d lease(s) ran out without a result; the job(s) go back to the queue",
			 sqlite3_changes(store_db(d->store)));
	for (size_t i = 0; i < nworkers;) {
		if (workers[i].quiet_from_ms == -1) {
			log_warn("jobs: worker %s (pid %ld) said nothing since it took a job whose lease ran out; it is"
				 " considered gone", workers[i].name, workers[i].pid);
			drop_worker(d, i);
		} else {
			i++;
		}
	}
}

/* held_expiry - when the first delivery waiting for a disabled channel expires */
static int64_t held_expiry(struct daemon *d)
{
	return moment_of(store_stmt(d->store, "SELECT min(d.expires_at) FROM channel_state cs JOIN deliveries d"
				    " ON d.channel = cs.channel AND d.state = 'pending' WHERE cs.disabled_at IS NOT NULL"));
}

/* expire_held - deliveries that waited for a disabled channel until they expired */
static void expire_held(struct daemon *d)
{
	int64_t now = clock_now(d);

	for (int guard = 0; guard < 1000 && held_expiry(d) <= now; guard++) {
		sqlite3_stmt *s = store_stmt(d->store, "SELECT d.id, d.outbox, d.channel FROM channel_state cs JOIN deliveries d"
					     " ON d.channel = cs.channel AND d.state = 'pending'"
					     " WHERE cs.disabled_at IS NOT NULL AND d.expires_at <= ?1 LIMIT 1");
		int64_t id = 0, outbox = 0;
		char chname[128] = "";

		sqlite3_bind_int64(s, 1, now);
		if (sqlite3_step(s) == SQLITE_ROW) {
			id = sqlite3_column_int64(s, 0);
			outbox = sqlite3_column_int64(s, 1);
			xstrlcpy(chname, (const char *)sqlite3_column_text(s, 2), sizeof(chname));
		}
		sqlite3_reset(s);
		if (!id)
			break;
		delivery_dead_letter(d, id, outbox, chname, "it expired while its channel was disabled");
	}
}

/* jobs_work - one round of the jobs link inside the caller's transaction: read what the
 * workers sent, forget the silent ones, ping, take back expired leases, hand out work */
static void jobs_work(struct daemon *d)
{
	int64_t now_ms = clock_mono_ms();

	read_messages(d);
	for (size_t i = 0; i < nworkers;) {
		if (now_ms - workers[i].last_seen_ms > SILENCE_MS) {
			log_warn("jobs: worker %s (pid %ld) silent for %d s; it is considered gone", workers[i].name,
				 workers[i].pid, SILENCE_MS / 1000);
			drop_worker(d, i);
		} else {
			i++;
		}
	}
	if (now_ms - last_ping_ms >= HEARTBEAT_MS) {
		for (size_t i = 0; i < nworkers; i++)
			send_to(d, &workers[i], json_pack("{s:s}", "type", JOBS_PING));
		last_ping_ms = now_ms;
	}
	expire_leases(d);
	expire_held(d);
	for (int guard = 0; guard < 100 && dispatch(d) > 0; guard++)
		;
}

/* jobs_turn - read what the workers sent, hand out work, in one transaction. Most turns
 * (a ping, a heartbeat, nothing due) write nothing: the transaction is deferred, so it
 * takes the write lock only when the turn writes, and otherwise is one read snapshot */
void jobs_turn(struct daemon *d)
{
	if (store_begin_deferred(d->store))
		return;
	jobs_work(d);
	if (store_commit(d->store))
		log_err("jobs: the turn could not be committed: %s", store_errmsg(d->store));
	events_flush(d);
}

/* next_pending - when the first pending delivery (of kind, when not NULL) of a channel
 * not disabled is due; INT64_MAX when there is none */
static int64_t next_pending(struct daemon *d, const char *kind)
{
	sqlite3_stmt *s = kind ? store_stmt(d->store, "SELECT next_at FROM deliveries WHERE state = 'pending'"
					    " AND kind = ?1 AND " NOT_DISABLED " ORDER BY next_at LIMIT 1")
		: store_stmt(d->store, "SELECT next_at FROM deliveries WHERE state = 'pending' AND " NOT_DISABLED
			     " ORDER BY next_at LIMIT 1");

	if (kind)
		sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	return moment_of(s);
}

/* kinds_with_room - the kinds of the workers that can take a job now */
static size_t kinds_with_room(const char *kinds[MAX_WORKERS])
{
	size_t nkinds = 0;

	for (size_t i = 0; i < nworkers; i++) {
		size_t k;

		for (k = 0; k < nkinds && strcmp(kinds[k], workers[i].kind); k++)
			;
		if (k == nkinds && workers[i].capacity > workers[i].inflight)
			kinds[nkinds++] = workers[i].kind;
	}
	return nkinds;
}

/* next_dispatch - when the first delivery a worker has room for is due; INT64_MAX: none */
static int64_t next_dispatch(struct daemon *d)
{
	const char *kinds[MAX_WORKERS];
	size_t nkinds = kinds_with_room(kinds);
	int64_t next = INT64_MAX;

	if (!nkinds)
		return INT64_MAX;
	if (nkinds == 2)	/* both kinds: one look */
		return next_pending(d, NULL);
	for (size_t k = 0; k < nkinds; k++) {
		int64_t n = next_pending(d, kinds[k]);

		if (n < next)
			next = n;
	}
	return next;
}

/* ms_until - milliseconds from now (daemon clock) to t, for the loop's timer: 0 when due,
 * -1 when never (the fake clock does not move by itself: only what is due now counts) */
static long ms_until(struct daemon *d, int64_t t)
{
	int64_t now = clock_now(d);

	if (t == INT64_MAX)
		return -1;
	if (t <= now)
		return 0;
	if (d->fake_clock)
		return -1;
	return (t - now) > 3600 ? 3600000L : (long)((t - now) * 1000);
}

static long min_ms(long a, long b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* jobs_timeout_ms - how long the loop may sleep before the jobs link needs attention: the
 * next heartbeat, the first worker that would be silent too long, the first lease to run
 * out, the first delivery a worker has room for, the first delivery of a disabled channel
 * to expire; 0 when one of them is due. Each is a timer of its own: none waits for traffic
 * on the jobs socket. A due delivery whose workers are all busy waits for their results
 * (the loop would spin otherwise). */
long jobs_timeout_ms(struct daemon *d)
{
	int64_t now_ms = clock_mono_ms();
	long t;

	/* no worker: no lease is held (a worker's go back when it goes) and nothing can be
	 * handed out; what waits for a disabled channel expires when one is back */
	if (!nworkers)
		return -1;
	/* (a deadline already past is due: 0, never the "no deadline" of min_ms) */
	t = last_ping_ms + HEARTBEAT_MS <= now_ms ? 0 : (long)(last_ping_ms + HEARTBEAT_MS - now_ms);
	for (size_t i = 0; i < nworkers && t > 0; i++) {
		int64_t silent_at = workers[i].last_seen_ms + SILENCE_MS + 1;

		t = silent_at <= now_ms ? 0 : min_ms(t, (long)(silent_at - now_ms));
	}
	if (t == 0)
		return 0;
	t = min_ms(t, ms_until(d, first_lease_end(d)));
	if (t == 0)
		return 0;
	t = min_ms(t, ms_until(d, next_dispatch(d)));
	if (t == 0)
		return 0;
	return min_ms(t, ms_until(d, held_expiry(d)));
}

/* jobs_next_due - for the fake clock's steps (sched_advance_to): when the first delivery
 * a connected worker could take is due; INT64_MAX when there is none */
int64_t jobs_next_due(struct daemon *d)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < nworkers; i++) {
		int64_t n = next_pending(d, workers[i].kind);

		if (n < next)
			next = n;
	}
	return next;
}

/* busy - deliveries still under way at this moment: leased, or due for a worker with room */
static int busy(struct daemon *d)
{
	sqlite3_stmt *s = store_stmt(d->store, "SELECT 1 FROM deliveries WHERE state = 'leased' LIMIT 1");
	int leased = sqlite3_step(s) == SQLITE_ROW;

	sqlite3_reset(s);
	return leased || next_dispatch(d) <= clock_now(d);
}

/* jobs_settle - with the fake clock, inside a clock.set or clock.advance (its transaction):
 * hand out what is due at this moment and wait for the workers' results, as the real
 * clock would give them time to. Bounded by deadline_ms (monotonic) and by a pause of
 * SETTLE_IDLE_MS without any answer. */
#define SETTLE_IDLE_MS 2000

void jobs_settle(struct daemon *d, int64_t deadline_ms)
{
	int64_t heard_ms = clock_mono_ms();

	if (!nworkers)
		return;
	jobs_work(d);
	while (busy(d)) {
		int64_t now_ms = clock_mono_ms();
		long wait = (long)(deadline_ms - now_ms);
		zmq_pollitem_t item = { d->jobs, 0, ZMQ_POLLIN, 0 };

		if (wait <= 0 || now_ms - heard_ms >= SETTLE_IDLE_MS)
			break;
		if (wait > SETTLE_IDLE_MS - (now_ms - heard_ms))
			wait = (long)(SETTLE_IDLE_MS - (now_ms - heard_ms));
		if (zmq_poll(&item, 1, wait) > 0)
			heard_ms = clock_mono_ms();
		jobs_work(d);
		if (!nworkers)
			break;
	}
}

/* jobs_workers_json - the connected workers, for status */
json_t *jobs_workers_json(void)
{
	json_t *a = json_array();

	for (size_t i = 0; i < nworkers; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:i,s:I}", "name", workers[i].name, "kind", workers[i].kind,
						   "capacity", workers[i].capacity, "inflight", workers[i].inflight,
						   "pid", (json_int_t)workers[i].pid));
	return a;
}
