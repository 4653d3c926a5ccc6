/*
 * mailmsg.c - the one RFC 5322 writer (mailmsg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "buf.h"
#include "mailhdr.h"
#include "mailmsg.h"
#include "sha256.h"
#include "xalloc.h"

#define QP_LINE 76			/* RFC 2045: at most 76 characters, the soft break's '=' included */
#define B64_LINE 76

int mailmsg_address_valid(const char *addr)
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

int mailmsg_message_id_valid(const char *id)
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

char *mailmsg_mailbox(const char *name, const char *addr, size_t col)
{
	char *p, *out;

	if (!name || !*name)
		return xstrdup(addr);
	p = phrase(name, col);
	out = xasprintf("%s%s<%s>", p, strstr(p, "=?") ? "\r\n " : " ", addr);
	free(p);
	return out;
}

char *mailmsg_crlf(const char *text)
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

/* qp_unit - how many input bytes the next unit of s takes (a whole UTF-8 character's
 * bytes go on one line) and whether it is written as =XX escapes */
static size_t qp_unit(const unsigned char *s, int *escape)
{
	size_t n = 1;

	if (s[0] >= 0x80) {
		size_t want = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;

		while (n < want && s[n] >= 0x80 && s[n] < 0xC0)
			n++;
		*escape = 1;
		return n;
	}
	if (s[0] == ' ' || s[0] == '\t')	/* white space before a line break must be escaped */
		*escape = s[1] == 0 || (s[1] == '\r' && s[2] == '\n');
	else
		*escape = s[0] < ' ' || s[0] > '~' || s[0] == '=';
	return n;
}

char *mailmsg_qp(const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)text;
	struct buf b = { 0 };
	size_t col = 0;

	while (*s) {
		size_t n, width;
		int escape;

		if (s[0] == '\r' && s[1] == '\n') {
			BUF_PUT(&b, "\r\n");
			s += 2;
			col = 0;
			continue;
		}
		n = qp_unit(s, &escape);
		width = escape ? 3 * n : n;
		if (col + width > QP_LINE - 1) {	/* room for the soft break's '=' */
			BUF_PUT(&b, "=\r\n");
			col = 0;
		}
		for (size_t i = 0; i < n; i++) {
			if (escape) {
				char e[3] = { '=', hex[s[i] >> 4], hex[s[i] & 15] };

				buf_put(&b, e, 3);
			} else {
				buf_put(&b, (const char *)s + i, 1);
			}
		}
		col += width;
		s += n;
	}
	if (b.len && !(b.len >= 2 && b.p[b.len - 2] == '\r' && b.p[b.len - 1] == '\n'))
		BUF_PUT(&b, "=\r\n");	/* the wire ends its lines; the text does not */
	if (!b.p)
		return xstrdup("");
	return b.p;
}

/* b64_lines - base64 in lines of 76, each ended by CRLF */
static void b64_lines(struct buf *b, const char *data)
{
	char *enc = b64_encode(data, strlen(data));
	size_t len = strlen(enc);

	for (size_t i = 0; i < len; i += B64_LINE) {
		buf_put(b, enc + i, len - i < B64_LINE ? len - i : B64_LINE);
		BUF_PUT(b, "\r\n");
	}
	free(enc);
}

/* text_part - Content-Type and Content-Transfer-Encoding, a blank line, the encoded text */
static void text_part(struct buf *b, const char *text, const char *subtype, enum mailmsg_encoding enc)
{
	char *canon = mailmsg_crlf(text);

	buf_printf(b, "Content-Type: text/%s; charset=UTF-8\r\nContent-Transfer-Encoding: %s\r\n\r\n", subtype,
		   enc == MAILMSG_BASE64 ? "base64" : "quoted-printable");
	if (enc == MAILMSG_BASE64) {
		b64_lines(b, canon);
	} else {
		char *qp = mailmsg_qp(canon);

		buf_put(b, qp, strlen(qp));
		free(qp);
	}
	free(canon);
}

/* field - "Name: value\r\n" */
static void field(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "%s: %s\r\n", name, value);
}

/* headers - the fields every message has, in the order thidua has always sent them */
static void headers(struct buf *b, const struct mailmsg *m)
{
	char when[64], *from, *subject;
	size_t used = 0;

	mail_date(m->date, m->utc_offset, when, sizeof(when));
	field(b, "Date", when);
	from = mailmsg_mailbox(m->from_name, m->from, sizeof("From: ") - 1);
	field(b, "From", from);
	free(from);
	BUF_PUT(b, "To: ");
	for (size_t i = 0; i < m->nto; i++) {
		/* one mailbox a line, so no line nears the 998-byte limit */
		char *mb = mailmsg_mailbox(m->to[i].name, m->to[i].address, used ? 1 : sizeof("To: ") - 1);

		buf_printf(b, "%s%s", used ? ",\r\n " : "", mb);
		free(mb);
		used++;
	}
	if (!used)
		BUF_PUT(b, "undisclosed-recipients:;");
	BUF_PUT(b, "\r\n");
	if (m->reply_to)
		field(b, "Reply-To", m->reply_to);
	subject = rfc2047_encode(m->subject ? m->subject : "");
	field(b, "Subject", subject);
	free(subject);
	field(b, "Message-ID", m->message_id);
	field(b, "MIME-Version", "1.0");
	/* RFC 3834: an automatic message; out-of-office replies should not answer it */
	field(b, "Auto-Submitted", "auto-generated");
	if (m->dedup_key && *m->dedup_key) {
		char *key = rfc2047_encode(m->dedup_key);

		field(b, "X-Thidua-Dedup-Key", key);
		free(key);
	}
}

char *mailmsg_write(const struct mailmsg *m, size_t *len)
{
	struct buf b = { 0 };

	headers(&b, m);
	if (!m->html) {
		text_part(&b, m->text ? m->text : "", "plain", m->encoding);
	} else {
		char hex[65], mixed[48], alt[48];

		/* from the Message-ID: the same message, the same bytes */
		sha256_hex(m->message_id, strlen(m->message_id), hex);
		snprintf(mixed, sizeof(mixed), "=_thidua_%.24s_m", hex);
		snprintf(alt, sizeof(alt), "=_thidua_%.24s_a", hex);
		buf_printf(&b, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n--%s\r\n", mixed, mixed);
		buf_printf(&b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n--%s\r\n", alt, alt);
		text_part(&b, m->text ? m->text : "", "plain", m->encoding);
		buf_printf(&b, "\r\n--%s\r\n", alt);
		text_part(&b, m->html, "html", m->encoding);
		buf_printf(&b, "\r\n--%s--\r\n\r\n--%s--\r\n", alt, mixed);
	}
	if (len)
		*len = b.len;
	return b.p;
}
