/*
 * notices.h - the text of the notices about obligations (notices.c).
 */
#ifndef THIDUA_NOTICES_H
#define THIDUA_NOTICES_H

#include "outbox.h"

/* notices_render - subject and body from the templates (docs/CONFIG.md), an
 * outbox_render_fn: a reminder, overdue, receipt, returned or accepted notice speaks of one
 * unit; an escalation lists them */
void notices_render(struct daemon *d, const struct outbox_message *m, const struct unit *to,
		    const struct outbox_item *items, size_t n, int32_t today, enum tmpl_channel ch, char **subject,
		    char **body);

#endif
