/*
 * web_form.h - a request's body: urlencoded or multipart form fields, and uploaded files
 * streamed through libmicrohttpd's post processor; files sent on to thiduad in parts.
 */
#ifndef THIDUA_WEB_FORM_H
#define THIDUA_WEB_FORM_H

#include <stddef.h>

#include "web.h"

/* form_begin - a post processor for r's body; -1 when its Content-Type is not a form */
int form_begin(struct web_req *r);

/* form_declared_too_large - the Content-Length says more than max_body_bytes */
int form_declared_too_large(struct web_req *r);

/* form_feed - a piece of the body; -1 once the body passed max_body_bytes */
int form_feed(struct web_req *r, const char *data, size_t size);

/* form_finish - the body is all there */
void form_finish(struct web_req *r);

/* form_end - free fields, cancel uploads no request used, destroy the post processor */
void form_end(struct web_req *r);

#endif
