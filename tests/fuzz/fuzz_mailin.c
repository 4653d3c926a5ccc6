/*
 * fuzz_mailin.c - libFuzzer target: the input is a mail message as thidua-mailin reads it
 * from Postfix (or thidua-imap fetches it). It goes through mailin_parse() (GMime 3) and
 * mailin_request(), which builds the inbox.deliver request, and that request through the
 * daemon's own decoder (request_decode), as api.c would.
 *
 * Properties: no crash, leak or undefined behaviour; every string taken from the message
 * (sender, Message-ID, note, file names, token) is UTF-8, a note is at most
 * MAILIN_MAX_NOTE bytes, a file name is not empty and has no directory in it, at most
 * MAILIN_MAX_FILES files; the request names every file (a string jansson refused would
 * be dropped, and the daemon would refuse the request for ever: the mail server would
 * retry it until it gives up) and the daemon decodes it.
 */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jdump.h"
#include "mailin.h"
#include "request.h"
#include "utf8.h"

static void check_str(const char *s)
{
	if (s)
		FUZZ_ASSERT(utf8_valid_str(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailin_msg m;
	char why[256];
	json_t *req, *body = NULL;
	const char *op, *id, *code;
	char *text, *msg = NULL;

	if (mailin_parse((const char *)data, size, &m, why, sizeof(why))) {
		FUZZ_ASSERT(utf8_valid_str(why));
		memset(&m, 0, sizeof(m));	/* thidua-mailin records it as unreadable */
	}
	check_str(m.from);
	check_str(m.message_id);
	check_str(m.note);
	check_str(m.to_token);
	FUZZ_ASSERT(!m.note || strlen(m.note) <= MAILIN_MAX_NOTE);
	FUZZ_ASSERT(m.nfiles <= MAILIN_MAX_FILES);
	for (size_t i = 0; i < m.nfiles; i++) {
		FUZZ_ASSERT(m.files[i].name && *m.files[i].name);
		FUZZ_ASSERT(utf8_valid_str(m.files[i].name));
		FUZZ_ASSERT(!strpbrk(m.files[i].name, "/\\"));
		FUZZ_ASSERT(m.files[i].data || !m.files[i].size);
	}
	req = mailin_request(&m, "20241101T050000Z-1-0011223344556677.eml", size, "nopbaocao+abcdefghijklmnopqrst@x.example",
			     "");
	FUZZ_ASSERT(json_array_size(json_object_get(req, "files")) == m.nfiles);
	FUZZ_ASSERT(!m.from || json_object_get(req, "sender"));
	FUZZ_ASSERT(!m.note || json_object_get(req, "note"));
	FUZZ_ASSERT(!m.message_id || json_object_get(req, "message_id"));
	text = jdump(req, JSON_COMPACT);
	FUZZ_ASSERT(text);
	FUZZ_ASSERT(request_decode(text, strlen(text), &body, &op, &id, &code, &msg) == 0);
	FUZZ_ASSERT(!strcmp(op, "inbox.deliver") && id && !strncmp(id, "mail-", 5));
	json_decref(body);
	free(msg);
	free(text);
	json_decref(req);
	mailin_msg_free(&m);
	return 0;
}
