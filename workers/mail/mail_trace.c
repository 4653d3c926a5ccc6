/*
 * mail_trace.c - the SMTP transcript of one transfer, read through libcurl's debug
 * callback. libcurl tells how a whole transfer ended (CURLINFO_RESPONSE_CODE) but not
 * which recipients a server refused when CURLOPT_MAIL_RCPT_ALLOWFAILS lets it go on;
 * the transcript does: libcurl sends RCPT TO one at a time and waits for each answer,
 * so the n-th answer to RCPT is the n-th recipient's. It also gives the server's own
 * words for the answer to the message data ("250 2.0.0 Ok: queued as ...").
 *
 * Owns the array of RCPT answers. Of the lines libcurl sends only the verb is looked at;
 * AUTH and its SASL continuation lines are never kept and are logged as "(hidden)".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mail.h"
#include "xalloc.h"

/* mail_trace_init - an empty transcript */
void mail_trace_init(struct mail_trace *t)
{
	memset(t, 0, sizeof(*t));
	t->cmd = TRACE_GREETING;
}

/* mail_trace_reset - forget the previous transfer, keep the allocation */
void mail_trace_reset(struct mail_trace *t)
{
	struct trace_reply *rcpt = t->rcpt;
	size_t cap = t->caprcpt;

	mail_trace_init(t);
	t->rcpt = rcpt;
	t->caprcpt = cap;
}

/* mail_trace_free - release the RCPT answers */
void mail_trace_free(struct mail_trace *t)
{
	free(t->rcpt);
	mail_trace_init(t);
}

/* verb_of - the command a line sent by libcurl starts with */
static enum trace_cmd verb_of(const char *data, size_t len)
{
	static const struct { const char *verb; enum trace_cmd cmd; } verbs[] = {
		{ "EHLO", TRACE_EHLO }, { "HELO", TRACE_HELO }, { "STARTTLS", TRACE_STARTTLS },
		{ "AUTH", TRACE_AUTH }, { "MAIL", TRACE_MAIL }, { "RCPT", TRACE_RCPT },
		{ "DATA", TRACE_DATA }, { "QUIT", TRACE_QUIT },
	};
	size_t n = 0;

	while (n < len && n < 16 && isalpha((unsigned char)data[n]))
		n++;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].verb) == n && !strncasecmp(data, verbs[i].verb, n))
			return verbs[i].cmd;
	return TRACE_OTHER;
}

/* mail_trace_out - note which command the next reply answers */
void mail_trace_out(struct mail_trace *t, const char *data, size_t len)
{
	enum trace_cmd cmd;

	/* after "334" the client's lines are SASL responses: credentials, not commands */
	if (t->cmd == TRACE_AUTH && t->last.code == 334)
		cmd = TRACE_AUTH;
	else
		cmd = verb_of(data, len);
	if (log_verbosity() >= 2) {
		if (cmd == TRACE_AUTH)
			log_debug("smtp > AUTH (hidden)");
		else {
			size_t n = len;

			while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
				n--;
			log_debug("smtp > %.*s", (int)(n > 200 ? 200 : n), data);
		}
	}
	t->cmd = cmd;
}

/* reply_done - a complete reply: file it under the command it answers */
static void reply_done(struct mail_trace *t)
{
	struct trace_reply *r = &t->cur;

	r->cmd = t->cmd;
	t->nreplies++;
	t->last = *r;
	switch (t->cmd) {
	case TRACE_RCPT:
		if (t->nrcpt == t->caprcpt) {
			t->caprcpt = t->caprcpt ? t->caprcpt * 2 : 8;
			t->rcpt = xrealloc(t->rcpt, t->caprcpt * sizeof(*t->rcpt));
		}
		t->rcpt[t->nrcpt++] = *r;
		break;
	case TRACE_DATA:
		if (r->code == 354)
			t->cmd = TRACE_BODY;	/* the next reply answers the message itself */
		else if (r->code >= 400)
			t->fail = *r;
		break;
	case TRACE_BODY:
		t->end = *r;
		if (r->code >= 400)
			t->fail = *r;
		t->cmd = TRACE_OTHER;
		break;
	case TRACE_GREETING: case TRACE_HELO: case TRACE_STARTTLS: case TRACE_AUTH: case TRACE_MAIL:
		if (r->code >= 400)
			t->fail = *r;
		break;
	default:		/* EHLO falls back to HELO; QUIT's answer changes nothing */
		break;
	}
	memset(r, 0, sizeof(*r));
}

/* reply_line - one line "NNN-text" (more follow) or "NNN text" (the last) */
static void reply_line(struct mail_trace *t, const char *line, size_t len)
{
	struct trace_reply *r = &t->cur;
	size_t used = strlen(r->text);
	int code = 0, last = 1;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return;
	log_debug("smtp < %.*s", (int)(len > 300 ? 300 : len), line);
	if (len >= 3 && isdigit((unsigned char)line[0]) && isdigit((unsigned char)line[1])
	    && isdigit((unsigned char)line[2])) {
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		last = len == 3 || line[3] != '-';
	}
	if (!r->code) {
		r->code = code;
		/* the first line is kept whole: "550 5.1.1 ..." */
		used = 0;
	} else {
		/* continuation lines add their text after the code */
		if (len > 4 && code) {
			line += 4;
			len -= 4;
		}
		if (used + 1 < sizeof(r->text))
			r->text[used++] = ' ';
	}
	if (len > sizeof(r->text) - 1 - used)
		len = sizeof(r->text) - 1 - used;
	for (size_t i = 0; i < len; i++)	/* keep it one printable line */
		r->text[used + i] = (unsigned char)line[i] < 0x20 ? ' ' : line[i];
	r->text[used + len] = 0;
	if (r->code && r->text[3] == '-' && used == 0)
		r->text[3] = ' ';
	if (last)
		reply_done(t);
}

/* mail_trace_in - split what libcurl received into reply lines */
void mail_trace_in(struct mail_trace *t, const char *data, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) + 1 : len;

		reply_line(t, data, n);
		data += n;
		len -= n;
	}
}

/* mail_trace_debug_cb - feed the transcript; everything else libcurl says is left out */
int mail_trace_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
	struct mail_trace *t = userp;

	(void)easy;
	if (type == CURLINFO_HEADER_OUT)
		mail_trace_out(t, data, size);
	else if (type == CURLINFO_HEADER_IN)
		mail_trace_in(t, data, size);
	else if (type == CURLINFO_TEXT && log_verbosity() >= 3)
		log_debug("curl: %.*s", (int)(size && data[size - 1] == '\n' ? size - 1 : size), data);
	return 0;
}
