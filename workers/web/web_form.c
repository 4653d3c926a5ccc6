/*
 * web_form.c - a POST's body through libmicrohttpd's post processor.
 *
 * Text fields are kept (all together at most WEB_FORM_BYTES); a file part of a route that
 * takes uploads (R_UPLOAD) goes on to the daemon as it arrives, in parts of
 * WEB_PART_BYTES (upload.append, web_daemon.c), so a 25 MiB upload never sits in the
 * gateway's memory and is on the daemon's disk, hashed, when its last byte has come;
 * past max_file_bytes it is only counted (the page says the file is too large, next to
 * its field). The whole body is bounded by max_body_bytes: past it the request is
 * refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"
#include "web.h"
#include "web_form.h"
#include "xalloc.h"

/* part_send - the gathered bytes of the last file to the daemon as its next part */
static void part_send(struct web_req *r)
{
	struct web_upload *u = r->nfiles ? &r->files[r->nfiles - 1] : NULL;

	if (r->npart && u && u->upload[0] && !u->failed)
		web_upload_part(r, u, r->part, r->npart);
	else
		free(r->part);
	r->part = NULL;
	r->npart = 0;
}

/* file_part - a piece of an uploaded file (a few KiB each), gathered into parts of
 * WEB_PART_BYTES sent on to the daemon as they fill */
static int file_part(struct web_req *r, const char *key, const char *filename, const char *data,
		     uint64_t off, size_t size)
{
	struct web_upload *u = r->nfiles ? &r->files[r->nfiles - 1] : NULL;

	if (off == 0 && (!u || u->size || strcmp(u->field, key) || strcmp(u->filename, filename))) {
		part_send(r);
		if (r->nfiles == WEB_MAX_FILES) {
			r->too_many_files = 1;	/* this part, and the pieces after it, are dropped */
			return 0;
		}
		u = &r->files[r->nfiles++];
		u->field = xstrdup(key);
		u->filename = xstrdup(filename);
		/* a file input left empty sends a part with no name: no upload unless bytes come */
		if (*filename)
			web_upload_open(r, u);
	}
	if (!u || !size || r->too_many_files)
		return 0;
	u->size += size;
	if (u->too_big || u->failed)
		return 0;
	if (u->size > web_opts.max_file_bytes) {
		u->too_big = 1;		/* counted on, not sent: the page says so next to the field */
		free(r->part);
		r->part = NULL;
		r->npart = 0;
		return 0;
	}
	if (!u->upload[0] && web_upload_open(r, u) != 0)
		return 0;
	while (size) {
		size_t n = u->part_max - r->npart < size ? u->part_max - r->npart : size;

		if (!r->part)
			r->part = xmalloc(WEB_PART_BYTES);
		memcpy(r->part + r->npart, data, n);
		r->npart += n;
		data += n;
		size -= n;
		if (r->npart == u->part_max)
			part_send(r);
	}
	return 0;
}

/* on_part - libmicrohttpd's post processor hands a piece of a field or a file */
static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
			       const char *content_type, const char *transfer_encoding, const char *data,
			       uint64_t off, size_t size)
{
	struct web_req *r = cls;
	struct web_field *f;
	size_t total = 0;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (!key)
		return MHD_YES;
	if (filename) {
		if (!(r->route->flags & R_UPLOAD))
			return MHD_YES;
		return file_part(r, key, filename, data, off, size) == 0 ? MHD_YES : MHD_NO;
	}
	for (size_t i = 0; i < r->nfields; i++)
		total += r->fields[i].value.len + strlen(r->fields[i].name);
	if (total + size + strlen(key) > WEB_FORM_BYTES) {
		r->form_too_large = 1;
		return MHD_YES;
	}
	/* libmicrohttpd may announce a field with an empty piece at offset 0 and then give its
	 * first bytes at offset 0 again (when the body arrives in small pieces): that is the
	 * same field, not a second one of the same name */
	f = r->nfields ? &r->fields[r->nfields - 1] : NULL;
	if (!f || strcmp(f->name, key) || (off == 0 && f->value.len)) {
		if (r->nfields == WEB_MAX_FIELDS) {
			r->form_too_large = 1;
			return MHD_YES;
		}
		f = &r->fields[r->nfields++];
		f->name = xstrdup(key);
		BUF_PUT(&f->value, "");
	}
	buf_put(&f->value, data, size);
	return MHD_YES;
}

int form_begin(struct web_req *r)
{
	r->pp = MHD_create_post_processor(r->conn, 32 * 1024, on_part, r);
	return r->pp ? 0 : -1;
}

int form_declared_too_large(struct web_req *r)
{
	const char *cl = header_get(r, "Content-Length");

	return cl && strtoull(cl, NULL, 10) > web_opts.max_body_bytes;
}

int form_feed(struct web_req *r, const char *data, size_t size)
{
	r->body_bytes += size;
	if (r->body_bytes > web_opts.max_body_bytes) {
		r->body_too_large = 1;
		return -1;
	}
	if (!r->pp)
		return 0;
	if (MHD_post_process(r->pp, data, size) != MHD_YES) {
		/* a malformed body: stop reading it */
		MHD_destroy_post_processor(r->pp);
		r->pp = NULL;
		r->form_too_large = 1;
	}
	return 0;
}

void form_finish(struct web_req *r)
{
	if (r->pp) {
		MHD_destroy_post_processor(r->pp);
		r->pp = NULL;
	}
	part_send(r);
	/* what the pages read is text: bytes that are not UTF-8 become '?' (jansson takes
	 * only UTF-8), and a field ends at a NUL byte */
	for (size_t i = 0; i < r->nfields; i++)
		if (r->fields[i].value.p)
			utf8_sanitize(r->fields[i].value.p);
}

void form_end(struct web_req *r)
{
	form_finish(r);
	for (size_t i = 0; i < r->nfields; i++) {
		free(r->fields[i].name);
		free(r->fields[i].value.p);
	}
	r->nfields = 0;
	web_upload_end(r);
	for (size_t i = 0; i < r->nfiles; i++) {
		free(r->files[i].field);
		free(r->files[i].filename);
	}
	r->nfiles = 0;
}

const char *form_get(const struct web_req *r, const char *name)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (!strcmp(r->fields[i].name, name))
			return r->fields[i].value.p ? r->fields[i].value.p : "";
	return NULL;
}

const char *query_get(const struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *header_get(const struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *cookie_get(const struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}
