/*
 * mailin_parse.c - what thidua-mailin takes from a message, with GMime 3: the sender, the
 * Message-ID, whether it is automatic (RFC 3834), the attachments in any nesting (a
 * forwarded message's too) with their names decoded (RFC 2231 and RFC 2047, as Outlook,
 * Gmail and Thunderbird write Vietnamese names), and the first text part as the note.
 * Signatures, and the pictures of an HTML body (an image with a Content-ID inside a
 * multipart/related: a logo) are not attachments; a named image elsewhere is (a phone's
 * photo of the signed report).
 */
#include <ctype.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailin.h"
#include "utf8.h"
#include "xalloc.h"

char *mailin_token(const char *address)
{
	const char *plus, *at;

	if (!address)
		return NULL;
	while (*address == '<' || *address == ' ')
		address++;
	plus = strchr(address, '+');
	at = plus ? strchr(plus, '@') : NULL;
	if (!plus || !at || at == plus + 1 || at - plus > 64)
		return NULL;
	return xstrndup(plus + 1, (size_t)(at - plus - 1));
}

static int is_signature(const char *type)
{
	return !strcmp(type, "application/pgp-signature") || !strcmp(type, "application/pkcs7-signature")
	       || !strcmp(type, "application/x-pkcs7-signature");
}

/* part_bytes - the decoded content of a leaf part */
static GByteArray *part_bytes(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *out;

	if (!w)
		return NULL;
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, mem);
	out = g_byte_array_new();
	g_byte_array_append(out, g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem))->data,
			    g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem))->len);
	g_object_unref(mem);
	return out;
}

static void add_file(struct mailin_msg *m, const char *name, GMimePart *part)
{
	GByteArray *b;
	char *clean;

	if (m->nfiles == MAILIN_MAX_FILES) {
		m->too_many = 1;
		return;
	}
	b = part_bytes(part);
	if (!b)
		return;
	/* a name that is not UTF-8 after decoding (a raw 8-bit name in another charset) is
	 * kept readable: the bad bytes become U+FFFD */
	clean = xstrdup(name);
	utf8_sanitize(clean);
	/* a path a client put in the name: keep its last component that is not empty */
	for (size_t n = strlen(clean); n && strchr("/\\", clean[n - 1]); n--)
		clean[n - 1] = 0;
	for (char *slash; (slash = strpbrk(clean, "/\\")) != NULL;)
		memmove(clean, slash + 1, strlen(slash + 1) + 1);
	if (!*clean) {		/* the name was only slashes */
		free(clean);
		clean = xstrdup("tep-dinh-kem");
	}
	m->files[m->nfiles].name = clean;
	m->files[m->nfiles].size = b->len;
	m->files[m->nfiles].data = xmalloc(b->len ? b->len : 1);
	if (b->len)	/* an empty part's array may have no data at all */
		memcpy(m->files[m->nfiles].data, b->data, b->len);
	m->nfiles++;
	g_byte_array_free(b, TRUE);
}

/* walk - the parts under obj; related: inside a multipart/related, where an image with a
 * Content-ID is a picture of the HTML body (a logo); in a multipart/mixed such an image is
 * a file sent (a phone's mail app sends a photographed page inline, with a Content-ID) */
static void walk(GMimeObject *obj, struct mailin_msg *m, int depth, int related)
{
	GMimeContentType *ct;
	char *type;

	if (!obj || depth > 32)
		return;
	if (GMIME_IS_MESSAGE_PART(obj)) {	/* a forwarded message: its attachments count */
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner)
			walk(g_mime_message_get_mime_part(inner), m, depth + 1, 0);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int rel = g_mime_content_type_is_type(g_mime_object_get_content_type(obj), "multipart", "related");

		for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
			walk(g_mime_multipart_get_part(mp, i), m, depth + 1, rel);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	ct = g_mime_object_get_content_type(obj);
	type = g_mime_content_type_get_mime_type(ct);
	for (char *p = type; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	{
		const char *name = g_mime_part_get_filename(GMIME_PART(obj));
		const char *disp = g_mime_object_get_disposition(obj);
		int inline_image = related && !strncmp(type, "image/", 6) && (!disp || !g_ascii_strcasecmp(disp, "inline"))
				   && g_mime_object_get_header(obj, "Content-ID");

		if (is_signature(type) || inline_image) {
			/* a signature, an image of the body (a logo in a signature): not the report */
		} else if (name && *name) {
			add_file(m, name, GMIME_PART(obj));
		} else if (!m->note && GMIME_IS_TEXT_PART(obj) && !strcmp(type, "text/plain")
			   && !g_mime_part_is_attachment(GMIME_PART(obj))) {
			char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));

			if (text) {
				char *w;

				m->note = xstrdup(text);
				/* lines end in LF, whichever way the message came (a pipe from Postfix
				 * gives LF, IMAP and a raw file CRLF) */
				w = m->note;
				for (const char *r = m->note; *r; r++)
					if (!(r[0] == '\r' && r[1] == '\n'))
						*w++ = *r;
				*w = 0;
				utf8_sanitize(m->note);
				if (strlen(m->note) > MAILIN_MAX_NOTE)
					m->note[utf8_clip(m->note, MAILIN_MAX_NOTE)] = 0;
				g_free(text);
			}
		}
	}
	g_free(type);
}

static char *first_addr(InternetAddressList *l)
{
	for (int i = 0; l && i < internet_address_list_length(l); i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			return xstrdup(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
	}
	return NULL;
}

int mailin_parse(const char *data, size_t size, struct mailin_msg *m, char *why, size_t whysize)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	const char *v;

	memset(m, 0, sizeof(*m));
	g_mime_init();
	stream = g_mime_stream_mem_new_with_buffer(data, size);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (!msg) {
		snprintf(why, whysize, "the input is not a mail message (no header)");
		return -1;
	}
	m->from = first_addr(g_mime_message_get_from(msg));
	v = g_mime_message_get_message_id(msg);
	if (v && *v) {
		m->message_id = xstrdup(v);
		utf8_sanitize(m->message_id);
	}
	if (m->from)
		utf8_sanitize(m->from);
	v = g_mime_object_get_header(GMIME_OBJECT(msg), "Auto-Submitted");
	if (v) {
		while (*v == ' ' || *v == '\t')
			v++;
		m->automatic = g_ascii_strncasecmp(v, "no", 2) != 0 || (v[2] && v[2] != ' ' && v[2] != ';' && v[2] != '\r' && v[2] != '\n');
	}
	v = g_mime_object_get_header(GMIME_OBJECT(msg), "Precedence");
	if (v) {
		while (*v == ' ' || *v == '\t')
			v++;
		if (!g_ascii_strncasecmp(v, "bulk", 4) || !g_ascii_strncasecmp(v, "junk", 4) || !g_ascii_strncasecmp(v, "list", 4))
			m->automatic = 1;
	}
	v = g_mime_object_get_header(GMIME_OBJECT(msg), "Delivered-To");
	m->to_token = mailin_token(v);
	if (!m->to_token) {
		InternetAddressList *to = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO);

		for (int i = 0; !m->to_token && to && i < internet_address_list_length(to); i++) {
			InternetAddress *a = internet_address_list_get_address(to, i);

			if (INTERNET_ADDRESS_IS_MAILBOX(a))
				m->to_token = mailin_token(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
		}
	}
	walk(g_mime_message_get_mime_part(msg), m, 0, 0);
	g_object_unref(msg);
	return 0;
}

void mailin_msg_free(struct mailin_msg *m)
{
	free(m->from);
	free(m->message_id);
	free(m->note);
	free(m->to_token);
	for (size_t i = 0; i < m->nfiles; i++) {
		free(m->files[i].name);
		free(m->files[i].data);
	}
	memset(m, 0, sizeof(*m));
}
