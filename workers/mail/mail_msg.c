/*
 * mail_msg.c - the message of a job, as the bytes handed to libcurl: the job's fields put
 * into the one RFC 5322 writer (common/mailmsg.c) that also writes thiduad's .eml files.
 * Text parts go quoted-printable: 7-bit clean, the ASCII parts (codes, dates, links) still
 * readable in the raw message.
 */
#include <stdlib.h>

#include "mail.h"
#include "mailmsg.h"
#include "xalloc.h"

char *mail_msg_bytes(const struct mail_job *job, time_t date, size_t *len)
{
	struct mailmsg_rcpt *to = xcalloc(job->nto ? job->nto : 1, sizeof(*to));
	struct mailmsg m = {
		.date = date, .utc_offset = job->utc_offset, .from = job->from, .from_name = job->from_name,
		.to = to, .reply_to = job->reply_to, .subject = job->subject, .message_id = job->message_id,
		.dedup_key = job->dedup_key, .text = job->text, .html = job->html, .encoding = MAILMSG_QP,
	};
	char *out;

	for (size_t i = 0; i < job->nto; i++)
		if (!job->to[i].invalid)
			to[m.nto++] = (struct mailmsg_rcpt){ .address = job->to[i].address, .name = job->to[i].name };
	out = mailmsg_write(&m, len);
	free(to);
	return out;
}
