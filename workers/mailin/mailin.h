/*
 * mailin.h - thidua-mailin: one message from the mail server (a Postfix pipe transport)
 * kept in STATE_DIR/inbox and handed to thiduad (op inbox.deliver). The MIME parsing is
 * here (GMime 3), so the daemon never parses mail.
 */
#ifndef THIDUA_MAILIN_H
#define THIDUA_MAILIN_H

#include <stddef.h>

/* sysexits.h: Postfix keeps and retries a message on 75, bounces it on 65 */
enum { MAILIN_OK = 0, MAILIN_DATAERR = 65, MAILIN_USAGE = 64, MAILIN_TEMPFAIL = 75 };

#define MAILIN_MAX_FILES 64	/* the daemon takes up to 64 file frames */
#define MAILIN_MAX_NOTE 10000	/* the daemon's limit for a submission's note */

struct mailin_file {
	char *name;		/* UTF-8, as the sender's program named it */
	unsigned char *data;
	size_t size;
};

struct mailin_msg {
	char *from;		/* the From address, or NULL */
	char *message_id;	/* without <>, or NULL */
	char *note;		/* the text part, UTF-8, cut to MAILIN_MAX_NOTE bytes; or NULL */
	int automatic;		/* RFC 3834: Auto-Submitted other than "no", Precedence bulk/junk/list */
	char *to_token;		/* a +TOKEN found in Delivered-To or To, when no recipient was given */
	struct mailin_file files[MAILIN_MAX_FILES];
	size_t nfiles;
	int too_many;		/* more attachments than MAILIN_MAX_FILES: the rest are left out */
};

/* mailin_parse - data[0..size) into *m; 0, or -1 with why */
int mailin_parse(const char *data, size_t size, struct mailin_msg *m, char *why, size_t whysize);
void mailin_msg_free(struct mailin_msg *m);
/* mailin_token - the TOKEN of "LOCAL+TOKEN@DOMAIN" (malloc'd), or NULL */
char *mailin_token(const char *address);

/* mailin_handover.c: shared by thidua-mailin and thidua-imap */
#include <jansson.h>
extern const char *mailin_prog;		/* names the program in messages on stderr */
int mailin_keep(const char *state_dir, const char *data, size_t len, char *name, size_t namesize);
json_t *mailin_request(const struct mailin_msg *m, const char *name, size_t len, const char *recipient, const char *sender);
int mailin_deliver(const char *endpoint, double timeout, json_t *req, const struct mailin_msg *m);
int mailin_handover(const char *state_dir, const char *endpoint, double timeout, const char *data, size_t len,
		    const char *recipient, const char *sender);

#endif
