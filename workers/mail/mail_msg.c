/*
 * mail_msg.c - the message of a job: header fields and a MIME body built with libcurl's
 * mime API (curl_mime_*), which writes the boundaries and the transfer encoding.
 *
 * Choices, for mail that reads right on any server and in any client:
 * - text parts are UTF-8, sent quoted-printable: 7-bit clean (no 8BITMIME needed on the
 *   path), lines kept under 76 characters by libcurl's encoder, the ASCII parts (codes,
 *   dates, links) still readable in the raw message; line breaks are made CRLF first,
 *   the canonical form of text/ (RFC 2046), so they stay line breaks;
 * - Subject and display names are RFC 2047 "B" encoded-words when not plain ASCII, never
 *   inside a quoted-string (RFC 2047 section 5 forbids it); plain ASCII names with specials
 *   are quoted instead. The Subject's encoded-words end at spaces (rfc2047_encode); a
 *   display name never has two encoded-words side by side (rfc2047_phrase), because
 *   readers disagree on the space between them (Python's email showed "huyện C ủ Chi");
 * - libcurl always makes the top level multipart/mixed; with an HTML version its one
 *   part is multipart/alternative (text first, HTML last: the last is preferred).
 * Every value put in a header is either encoded, or checked to hold no CR, LF or other
 * control character (msg_address_valid, msg_message_id_valid), so a payload cannot add
 * header fields of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "log.h"
#include "mail.h"
#include "mailhdr.h"
#include "xalloc.h"

/* msg_address_valid - local@domain, printable ASCII without the characters that would
 * need quoting in a header (no SMTPUTF8: the envelope and the header stay 7-bit) */
int msg_address_valid(const char *addr)
{
	const char *at = strchr(addr, '@');
	size_t len = strlen(addr);

	if (!at || at == addr || at[1] == 0 || strchr(at + 1, '@') || len > 254)
		return 0;
	if (at[1] == '.' || addr[len - 1] == '.' || addr[0] == '.' || at[-1] == '.')
		return 0;
	for (const char *p = addr; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p > '~' || strchr("<>()[],;:\"\\", *p))
			return 0;
	return 1;
}

/* msg_message_id_valid - "<id-left@id-right>", printable ASCII, at most 250 bytes */
int msg_message_id_valid(const char *id)
{
	size_t len = strlen(id);
	const char *at;

	if (len < 5 || len > 250 || id[0] != '<' || id[len - 1] != '>')
		return 0;
	at = strchr(id, '@');
	if (!at || at == id + 1 || at == id + len - 2 || strchr(at + 1, '@'))
		return 0;
	for (size_t i = 1; i + 1 < len; i++)
		if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] > '~' || id[i] == '<' || id[i] == '>')
			return 0;
	return 1;
}

/* is_atext - RFC 5322 atext, or a space between words */
static int is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' '
	       || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* phrase - a display name as header text: encoded-words and atoms (rfc2047_phrase), or
 * a quoted-string for plain ASCII with specials; col is where it starts on its line */
static char *phrase(const char *name, size_t col)
{
	char *enc = rfc2047_phrase(name, col), *out, *o;
	size_t len = strlen(name);
	int plain = len > 0 && name[0] != ' ' && name[len - 1] != ' ';

	if (strcmp(enc, name))
		return enc;	/* non-ASCII, control characters or "=?": encoded-words */
	free(enc);
	for (const char *p = name; *p && plain; p++)
		plain = is_atext(*p);
	if (plain)
		return xstrdup(name);
	out = o = xmalloc(len * 2 + 3);
	*o++ = '"';
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '"';
	*o = 0;
	return out;
}

/* msg_mailbox - name-addr when there is a name, else the bare address; after encoded-words
 * the address goes on a line of its own. col: the column the mailbox starts at. */
char *msg_mailbox(const char *name, const char *addr, size_t col)
{
	char *p, *out;

	if (!name || !*name)
		return xstrdup(addr);
	p = phrase(name, col);
	out = xasprintf("%s%s<%s>", p, strstr(p, "=?") ? "\r\n " : " ", addr);
	free(p);
	return out;
}

/* msg_crlf - CRLF, lone LF and lone CR all become CRLF */
char *msg_crlf(const char *text)
{
	size_t len = strlen(text), o = 0;
	char *out = xmalloc(len * 2 + 1);

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r') {
			if (text[i + 1] == '\n')
				i++;
			out[o++] = '\r';
			out[o++] = '\n';
		} else if (text[i] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
		} else {
			out[o++] = text[i];
		}
	}
	out[o] = 0;
	return out;
}

/* append - curl_slist_append that ends the process on exhaustion; frees line */
static struct curl_slist *append(struct curl_slist *list, char *line)
{
	struct curl_slist *l = curl_slist_append(list, line);

	if (!l)
		fatal("out of memory");
	free(line);
	return l;
}

/* field - "Name: value". Not folded after the colon even where the first encoded-word
 * makes the line longer than the 76 characters RFC 2047 asks for ("Subject: " and a
 * full word are 81): readers keep the folding space as a leading space of the value
 * (Python's email does), which is worse than a line of 81 of the 998 SMTP allows. */
static struct curl_slist *field(struct curl_slist *list, const char *name, const char *value)
{
	return append(list, xasprintf("%s: %s", name, value));
}

/* msg_headers - Date (in the movement's time zone, as thiduad's .eml files), From, To,
 * Subject, Message-ID, MIME-Version and ours; the To list is folded one mailbox a line so
 * no line nears the 998-byte limit */
struct curl_slist *msg_headers(const struct mail_job *job, time_t date)
{
	struct curl_slist *h = NULL;
	char when[64], *to = NULL, *subject;
	size_t used = 0;

	mail_date(date, job->utc_offset, when, sizeof(when));
	h = append(h, xasprintf("Date: %s", when));
	{
		char *from = msg_mailbox(job->from_name, job->from, sizeof("From: ") - 1);

		h = field(h, "From", from);
		free(from);
	}
	for (size_t i = 0; i < job->nto; i++) {
		char *mb, *next;

		if (job->to[i].invalid)
			continue;
		mb = msg_mailbox(job->to[i].name, job->to[i].address, used ? 1 : sizeof("To: ") - 1);
		next = xasprintf("%s%s%s", to ? to : "", used ? ",\r\n " : "", mb);
		free(to);
		free(mb);
		to = next;
		used++;
	}
	h = field(h, "To", to ? to : "undisclosed-recipients:;");
	free(to);
	if (job->reply_to)
		h = field(h, "Reply-To", job->reply_to);
	subject = rfc2047_encode(job->subject);
	h = field(h, "Subject", subject);
	free(subject);
	h = append(h, xasprintf("Message-ID: %s", job->message_id));
	h = append(h, xstrdup("MIME-Version: 1.0"));
	/* RFC 3834: an automatic message; out-of-office replies should not answer it */
	h = append(h, xstrdup("Auto-Submitted: auto-generated"));
	if (job->dedup_key && *job->dedup_key) {
		char *key = rfc2047_encode(job->dedup_key);

		h = field(h, "X-Thidua-Dedup-Key", key);
		free(key);
	}
	return h;
}

/* text_part - one UTF-8 text part, quoted-printable */
static void text_part(curl_mime *mime, const char *text, const char *type)
{
	curl_mimepart *part = curl_mime_addpart(mime);
	char *canon = msg_crlf(text);

	if (!part || curl_mime_data(part, canon, CURL_ZERO_TERMINATED) != CURLE_OK
	    || curl_mime_type(part, type) != CURLE_OK || curl_mime_encoder(part, "quoted-printable") != CURLE_OK)
		fatal("cannot build a MIME part (out of memory?)");
	free(canon);
}

/* msg_mime - the body; freed by the caller with curl_mime_free after the transfer */
curl_mime *msg_mime(CURL *easy, const struct mail_job *job)
{
	curl_mime *mime = curl_mime_init(easy), *alt;
	curl_mimepart *part;

	if (!mime)
		fatal("out of memory");
	if (!job->html) {
		text_part(mime, job->text, "text/plain; charset=UTF-8");
		return mime;
	}
	alt = curl_mime_init(easy);
	if (!alt)
		fatal("out of memory");
	text_part(alt, job->text, "text/plain; charset=UTF-8");
	text_part(alt, job->html, "text/html; charset=UTF-8");
	part = curl_mime_addpart(mime);
	if (!part || curl_mime_subparts(part, alt) != CURLE_OK
	    || curl_mime_type(part, "multipart/alternative") != CURLE_OK)
		fatal("cannot build a MIME part (out of memory?)");
	return mime;
}
