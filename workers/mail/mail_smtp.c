/*
 * mail_smtp.c - sending: one curl multi handle runs every transfer inside the worker's
 * one loop (its sockets and timeouts join the zmq_poll of mail_main.c), so heartbeats
 * keep going while a slow server answers and up to `capacity` jobs move at once.
 *
 * Connection reuse: a multi handle owns libcurl's connection pool, shared by every easy
 * handle added to it. When a message is done, its SMTP session stays open in the pool and
 * the next message with the same settings takes it: no new TCP, TLS, EHLO or AUTH. libcurl
 * alone would match a kept connection on scheme, host, port and login only: a channel
 * requiring STARTTLS took the plain session another channel to the same server had left
 * open, and libcurl compares no CA setting for STARTTLS either. So there is one pool (one
 * multi handle) per key: server, TLS policy, login (the password as a hash) and CA file
 * (pool_key); a connection never serves a channel with other settings. libcurl checks that
 * an idle connection is still alive before it reuses it, drops it after
 * CURLOPT_MAXAGE_CONN, and when a reused connection turns out dead before the server said
 * a word, the job is tried once more at once on a fresh one. Easy handles are kept too
 * (curl_easy_reset between jobs) rather than made anew, and move between pools.
 *
 * One libcurl limitation shapes the loop: after the message data libcurl waits for the
 * server's answer to the final "." in a blocking loop, even under the multi interface
 * (curl issue 8555, "More non-blocking" in its TODO). That wait is bounded by
 * CURLOPT_SERVER_RESPONSE_TIMEOUT (the job's timeout, within its lease), and libcurl calls
 * the progress callback about once a second during it, which keeps our pings going so
 * thiduad does not take a worker waiting on a slow content filter for a dead one. Other
 * transfers and thiduad's messages wait meanwhile; their timeouts are wall-clock time.
 *
 * The message itself is written whole by mail_msg.c (common/mailmsg.c) and read by libcurl
 * from memory (CURLOPT_READFUNCTION), which escapes a leading '.' of a line on the wire.
 *
 * Owns the multi handle, the easy handles, the jobs in flight and their messages and
 * lists; a job goes back to the caller through the done callback with its outcome.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mail.h"
#include "sha256.h"
#include "xalloc.h"

#define IDLE_HANDLES_MAX 16
#define POOLS_MAX 16		/* kept pools; past it the one idle longest is closed */
#define MAXAGE_CONN 60		/* seconds an idle SMTP session is kept: below common server timeouts */

/* libcurl 8.2 fixed the spelling of this option; 7.69 to 8.1 have three Ls */
#if LIBCURL_VERSION_NUM >= 0x080200
#define OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLOWFAILS
#else
#define OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#endif

struct send {				/* one job in flight */
	struct smtp *owner;
	struct pool *pool;
	struct mail_job *job;
	CURL *easy;
	char *msg;			/* the whole message (mail_msg.c) */
	size_t msglen, msgoff;		/* its length, and how much libcurl has read */
	struct curl_slist *rcpts;
	size_t *sent;			/* the n-th RCPT TO is job->to[sent[n]] */
	size_t nsent;
	struct mail_trace trace;
	char errbuf[CURL_ERROR_SIZE];
	char *where;			/* smtp://host:port, without user or password */
	long timeout;
	int refreshed;			/* already tried again on a fresh connection */
	int64_t started_ms;
	struct send *next;
};

struct smtp_fd {
	curl_socket_t fd;
	int what;			/* CURL_POLL_IN, _OUT, _INOUT */
};

struct pool {				/* the connections of one key (pool_key) */
	struct smtp *owner;
	char *key;
	CURLM *multi;
	struct smtp_fd *fds;
	size_t nfds, capfds;
	size_t nactive;			/* transfers in its multi handle */
	int64_t used_ms;		/* when a transfer last ended or started */
	struct pool *next;
};

struct smtp {
	struct pool *pools;
	size_t npools;
	struct pool **itempool;		/* the pool of each item smtp_pollitems gave out */
	size_t capitems;
	struct send *active;
	size_t nactive;
	CURL *idle[IDLE_HANDLES_MAX];
	size_t nidle;
	char *ehlo;			/* the name we greet servers with */
	smtp_done_fn *done;
	smtp_tick_fn *tick;
	void *arg;
};

/* -- outcomes -- */

/* mail_outcome_set - status, reply code (0: none) and the reason for people */
void mail_outcome_set(struct mail_outcome *o, enum mail_status status, int code, const char *fmt, ...)
{
	va_list ap;

	free(o->reason);
	o->status = status;
	o->code = code;
	o->retry_after = status == MAIL_RETRY ? MAIL_RETRY_AFTER : 0;
	va_start(ap, fmt);
	o->reason = xvasprintf(fmt, ap);
	va_end(ap);
}

/* mail_outcome_clear - free what the outcome holds */
void mail_outcome_clear(struct mail_outcome *o)
{
	free(o->reason);
	json_decref(o->recipients);
	memset(o, 0, sizeof(*o));
}

/* mail_outcome_status_name - the protocol's word for a status */
const char *mail_outcome_status_name(enum mail_status s)
{
	return s == MAIL_SENT ? "sent" : s == MAIL_RETRY ? "retry" : "failed";
}

/* -- the channel's URL -- */

/* host_is_loopback - localhost, 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) */
static int host_is_loopback(const char *host)
{
	char h[256];
	size_t len;
	struct in_addr a4;
	struct in6_addr a6;

	xstrlcpy(h, host[0] == '[' ? host + 1 : host, sizeof(h));
	len = strcspn(h, "]%");
	h[len] = 0;
	if (!strcasecmp(h, "localhost") || !strcasecmp(h, "localhost."))
		return 1;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

/* smtp_url - check the channel's url and tls against each other. "tls" means implicit
 * TLS (smtps://); "starttls" makes libcurl refuse to go on without STARTTLS
 * (CURLUSESSL_ALL); "none" is for a server on this machine only. With no path in the
 * URL the EHLO name (libcurl takes it from the path) is ours rather than "localhost". */
static int smtp_url(const struct mail_job *job, const char *ehlo, char **url, long *use_ssl, char **where,
		    char *err, size_t errsize)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int rc = -1;

	*url = *where = NULL;
	if (!u)
		fatal("out of memory");
	if (curl_url_set(u, CURLUPART_URL, job->url, 0) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errsize, "channel %s: the url is not a valid smtp:// or smtps:// URL", job->channel);
		goto out;
	}
	if (strcasecmp(scheme, "smtp") && strcasecmp(scheme, "smtps")) {
		snprintf(err, errsize, "channel %s: the url must start with smtp:// or smtps://, not %s://", job->channel,
			 scheme);
		goto out;
	}
	if (!strcmp(job->tls, "tls")) {
		curl_url_set(u, CURLUPART_SCHEME, "smtps", 0);
		*use_ssl = CURLUSESSL_ALL;
	} else if (!strcmp(job->tls, "starttls")) {
		*use_ssl = CURLUSESSL_ALL;
	} else if (!strcmp(job->tls, "none")) {
		if (!strcasecmp(scheme, "smtp") && !host_is_loopback(host)) {
			snprintf(err, errsize, "channel %s: tls = \"none\" is allowed only to a server on this machine"
				 " (127.0.0.0/8, ::1, localhost), not to %s; use \"starttls\" or \"tls\"", job->channel, host);
			goto out;
		}
		*use_ssl = CURLUSESSL_NONE;
	} else {
		snprintf(err, errsize, "channel %s: tls must be \"starttls\", \"tls\" or \"none\", not \"%.40s\"",
			 job->channel, job->tls);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK || !strcmp(path, "") || !strcmp(path, "/")) {
		char *p = xasprintf("/%s", ehlo);

		curl_url_set(u, CURLUPART_PATH, p, 0);
		free(p);
	}
	curl_free(scheme);
	scheme = NULL;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK
	    || curl_url_get(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(err, errsize, "channel %s: the url cannot be used", job->channel);
		goto out;
	}
	*where = xasprintf("%s://%s:%s", scheme, host, port);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* -- the multi handle and the loop -- */

/* socket_cb - libcurl says which sockets to watch for what */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct pool *p = userp;
	size_t i;

	(void)easy;
	(void)socketp;
	for (i = 0; i < p->nfds && p->fds[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < p->nfds)
			p->fds[i] = p->fds[--p->nfds];
		return 0;
	}
	if (i == p->nfds) {
		if (p->nfds == p->capfds) {
			p->capfds = p->capfds ? p->capfds * 2 : 8;
			p->fds = xrealloc(p->fds, p->capfds * sizeof(*p->fds));
		}
		p->nfds++;
	}
	p->fds[i].fd = fd;
	p->fds[i].what = what;
	return 0;
}

/* ehlo_name - this host's name when it is fully qualified, else "localhost.localdomain";
 * a path in the channel's url overrides it */
static char *ehlo_name(void)
{
	char h[256] = "";

	if (gethostname(h, sizeof(h) - 1) == 0 && strchr(h, '.') && strspn(h, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(h))
		return xstrdup(h);
	return xstrdup("localhost.localdomain");
}

/* read_cb - CURLOPT_READFUNCTION: the next bytes of the message */
static size_t read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct send *sd = userp;
	size_t n = size * nitems, left = sd->msglen - sd->msgoff;

	if (n > left)
		n = left;
	memcpy(buf, sd->msg + sd->msgoff, n);
	sd->msgoff += n;
	return n;
}

/* seek_cb - CURLOPT_SEEKFUNCTION: libcurl starts the message again (a resent transfer) */
static int seek_cb(void *userp, curl_off_t offset, int origin)
{
	struct send *sd = userp;

	if (origin != SEEK_SET || offset < 0 || (size_t)offset > sd->msglen)
		return CURL_SEEKFUNC_CANTSEEK;
	sd->msgoff = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* progress_cb - the heartbeat from inside libcurl (see the top of this file) */
static int progress_cb(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct send *sd = userp;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (sd->owner->tick)
		sd->owner->tick(sd->owner->arg);
	return 0;
}

/* smtp_new - no pool yet: each is made for the first job of its key */
struct smtp *smtp_new(smtp_done_fn *done, smtp_tick_fn *tick, void *arg)
{
	struct smtp *s = xcalloc(1, sizeof(*s));

	s->done = done;
	s->tick = tick;
	s->arg = arg;
	s->ehlo = ehlo_name();
	return s;
}

/* pool_key - what a kept connection must share with a job to carry it: the server
 * (scheme, host, port), the TLS policy, the login and the CA file. The password enters
 * as a hash, so the key holds no secret. */
static char *pool_key(const struct mail_job *job, const char *where)
{
	char hex[65] = "-";

	if (job->password)
		sha256_hex(job->password, strlen(job->password), hex);
	return xasprintf("%s\n%s\n%s\n%s\n%s", where, job->tls, job->username ? job->username : "", hex,
			 job->ca_file && *job->ca_file ? job->ca_file : "");
}

/* pool_close - close a pool's kept connections (QUIT) and free it; it has no transfer */
static void pool_close(struct pool *p)
{
	curl_multi_cleanup(p->multi);
	free(p->fds);
	free(p->key);
	free(p);
}

/* pool_get - the pool of key, made (and the one idle longest closed past POOLS_MAX) when
 * there is none */
static struct pool *pool_get(struct smtp *s, const char *key)
{
	struct pool *p, **oldest = NULL;

	for (p = s->pools; p; p = p->next)
		if (!strcmp(p->key, key))
			return p;
	if (s->npools >= POOLS_MAX) {
		for (struct pool **pp = &s->pools; *pp; pp = &(*pp)->next)
			if (!(*pp)->nactive && (!oldest || (*pp)->used_ms < (*oldest)->used_ms))
				oldest = pp;
		if (oldest) {
			p = *oldest;
			*oldest = p->next;
			s->npools--;
			pool_close(p);
		}
	}
	p = xcalloc(1, sizeof(*p));
	p->owner = s;
	p->key = xstrdup(key);
	p->multi = curl_multi_init();
	if (!p->multi)
		fatal("cannot create a curl multi handle");
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, 16L);
	p->next = s->pools;
	s->pools = p;
	s->npools++;
	return p;
}

/* send_free - release one transfer's resources; the easy handle goes back to the pool */
static void send_free(struct smtp *s, struct send *sd)
{
	if (sd->easy) {
		/* first: the handle still points at the message and the list freed below */
		curl_easy_reset(sd->easy);	/* clears every option, the password too */
		if (s->nidle < IDLE_HANDLES_MAX)
			s->idle[s->nidle++] = sd->easy;
		else
			curl_easy_cleanup(sd->easy);
	}
	free(sd->msg);
	curl_slist_free_all(sd->rcpts);
	mail_trace_free(&sd->trace);
	free(sd->sent);
	free(sd->where);
	mail_job_destroy(&sd->job);
	free(sd);
}

/* smtp_destroy - abandon what is in flight (only on a forced stop), close everything */
void smtp_destroy(struct smtp **self_p)
{
	struct smtp *s = self_p ? *self_p : NULL;

	if (!s)
		return;
	while (s->active) {
		struct send *sd = s->active;

		s->active = sd->next;
		curl_multi_remove_handle(sd->pool->multi, sd->easy);
		send_free(s, sd);
	}
	for (size_t i = 0; i < s->nidle; i++)
		curl_easy_cleanup(s->idle[i]);
	while (s->pools) {
		struct pool *p = s->pools;

		s->pools = p->next;
		pool_close(p);	/* says QUIT on the connections kept open */
	}
	free(s->itempool);
	free(s->ehlo);
	free(s);
	*self_p = NULL;
}

size_t smtp_active(const struct smtp *s)
{
	return s->nactive;
}

size_t smtp_nfds(const struct smtp *s)
{
	size_t n = 0;

	for (const struct pool *p = s->pools; p; p = p->next)
		n += p->nfds;
	return n;
}

/* smtp_pollitems - one zmq_pollitem_t per socket libcurl watches, in every pool; which
 * pool each belongs to is kept for smtp_action */
size_t smtp_pollitems(struct smtp *s, zmq_pollitem_t *items, size_t max)
{
	size_t n = 0;

	if (s->capitems < max) {
		s->capitems = max;
		s->itempool = xrealloc(s->itempool, max * sizeof(*s->itempool));
	}
	for (struct pool *p = s->pools; p; p = p->next)
		for (size_t i = 0; i < p->nfds && n < max; i++, n++) {
			items[n].socket = NULL;
			items[n].fd = p->fds[i].fd;
			items[n].events = (short)(((p->fds[i].what & CURL_POLL_IN) ? ZMQ_POLLIN : 0)
						  | ((p->fds[i].what & CURL_POLL_OUT) ? ZMQ_POLLOUT : 0));
			items[n].revents = 0;
			s->itempool[n] = p;
		}
	return n;
}

/* smtp_timeout_ms - until libcurl's next timeout. Asked of libcurl each time rather than
 * remembered from CURLMOPT_TIMERFUNCTION: that callback is not called again when the
 * earliest expiry stays the same, so a wake-up a little before it (libcurl counts in
 * microseconds) would lose the timer until some socket moved. */
long smtp_timeout_ms(const struct smtp *s, int64_t now_ms)
{
	long best = -1;

	(void)now_ms;
	for (const struct pool *p = s->pools; p; p = p->next) {
		long ms = -1;

		if (curl_multi_timeout(p->multi, &ms) != CURLM_OK)
			ms = 1000;
		if (ms >= 0 && (best < 0 || ms < best))
			best = ms;
	}
	return best;
}

/* rcpt_json - one recipient's fate */
static json_t *rcpt_json(const char *address, const char *status, int code, const char *reason)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "address", address, "status", status, "reason", reason);

	json_object_set_new(o, "code", code ? json_integer(code) : json_null());
	return o;
}

/* permanent_error - transport errors that trying again will not cure */
static int permanent_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT: case CURLE_NOT_BUILT_IN:
	case CURLE_USE_SSL_FAILED: case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM: case CURLE_LOGIN_DENIED: case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_BAD_FUNCTION_ARGUMENT: case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_CIPHER:
		return 1;
	default:
		return 0;
	}
}

/* transport_reason - what went wrong below SMTP, in words an administrator can act on */
static void transport_outcome(struct send *sd, CURLcode rc, struct mail_outcome *o)
{
	const char *detail = sd->errbuf[0] ? sd->errbuf : curl_easy_strerror(rc);
	enum mail_status st = permanent_error(rc) ? MAIL_FAILED : MAIL_RETRY;

	switch (rc) {
	case CURLE_USE_SSL_FAILED:
		mail_outcome_set(o, st, 0, "%s does not offer STARTTLS, which tls = \"starttls\" requires (%s)", sd->where, detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		mail_outcome_set(o, st, 0, "the TLS certificate of %s is not trusted: %s", sd->where, detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		mail_outcome_set(o, st, 0, "no answer from %s within %ld s: %s", sd->where, sd->timeout, detail);
		break;
	case CURLE_LOGIN_DENIED:
		mail_outcome_set(o, st, 0, "%s refused the login of user '%s': %s", sd->where,
			    sd->job->username ? sd->job->username : "", detail);
		break;
	default:
		mail_outcome_set(o, st, 0, "%s: %s", sd->where, detail);
		break;
	}
}

/* classify - the outcome of a finished transfer, from libcurl's result and the transcript.
 * Sent when the server took the message (even if it refused some recipients: those are
 * listed with their own answers, as "retry" when the refusal was temporary (4xx), so the
 * daemon sends the message again to just them, else as failed); a 4xx reply or trouble
 * on the way: retry; a 5xx reply: failed with the server's words. */
static void classify(struct send *sd, CURLcode rc, struct mail_outcome *o)
{
	const struct mail_trace *t = &sd->trace;
	struct mail_job *job = sd->job;
	long response = 0;
	size_t ok = 0, temp = 0, refused = 0;
	int first4 = 0, last5 = 0;

	curl_easy_getinfo(sd->easy, CURLINFO_RESPONSE_CODE, &response);
	for (size_t k = 0; k < t->nrcpt && k < sd->nsent; k++) {
		int c = t->rcpt[k].code;

		if (c >= 200 && c < 300)
			ok++;
		else if (c >= 400 && c < 500) {
			temp++;
			if (!first4)
				first4 = c;
		} else {
			refused++;
			last5 = c;
		}
	}
	if (rc == CURLE_OK) {
		int code = t->end.code ? t->end.code : response ? (int)response : 250;

		if (ok < sd->nsent && temp)
			mail_outcome_set(o, MAIL_SENT, code, "%s (%zu of %zu recipients refused, %zu of them for now)",
				    t->end.code ? t->end.text : "250", sd->nsent - ok, sd->nsent, temp);
		else if (ok < sd->nsent)
			mail_outcome_set(o, MAIL_SENT, code, "%s (%zu of %zu recipients refused)",
				    t->end.code ? t->end.text : "250", sd->nsent - ok, sd->nsent);
		else
			mail_outcome_set(o, MAIL_SENT, code, "%s", t->end.code ? t->end.text : "250");
	} else if (t->fail.code) {
		mail_outcome_set(o, t->fail.code < 500 ? MAIL_RETRY : MAIL_FAILED, t->fail.code, "%s", t->fail.text);
	} else if (sd->nsent && t->nrcpt >= sd->nsent && ok == 0) {
		/* every recipient refused: worth another try only if some refusal was temporary */
		char list[1024];
		size_t used = 0;

		list[0] = 0;
		for (size_t k = 0; k < sd->nsent && used < sizeof(list) - 1; k++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s: %s", k ? "; " : "",
						 job->to[sd->sent[k]].address, t->rcpt[k].text);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
		if (temp)
			mail_outcome_set(o, MAIL_RETRY, first4, "every recipient was refused: %s", list);
		else
			mail_outcome_set(o, MAIL_FAILED, last5, "every recipient was refused: %s", list);
	} else if (response >= 400) {
		int code = (int)response;

		mail_outcome_set(o, code < 500 ? MAIL_RETRY : MAIL_FAILED, code, "%s",
			    t->last.code == code ? t->last.text : curl_easy_strerror(rc));
	} else {
		transport_outcome(sd, rc, o);
	}
	if (o->status == MAIL_RETRY)
		return;		/* everything is tried again; per-recipient answers would mislead */
	o->recipients = json_array();
	for (size_t i = 0, k = 0; i < job->nto; i++) {
		const struct mail_rcpt *r = &job->to[i];
		const struct trace_reply *a;

		if (r->invalid) {
			json_array_append_new(o->recipients, rcpt_json(r->address, "failed", 0, r->invalid));
			continue;
		}
		a = k < t->nrcpt ? &t->rcpt[k] : NULL;
		k++;
		if (a && (a->code < 200 || a->code >= 300))
			json_array_append_new(o->recipients, rcpt_json(r->address, o->status == MAIL_SENT && a->code >= 400
								       && a->code < 500 ? "retry" : "failed", a->code, a->text));
		else if (o->status == MAIL_SENT)
			json_array_append_new(o->recipients, rcpt_json(r->address, "sent", o->code,
								       t->end.code ? t->end.text : o->reason));
		else
			json_array_append_new(o->recipients, rcpt_json(r->address, "failed", o->code, o->reason));
	}
}

/* unlink_send - take a transfer off the active list */
static void unlink_send(struct smtp *s, struct send *sd)
{
	for (struct send **pp = &s->active; *pp; pp = &(*pp)->next)
		if (*pp == sd) {
			*pp = sd->next;
			s->nactive--;
			return;
		}
}

/* retire_connection - after a failed transfer, make sure its connection is not reused.
 * libcurl 7.88 puts an SMTP connection back in the pool even when the wait for the answer
 * to the end of the data timed out; the late "250" then answers the next message's MAIL
 * FROM and every reply after it is off by one. Shutting the socket down makes libcurl's
 * liveness check drop the connection the next time it looks at it. Only possible while
 * the handle is still in the multi handle (CURLINFO_ACTIVESOCKET needs it). */
static void retire_connection(struct send *sd)
{
	curl_socket_t fd = CURL_SOCKET_BAD;

	if (curl_easy_getinfo(sd->easy, CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK && fd != CURL_SOCKET_BAD) {
		shutdown(fd, SHUT_RDWR);
		log_debug("job %s: the connection to %s is not kept after the failure", sd->job->id, sd->where);
	}
}

/* finish - a transfer ended: try once more on a fresh connection if a kept one was dead,
 * else classify, log, and hand the job back */
static void finish(struct smtp *s, struct send *sd, CURLcode rc)
{
	struct mail_outcome out = { 0 };
	long nconnects = 0;
	struct mail_job *job;

	if (rc != CURLE_OK)
		retire_connection(sd);
	curl_multi_remove_handle(sd->pool->multi, sd->easy);
	curl_easy_getinfo(sd->easy, CURLINFO_NUM_CONNECTS, &nconnects);
	if (rc != CURLE_OK && nconnects == 0 && sd->trace.nreplies == 0 && !sd->refreshed
	    && (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING)) {
		log_info("job %s: the kept connection to %s was closed by the server; again on a new one",
			 sd->job->id, sd->where);
		sd->refreshed = 1;
		sd->errbuf[0] = 0;
		mail_trace_reset(&sd->trace);
		sd->msgoff = 0;
		curl_easy_setopt(sd->easy, CURLOPT_FRESH_CONNECT, 1L);
		if (curl_multi_add_handle(sd->pool->multi, sd->easy) == CURLM_OK)
			return;
	}
	classify(sd, rc, &out);
	unlink_send(s, sd);
	sd->pool->nactive--;
	sd->pool->used_ms = mail_mono_ms();
	if (out.status == MAIL_SENT)
		log_info("job %s via %s (%s): sent to %zu recipient(s) in %lld ms%s: %s", sd->job->id, sd->job->channel,
			 sd->where, sd->nsent, (long long)(mail_mono_ms() - sd->started_ms),
			 nconnects ? "" : " on a kept connection", out.reason);
	else
		log_notice("job %s via %s (%s), attempt %d: %s: %s", sd->job->id, sd->job->channel, sd->where,
			   sd->job->attempt, mail_outcome_status_name(out.status), out.reason);
	job = sd->job;
	sd->job = NULL;
	send_free(s, sd);
	s->done(&job, &out, s->arg);
	mail_job_destroy(&job);
	mail_outcome_clear(&out);
}

/* check_done - collect the transfers libcurl has finished in a pool */
static void check_done(struct smtp *s, struct pool *p)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(p->multi, &left))) {
		char *priv = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv)
			finish(s, (struct send *)priv, m->data.result);
	}
}

/* smtp_action - hand libcurl the sockets that are ready, and run its timeouts when due */
void smtp_action(struct smtp *s, const zmq_pollitem_t *items, size_t n, int64_t now_ms)
{
	int running;

	for (size_t i = 0; i < n; i++) {
		int mask = 0;

		if (!items[i].revents)
			continue;
		if (items[i].revents & ZMQ_POLLIN)
			mask |= CURL_CSELECT_IN;
		if (items[i].revents & ZMQ_POLLOUT)
			mask |= CURL_CSELECT_OUT;
		if (items[i].revents & ZMQ_POLLERR)
			mask |= CURL_CSELECT_ERR;
		curl_multi_socket_action(s->itempool[i]->multi, items[i].fd, mask, &running);
	}
	(void)now_ms;
	for (struct pool *p = s->pools; p; p = p->next) {
		long ms = -1;

		if (curl_multi_timeout(p->multi, &ms) == CURLM_OK && ms == 0)
			curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	/* the done callback only answers thiduad: no pool is made or closed meanwhile */
	for (struct pool *p = s->pools; p; p = p->next)
		check_done(s, p);
}

/* refuse - a job that cannot be sent at all: failed at once, every recipient listed */
static void refuse(struct smtp *s, struct mail_job **job_p, const char *reason)
{
	struct mail_outcome out = { 0 };
	struct mail_job *job = *job_p;

	mail_outcome_set(&out, MAIL_FAILED, 0, "%s", reason);
	out.recipients = json_array();
	for (size_t i = 0; i < job->nto; i++)
		json_array_append_new(out.recipients, rcpt_json(job->to[i].address, "failed", 0,
								 job->to[i].invalid ? job->to[i].invalid : reason));
	log_notice("job %s via %s: failed: %s", job->id, job->channel, reason);
	s->done(job_p, &out, s->arg);
	mail_job_destroy(job_p);
	mail_outcome_clear(&out);
}

/* smtp_start - set up the easy handle for one message and add it to the multi handle */
void smtp_start(struct smtp *s, struct mail_job **job_p)
{
	struct mail_job *job = *job_p;
	struct send *sd;
	char err[512], *url = NULL, *where = NULL, *from, *key;
	long use_ssl = CURLUSESSL_ALL;
	const char *bad = NULL;
	CURL *e;

	if (smtp_url(job, s->ehlo, &url, &use_ssl, &where, err, sizeof(err))) {
		refuse(s, job_p, err);
		return;
	}
	*job_p = NULL;
	sd = xcalloc(1, sizeof(*sd));
	sd->owner = s;
	key = pool_key(job, where);
	sd->pool = pool_get(s, key);
	free(key);
	sd->job = job;
	sd->where = where;
	sd->started_ms = mail_mono_ms();
	mail_trace_init(&sd->trace);
	e = sd->easy = s->nidle ? s->idle[--s->nidle] : curl_easy_init();
	if (!e)
		fatal("cannot create a curl easy handle");
	sd->sent = xcalloc(job->nto, sizeof(*sd->sent));
	for (size_t i = 0; i < job->nto; i++) {
		char *a;

		if (job->to[i].invalid)
			continue;
		a = xasprintf("<%s>", job->to[i].address);
		sd->rcpts = curl_slist_append(sd->rcpts, a);
		free(a);
		if (!sd->rcpts)
			fatal("out of memory");
		sd->sent[sd->nsent++] = i;
	}
	sd->msg = mail_msg_bytes(job, time(NULL), &sd->msglen);
	/* answer before the lease ends, or the daemon gives the job to another worker */
	sd->timeout = job->timeout;
	if (job->lease > 0 && sd->timeout > job->lease - 10)
		sd->timeout = job->lease - 10 > 5 ? job->lease - 10 : 5;
	from = xasprintf("<%s>", job->from);

#define SET(opt, val) do { if (!bad && curl_easy_setopt(e, opt, val) != CURLE_OK) bad = #opt; } while (0)
	SET(CURLOPT_PRIVATE, (void *)sd);
	SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	SET(CURLOPT_USE_SSL, use_ssl);
	if (job->username) {
		SET(CURLOPT_USERNAME, job->username);
		SET(CURLOPT_PASSWORD, job->password ? job->password : "");
	}
	if (job->ca_file && *job->ca_file)
		SET(CURLOPT_CAINFO, job->ca_file);	/* a server certified by a private CA */
	SET(CURLOPT_MAIL_FROM, from);
	SET(CURLOPT_MAIL_RCPT, sd->rcpts);
	SET(OPT_RCPT_ALLOWFAILS, 1L);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, read_cb);
	SET(CURLOPT_READDATA, (void *)sd);
	SET(CURLOPT_SEEKFUNCTION, seek_cb);
	SET(CURLOPT_SEEKDATA, (void *)sd);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)sd->msglen);
	SET(CURLOPT_CONNECTTIMEOUT, job->connect_timeout);
	SET(CURLOPT_TIMEOUT, sd->timeout);
	SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, sd->timeout);
	SET(CURLOPT_MAXAGE_CONN, (long)MAXAGE_CONN);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, sd->errbuf);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, progress_cb);
	SET(CURLOPT_XFERINFODATA, (void *)sd);
	SET(CURLOPT_DEBUGFUNCTION, mail_trace_debug_cb);
	SET(CURLOPT_DEBUGDATA, &sd->trace);
	SET(CURLOPT_VERBOSE, 1L);	/* only feeds mail_trace_debug_cb: nothing reaches stderr */
#undef SET
	free(url);
	free(from);
	if (bad || curl_multi_add_handle(sd->pool->multi, e) != CURLM_OK) {
		struct mail_job *j = sd->job;

		snprintf(err, sizeof(err), "this libcurl (%s) refused %s", curl_version(), bad ? bad : "the transfer");
		sd->job = NULL;
		send_free(s, sd);
		refuse(s, &j, err);
		return;
	}
	sd->next = s->active;
	s->active = sd;
	s->nactive++;
	sd->pool->nactive++;
	sd->pool->used_ms = mail_mono_ms();
	log_debug("job %s: sending to %zu recipient(s) via %s", job->id, sd->nsent, where);
}
