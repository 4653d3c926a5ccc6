/*
 * mailmsg.h - the one RFC 5322 writer: a whole message (header fields and MIME body) as the
 * bytes that go on the wire. thiduad's spool writes them to its .eml files
 * (daemon/outbox/spool.c) and thidua-mail hands them to libcurl (workers/mail): the same
 * message gives the same bytes in both.
 *
 * What it writes, for mail that reads right on any server and in any client:
 * - CRLF line ends, 7-bit clean (no 8BITMIME needed on the path), no line over 998;
 * - Date (mail_date, the movement's time zone), From, To (one mailbox a line), Reply-To,
 *   Subject, Message-ID, MIME-Version, Auto-Submitted (RFC 3834), X-Thidua-Dedup-Key;
 * - Subject and display names as RFC 2047 "B" encoded-words when not plain ASCII (b64.h:
 *   rfc2047_encode, rfc2047_phrase), never inside a quoted-string; plain ASCII names with
 *   specials are quoted instead; after a name in encoded-words the address goes on a line
 *   of its own. A header field is not folded after its colon even where the first
 *   encoded-word makes the line longer than 76 ("Subject: " and a full word are 81):
 *   readers keep the folding space as a leading space of the value;
 * - text parts in UTF-8, their line breaks made CRLF first (the canonical form of text/,
 *   RFC 2046), quoted-printable (lines of at most 76, a character's bytes never split
 *   across lines) or base64;
 * - text only: one text/plain body; with HTML: multipart/mixed holding a
 *   multipart/alternative of the text and the HTML (the last is preferred). Boundaries
 *   are derived from the Message-ID, start with "=_" (which quoted-printable and base64
 *   never write) and so never occur in a part.
 * Every value put in a header is either encoded, or must hold no CR, LF or other control
 * character: the caller checks addresses and the Message-ID (mailmsg_address_valid,
 * mailmsg_message_id_valid), so a payload cannot add header fields of its own.
 */
#ifndef THIDUA_MAILMSG_H
#define THIDUA_MAILMSG_H

#include <stddef.h>
#include <time.h>

enum mailmsg_encoding { MAILMSG_QP, MAILMSG_BASE64 };

struct mailmsg_rcpt {
	const char *address;
	const char *name;		/* display name, or NULL */
};

struct mailmsg {
	time_t date;
	int utc_offset;			/* the Date's time zone, seconds east of UTC */
	const char *from, *from_name;	/* from_name may be NULL */
	const struct mailmsg_rcpt *to;
	size_t nto;			/* none: "To: undisclosed-recipients:;" */
	const char *reply_to;		/* an address, or NULL */
	const char *subject;
	const char *message_id;		/* "<left@right>" (mail_message_id) */
	const char *dedup_key;		/* X-Thidua-Dedup-Key, or NULL */
	const char *text;
	const char *html;		/* NULL: text only */
	enum mailmsg_encoding encoding;	/* of the text parts */
};

/* mailmsg_write - the whole message; a fresh string of *len bytes (len may be NULL) */
char *mailmsg_write(const struct mailmsg *m, size_t *len);

/* mailmsg_address_valid - an ASCII addr-spec fit for an envelope and a header */
int mailmsg_address_valid(const char *addr);

/* mailmsg_message_id_valid - "<left@right>" in printable ASCII, at most 250 bytes */
int mailmsg_message_id_valid(const char *id);

/* mailmsg_mailbox - "Display Name <addr>" with the name encoded or quoted as needed,
 * starting at column col; the bare address when name is NULL or empty. Fresh string. */
char *mailmsg_mailbox(const char *name, const char *addr, size_t col);

/* mailmsg_crlf - text with every line break (CRLF, lone LF, lone CR) as CRLF */
char *mailmsg_crlf(const char *text);

/* mailmsg_qp - text (line breaks as CRLF) quoted-printable, lines of at most 76; a text that
 * does not end with a line break ends with a soft one. Fresh string. */
char *mailmsg_qp(const char *text);

#endif
