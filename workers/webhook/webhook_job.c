/*
 * webhook_job.c - jobs in hand: each one waits for its endpoint's token and for a place
 * among the posts under way to that endpoint (at most ENDPOINT_POSTS, so a large capacity
 * is a queue, not more connections), posts its parts one after the other through the
 * shared multi handle (connections are reused across jobs), and is answered once: sent,
 * retry (with the server's wait when it gave one) or failed. A job whose first parts an
 * earlier attempt had accepted starts after them.
 *
 * Owns the jobs (struct job), their easy handles and header lists, and the multi handle.
 * A job's result goes to the jobs link (common/jobwire.c); the job is freed right after.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"
#include "jobwire.h"
#include "proto.h"
#include "webhook.h"

#define RESPONSE_MAX 65536		/* bytes of an answer kept for reasons and retry_after */
#define LEASE_MARGIN 2.0		/* seconds kept between our answer and the lease's end */
#define DEFAULT_LEASE 60
#define RETRY_AFTER_MAX (3 * 86400L)	/* the daemon's longest expiry */
#define ZALO_RENEW_WAIT 5		/* seconds a zalo job waits while another renews the token */
#define ZALO_UNAUTHORISED_WAIT 300	/* ... and while the OA has never been authorised */
#define ENDPOINT_POSTS 64		/* posts under way at once to one endpoint, like curl --parallel-max 64 */

enum job_state { JOB_NEW, JOB_WAITING, JOB_RUNNING };

struct job {
	TAILQ_ENTRY(job) link;
	TAILQ_ENTRY(job) wait_link;	/* in the waiting list while JOB_WAITING */
	struct job *id_next;		/* in the table of ids */
	char *id;
	long attempt;
	double lease_end;
	struct wf_message msg;
	char *host;			/* the only part of the URL that goes to the log */
	struct rate_bucket *bucket;
	size_t next_post;		/* posts before it were sent */
	size_t first_post;		/* where this attempt started (an earlier one had sent those before) */
	enum job_state state;
	double started;

	/* the transfer of the current post */
	CURL *easy;
	struct curl_slist *headers;
	char *resp;
	size_t resp_len;
	char errbuf[CURL_ERROR_SIZE];
	int refused;			/* the connection went to a private address */
	int renewing;			/* zalo: this post renews the OA's access token (the daemon asked) */
	char *form;			/* its body */
	json_t *extra;			/* members added to the result (zalo tokens) */
	char refused_ip[64];
};

/* The jobs waiting for their turn, in arrival order, and every job by id: a worker with a
 * large capacity looks only at the ones that can start and finds a repeated id at once.
 * One process, one set (struct whk holds the rest). */
static TAILQ_HEAD(, job) waiting = TAILQ_HEAD_INITIALIZER(waiting);
static struct job **ids;
static size_t ids_mask;

/* easy handles of finished posts, reset and used again (the connections themselves are
 * the multi handle's, kept either way) */
#define EASY_POOL 64
static CURL *easy_pool[EASY_POOL];
static size_t neasy;

static CURL *easy_get(void)
{
	CURL *e;

	if (neasy) {
		e = easy_pool[--neasy];
		curl_easy_reset(e);
		return e;
	}
	e = curl_easy_init();
	if (!e)
		fatal("libcurl: cannot create an easy handle");
	return e;
}

static void easy_put(CURL *e)
{
	if (neasy < EASY_POOL)
		easy_pool[neasy++] = e;
	else
		curl_easy_cleanup(e);
}

static size_t id_hash(const char *id)
{
	size_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h & ids_mask;
}

static struct job *id_find(const char *id)
{
	struct job *j;

	for (j = ids[id_hash(id)]; j && strcmp(j->id, id); j = j->id_next)
		;
	return j;
}

static void id_remove(struct job *j)
{
	struct job **pp;

	for (pp = &ids[id_hash(j->id)]; *pp && *pp != j; pp = &(*pp)->id_next)
		;
	if (*pp)
		*pp = j->id_next;
}

/* set_waiting - into the waiting list, or out of it (posting, or being answered) */
static void set_waiting(struct job *j, int on)
{
	if (on && j->state != JOB_WAITING)
		TAILQ_INSERT_TAIL(&waiting, j, wait_link);
	else if (!on && j->state == JOB_WAITING)
		TAILQ_REMOVE(&waiting, j, wait_link);
	j->state = on ? JOB_WAITING : JOB_RUNNING;
}

/* jobs_init - the multi handle and the rate table */
void jobs_init(struct whk *w)
{
	size_t n = 16;

	while (n < (size_t)w->capacity * 2)
		n *= 2;
	ids = xcalloc(n, sizeof(*ids));
	ids_mask = n - 1;
	TAILQ_INIT(&w->jobs);
	w->multi = curl_multi_init();
	if (!w->multi)
		fatal("libcurl: cannot create a multi handle");
	curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)(w->capacity < 64 ? w->capacity : 64));
	curl_multi_setopt(w->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)w->capacity);
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->capacity);
	curl_multi_setopt(w->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	w->rates = rate_table_new();
}

/* job_destroy - free a job that is no longer in the list */
static void job_destroy(struct whk *w, struct job **j_p)
{
	struct job *j = *j_p;

	if (!j)
		return;
	if (j->easy) {
		curl_multi_remove_handle(w->multi, j->easy);
		curl_easy_cleanup(j->easy);
		w->running--;
		if (j->bucket)
			j->bucket->running--;
	}
	set_waiting(j, 0);
	id_remove(j);
	curl_slist_free_all(j->headers);
	free(j->resp);
	if (j->form)
		memset(j->form, 0, strlen(j->form));
	free(j->form);
	json_decref(j->extra);
	rate_put(j->bucket);
	wf_message_clear(&j->msg);
	free(j->host);
	free(j->id);
	free(j);
	*j_p = NULL;
}

/* answer - send a job's result and forget the job; reason is the text for people */
static void answer(struct whk *w, struct job *j, const char *status, long code, long retry_after,
		   int disable, const char *reason0)
{
	/* one line of valid UTF-8 even when a bounded snprintf cut a character */
	char *reason = wf_clean_utf8(reason0, strlen(reason0), strlen(reason0));
	json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:i}", "type", JOBS_RESULT, "job", j->id, "status", status,
			      "reason", reason, "code", (int)code);
	char what[64];

	if (!r)
		fatal("jansson: cannot build a result");
	if (!strcmp(status, "retry")) {
		if (retry_after < 0)
			retry_after = 0;
		if (retry_after > RETRY_AFTER_MAX)
			retry_after = RETRY_AFTER_MAX;
		json_object_set_new(r, "retry_after", json_integer(retry_after));
	}
	if (disable)
		json_object_set_new(r, "disable", json_true());
	if (j->extra)
		json_object_update(r, j->extra);
	if (j->msg.nposts > 1 && strcmp(status, "sent")) {	/* where a later attempt resumes */
		json_object_set_new(r, "parts_sent", json_integer((json_int_t)j->next_post));
		json_object_set_new(r, "parts", json_integer((json_int_t)j->msg.nposts));
	}
	if (retry_after > 0 && !strcmp(status, "retry"))
		snprintf(what, sizeof(what), "retry in %ld s", retry_after);
	else
		snprintf(what, sizeof(what), "%s%s", status, disable ? " (endpoint gone)" : "");
	log_msg(!strcmp(status, "sent") ? LOG_INFO : !strcmp(status, "retry") ? LOG_NOTICE : LOG_WARN,
		"job %s (channel %s, %s, %s, attempt %ld): %s: %s", j->id, j->msg.ch.name ? j->msg.ch.name : "?",
		j->host ? wf_kind_info(j->msg.ch.kind)->name : "?", j->host ? j->host : "?", j->attempt, what, reason);
	jobwire_send(w->wire, r);
	free(reason);
	TAILQ_REMOVE(&w->jobs, j, link);
	w->njobs--;
	job_destroy(w, &j);
}

/* answer_early - a job that never became a struct job (busy, stopping) */
static void answer_early(struct whk *w, const char *id, const char *status, const char *reason)
{
	json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:i}", "type", JOBS_RESULT, "job", id, "status", status,
			      "reason", reason, "code", 0);

	if (!r)
		fatal("jansson: cannot build a result");
	if (!strcmp(status, "retry"))
		json_object_set_new(r, "retry_after", json_integer(0));
	log_msg(!strcmp(status, "retry") ? LOG_NOTICE : LOG_WARN, "job %s: %s: %s", id, status, reason);
	jobwire_send(w->wire, r);
}

/* host_is_loopback - 127.0.0.0/8, ::1 (also as ::ffff:127.x) and localhost, by name only:
 * a name that merely resolves to loopback does not count */
static int host_is_loopback(const char *host)
{
	char buf[128];
	size_t n = strlen(host);
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost."))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = 0;
		if (inet_pton(AF_INET6, buf, &a6) == 1)
			return IN6_IS_ADDR_LOOPBACK(&a6)
			       || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	}
	return 0;
}

/* ip_is_private - RFC 1918, link-local (cloud metadata lives there), shared (100.64/10),
 * "this network", unique-local and link-local IPv6; loopback is not counted: posting to
 * this machine is the tests' and the admin's business, and http is allowed only there */
static int ip_is_private(const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;
	unsigned long v;

	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			v = ((unsigned long)a6.s6_addr[12] << 24) | ((unsigned long)a6.s6_addr[13] << 16)
			    | ((unsigned long)a6.s6_addr[14] << 8) | a6.s6_addr[15];
			goto v4;
		}
		return (a6.s6_addr[0] & 0xFE) == 0xFC || (a6.s6_addr[0] == 0xFE && (a6.s6_addr[1] & 0xC0) == 0x80)
		       || IN6_IS_ADDR_UNSPECIFIED(&a6);
	}
	if (inet_pton(AF_INET, ip, &a4) != 1)
		return 0;
	v = ntohl(a4.s_addr);
v4:
	return (v >> 24) == 10 || (v >> 24) == 0 || (v >> 20) == 0xAC1 || (v >> 16) == 0xC0A8
	       || (v >> 16) == 0xA9FE || (v >> 22) == (0x64400000UL >> 22);
}

/* url_check - scheme and host of the channel's URL: https, or http to loopback or with
 * allow_http; *host is the host for the logs */
static char *ok_url, *ok_host;		/* the last URL that passed, and its host */
static int ok_allow_http;

static int url_check(const struct wf_channel *ch, char **host, char *err, size_t errsize)
{
	CURLU *u;
	char *scheme = NULL, *h = NULL;
	int rc = -1;

	if (ok_url && ok_allow_http == ch->allow_http && !strcmp(ok_url, ch->url)) {
		*host = xstrdup(ok_host);	/* a run of jobs for one channel: parsed once */
		return 0;
	}
	u = curl_url();
	if (!u)
		fatal("libcurl: out of memory");
	if (curl_url_set(u, CURLUPART_URL, ch->url, 0) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
		snprintf(err, errsize, "channel %s: the url cannot be parsed as an http or https URL", ch->name);
		goto out;
	}
	*host = xstrdup(h);
	if (strcasecmp(scheme, "https") && strcasecmp(scheme, "http")) {
		snprintf(err, errsize, "channel %s: the url must be https:// (it is %s://)", ch->name, scheme);
		goto out;
	}
	if (!strcasecmp(scheme, "http") && !ch->allow_http && !host_is_loopback(h)) {
		snprintf(err, errsize, "channel %s: refused to post over plain http to %s: https is required except"
			 " to this machine (127.0.0.1, ::1, localhost) or with allow_http = true", ch->name, h);
		goto out;
	}
	rc = 0;
	free(ok_url);
	free(ok_host);
	ok_url = xstrdup(ch->url);
	ok_host = xstrdup(h);
	ok_allow_http = ch->allow_http;
out:
	curl_free(scheme);
	curl_free(h);
	curl_url_cleanup(u);
	return rc;
}

/* jobs_add - take a job from the daemon; answered at once when it cannot be done */
void jobs_add(struct whk *w, const char *id, long attempt, long lease, json_t *payload)
{
	char err[512];
	struct job *j;
	char *bkey;
	double now = whk_now();

	if (w->stopping) {
		answer_early(w, id, "retry", "the worker is stopping");
		return;
	}
	if (id_find(id)) {
		log_warn("job %s is already in hand; the second copy is ignored", id);
		return;
	}
	if (w->njobs >= (size_t)w->capacity) {
		char *why = xasprintf("the worker is busy (capacity %d)", w->capacity);

		answer_early(w, id, "retry", why);
		free(why);
		return;
	}
	if (lease <= 0) {
		log_warn("job %s came without a lease; %d s assumed", id, DEFAULT_LEASE);
		lease = DEFAULT_LEASE;
	}
	j = xcalloc(1, sizeof(*j));
	j->id = xstrdup(id);
	j->attempt = attempt;
	j->lease_end = now + (double)lease;
	TAILQ_INSERT_TAIL(&w->jobs, j, link);
	w->njobs++;
	j->id_next = ids[id_hash(j->id)];
	ids[id_hash(j->id)] = j;
	if (wf_message_parse(payload, &j->msg, err, sizeof(err)) || url_check(&j->msg.ch, &j->host, err, sizeof(err))) {
		answer(w, j, "failed", 0, 0, 0, err);
		return;
	}
	if (j->msg.ch.unauthorised && !j->msg.ch.access_token) {
		snprintf(err, sizeof(err), "the Official Account of channel %s is not authorised yet: run thiduactl zalo"
			 " authorize --channel %s", j->msg.ch.name, j->msg.ch.name);
		answer(w, j, "retry", 0, ZALO_UNAUTHORISED_WAIT, 0, err);
		return;
	}
	if ((j->msg.ch.kind == WF_ZALO || j->msg.ch.kind == WF_ZNS) && !j->msg.ch.access_token && !j->msg.ch.refresh_url) {
		answer(w, j, "retry", 0, ZALO_RENEW_WAIT, 0, "the OA's access token is being renewed by another job");
		return;
	}
	/* an earlier attempt had the first parts accepted: resume after them, if the message
	 * still splits the same way (else every part goes again, as the ids say which is which) */
	{
		json_int_t sent = json_integer_value(json_object_get(payload, "parts_sent"));
		json_int_t parts = json_integer_value(json_object_get(payload, "parts"));

		if (sent > 0 && parts == (json_int_t)j->msg.nposts && sent < parts) {
			j->next_post = j->first_post = (size_t)sent;
			log_info("job %s: parts 1 to %lld were accepted before; resuming at part %lld of %lld", j->id,
				 (long long)sent, (long long)sent + 1, (long long)parts);
		}
	}
	/* Telegram's URL names the bot; the endpoint that limits the pace is the chat */
	if (j->msg.ch.kind == WF_TELEGRAM) {
		char *chat = json_is_string(j->msg.ch.chat_id) ? xstrdup(json_string_value(j->msg.ch.chat_id))
			     : xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(j->msg.ch.chat_id));

		bkey = xasprintf("%s#%s", j->msg.ch.url, chat);
		free(chat);
	} else {
		bkey = xstrdup(j->msg.ch.url);
	}
	j->bucket = rate_get(w->rates, bkey, j->msg.ch.rate, j->msg.ch.burst, now);
	free(bkey);
	j->renewing = j->msg.ch.refresh_url != NULL;
	set_waiting(j, 1);
	log_debug("job %s (channel %s, %s, %s): %zu post%s queued", j->id, j->msg.ch.name,
		  wf_kind_info(j->msg.ch.kind)->name, j->host, j->msg.nposts, j->msg.nposts == 1 ? "" : "s");
}

/* on_body - keep the start of the answer */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct job *j = arg;
	size_t n = size * nmemb, room = RESPONSE_MAX - j->resp_len, take = n < room ? n : room;

	if (take) {
		j->resp = xrealloc(j->resp, j->resp_len + take + 1);
		memcpy(j->resp + j->resp_len, data, take);
		j->resp_len += take;
		j->resp[j->resp_len] = 0;
	}
	return n;
}

/* on_prereq - the connection is up, the request not yet sent: refuse private addresses
 * when the channel says so (a name can resolve anywhere) */
static int on_prereq(void *arg, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
		     int conn_local_port)
{
	struct job *j = arg;

	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	if (j->msg.ch.allow_private == 0 && ip_is_private(conn_primary_ip)) {
		j->refused = 1;
		xstrlcpy(j->refused_ip, conn_primary_ip, sizeof(j->refused_ip));
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

/* add_header - one "Name: value" line */
static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value)
{
	char *line = xasprintf("%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(list, line);

	free(line);
	if (!l)
		fatal("libcurl: out of memory");
	return l;
}

/* job_start - post the job's next part */
static void job_start(struct whk *w, struct job *j, double now)
{
	const struct wf_channel *ch = &j->msg.ch;
	const struct wf_post *p = &j->msg.posts[j->next_post];
	size_t blen = strlen(p->body);
	struct curl_slist *h = NULL;
	double budget = j->lease_end - LEASE_MARGIN - now;
	long timeout_ms = ch->timeout * 1000L;
	CURL *e = easy_get();

	if (budget * 1000 < timeout_ms)
		timeout_ms = (long)(budget * 1000);	/* answer before the daemon gives the job away */
	if (timeout_ms < 1000)
		timeout_ms = 1000;
	if (j->renewing) {
		/* POST <oauth>/v4/oa/access_token, form refresh_token, app_id, grant_type; header secret_key */
		char *rt = curl_easy_escape(e, ch->refresh_token, 0), *app = curl_easy_escape(e, ch->app_id, 0);

		if (!rt || !app)
			fatal("libcurl: out of memory");
		free(j->form);
		j->form = xasprintf("refresh_token=%s&app_id=%s&grant_type=refresh_token", rt, app);
		curl_free(rt);
		curl_free(app);
		h = add_header(h, "Content-Type", "application/x-www-form-urlencoded");
		h = add_header(h, "secret_key", ch->app_secret);
	} else {
		h = add_header(h, "Content-Type", "application/json");
		h = add_header(h, "webhook-id", p->id);
	}
	if (ch->kind == WF_JSON) {
		char ts[32];
		long long now_unix = (long long)time(NULL);

		snprintf(ts, sizeof(ts), "%lld", now_unix);
		h = add_header(h, "webhook-timestamp", ts);
		if (ch->key) {
			char *sig = wf_sign(ch->key, ch->keylen, p->id, now_unix, p->body, blen);

			h = add_header(h, "webhook-signature", sig);
			free(sig);
		}
	}
	if (ch->access_token && !j->renewing)
		h = add_header(h, "access_token", ch->access_token);
	h = add_header(h, "Expect", "");	/* no 100-continue round trip */
	j->headers = h;
	free(j->resp);
	j->resp = NULL;
	j->resp_len = 0;
	j->errbuf[0] = 0;
	j->refused = 0;

	curl_easy_setopt(e, CURLOPT_URL, j->renewing ? ch->refresh_url : ch->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->renewing ? j->form : p->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(j->renewing ? strlen(j->form) : blen));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_USERAGENT, WHK_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, ch->connect_timeout);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	if (ch->allow_private == 0) {
		curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
		curl_easy_setopt(e, CURLOPT_PREREQDATA, j);
	}
	if (curl_multi_add_handle(w->multi, e) != CURLM_OK)
		fatal("libcurl: cannot add a transfer");
	j->easy = e;
	set_waiting(j, 0);
	j->started = now;
	w->running++;
	j->bucket->running++;
	log_debug("job %s: post %zu/%zu to %s (%zu bytes)", j->id, j->next_post + 1, j->msg.nposts, j->host, blen);
}

/* jobs_run - start every waiting job whose endpoint has a token; answer retry the ones whose
 * wait would outlast their lease */
long jobs_run(struct whk *w)
{
	double now = whk_now(), next = INFINITY;
	struct job *j, *tmp;

	for (j = TAILQ_FIRST(&waiting); j; j = tmp) {
		double wait;

		tmp = TAILQ_NEXT(j, wait_link);
		if (w->stopping && j->next_post == j->first_post) {
			answer(w, j, "retry", 0, 0, 0, "the worker is stopping; the message was not posted");
			continue;
		}
		if (j->lease_end - now < LEASE_MARGIN + 1) {
			answer(w, j, "retry", 0, 0, 0, "the lease ran out before the message could be posted");
			continue;
		}
		if (j->bucket->running >= ENDPOINT_POSTS)
			continue;	/* a post to the endpoint that finishes makes room */
		wait = rate_take(j->bucket, now);
		if (wait > 0) {
			if (now + wait + (double)j->msg.ch.timeout + LEASE_MARGIN > j->lease_end) {
				char *why = now < j->bucket->tb.blocked_until
					? xasprintf("%s asked to wait %ld s more, past the lease", j->host, wf_ceil(wait))
					: xasprintf("%s is paced at %g posts/s (burst %g): the wait of %ld s would outlast"
						    " the lease", j->host, j->bucket->tb.rate, j->bucket->tb.burst, wf_ceil(wait));

				answer(w, j, "retry", 0, wf_ceil(wait), 0, why);
				free(why);
			} else if (now + wait < next) {
				next = now + wait;
			}
			continue;
		}
		job_start(w, j, now);
	}
	if (TAILQ_EMPTY(&w->jobs))
		rate_expire(w->rates, now);
	if (next == INFINITY)
		return -1;
	return (long)((next - now) * 1000) + 2;
}

/* transfer_error_is_final - errors no retry can cure: the URL itself is wrong */
static int transfer_error_is_final(CURLcode rc)
{
	return rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_NOT_BUILT_IN
	       || rc == CURLE_BAD_FUNCTION_ARGUMENT;
}

/* with_part - "post 2 of 3 (1 sent before): reason" when the message had several parts */
static char *with_part(const struct job *j, const char *reason)
{
	if (j->msg.nposts == 1)
		return xstrdup(reason);
	return xasprintf("post %zu of %zu (%zu sent before): %s", j->next_post + 1, j->msg.nposts, j->next_post,
			 reason);
}

/* renewed - the answer of a token renewal: the new pair goes to the daemon in a retry
 * result, stored there before any post uses it (daemon/zalo.c); nothing is posted now */
static void renewed(struct whk *w, struct job *j, CURLcode rc, long code)
{
	json_t *o = rc == CURLE_OK ? json_loadb(j->resp ? j->resp : "", j->resp_len, 0, NULL) : NULL;
	const char *at = json_string_value(json_object_get(o, "access_token"));
	const char *rt = json_string_value(json_object_get(o, "refresh_token"));
	json_t *ei = json_object_get(o, "expires_in");	/* Zalo gives it as a string */
	long long secs = json_is_integer(ei) ? (long long)json_integer_value(ei)
			 : json_is_string(ei) ? strtoll(json_string_value(ei), NULL, 10) : 0;
	char *reason;

	if (rc == CURLE_OK && code / 100 == 2 && at && *at && rt && *rt && secs > 0) {
		j->extra = json_pack("{s:{s:s,s:s,s:I}}", "zalo_token", "access_token", at, "refresh_token", rt,
				     "expires_in", (json_int_t)secs);
		answer(w, j, "retry", code, 0, 0, "the OA access token was renewed; the message goes with the new one");
	} else {
		const char *desc = json_string_value(json_object_get(o, "error_description"));
		json_t *ec = json_object_get(o, "error");

		if (rc != CURLE_OK)
			reason = xasprintf("renewing the OA access token: %s: %s", j->host,
					   j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
		else if (json_is_integer(ec))
			reason = xasprintf("renewing the OA access token: error %" JSON_INTEGER_FORMAT " (%s)%s",
					   json_integer_value(ec), desc ? desc : "", json_integer_value(ec) == -14020
					   ? ": the refresh token was already used; authorise the OA again" : "");
		else
			reason = wf_reason(code, j->resp, j->resp_len);
		j->extra = json_pack("{s:b}", "zalo_refresh_failed", 1);
		answer(w, j, "retry", code, 0, 0, reason);
		free(reason);
	}
	json_decref(o);
}

/* job_done - one post finished: next part, or the job's answer */
static void job_done(struct whk *w, struct job *j, CURLcode rc, long code, long header_wait, double now)
{
	char *reason, *full;

	if (j->renewing && !j->refused) {
		renewed(w, j, rc, code);
		return;
	}
	if (j->refused) {
		reason = xasprintf("refused: %s is at the private address %s and the channel does not allow private"
				   " addresses (allow_private)", j->host, j->refused_ip);
		full = with_part(j, reason);
		answer(w, j, "failed", 0, 0, 0, full);
	} else if (rc != CURLE_OK) {
		reason = xasprintf("%s: %s", j->host, j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
		full = with_part(j, reason);
		if (transfer_error_is_final(rc))
			answer(w, j, "failed", code, 0, 0, full);
		else
			answer(w, j, "retry", code, 0, 0, full);
	} else {
		enum wf_verdict v = wf_classify(code);
		long wait;

		long zwait = 0, zcode = 0;

		if (v == WF_SENT && (j->msg.ch.kind == WF_ZALO || j->msg.ch.kind == WF_ZNS)) {
			/* Zalo answers its errors with HTTP 200 */
			v = wf_zalo_verdict(j->resp, j->resp_len, j->msg.ch.recipient, &zwait, &reason, &zcode);
			if (zcode == -216)	/* the daemon renews the token before the next attempt */
				j->extra = json_pack("{s:b}", "token_rejected", 1);
			else if (zcode == -230 || zcode == -213 || zcode == -201)	/* the unit's e-mail instead */
				j->extra = json_pack("{s:b}", "recipient_unreachable", 1);
			if (zwait > 0 && header_wait <= 0)
				header_wait = zwait;
		} else {
			reason = wf_reason(code, j->resp, j->resp_len);
		}
		switch (v) {
		case WF_SENT:
			log_debug("job %s: post %zu/%zu: %s in %.3f s", j->id, j->next_post + 1, j->msg.nposts, reason,
				  now - j->started);
			if (++j->next_post < j->msg.nposts) {
				set_waiting(j, 1);
				free(reason);
				return;
			}
			full = j->msg.nposts > 1 ? xasprintf("%zu posts; %s", j->msg.nposts, reason)
			       : j->msg.truncated ? xasprintf("cut to %zu characters; %s", j->msg.ch.max_length, reason)
			       : xstrdup(reason);
			answer(w, j, "sent", code, 0, 0, full);
			break;
		case WF_RETRY:
			wait = header_wait > 0 ? header_wait : wf_body_retry_after(j->resp, j->resp_len);
			if (wait > RETRY_AFTER_MAX)
				wait = RETRY_AFTER_MAX;
			if (wait > 0)	/* the endpoint asked for quiet: the other jobs for it hold too */
				rate_block(j->bucket, now + (double)wait);
			full = with_part(j, reason);
			answer(w, j, "retry", code, wait > 0 ? wait : 0, 0, full);
			break;
		case WF_GONE:
			full = with_part(j, reason);
			answer(w, j, "failed", code, 0, 1, full);
			break;
		default:
			full = with_part(j, reason);
			answer(w, j, "failed", code, 0, 0, full);
			break;
		}
	}
	free(full);
	free(reason);
}

/* jobs_reap - collect finished transfers */
void jobs_reap(struct whk *w)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(w->multi, &left))) {
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;
		char *priv = NULL;
		struct job *j;
		long code = 0;
		curl_off_t ra = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		j = (struct job *)(void *)priv;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK || ra < 0)
			ra = 0;
		curl_multi_remove_handle(w->multi, e);
		easy_put(e);
		w->running--;
		j->bucket->running--;
		j->easy = NULL;
		curl_slist_free_all(j->headers);
		j->headers = NULL;
		job_done(w, j, rc, code, ra > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : (long)ra, whk_now());
	}
}

/* jobs_abort - stop now: every job goes back to the daemon */
void jobs_abort(struct whk *w, const char *why)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&w->jobs)))
		answer(w, j, "retry", 0, 0, 0, why);
}

/* jobs_fini - free what is left */
void jobs_fini(struct whk *w)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&w->jobs))) {
		TAILQ_REMOVE(&w->jobs, j, link);
		w->njobs--;
		job_destroy(w, &j);
	}
	while (neasy)
		curl_easy_cleanup(easy_pool[--neasy]);
	curl_multi_cleanup(w->multi);
	w->multi = NULL;
	rate_table_destroy(&w->rates);
	free(ids);
	ids = NULL;
	free(ok_url);
	free(ok_host);
	ok_url = ok_host = NULL;
}
