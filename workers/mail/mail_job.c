/*
 * mail_job.c - a mail job as thiduad sends it (docs/JOBS.md, "Payloads"): read from JSON
 * into plain strings the rest of the worker uses, with everything checked that could
 * make a header or an envelope wrong. Owns all its strings; the password is wiped
 * before it is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mail.h"
#include "mailmsg.h"
#include "mailhdr.h"
#include "xalloc.h"

/* mail_job_new - an empty job carrying the daemon's id */
struct mail_job *mail_job_new(const char *id)
{
	struct mail_job *job = xcalloc(1, sizeof(*job));

	job->id = xstrdup(id ? id : "");
	job->attempt = 1;
	job->connect_timeout = 10;
	job->timeout = 60;
	return job;
}

/* mail_job_destroy - free the job and clear the caller's pointer; accepts NULL */
void mail_job_destroy(struct mail_job **self_p)
{
	struct mail_job *job = self_p ? *self_p : NULL;

	if (!job)
		return;
	if (job->password) {
		explicit_bzero(job->password, strlen(job->password));
		free(job->password);
	}
	free(job->id);
	free(job->channel);
	free(job->url);
	free(job->tls);
	free(job->username);
	free(job->ca_file);
	free(job->from);
	free(job->from_name);
	for (size_t i = 0; i < job->nto; i++) {
		free(job->to[i].address);
		free(job->to[i].name);
	}
	free(job->to);
	free(job->subject);
	free(job->text);
	free(job->html);
	free(job->message_id);
	free(job->reply_to);
	free(job->dedup_key);
	free(job);
	*self_p = NULL;
}

/* opt_string - a copy of a string member; NULL when absent or null; -1 if another type */
static int opt_string(const json_t *o, const char *key, char **out)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* opt_seconds - a positive number of seconds in [1, 3600], or the default */
static int opt_seconds(const json_t *o, const char *key, long *out)
{
	const json_t *v = json_object_get(o, key);
	double d;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v))
		return -1;
	d = json_number_value(v);
	if (d < 1 || d > 3600)
		return -1;
	*out = (long)d;
	return 0;
}

/* add_rcpt - one recipient; repeats of an address (any case) are dropped */
static void add_rcpt(struct mail_job *job, const char *address, const char *name)
{
	struct mail_rcpt *r;

	for (size_t i = 0; i < job->nto; i++)
		if (!strcasecmp(job->to[i].address, address))
			return;
	job->to = xrealloc(job->to, (job->nto + 1) * sizeof(*job->to));
	r = &job->to[job->nto++];
	r->address = xstrdup(address);
	r->name = name && *name ? xstrdup(name) : NULL;
	r->invalid = mailmsg_address_valid(address) ? NULL : "not a valid address (ASCII local@domain expected)";
}

/* mail_job_parse - the job message: {job, attempt, lease, payload: {channel, from, to, ...}} */
int mail_job_parse(struct mail_job *job, const json_t *msg, char *err, size_t errsize)
{
	const json_t *payload = json_object_get(msg, "payload"), *ch, *to, *v;
	size_t i, valid = 0;

	v = json_object_get(msg, "attempt");
	if (json_is_integer(v))
		job->attempt = (int)json_integer_value(v);
	v = json_object_get(msg, "lease");
	if (json_is_number(v) && json_number_value(v) > 0)
		job->lease = (long)json_number_value(v);
	if (!json_is_object(payload)) {
		snprintf(err, errsize, "the job has no payload object");
		return -1;
	}
	ch = json_object_get(payload, "channel");
	if (!json_is_object(ch)) {
		snprintf(err, errsize, "the job's payload has no channel object");
		return -1;
	}
	if (opt_string(ch, "name", &job->channel) || opt_string(ch, "url", &job->url) || !job->url
	    || opt_string(ch, "tls", &job->tls) || opt_string(ch, "username", &job->username)
	    || opt_string(ch, "password", &job->password) || opt_string(ch, "ca_file", &job->ca_file)) {
		snprintf(err, errsize, "channel: url (a string) is required; name, tls, username, password and ca_file"
			 " are strings");
		return -1;
	}
	if (!job->channel)
		job->channel = xstrdup("?");
	if (!job->tls)
		job->tls = xstrdup("starttls");
	if (job->username && !*job->username) {
		free(job->username);
		job->username = NULL;
	}
	if (opt_seconds(ch, "connect_timeout", &job->connect_timeout) || opt_seconds(ch, "timeout", &job->timeout)) {
		snprintf(err, errsize, "channel %s: connect_timeout and timeout are seconds from 1 to 3600", job->channel);
		return -1;
	}
	v = json_object_get(ch, "utc_offset");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < -14 * 3600 || json_integer_value(v) > 14 * 3600) {
			snprintf(err, errsize, "channel %s: utc_offset is seconds east of UTC, from -50400 to 50400",
				 job->channel);
			return -1;
		}
		job->utc_offset = (int)json_integer_value(v);
	}
	/* the message's sender, else the channel's (thiduad's operator alerts carry none) */
	if (opt_string(payload, "from", &job->from) || (!job->from && opt_string(ch, "from", &job->from)) || !job->from) {
		snprintf(err, errsize, "the message has no sender address ('from', in the payload or the channel)");
		return -1;
	}
	if (!mailmsg_address_valid(job->from)) {
		snprintf(err, errsize, "the sender address '%.200s' is not valid (ASCII local@domain expected)", job->from);
		return -1;
	}
	if (opt_string(payload, "from_name", &job->from_name) || opt_string(payload, "subject", &job->subject)
	    || opt_string(payload, "text", &job->text) || opt_string(payload, "html", &job->html)
	    || opt_string(payload, "message_id", &job->message_id) || opt_string(payload, "dedup_key", &job->dedup_key)) {
		snprintf(err, errsize, "from_name, subject, text, html, message_id and dedup_key must be strings (or null)");
		return -1;
	}
	if (!job->from_name && opt_string(ch, "from_name", &job->from_name)) {
		snprintf(err, errsize, "channel %s: from_name must be a string", job->channel);
		return -1;
	}
	if (!job->subject)
		job->subject = xstrdup("");
	if (!job->text)
		job->text = xstrdup("");
	if (job->message_id && !*job->message_id) {
		free(job->message_id);
		job->message_id = NULL;
	}
	if (!job->message_id && job->dedup_key && *job->dedup_key) {
		/* the daemon's own derivation: the same key, the same Message-ID */
		char mid[MAILHDR_ID_MAX];

		mail_message_id(job->dedup_key, job->from, mid, sizeof(mid));
		job->message_id = xstrdup(mid);
	}
	if (!job->message_id) {
		snprintf(err, errsize, "the message has neither message_id nor dedup_key");
		return -1;
	}
	if (!mailmsg_message_id_valid(job->message_id)) {
		snprintf(err, errsize, "message_id '%.200s' is not <left@right> in printable ASCII", job->message_id);
		return -1;
	}
	if (opt_string(payload, "reply_to", &job->reply_to) || (job->reply_to && !mailmsg_address_valid(job->reply_to))) {
		snprintf(err, errsize, "reply_to '%.200s' is not an address (ASCII local@domain expected)",
			 job->reply_to ? job->reply_to : "(not a string)");
		return -1;
	}
	to = json_object_get(payload, "to");
	if (!json_is_array(to) || json_array_size(to) == 0) {
		snprintf(err, errsize, "the message has no recipients ('to' must be a non-empty array)");
		return -1;
	}
	json_array_foreach(to, i, v) {
		const char *addr = json_is_string(v) ? json_string_value(v)
				   : json_string_value(json_object_get(v, "address"));
		const char *name = json_is_object(v) ? json_string_value(json_object_get(v, "name")) : NULL;

		if (!addr) {
			snprintf(err, errsize, "recipient %zu has no address", i + 1);
			return -1;
		}
		add_rcpt(job, addr, name);
	}
	for (i = 0; i < job->nto; i++)
		valid += job->to[i].invalid == NULL;
	if (!valid) {
		snprintf(err, errsize, "no recipient has a valid address (first: '%.200s')", job->to[0].address);
		return -1;
	}
	return 0;
}
